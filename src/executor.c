/*-------------------------------------------------------------------------
 *
 * executor.c
 *	  Running the statements of one script through SPI, errors mapped to
 *	  the file and line they came from.
 *
 * The script is pulled through the splitter statement by statement, so
 * memory stays bounded by the largest statement; each statement runs with
 * SPI_execute in the caller's transaction (migration.c decides where
 * transactions begin and end).  While it runs, an error context callback
 * names the file and the line of the statement; when an error carries a
 * position inside the statement, the line is made exact (the position is
 * a character offset into the statement text, which starts at the line
 * the splitter recorded).
 *
 * A file's own transaction wrapper is absorbed: BEGIN or START
 * TRANSACTION as its first statement and COMMIT or END as its last are
 * skipped, since the migration already runs in a transaction.  Any other
 * transaction control in the migration's own file makes it run outside a
 * transaction (txblocks.c); in a file it includes, or in migrate.run, it
 * is an error naming its line.  psql's \i and \ir
 * include a file from an allowed directory; \restrict and \unrestrict
 * (which pg_dump writes around a plain dump) forbid meta-commands between
 * them, as in psql; any other meta-command is an error.  COPY ... FROM
 * STDIN loads the data that follows it (copy.c); an error in a data row
 * names the line of that row.
 *
 * A migration that runs outside a transaction (nontx.c) sends each
 * statement to its background worker instead (worker.c), which runs it at
 * top level in a transaction of its own; there BEGIN and COMMIT are real,
 * as in psql.
 *
 * One pass: the file of a migration is read once, while it runs.  Each
 * chunk the reader delivers (normalized, validated, checksummed) is kept
 * for the history row (up to migrate.history_sql_limit) and its lines are
 * looked at for other tools' "run outside a transaction" markers and for
 * lint directives before the splitter cuts statements out of it.  Before a
 * statement of the migration's own file runs, it is parsed once if lint
 * or the top-level detection may care (only statements whose first word
 * says so), and that one parse tree serves both: lint's findings are
 * printed as the statement comes (migrate.lint = warn), and a statement
 * that can only run at top level stops the pass before it runs, with
 * nontx_why set; migration.c then rolls back what ran and runs the file
 * again in the background worker.  The statements of a file it includes
 * with \i or \ir are judged the same way, so a migration whose included
 * file needs top level runs outside a transaction (and the worker runs
 * the \i).  After a failure, execute_scan_rest
 * reads on from where the pass stopped to tell whether the file would
 * have run outside a transaction, so that verdict needs no second read of
 * the file either.  Memory stays bounded by the largest statement.
 *
 * The file's own transaction control is judged there too (txblocks.c):
 * a BEGIN after other statements, a statement after a COMMIT, a ROLLBACK
 * or a SAVEPOINT stops the pass the same way, and the file runs outside a
 * transaction in BEGIN ... COMMIT blocks, as psql runs it.
 *
 * Where the stream is changed: the reader replaces Flyway's placeholders
 * (placeholders.c, when ScriptExec.placeholders is set), so every chunk
 * pass_read sees, every statement and COPY's data, the history's text and
 * lint are the replaced text, while the checksum is that of the file as
 * written; pass_before_statement sees every statement before it runs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/memutils.h"

#include "compat.h"
#include "copy.h"
#include "executor.h"
#include "lint.h"
#include "nontx.h"
#include "progress.h"
#include "safety.h"
#include "reader.h"
#include "source.h"
#include "splitter.h"
#include "staged.h"
#include "txblocks.h"
#include "worker.h"

/* how deep \i may nest */
#define MAX_INCLUDE_DEPTH 16

