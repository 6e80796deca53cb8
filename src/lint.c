/*-------------------------------------------------------------------------
 *
 * lint.c
 *	  The migration linter: a run over the pending migrations, the ignore
 *	  directives, what apply does with the findings, and the SQL functions
 *	  migrate.lint and migrate.lint_file.
 *
 * A run keeps a small state (LintState, lint_int.h) and is fed one
 * script at a time and, within it, one line (for the directives) and one
 * statement at a time: lint_script reads a pending file through the same
 * reader as apply (reader_open/reader_read) and the splitter, hands each
 * line to lint_file_line and each statement, parsed alone with raw_parser, to
 * lint_statement (lint_rules.c).  Nothing else here reads files, so the
 * pass apply makes before it runs anything (lint_before_run) can later be
 * folded into a single streaming pass over each file.
 *
 * Directives: a comment line "-- migrate:lint-ignore rule[, rule] [reason]"
 * right before a statement silences those rules for that statement; one
 * before the first statement of the file, but not right before it,
 * silences them for the whole file.  squawk's rule names are accepted for
 * ours.  A silenced finding is not reported; when apply applies the
 * migration, it is recorded with the history row (migrate.lint_ignored,
 * schema 1.1).  A directive that names no rule lint knows, or that stands
 * where it applies to nothing, is itself a finding.
 *
 * With migrate.lint = warn (the default) apply prints the findings (info
 * as NOTICE, warning and error as WARNING) and goes on; with error, a
 * pending migration with an error finding stops the run before anything
 * runs; with off, apply does not lint.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "args.h"
#include "run.h"
#include "compat.h"
#include "history.h"
#include "lint.h"
#include "lint_int.h"
#include "placeholders.h"
#include "reader.h"
#include "source.h"
#include "splitter.h"

PG_FUNCTION_INFO_V1(migrate_lint);
PG_FUNCTION_INFO_V1(migrate_lint_file);

int			migrate_lint_mode = LINT_MODE_WARN;
int			migrate_lint_large_table = 10 * 1024;	/* kB */

const struct config_enum_entry lint_mode_options[] = {
	{"warn", LINT_MODE_WARN, false},
	{"error", LINT_MODE_ERROR, false},
	{"off", LINT_MODE_OFF, false},
	{NULL, 0, false}
};

/* every rule, as a directive names it */
const char *const lint_rule_names[] = {
	"create_index", "drop_index", "reindex",
	"add_column_volatile_default", "add_column_not_null", "alter_column_type",
	"set_not_null", "add_foreign_key", "add_check", "add_unique", "add_primary_key",
	"table_rewrite", "vacuum_full", "cluster", "refresh_matview", "lock_table",
	"drop_column", "drop_table", "rename_table", "rename_column", "rename_enum_value",
	"update_without_where", "delete_without_where",
	"int_primary_key", "timestamp_without_time_zone", "char_type", "serial",
	NULL
};

/* squawk's rule names, read as ours in a directive (and the README's table) */
static const struct
{
	const char *squawk;
	const char *ours;
}			squawk_names[] = {
	{"require-concurrent-index-creation", "create_index"},
	{"require-concurrent-index-deletion", "drop_index"},
	{"adding-field-with-default", "add_column_volatile_default"},
	{"adding-required-field", "add_column_not_null"},
	{"adding-not-nullable-field", "set_not_null"},
	{"changing-column-type", "alter_column_type"},
	{"constraint-missing-not-valid", "add_check"},
	{"constraint-missing-not-valid", "add_foreign_key"},
	{"adding-foreign-key-constraint", "add_foreign_key"},
	{"disallowed-unique-constraint", "add_unique"},
	{"adding-serial-primary-key-field", "add_primary_key"},
	{"ban-drop-column", "drop_column"},
	{"ban-drop-table", "drop_table"},
	{"renaming-table", "rename_table"},
	{"renaming-column", "rename_column"},
	{"prefer-big-int", "int_primary_key"},
	{"prefer-bigint-over-int", "int_primary_key"},
	{"prefer-bigint-over-smallint", "int_primary_key"},
	{"prefer-identity", "serial"},
	{"prefer-timestamptz", "timestamp_without_time_zone"},
	{"ban-char-field", "char_type"},
	{NULL, NULL}
};