/* one file being executed (a migration, or a file it includes) */
typedef struct ExecFrame
{
	const char *what;			/* "migration" or "included file" */
	const char *name;			/* as shown in messages */
	const char *dir;			/* real directory of the file, for \ir */
	const char *base_dir;		/* the migration directory, for \i */
	int			depth;
	Statement  *st;				/* statement running, for the callback */
	int			error_line;		/* exact line of the last error */
	int			executed;		/* statements run so far */
	int			commit_line;	/* line of an absorbed COMMIT, or 0 */
	WorkerSession *worker;		/* outside a transaction: run statements there */
	int			copy_error_line;	/* line of a COPY data row that failed */
	char	  **restrict_key;	/* \restrict in effect (shared with includes) */
	MemoryContext cxt;			/* lives as long as the migration */
	struct ExecPass *pass;		/* the migration's own file: its pass; NULL for includes */
	bool		stopped;		/* the pass stopped before a statement */
	char	   *pass_why;		/* ... because the file must run outside a transaction */
	const struct Placeholders *placeholders;	/* replaced in every file it reads */
	bool		detect_nontx;	/* an included file of a pass that looks for top level */
} ExecFrame;

/* bytes of a line the marker and directive scans look at */
#define PASS_LINE_MAX 512

/*
 * The one pass over a migration's file: the reader, the splitter pulling
 * from it, and what rides on the chunks on the way.
 */
typedef struct ExecPass
{
	ScriptReader *reader;
	Splitter   *sp;
	StringInfo	keep;			/* the text for the history, NULL once too large */
	bool		detect_nontx;	/* look for what makes the file run outside a transaction */
	LintRun    *lint;			/* lint as it goes, or NULL */
	char		line[PASS_LINE_MAX];	/* the start of the current line */
	size_t		len;
	int			lineno;			/* number of the current line */
	bool		eof;
	const char *marker;			/* another tool's marker found, or NULL */
	int			marker_line;
	bool		scanning;		/* execute_scan_rest: look, run nothing */
	int			chunks;			/* chunks read so far */
	char	   *ahead_why;		/* the first chunk says: outside a transaction */
	bool		replacing;		/* the reader replaces placeholders */
	TxShape		shape;			/* the file's own transaction control so far */
	int			split;			/* the splitter's dialect (SPLIT_*) */
	MemoryContext cxt;			/* lives as long as the pass */
} ExecPass;

static void execute_file(ExecFrame *frame, Splitter *sp);

/* a complete line of the migration's file (without its newline) */
static void
pass_line(ExecPass *pass, const char *line, size_t len)
{
	if (pass->detect_nontx && pass->marker == NULL)
	{
		pass->marker = nontx_marker(line, len);
		pass->marker_line = pass->lineno;
	}
	if (pass->lint && !pass->scanning)
		lint_stream_line(pass->lint, pass->lineno, line, len);
	pass->len = 0;
	pass->lineno++;
}

/*
 * A look ahead at the first chunk of the file (text[0..len), the file
 * itself when eof), before any of it runs: the first statement in it that
 * needs top level (when top_level), or that shows transaction control
 * other than a leading BEGIN and a trailing COMMIT (when blocks), as the
 * reason the pass would give, or NULL.  So a file that must run outside a
 * transaction is known before its first statement in the common case (the
 * statement that says so within its first READER_CHUNK bytes), and
 * nothing runs twice (a Prisma block that rewrites a table, say).  The
 * chunk is split on its own, with the file's dialect; the statement it
 * cuts at its end is left for the pass to judge.  Only called when
 * nontx_text_may_need or txblocks_text_may_need finds a word that could
 * make one.
 */
static char *
look_ahead(const char *text, size_t len, bool eof, bool top_level, bool blocks,
		   int split, MemoryContext result_cxt)
{
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext tmp = AllocSetContextCreate(cxt, "migrate look ahead", ALLOCSET_DEFAULT_SIZES);
	char	   *volatile why = NULL;

	MemoryContextSwitchTo(tmp);
	PG_TRY();
	{
		Splitter   *sp = splitter_create_text(pnstrdup(text, len), len);
		Statement	st;
		TxShape		shape;

		memset(&shape, 0, sizeof(shape));
		splitter_set_dialect(sp, split);
		while (why == NULL && splitter_next(sp, &st))
		{
			ListCell   *lc;
			char	   *w;

			if (!eof && st.kind == STMT_SQL && (st.len == 0 || st.text[st.len - 1] != ';'))
				continue;		/* cut by the chunk's end */
			if (blocks && (w = txblocks_next(&shape, &st)) != NULL)
			{
				why = MemoryContextStrdup(result_cxt, w);
				break;
			}
			if (!top_level || st.kind != STMT_SQL || !nontx_may_need(&st))
				continue;
			foreach(lc, statement_parse(st.text))
			{
				const char *what = nontx_needs_top_level(((RawStmt *) lfirst(lc))->stmt);

				if (what)
				{
					why = MemoryContextStrdup(result_cxt, psprintf("%s at line %d", what, st.line));
					break;
				}
			}
		}
	}
	PG_CATCH();
	{
		/* a chunk cut in a comment or quote: the pass judges each statement */
		(void) migrate_catch_recoverable(cxt);
		why = NULL;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	MemoryContextDelete(tmp);
	return why;
}

/*
 * Read callback for the splitter over the migration's own file: read the
 * next chunk, keep it for the history, and look at its lines.
 */
static size_t
pass_read(void *arg, char *buf)
{
	ExecPass   *pass = (ExecPass *) arg;
	size_t		n = reader_read(pass->reader, buf);
	const char *p = buf;
	const char *end = buf + n;

	if (pass->keep && !pass->scanning)
	{
		if ((int64) pass->keep->len + (int64) n > (int64) migrate_history_sql_limit)
		{
			pfree(pass->keep->data);
			pass->keep = NULL;
		}
		else
			appendBinaryStringInfo(pass->keep, buf, n);
	}
	if (pass->detect_nontx && pass->chunks++ == 0 && n > 0)
	{
		bool		top_level = nontx_text_may_need(buf, n);
		bool		blocks = txblocks_text_may_need(buf, n);

		/*
		 * A short first chunk is the whole file, unless placeholders made
		 * it short: then its last statement is left to the pass.
		 */
		bool		eof = n < READER_CHUNK / 2 && !pass->replacing;

		if (top_level || blocks)
			pass->ahead_why = look_ahead(buf, n, eof, top_level, blocks,
										 pass->split, pass->cxt);
	}
	if (!pass->detect_nontx && pass->lint == NULL)
		return n;
	while (p < end)
	{
		const char *nl = memchr(p, '\n', end - p);
		const char *stop = nl ? nl : end;
		size_t		take = Min((size_t) (stop - p), sizeof(pass->line) - pass->len);

		memcpy(pass->line + pass->len, p, take);
		pass->len += take;
		if (nl == NULL)
			break;
		pass_line(pass, pass->line, pass->len);
		p = nl + 1;
	}
	if (n == 0 && !pass->eof)
	{
		pass->eof = true;
		if (pass->len > 0)
			pass_line(pass, pass->line, pass->len);
	}
	return n;
}

/*
 * Statement st of an included file (file, as named by its \i): can it only
 * run at top level?  Then "what at line N of included file F", else NULL.
 * The file that includes it then runs outside a transaction, as if the
 * statement were its own; the worker runs \i too.
 */
static char *
included_needs_top_level(const Statement *st, const char *file)
{
	ListCell   *lc;

	if (st->kind != STMT_SQL || !nontx_may_need(st))
		return NULL;
	foreach(lc, statement_parse(st->text))
	{
		const char *what = nontx_needs_top_level(((RawStmt *) lfirst(lc))->stmt);

		if (what)
			return psprintf("%s at line %d of included file %s", what, st->line, file);
	}
	return NULL;
}

/*
 * Before a statement of the migration's own file runs: must the file run
 * outside a transaction (another tool's marker seen, transaction control
 * other than a leading BEGIN and a trailing COMMIT (txblocks.c), or this
 * statement can only run at top level)?  Then return the reason, and the
 * statement does not run.  Otherwise lint it (printing its findings),
 * from the same parse tree.
 */
static char *
pass_before_statement(ExecPass *pass, const Statement *st)
{
	bool		for_nontx = pass->detect_nontx && st->kind == STMT_SQL && nontx_may_need(st);
	bool		for_lint = pass->lint != NULL && !pass->scanning && lint_wants(pass->lint, st);
	List	   *parsed = NIL;
	ListCell   *lc;

	if (pass->detect_nontx && pass->marker)
		return psprintf("the marker \"%s\" at line %d", pass->marker, pass->marker_line);
	if (pass->detect_nontx && pass->ahead_why)
		return pass->ahead_why;
	if (pass->detect_nontx)
	{
		char	   *why = txblocks_next(&pass->shape, st);

		if (why)
			return why;
	}
	if (for_nontx || for_lint)
		parsed = statement_parse(st->text);
	if (for_nontx)
		foreach(lc, parsed)
		{
			const char *what = nontx_needs_top_level(((RawStmt *) lfirst(lc))->stmt);

			if (what)
				return psprintf("%s at line %d", what, st->line);
		}
	if (pass->lint != NULL && !pass->scanning)
		lint_stream_statement(pass->lint, st, parsed, for_lint);
	return NULL;
}

/* read callback for the splitter: an included file, read as it is */
static size_t
include_read(void *arg, char *buf)
{
	return reader_read((ScriptReader *) arg, buf);
}

/* the context line the callback adds, for a given line */
static char *
context_line(ExecFrame *frame, int line)
{
	return psprintf("%s %s, line %d", frame->what, frame->name, line);
}

static void
exec_error_callback(void *arg)
{
	ExecFrame  *frame = (ExecFrame *) arg;

	if (frame->st)
	{
		/* in a COPY's data, the line of the row being loaded */
		int			line = frame->st->copy_from_stdin ? copy_current_line() : 0;

		errcontext("%s", context_line(frame, line > 0 ? line : frame->st->line));
	}
}

/* line of the character at 1-based position pos of a statement */
static int
line_of_position(const Statement *st, int pos)
{
	const char *p = st->text;
	const char *end = st->text + st->len;
	int			line = st->line;
	int			chars = 1;

	while (p < end && chars < pos)
	{
		if (*p == '\n')
			line++;
		p += pg_mblen(p);
		chars++;
	}
	return line;
}

/*
 * An error escaped statement st: make the line in its context exact when
 * the error points into the statement, remember it, and throw it again.
 */
static void
rethrow_with_line(ExecFrame *frame, Statement *st, MemoryContext cxt)
{
	ErrorData  *edata;
	int			line = st->line;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();

	if (edata->internalquery && edata->internalpos > 0 &&
		strcmp(edata->internalquery, st->text) == 0)
		line = line_of_position(st, edata->internalpos);
	else if (frame->copy_error_line > 0)
		line = frame->copy_error_line;	/* already in the context */

	if (line != st->line && edata->context)
	{
		char	   *old = context_line(frame, st->line);
		char	   *at = strstr(edata->context, old);

		if (at)
			edata->context = psprintf("%.*s%s%s",
									  (int) (at - edata->context), edata->context,
									  context_line(frame, line),
									  at + strlen(old));
	}
	frame->error_line = line;
	migrate_rethrow(edata);
}

/*
 * Absorb a file's own BEGIN at its start and COMMIT at its end; refuse
 * any other transaction control.  Returns true if the statement is done.
 */
static bool
absorb_transaction_control(ExecFrame *frame, Statement *st)
{
	TransactionStmt *ts;

	if (frame->commit_line > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("statement after COMMIT at line %d", frame->commit_line),
				 errdetail("A migration runs in one transaction; a COMMIT is accepted only as its last statement."),
				 errhint("Split the file into two migrations.")));

	ts = txblocks_transaction_stmt(st);
	if (ts == NULL)
		return false;

	if ((ts->kind == TRANS_STMT_BEGIN || ts->kind == TRANS_STMT_START) &&
		frame->executed == 0 && ts->options == NIL)
		return true;
	if (ts->kind == TRANS_STMT_COMMIT && !ts->chain)
	{
		frame->commit_line = st->line;
		return true;
	}
	if (ts->kind == TRANS_STMT_PREPARE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("PREPARE TRANSACTION is not allowed in a migration"),
				 errdetail("The prepared transaction would outlive the migration, holding its "
						   "locks, while the migration is recorded as applied."),
				 errhint("Remove the statement; a migration's transactions end with COMMIT.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
			 errmsg("transaction control statement \"%s\" is not allowed in a migration",
					pnstrdup(st->text, Min(st->len, 40))),
			 errdetail("Each migration runs in its own transaction; only a plain BEGIN as its "
					   "first statement and COMMIT as its last are accepted, and absorbed."),
			 errhint("Remove the statement, or split the file into separate migrations.")));
	return false;				/* keep compiler quiet */
}