/* the findings of one pending script */
typedef struct LintScriptFindings
{
	const MigrationScript *script;
	List	   *findings;		/* LintFinding * */
} LintScriptFindings;

struct LintRun
{
	LintState  *ls;
	List	   *scripts;		/* LintScriptFindings *, scripts with findings */
	int			errors;			/* error findings not silenced */

	/*
	 * Streaming (migrate.lint = warn): each migration is linted while it
	 * runs, one line and one statement at a time as the executor's pass
	 * reads them.  A migration may be read again (a lock retry, a restart
	 * outside a transaction): what was linted already is not again.
	 */
	bool		streaming;
	const MigrationScript *current;	/* the migration being linted */
	int			lines_done;		/* its lines and statements linted so far */
	int			statements_done;
	int			statements_read;	/* statements of the current read */
	int			printed;		/* its findings printed so far */
	bool		ended;
};

/* is name one of our rules? */
bool
lint_is_rule(const char *name)
{
	int			i;

	for (i = 0; lint_rule_names[i]; i++)
		if (strcmp(lint_rule_names[i], name) == 0)
			return true;
	return false;
}

static const char *
severity_name(LintSeverity s)
{
	return s == LINT_ERROR ? "error" : s == LINT_WARNING ? "warning" : "info";
}

/* bytes in human units: "816 kB", "1.2 GB" */
static char *
human_bytes(int64 bytes)
{
	static const char *const units[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
	double		v = (double) bytes;
	int			u = 0;

	while (v >= 1024.0 && u < (int) lengthof(units) - 1)
	{
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		return psprintf(INT64_FORMAT " bytes", bytes);
	return psprintf(v < 9.95 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* an estimated row count: "~9.8M rows" */
static char *
human_rows(double rows)
{
	if (rows < 10000)
		return psprintf("~%.0f rows", rows);
	if (rows < 1e6)
		return psprintf("~%.0fk rows", rows / 1e3);
	if (rows < 1e9)
		return psprintf(rows < 9.95e6 ? "~%.1fM rows" : "~%.0fM rows", rows / 1e6);
	return psprintf("~%.1fG rows", rows / 1e9);
}

/* "public.orders (1.2 GB, ~9.8M rows)": a relation and its size */
char *
lint_describe(const LintRel *rel)
{
	if (rel->is_new)
		return psprintf("%s (new, empty)", rel->name);
	if (rel->rows < 0)
		return psprintf("%s (%s%s)", rel->name, human_bytes(rel->bytes),
						rel->measured ? "" : " at its last VACUUM");
	return psprintf("%s (%s, %s%s)", rel->name, human_bytes(rel->bytes), human_rows(rel->rows),
					rel->measured ? "" : " at its last VACUUM or ANALYZE");
}

/* error for an existing relation of migrate.lint_large_table or more, else info */
LintSeverity
lint_size_severity(LintState *ls, const LintRel *rel)
{
	return rel && !rel->is_new && rel->bytes >= ls->large_bytes ? LINT_ERROR : LINT_INFO;
}

/* the first line of a statement, for the statement column */
static char *
first_line(const char *text)
{
	size_t		n = strcspn(text, "\r\n");

	if (n > 200)
		n = 200;
	return pnstrdup(text, n);
}

/* does directive d (may be NULL) name rule? */
static bool
directive_names(const LintDirective *d, const char *rule)
{
	ListCell   *lc;

	if (d == NULL)
		return false;
	foreach(lc, d->rules)
		if (strcmp((char *) lfirst(lc), rule) == 0)
			return true;
	return false;
}

/*
 * Add a finding on the statement being linted.  rel may be NULL; lock
 * NoLock for none.  Silenced when a directive of the statement or the
 * file names the rule.
 */
LintFinding *
lint_add(LintState *ls, const char *rule, LintSeverity severity, const LintRel *rel,
		 LOCKMODE lock, bool rewrites, const char *message, const char *hint)
{
	MemoryContext old = MemoryContextSwitchTo(ls->cxt);
	LintFinding *f = palloc0(sizeof(LintFinding));
	LintDirective *d = NULL;

	f->script = ls->script;
	f->line = ls->st ? ls->st->line : 0;
	f->statement = ls->st ? first_line(ls->st->text) : NULL;
	f->rule = rule;
	f->severity = severity;
	f->relation = rel && rel->name ? pstrdup(rel->name) : NULL;
	f->relation_bytes = rel && rel->name && rel->bytes >= 0 ? rel->bytes : -1;
	f->estimated_rows = rel && rel->name && !rel->is_new && rel->rows >= 0 ?
		(int64) rint(rel->rows) : (rel && rel->is_new ? 0 : -1);
	f->lock = lock != NoLock ? GetLockmodeName(DEFAULT_LOCKMETHOD, lock) : NULL;
	f->rewrites = rewrites;
	f->message = pstrdup(message);
	f->hint = hint ? pstrdup(hint) : NULL;

	if (directive_names(ls->stmt_ignore, rule))
		d = ls->stmt_ignore;
	else if (directive_names(ls->file_ignore, rule))
		d = ls->file_ignore;
	if (d)
	{
		f->ignored = true;
		f->reason = d->reason ? pstrdup(d->reason) : NULL;
	}
	ls->findings = lappend(ls->findings, f);
	MemoryContextSwitchTo(old);
	return f;
}

/* a new, empty state for a run, living in a child of the current context */
LintState *
lint_run_create(void)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "migrate lint",
											  ALLOCSET_DEFAULT_SIZES);
	LintState  *ls = MemoryContextAllocZero(cxt, sizeof(LintState));
	HASHCTL		ctl;

	ls->cxt = cxt;
	ls->large_bytes = (int64) migrate_lint_large_table * 1024;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(LintRel);
	ctl.hcxt = cxt;
	ls->rels = hash_create("migrate lint relations", 64, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	return ls;
}

/* start a script: its directives and findings start empty */
void
lint_file_begin(LintState *ls, const char *name)
{
	ls->script = MemoryContextStrdup(ls->cxt, name);
	ls->findings = NIL;
	ls->directives = NIL;
	ls->statements = 0;
	ls->prev_end_line = 0;
	ls->file_ignore = NULL;
	ls->st = NULL;
	ls->stmt_ignore = NULL;
}

/* a directive's rule: ours, or squawk's name for one or more of ours */
static void
directive_add_rule(LintDirective *d, const char *word, List **unknown)
{
	int			i;
	bool		found = false;

	if (lint_is_rule(word))
	{
		d->rules = lappend(d->rules, pstrdup(word));
		return;
	}
	for (i = 0; squawk_names[i].squawk; i++)
		if (strcmp(squawk_names[i].squawk, word) == 0)
		{
			d->rules = lappend(d->rules, (char *) squawk_names[i].ours);
			found = true;
		}
	if (!found)
		*unknown = lappend(*unknown, pstrdup(word));
}

/*
 * One line of the script being linted (without its newline): remember a
 * "-- migrate:lint-ignore rule[, rule] [reason]" directive.
 */
void
lint_file_line(LintState *ls, int lineno, const char *line, size_t len)
{
	static const char marker[] = "migrate:lint-ignore";
	const char *p = line;
	const char *end = line + len;
	MemoryContext old;
	LintDirective *d;
	List	   *unknown = NIL;
	ListCell   *lc;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 2 || p[0] != '-' || p[1] != '-')
		return;
	p += 2;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < (ptrdiff_t) strlen(marker) || pg_strncasecmp(p, marker, strlen(marker)) != 0)
		return;
	p += strlen(marker);
	if (p < end && !isspace((unsigned char) *p))
		return;

	old = MemoryContextSwitchTo(ls->cxt);
	d = palloc0(sizeof(LintDirective));
	d->line = lineno;
	for (;;)
	{
		const char *w;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		w = p;
		while (p < end && (isalnum((unsigned char) *p) || *p == '_' ||
						   (*p == '-' && p > w)))
			p++;
		if (p == w)
			break;
		directive_add_rule(d, str_tolower(w, p - w, DEFAULT_COLLATION_OID), &unknown);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == ',')
		{
			p++;
			continue;
		}
		break;
	}
	/* the rest of the line, after "--" or ":" if any, is the reason */
	while (p < end && (*p == ' ' || *p == '\t' || *p == '-' || *p == ':'))
		p++;
	while (end > p && isspace((unsigned char) end[-1]))
		end--;
	if (end > p)
		d->reason = pnstrdup(p, end - p);
	ls->directives = lappend(ls->directives, d);

	foreach(lc, unknown)
	{
		LintFinding *f = palloc0(sizeof(LintFinding));

		f->script = ls->script;
		f->line = lineno;
		f->statement = pnstrdup(line, Min(len, 200));
		f->rule = "lint_ignore";
		f->severity = LINT_WARNING;
		f->relation_bytes = -1;
		f->estimated_rows = -1;
		f->message = psprintf("the lint-ignore directive names \"%s\", which is no lint rule",
							  (char *) lfirst(lc));
		f->hint = pstrdup("Name rules as migrate.lint reports them (see the README's rule table).");
		ls->findings = lappend(ls->findings, f);
	}
	MemoryContextSwitchTo(old);
}