/*
 * \restrict KEY / \unrestrict KEY: pg_dump brackets a plain dump with them
 * so that psql runs no meta-command in between; do the same.
 */
static void
run_restrict(ExecFrame *frame, const char *cmd, const char *key)
{
	char	  **current = frame->restrict_key;

	if (*key == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("\\%s requires a key", cmd),
				 errdetail("pg_dump writes \\restrict KEY and \\unrestrict KEY with the same key."),
				 errhint("Give the key, or remove the line.")));
	if (strcmp(cmd, "restrict") == 0)
		*current = MemoryContextStrdup(frame->cxt, key);
	else if (*current == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("\\unrestrict without \\restrict"),
				 errdetail("Meta-commands were not turned off by a \\restrict line before."),
				 errhint("Remove the \\unrestrict line.")));
	else if (strcmp(*current, key) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("\\unrestrict key does not match the \\restrict key"),
				 errdetail("Meta-commands stay off until \\unrestrict gives the key of \\restrict."),
				 errhint("Use the key of the \\restrict line.")));
	else
		*current = NULL;
}

/* the argument of a meta-command: blanks, a final ';' and single quotes off */
static char *
meta_argument(char *arg)
{
	size_t		n;

	arg += strspn(arg, " \t");
	n = strlen(arg);
	while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t' || arg[n - 1] == ';'))
		arg[--n] = '\0';
	if (n >= 2 && arg[0] == '\'' && arg[n - 1] == '\'')
	{
		arg[n - 1] = '\0';
		arg++;
	}
	return arg;
}

/* a meta-command line split into its command (without the backslash) and argument */
static void
meta_split(const Statement *st, char **cmd, char **arg)
{
	char	   *c = pstrdup(st->text + 1);
	char	   *a;
	size_t		n;

	n = strcspn(c, " \t");
	a = c + n;
	if (*a)
		*a++ = '\0';
	*cmd = c;
	*arg = meta_argument(a);
}

/* is cmd \i or \ir (relative: \ir)? */
static bool
is_include(const char *cmd, bool *relative)
{
	*relative = strcmp(cmd, "ir") == 0 || strcmp(cmd, "include_relative") == 0;
	return *relative || strcmp(cmd, "i") == 0 || strcmp(cmd, "include") == 0;
}

/*
 * The file "\i arg" (or "\ir arg") names, from a file in directory dir of
 * the migration directory base_dir, through the allow-list.
 */
static SourceFile *
include_file(char *arg, bool relative, const char *dir, const char *base_dir)
{
	char	   *path;
	SourceFile *file;

	if (is_absolute_path(arg))
		path = arg;
	else
	{
		path = psprintf("%s/%s", relative ? dir : base_dir, arg);

		/*
		 * psql accepts "\ir ../common.sql": the name is relative to a file
		 * that is itself allowed, so fold the ".." here; the real path of the
		 * result is still checked against the allow-list.  (A staged file's
		 * ".." is resolved within its bundle by staged.c.)
		 */
		if (is_absolute_path(path))
			canonicalize_path(path);
	}

	file = source_file(path);
	file->name = pstrdup(arg);
	return file;
}

/*
 * A psql meta-command: \i or \ir runs another allowed file in place,
 * \restrict and \unrestrict are honoured, anything else is refused.
 */