/* the directives that apply to statement st, decided before it is linted */
static void
attach_directives(LintState *ls, const Statement *st)
{
	ListCell   *lc;

	ls->stmt_ignore = NULL;
	foreach(lc, ls->directives)
	{
		LintDirective *d = (LintDirective *) lfirst(lc);

		if (d->line == st->line - 1 && d->line > ls->prev_end_line)
		{
			ls->stmt_ignore = d;
			d->used = true;
		}
		else if (ls->statements == 0 && d->line < st->line - 1)
		{
			/* at the top of the file: for all of it */
			MemoryContext old = MemoryContextSwitchTo(ls->cxt);

			if (ls->file_ignore == NULL)
				ls->file_ignore = palloc0(sizeof(LintDirective));
			ls->file_ignore->rules = list_concat(ls->file_ignore->rules, d->rules);
			if (d->reason && ls->file_ignore->reason == NULL)
				ls->file_ignore->reason = d->reason;
			d->used = true;
			MemoryContextSwitchTo(old);
		}
	}
}

/*
 * Can a statement starting with this word be one a rule looks at?  Only
 * those are parsed: a data migration's INSERTs are not parsed twice.
 */
static bool
candidate_word(const char *w)
{
	static const char *const words[] = {
		"create", "alter", "drop", "reindex", "vacuum", "cluster", "refresh",
		"lock", "update", "delete", "with", NULL
	};
	int			i;

	for (i = 0; words[i]; i++)
		if (strcmp(w, words[i]) == 0)
			return true;
	return false;
}