static void
run_meta(ExecFrame *frame, Statement *st)
{
	char	   *cmd;
	char	   *arg;
	bool		relative;
	SourceFile *file;
	ScriptReader *reader;
	Splitter   *sp;
	ExecFrame	inner;

	meta_split(st, &cmd, &arg);

	if (*frame->restrict_key != NULL && strcmp(cmd, "unrestrict") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("psql meta-command \"\\%s\" is not allowed after \\restrict", cmd),
				 errdetail("The file turned meta-commands off with \\restrict and did not turn them on again with \\unrestrict."),
				 errhint("Remove the meta-command, or move it after the \\unrestrict line.")));
	if (strcmp(cmd, "restrict") == 0 || strcmp(cmd, "unrestrict") == 0)
	{
		run_restrict(frame, cmd, arg);
		return;
	}
	if (!is_include(cmd, &relative))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("psql meta-command \"\\%s\" is not supported in a migration", cmd),
				 errdetail("A migration runs inside the server, where only \\i, \\ir, \\restrict and \\unrestrict have a meaning."),
				 errhint("Write it as SQL, or run that step with psql.")));

	if (*arg == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("\\%s requires a file name", cmd)));
	if (frame->depth >= MAX_INCLUDE_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("files are included more than %d levels deep", MAX_INCLUDE_DEPTH)));

	file = include_file(arg, relative, frame->dir, frame->base_dir);
	staged_check_run(file);

	memset(&inner, 0, sizeof(inner));
	inner.what = "included file";
	inner.name = file->name;
	inner.dir = pstrdup(file->path);
	get_parent_directory((char *) inner.dir);
	inner.base_dir = frame->base_dir;
	inner.depth = frame->depth + 1;
	inner.worker = frame->worker;
	inner.restrict_key = frame->restrict_key;
	inner.cxt = frame->cxt;
	/* the pass looks into the files the migration includes too */
	inner.detect_nontx = frame->pass ? frame->pass->detect_nontx : frame->detect_nontx;

	reader = reader_open(file);
	if (frame->placeholders)
		reader_replace(reader, frame->placeholders, file->name);
	inner.placeholders = frame->placeholders;
	sp = splitter_create(include_read, reader);
	execute_file(&inner, sp);
	splitter_free(sp);
	reader_close(reader, NULL);
	frame->executed += inner.executed;
	if (inner.stopped)
	{
		/* a statement of the included file needs top level: so does the migration */
		frame->stopped = true;
		frame->pass_why = MemoryContextStrdup(frame->cxt, inner.pass_why);
	}
}

/*
 * A scan's look into the file a \i or \ir line (st, in a file of directory
 * dir) includes, running nothing: the first statement in it, or in a file
 * it includes, that needs top level, as "what at line N of included file
 * F", or NULL.  Other meta-commands are left for the run to judge, and so
 * is whether the caller may run a staged file (reading it is allowed).
 */
static char *
scan_include(const Statement *st, const char *dir, const char *base_dir, int depth)
{
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext stmtcxt;
	char	   *cmd;
	char	   *arg;
	bool		relative;
	SourceFile *file;
	char	   *file_dir;
	ScriptReader *reader;
	Splitter   *sp;
	Statement	ist;
	char	   *why = NULL;

	meta_split(st, &cmd, &arg);
	if (!is_include(cmd, &relative) || *arg == '\0' || depth > MAX_INCLUDE_DEPTH)
		return NULL;
	file = include_file(arg, relative, dir, base_dir);
	file_dir = pstrdup(file->path);
	get_parent_directory(file_dir);

	reader = reader_open(file);
	sp = splitter_create(include_read, reader);
	stmtcxt = AllocSetContextCreate(cxt, "migrate scan include", ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		char	   *w;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(stmtcxt);
		if (!splitter_next(sp, &ist))
			break;
		w = ist.kind == STMT_META ? scan_include(&ist, file_dir, base_dir, depth + 1) :
			included_needs_top_level(&ist, file->name);
		if (w)
		{
			why = MemoryContextStrdup(cxt, w);
			break;
		}
		MemoryContextReset(stmtcxt);
	}
	MemoryContextSwitchTo(cxt);
	MemoryContextDelete(stmtcxt);
	splitter_free(sp);
	reader_close(reader, NULL);
	return why;
}

/* COPY ... FROM STDIN: load the data that follows it in the script */
static void
run_copy(ExecFrame *frame, Statement *st, Splitter *sp)
{
	if (st->copy_line_rest)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("text after COPY ... FROM STDIN on the same line is not supported"),
				 errdetail("The data of COPY ... FROM STDIN starts on the line after the statement."),
				 errhint("Put the rest of that line after the \\. line that ends the data.")));
	(void) copy_from_script(st->text, sp, &frame->copy_error_line);
}