/*
 * Lint statement st of the current script from its raw parse trees
 * (parsed: NIL when it was not parsed or does not parse; wanted: it was
 * parsed for lint, see lint_statement_wanted).
 */
static void
lint_file_statement_parsed(LintState *ls, const Statement *st, List *parsed, bool wanted)
{
	ListCell   *lc;

	attach_directives(ls, st);
	ls->statements++;
	ls->st = st;
	ls->text = st->text;
	if (wanted)
		foreach(lc, parsed)
			lint_statement(ls, st, ((RawStmt *) lfirst(lc))->stmt);
	ls->prev_end_line = st->end_line;
	ls->st = NULL;
	ls->stmt_ignore = NULL;
}

/* is st a statement a rule can look at (so worth parsing)? */
static bool
lint_statement_wanted(const Statement *st)
{
	return st->kind == STMT_SQL && candidate_word(st->first_word);
}

/*
 * Lint one statement of the current script: parse it alone (a statement
 * that does not parse is left to execution, which reports it with its
 * line) and apply the rules to each parse tree.
 */
void
lint_file_statement(LintState *ls, const Statement *st)
{
	List	   *parsed = NIL;
	bool		wanted = lint_statement_wanted(st);

	if (wanted)
		parsed = statement_parse(st->text);
	lint_file_statement_parsed(ls, st, parsed, wanted);
}

/* end a script: directives that applied to nothing are findings too */
List *
lint_file_end(LintState *ls)
{
	ListCell   *lc;
	MemoryContext old = MemoryContextSwitchTo(ls->cxt);

	foreach(lc, ls->directives)
	{
		LintDirective *d = (LintDirective *) lfirst(lc);
		LintFinding *f;

		if (d->used)
			continue;
		f = palloc0(sizeof(LintFinding));
		f->script = ls->script;
		f->line = d->line;
		f->rule = "lint_ignore";
		f->severity = LINT_WARNING;
		f->relation_bytes = -1;
		f->estimated_rows = -1;
		f->message = psprintf("the lint-ignore directive at line %d applies to no statement",
							  d->line);
		f->hint = pstrdup("Put it on the line right before the statement it is for, or before "
						  "the first statement of the file (with a blank line between) for the "
						  "whole file.");
		ls->findings = lappend(ls->findings, f);
	}
	MemoryContextSwitchTo(old);
	return ls->findings;
}

/* a pending file being read: its lines go to the directives on the way */
typedef struct LintReader
{
	ScriptReader *reader;
	LintState  *ls;
	char		line[512];		/* the start of the current line */
	size_t		len;
	int			lineno;
	bool		eof;
} LintReader;

/* read callback for the splitter: read, and look at each line on the way */
static size_t
lint_read(void *arg, char *buf)
{
	LintReader *lr = (LintReader *) arg;
	size_t		n = reader_read(lr->reader, buf);
	const char *p = buf;
	const char *end = buf + n;

	while (p < end)
	{
		const char *nl = memchr(p, '\n', end - p);
		const char *stop = nl ? nl : end;
		size_t		take = Min((size_t) (stop - p), sizeof(lr->line) - lr->len);

		memcpy(lr->line + lr->len, p, take);
		lr->len += take;
		if (nl == NULL)
			break;
		lint_file_line(lr->ls, lr->lineno++, lr->line, lr->len);
		lr->len = 0;
		p = nl + 1;
	}
	if (n == 0 && !lr->eof)
	{
		lr->eof = true;
		if (lr->len > 0)
			lint_file_line(lr->ls, lr->lineno, lr->line, lr->len);
	}
	return n;
}

/*
 * read and lint one script (the whole pre-run pass for one file), with
 * Flyway placeholders replaced as the run will (ph), or as it is (NULL)
 */
static void
lint_read_script(LintState *ls, const char *name, const SourceFile *file,
				 const struct Placeholders *ph)
{
	MemoryContext stmtcxt = AllocSetContextCreate(CurrentMemoryContext, "migrate lint statement",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = CurrentMemoryContext;
	LintReader *lr = palloc0(sizeof(LintReader));
	Splitter   *sp;
	Statement	st;

	lr->ls = ls;
	lr->lineno = 1;
	lr->reader = reader_open(file);
	if (ph)
		reader_replace(lr->reader, ph, name);
	sp = splitter_create(lint_read, lr);
	splitter_set_dialect(sp, file->split);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(stmtcxt);
		if (!splitter_next(sp, &st))
			break;
		lint_file_statement(ls, &st);
		MemoryContextSwitchTo(old);
		MemoryContextReset(stmtcxt);
	}
	MemoryContextSwitchTo(old);
	splitter_free(sp);
	reader_close(lr->reader, NULL);
	MemoryContextDelete(stmtcxt);
}

/*
 * Lint script name (read from file) into the run's state; its findings.
 * In a subtransaction, so that a file that cannot be read (it is then
 * left to the execution, which reports it) or a statement lint cannot
 * judge releases what it held; the findings so far are kept.
 */
static List *
lint_script(LintState *ls, const char *name, const SourceFile *file,
			const struct Placeholders *ph)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;

	lint_file_begin(ls, name);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		lint_read_script(ls, name, file, ph);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata = migrate_catch_recoverable(cxt);

		RollbackAndReleaseCurrentSubTransaction();
		ereport(NOTICE,
				(errmsg("lint stopped in %s: %s", name, edata->message),
				 errdetail("The statements after that point were not linted.")));
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return lint_file_end(ls);
}

/* print one finding as apply and the dry run show it */
static void
report_finding(const LintFinding *f)
{
	ereport(f->severity == LINT_INFO ? NOTICE : WARNING,
			(errmsg("lint %s [%s] %s, line %d: %s", severity_name(f->severity), f->rule,
					f->script, f->line, f->message),
			 f->hint ? errhint("%s", f->hint) : 0));
}