/* run one SQL statement through SPI */
static void
run_sql(Statement *st)
{
	int			ret = SPI_execute(st->text, false, 0);

	if (ret < 0)
	{
		if (ret == SPI_ERROR_COPY)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("COPY to or from the client is not supported in a migration"),
					 errhint("Use COPY ... FROM STDIN followed by its data up to \\., "
							 "or COPY from a server file.")));
		if (ret == SPI_ERROR_TRANSACTION)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("transaction control is not allowed in a migration")));
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(ret));
	}
	SPI_freetuptable(SPI_tuptable);
}

/* run the statements sp splits out of a file */
static void
execute_file(ExecFrame *frame, Splitter *sp)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext stmtcxt = AllocSetContextCreate(CurrentMemoryContext,
												  "migrate statement",
												  ALLOCSET_DEFAULT_SIZES);
	ErrorContextCallback errcallback;
	Statement	st;
	StatementTimer timer;

	/* in memory (its address is taken), so PG_CATCH sees whether it is armed */
	memset(&timer, 0, sizeof(timer));
	errcallback.callback = exec_error_callback;
	errcallback.arg = frame;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	for (;;)
	{
		MemoryContext old = MemoryContextSwitchTo(stmtcxt);
		bool		more;

		CHECK_FOR_INTERRUPTS();
		frame->st = NULL;
		more = splitter_next(sp, &st);
		if (!more)
		{
			MemoryContextSwitchTo(old);
			break;
		}
		frame->st = &st;
		progress_statement(&st, frame->worker != NULL);

		PG_TRY();
		{
			char	   *why = frame->pass ? pass_before_statement(frame->pass, &st) :
				frame->detect_nontx ? included_needs_top_level(&st, frame->name) : NULL;

			if (why)
			{
				/* the file must run outside a transaction: nothing more runs here */
				frame->stopped = true;
				frame->pass_why = MemoryContextStrdup(outer, why);
			}
			else if (st.kind == STMT_META)
				run_meta(frame, &st);
			else if (frame->worker)
			{
				/* outside a transaction, BEGIN and COMMIT are real, as in psql */
				worker_run(frame->worker, &st, frame->name);
				frame->executed++;
			}
			else if (!absorb_transaction_control(frame, &st))
			{
				/* statement_timeout applies to each statement, as in psql */
				safety_statement_timer_start(&timer);
				frame->copy_error_line = 0;
				if (st.copy_from_stdin)
					run_copy(frame, &st, sp);
				else
					run_sql(&st);
				safety_statement_timer_stop(&timer);
				frame->executed++;
			}
		}
		PG_CATCH();
		{
			safety_statement_timer_stop(&timer);
			rethrow_with_line(frame, &st, outer);
		}
		PG_END_TRY();

		MemoryContextSwitchTo(old);
		MemoryContextReset(stmtcxt);
		if (frame->stopped)
			break;
	}

	error_context_stack = errcallback.previous;
	MemoryContextDelete(stmtcxt);
}

/*
 * Open the pass over a script's file: the reader, the splitter and the
 * taps, in the current memory context.  Open it where the file may stay
 * open: a reader opened outside a subtransaction survives the
 * subtransaction's rollback, so execute_scan_rest can read on after a
 * failure.
 */
void
execute_open(ScriptExec *exec)
{
	ExecPass   *pass = palloc0(sizeof(ExecPass));

	pass->cxt = CurrentMemoryContext;
	if (!exec->scan_only)
		staged_check_run(exec->script->file);
	pass->detect_nontx = exec->detect_nontx;
	pass->lint = exec->lint;
	pass->lineno = 1;
	pass->keep = makeStringInfo();
	if (pass->lint)
		lint_stream_begin(pass->lint, exec->script);
	pass->reader = reader_open(exec->script->file);
	/* a text transform: the splitter, the history's text and lint see its result */
	if (exec->placeholders)
	{
		reader_replace(pass->reader, exec->placeholders, exec->script->name);
		pass->replacing = true;
	}
	pass->sp = splitter_create(pass_read, pass);
	/* the script's layout may add its tool's rules; an included file has psql's */
	pass->split = exec->script->file->split;
	splitter_set_dialect(pass->sp, pass->split);
	exec->pass = pass;
}