/*
 * apply, before it runs anything: lint every pending migration in order,
 * as one run (a table an earlier pending migration creates is new); with
 * migrate.lint = warn, only set up the run, which the migrations' own
 * passes feed (lint_stream_*).  NULL when migrate.lint is off (the dry run
 * lints all the same).  ph: the run's Flyway placeholders, so that lint
 * judges the text that will run (a missing value stops lint in that file,
 * and is left to the run).
 */
LintRun *
lint_before_run(MigrationPlan *plan, bool dry_run, const struct Placeholders *ph)
{
	LintRun    *lr;
	ListCell   *lc;

	if (migrate_lint_mode == LINT_MODE_OFF && !dry_run)
		return NULL;
	lr = palloc0(sizeof(LintRun));
	lr->ls = lint_run_create();

	/*
	 * warn: nothing need stop the run before it starts, so each migration
	 * is linted as it runs, from the pass that runs it (no read of its own).
	 * error and the dry run lint everything first: error must stop before
	 * anything runs, and the dry run runs nothing.
	 */
	if (migrate_lint_mode == LINT_MODE_WARN && !dry_run)
	{
		lr->streaming = true;
		return lr;
	}
	foreach(lc, plan->pending)
	{
		MigrationScript *s = ((PlanEntry *) lfirst(lc))->script;
		List	   *findings = lint_script(lr->ls, s->name, s->file, ph);
		ListCell   *f;

		if (findings == NIL)
			continue;
		{
			LintScriptFindings *sf = MemoryContextAlloc(lr->ls->cxt, sizeof(LintScriptFindings));

			sf->script = s;
			sf->findings = findings;
			lr->scripts = lappend(lr->scripts, sf);
		}
		foreach(f, findings)
			if (!((LintFinding *) lfirst(f))->ignored &&
				((LintFinding *) lfirst(f))->severity == LINT_ERROR)
				lr->errors++;
	}
	return lr;
}

/* the run a migration's pass feeds, or NULL when it lints beforehand or not at all */
LintRun *
lint_stream_of(LintRun *lr)
{
	return lr && lr->streaming ? lr : NULL;
}

/* should the pass parse st for lint? */
bool
lint_wants(LintRun *lr, const Statement *st)
{
	return lint_statement_wanted(st) && lr->statements_read >= lr->statements_done;
}

/* print the findings of the current migration not printed yet */
static void
stream_print(LintRun *lr)
{
	List	   *findings = lr->ls->findings;
	int			i;

	for (i = lr->printed; i < list_length(findings); i++)
	{
		LintFinding *f = (LintFinding *) list_nth(findings, i);

		if (!f->ignored)
			report_finding(f);
		if (!f->ignored && f->severity == LINT_ERROR)
			lr->errors++;
	}
	lr->printed = list_length(findings);
}

/* a pass over migration s begins (again, if it was read before) */
void
lint_stream_begin(LintRun *lr, const MigrationScript *s)
{
	if (lr->current != s)
	{
		lint_file_begin(lr->ls, s->name);
		lr->current = s;
		lr->lines_done = 0;
		lr->statements_done = 0;
		lr->printed = 0;
		lr->ended = false;
	}
	lr->statements_read = 0;
}

/* a line of the migration being read */
void
lint_stream_line(LintRun *lr, int lineno, const char *line, size_t len)
{
	if (lineno <= lr->lines_done)
		return;
	lint_file_line(lr->ls, lineno, line, len);
	lr->lines_done = lineno;
}

/*
 * A statement of the migration being read, about to run: lint it from
 * the pass's parse tree (wanted: it was parsed for lint) and print what
 * it finds.
 */
void
lint_stream_statement(LintRun *lr, const Statement *st, List *parsed, bool wanted)
{
	if (++lr->statements_read <= lr->statements_done)
		return;
	lint_file_statement_parsed(lr->ls, st, parsed, wanted);
	lr->statements_done = lr->statements_read;
	stream_print(lr);
}

/* the migration ran to its end: its findings, kept for lint_record_ignored */
void
lint_stream_end(LintRun *lr, const MigrationScript *s)
{
	List	   *findings;

	if (lr->ended || lr->current != s)
		return;
	findings = lint_file_end(lr->ls);
	stream_print(lr);
	lr->ended = true;
	if (findings != NIL)
	{
		/* in the run's lint context: the migration's own is reset after it */
		MemoryContext old = MemoryContextSwitchTo(lr->ls->cxt);
		LintScriptFindings *sf = palloc(sizeof(LintScriptFindings));

		sf->script = s;
		sf->findings = findings;
		lr->scripts = lappend(lr->scripts, sf);
		MemoryContextSwitchTo(old);
	}
}

/* the findings of script s in a run, or NIL */
static List *
findings_of(LintRun *lr, const MigrationScript *s)
{
	ListCell   *lc;

	if (lr == NULL)
		return NIL;
	foreach(lc, lr->scripts)
		if (((LintScriptFindings *) lfirst(lc))->script == s)
			return ((LintScriptFindings *) lfirst(lc))->findings;
	return NIL;
}

/* the dry run: print the findings of script s (after its "would apply" line) */
void
lint_report_script(LintRun *lr, const MigrationScript *s)
{
	ListCell   *lc;

	foreach(lc, findings_of(lr, s))
		if (!((LintFinding *) lfirst(lc))->ignored)
			report_finding((LintFinding *) lfirst(lc));
}

/*
 * What apply does with the findings before it runs anything: print them
 * (unless the dry run already has), and with migrate.lint = error stop
 * when a pending migration has an error finding, naming each in the
 * DETAIL.
 */
void
lint_enforce(LintRun *lr, bool print)
{
	StringInfoData detail;
	ListCell   *lc;
	const LintFinding *first = NULL;
	bool		stop;

	if (lr == NULL)
		return;
	stop = migrate_lint_mode == LINT_MODE_ERROR && lr->errors > 0;
	/* when the run stops, its errors are in the error's DETAIL: print the rest */
	if (print)
		foreach(lc, lr->scripts)
		{
			ListCell   *f;

			foreach(f, ((LintScriptFindings *) lfirst(lc))->findings)
			{
				LintFinding *lf = (LintFinding *) lfirst(f);

				if (!lf->ignored && !(stop && lf->severity == LINT_ERROR))
					report_finding(lf);
			}
		}
	if (!stop)
		return;

	initStringInfo(&detail);
	foreach(lc, lr->scripts)
	{
		ListCell   *f;

		foreach(f, ((LintScriptFindings *) lfirst(lc))->findings)
		{
			LintFinding *lf = (LintFinding *) lfirst(f);

			if (lf->ignored || lf->severity != LINT_ERROR)
				continue;
			if (first == NULL)
				first = lf;
			appendStringInfo(&detail, "%s%s, line %d [%s]: %s.", detail.len ? "\n" : "",
							 lf->script, lf->line, lf->rule, lf->message);
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("lint found %d error(s) in the pending migrations; nothing was applied",
					lr->errors),
			 errdetail("%s", detail.data),
			 errhint("%s%sTo go ahead anyway, put \"-- migrate:lint-ignore %s <reason>\" on the "
					 "line before the statement, or SET migrate.lint = warn.",
					 first->hint ? "The safe way: " : "", first->hint ? psprintf("%s ", first->hint) : "",
					 first->rule)));
}

/*
 * The migration s was just recorded as applied: record, with its history
 * row, the findings its directives silenced (schema 1.1 and later).
 */