/*
 * Run a migration script in the current transaction, in one pass over its
 * file (opened here unless execute_open did).  On return exec holds the
 * checksum of the text that ran and, if small enough, the text; or, when
 * detect_nontx is set and the file must run outside a transaction,
 * nontx_why, and nothing from the statement that says so on has run.
 */
void
execute_script(ScriptExec *exec)
{
	const MigrationScript *s = exec->script;
	ExecFrame	frame;
	char	   *dir;
	char	   *restrict_key = NULL;

	if (exec->pass == NULL)
		execute_open(exec);

	memset(&frame, 0, sizeof(frame));
	frame.restrict_key = &restrict_key;
	frame.cxt = CurrentMemoryContext;
	frame.what = exec->what ? exec->what : "migration";
	frame.name = s->name;
	dir = pstrdup(s->path);
	get_parent_directory(dir);
	frame.dir = dir;
	frame.base_dir = exec->base_dir ? exec->base_dir : dir;
	frame.worker = exec->worker;
	frame.pass = exec->pass;
	frame.placeholders = exec->placeholders;

	PG_TRY();
	{
		execute_file(&frame, exec->pass->sp);
	}
	PG_CATCH();
	{
		exec->error_line = frame.error_line ? frame.error_line :
			reader_failed_line(exec->pass->reader);
		exec->statements = frame.executed;
		PG_RE_THROW();
	}
	PG_END_TRY();

	exec->statements = frame.executed;
	if (!frame.stopped && exec->pass->detect_nontx && exec->pass->marker)
	{
		/* a marker after the last statement: the whole file runs outside all the same */
		frame.stopped = true;
		frame.pass_why = psprintf("the marker \"%s\" at line %d", exec->pass->marker,
								  exec->pass->marker_line);
	}
	if (frame.stopped)
	{
		exec->nontx_why = frame.pass_why;
		return;
	}
	if (exec->lint)
		lint_stream_end(exec->lint, s);
	execute_close(exec);
}

/*
 * After a failure: read the rest of the file, running nothing, and say
 * whether it must run outside a transaction (why), or NULL.  The pass goes
 * on from where the failure left it, so the part that ran is not read
 * again.  A file that cannot be read or split on gives NULL: the failure
 * stands.
 */
const char *
execute_scan_rest(ScriptExec *exec)
{
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext stmtcxt;
	char	   *volatile why = NULL;
	char	   *dir;

	if (exec->pass == NULL || !exec->pass->detect_nontx)
		return NULL;
	exec->pass->scanning = true;
	/* where \i and \ir look, as in execute_script */
	dir = pstrdup(exec->script->path);
	get_parent_directory(dir);
	stmtcxt = AllocSetContextCreate(cxt, "migrate scan", ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		ExecPass   *pass = exec->pass;
		Statement	st;

		for (;;)
		{
			char	   *w;

			CHECK_FOR_INTERRUPTS();
			MemoryContextSwitchTo(stmtcxt);
			if (!splitter_next(pass->sp, &st))
			{
				/* a marker on the last lines counts too */
				w = pass->marker ? pass_before_statement(pass, &st) : NULL;
				MemoryContextSwitchTo(cxt);
				if (w)
					why = pstrdup(w);
				break;
			}
			w = pass_before_statement(pass, &st);
			/* the statements of an included file count as the file's own */
			if (w == NULL && st.kind == STMT_META)
				w = scan_include(&st, dir, exec->base_dir ? exec->base_dir : dir, 1);
			MemoryContextSwitchTo(cxt);
			if (w)
			{
				why = pstrdup(w);
				break;
			}
			MemoryContextReset(stmtcxt);
		}
	}
	PG_CATCH();
	{
		/* a cancel or a lack of resources is not about the file */
		(void) migrate_catch_recoverable(cxt);
		why = NULL;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	MemoryContextDelete(stmtcxt);
	return why;
}

/* end the pass: close the file, and take the checksum and the text */
void
execute_close(ScriptExec *exec)
{
	ExecPass   *pass = exec->pass;

	if (pass == NULL)
		return;
	splitter_free(pass->sp);
	exec->identity = *reader_identity(pass->reader);
	reader_close(pass->reader, exec->checksum);
	exec->sql = pass->keep;
	exec->pass = NULL;
}