void
lint_record_ignored(LintRun *lr, const char *track, const MigrationScript *s)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[7] = {TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	ListCell   *lc;

	if (lr == NULL)
		return;
	foreach(lc, findings_of(lr, s))
	{
		LintFinding *f = (LintFinding *) lfirst(lc);
		Datum		args[7];
		char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
		int			ret;

		if (!f->ignored)
			continue;
		if (migrate_schema_version() < 101)
			return;
		args[0] = CStringGetTextDatum(track);
		args[1] = Int32GetDatum(f->line);
		args[2] = f->statement ? CStringGetTextDatum(f->statement) : (Datum) 0;
		nulls[2] = f->statement ? ' ' : 'n';
		args[3] = CStringGetTextDatum(f->rule);
		args[4] = CStringGetTextDatum(severity_name(f->severity));
		args[5] = f->reason ? CStringGetTextDatum(f->reason) : (Datum) 0;
		nulls[5] = f->reason ? ' ' : 'n';
		args[6] = CStringGetTextDatum(f->message);
		/* written like the history: only through the extension, as its owner */
		ret = as_owner_execute("lint_ignored", &plan,
							   "INSERT INTO migrate.lint_ignored "
							   "(rank, line, statement, rule, severity, reason, message) "
							   "SELECT h.rank, $2, $3, $4, $5, $6, $7 FROM migrate.history h "
							   "WHERE h.track OPERATOR(pg_catalog.=) $1 "
							   "ORDER BY h.rank DESC LIMIT 1", 7, types, args, nulls);
		if (ret != SPI_OK_INSERT)
			elog(ERROR, "recording a silenced lint finding failed: %s",
				 SPI_result_code_string(ret));
	}
}

/* the findings as rows of migrate.lint (silenced ones left out) */
static void
put_findings(Tuplestorestate *ts, TupleDesc desc, List *findings)
{
	ListCell   *lc;

	foreach(lc, findings)
	{
		LintFinding *f = (LintFinding *) lfirst(lc);
		Datum		values[12];
		bool		nulls[12];

		if (f->ignored)
			continue;
		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(f->script);
		values[1] = Int32GetDatum(f->line);
		values[2] = f->statement ? CStringGetTextDatum(f->statement) : (Datum) 0;
		nulls[2] = f->statement == NULL;
		values[3] = CStringGetTextDatum(f->rule);
		values[4] = CStringGetTextDatum(severity_name(f->severity));
		values[5] = f->relation ? CStringGetTextDatum(f->relation) : (Datum) 0;
		nulls[5] = f->relation == NULL;
		values[6] = Int64GetDatum(f->relation_bytes);
		nulls[6] = f->relation_bytes < 0;
		values[7] = Int64GetDatum(f->estimated_rows);
		nulls[7] = f->estimated_rows < 0;
		values[8] = f->lock ? CStringGetTextDatum(f->lock) : (Datum) 0;
		nulls[8] = f->lock == NULL;
		values[9] = BoolGetDatum(f->rewrites);
		values[10] = CStringGetTextDatum(f->message);
		values[11] = f->hint ? CStringGetTextDatum(f->hint) : (Datum) 0;
		nulls[11] = f->hint == NULL;
		tuplestore_putvalues(ts, desc, values, nulls);
	}
}

/*
 * SELECT * FROM migrate.lint(dir, track): the findings over the pending
 * migrations of dir, in the order apply would run them.
 */
Datum
migrate_lint(PG_FUNCTION_ARGS)
{
	char	   *dir = required_arg(fcinfo, 0, "dir");
	char	   *track = required_arg(fcinfo, 1, "track");
	TupleDesc	desc;
	Tuplestorestate *ts = materialize_result(fcinfo, &desc);
	MigrationPlan *plan;
	LintState  *ls;
	char	   *real_dir;
	ListCell   *lc;
	Placeholders *ph;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = load_plan(dir, track, NULL, &real_dir, PLAN_FOR_RUN);
	/* the settings' and the config's placeholder values, as apply would take them */
	ph = placeholders_for_dir(NULL, plan->set->layout, dir, real_dir);
	ls = lint_run_create();
	foreach(lc, plan->pending)
	{
		MigrationScript *s = ((PlanEntry *) lfirst(lc))->script;

		put_findings(ts, desc, lint_script(ls, s->name, s->file, ph));
	}
	SPI_finish();
	PG_RETURN_NULL();
}

/* SELECT * FROM migrate.lint_file(file): the findings of one file, alone */
Datum
migrate_lint_file(PG_FUNCTION_ARGS)
{
	char	   *path = required_arg(fcinfo, 0, "file");
	TupleDesc	desc;
	Tuplestorestate *ts = materialize_result(fcinfo, &desc);
	SourceFile *file;

	/* a staged file ("bundle/file") is read through SPI */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	file = source_file(path);
	put_findings(ts, desc, lint_script(lint_run_create(), path, file, NULL));
	SPI_finish();
	PG_RETURN_NULL();
}
