/*-------------------------------------------------------------------------
 *
 * executor.c
 *	  Running the statements of one script through SPI, errors mapped to
 *	  the file and line they came from.
 *
 * The script is pulled through the splitter statement by statement, so
 * memory stays bounded by the largest statement; each statement runs with
 * SPI_execute in the caller's transaction (commands.c decides where
 * transactions begin and end).  While it runs, an error context callback
 * names the file and the line of the statement; when an error carries a
 * position inside the statement, the line is made exact (the position is
 * a character offset into the statement text, which starts at the line
 * the splitter recorded).
 *
 * A file's own transaction wrapper is absorbed: BEGIN or START
 * TRANSACTION as its first statement and COMMIT or END as its last are
 * skipped, since the migration already runs in a transaction; any other
 * transaction control is an error naming its line.  psql's \i and \ir
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
#include "progress.h"
#include "safety.h"
#include "source.h"
#include "splitter.h"
#include "staged.h"
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
	int			split;			/* the splitter's dialect (SourceFile.split) */
	int			copy_error_line;	/* line of a COPY data row that failed */
	char	  **restrict_key;	/* \restrict in effect (shared with includes) */
	MemoryContext cxt;			/* lives as long as the migration */
} ExecFrame;

/* reads a script while keeping its text for the history, up to a limit */
typedef struct ReadTap
{
	ScriptReader *reader;
	StringInfo	keep;
} ReadTap;

static void execute_file(ExecFrame *frame, SplitterRead read, void *arg);

static size_t
tap_read(void *arg, char *buf)
{
	ReadTap    *tap = (ReadTap *) arg;
	size_t		n = source_read(tap->reader, buf);

	if (tap->keep)
	{
		if ((int64) tap->keep->len + (int64) n > (int64) migrate_history_sql_limit)
		{
			pfree(tap->keep->data);
			tap->keep = NULL;
		}
		else
			appendBinaryStringInfo(tap->keep, buf, n);
	}
	return n;
}

static size_t
reader_read(void *arg, char *buf)
{
	return source_read((ScriptReader *) arg, buf);
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

/* first word of a transaction control statement? */
static bool
maybe_transaction_control(const char *w)
{
	static const char *const words[] = {
		"begin", "start", "commit", "end", "rollback", "abort",
		"savepoint", "release", "prepare", NULL
	};
	int			i;

	for (i = 0; words[i]; i++)
		if (strcmp(w, words[i]) == 0)
			return true;
	return false;
}

/* the statement as a TransactionStmt, or NULL */
static TransactionStmt *
as_transaction_stmt(Statement *st)
{
	List	   *parsed;
	Node	   *node;

	if (!maybe_transaction_control(st->first_word))
		return NULL;
	parsed = raw_parser(st->text, RAW_PARSE_DEFAULT);
	if (list_length(parsed) != 1)
		return NULL;
	node = ((RawStmt *) linitial(parsed))->stmt;
	return IsA(node, TransactionStmt) ? (TransactionStmt *) node : NULL;
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

	ts = as_transaction_stmt(st);
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

/*
 * A psql meta-command: \i or \ir runs another allowed file in place,
 * \restrict and \unrestrict are honoured, anything else is refused.
 */
static void
run_meta(ExecFrame *frame, Statement *st)
{
	char	   *cmd = pstrdup(st->text + 1);
	char	   *arg;
	char	   *path;
	bool		relative;
	SourceFile *file;
	ScriptReader *reader;
	ExecFrame	inner;
	size_t		n;

	n = strcspn(cmd, " \t");
	arg = cmd + n;
	if (*arg)
		*arg++ = '\0';
	arg = meta_argument(arg);

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
	if (strcmp(cmd, "i") == 0 || strcmp(cmd, "include") == 0)
		relative = false;
	else if (strcmp(cmd, "ir") == 0 || strcmp(cmd, "include_relative") == 0)
		relative = true;
	else
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

	if (is_absolute_path(arg))
		path = arg;
	else
	{
		path = psprintf("%s/%s", relative ? frame->dir : frame->base_dir, arg);

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

	reader = source_open(file);
	execute_file(&inner, reader_read, reader);
	source_close(reader, NULL);
	frame->executed += inner.executed;
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

/* split and run a whole file */
static void
execute_file(ExecFrame *frame, SplitterRead read, void *arg)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext stmtcxt = AllocSetContextCreate(CurrentMemoryContext,
												  "migrate statement",
												  ALLOCSET_DEFAULT_SIZES);
	Splitter   *sp = splitter_create(read, arg);
	ErrorContextCallback errcallback;
	Statement	st;
	StatementTimer timer;

	splitter_set_dialect(sp, frame->split);

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
			if (st.kind == STMT_META)
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
	}

	error_context_stack = errcallback.previous;
	splitter_free(sp);
	MemoryContextDelete(stmtcxt);
}

/*
 * Run a migration script in the current transaction.  On return run holds
 * the checksum of the text that ran and, if small enough, the text.
 */
void
execute_script(ScriptRun *run)
{
	const MigrationScript *s = run->script;
	ExecFrame	frame;
	ReadTap		tap;
	char	   *dir;
	char	   *restrict_key = NULL;

	memset(&frame, 0, sizeof(frame));
	frame.restrict_key = &restrict_key;
	frame.cxt = CurrentMemoryContext;
	frame.what = run->what ? run->what : "migration";
	frame.name = s->name;
	dir = pstrdup(s->path);
	get_parent_directory(dir);
	frame.dir = dir;
	frame.base_dir = run->base_dir ? run->base_dir : dir;
	frame.worker = run->worker;
	frame.split = s->file->split;

	staged_check_run(s->file);
	tap.reader = source_open(s->file);
	tap.keep = makeStringInfo();

	PG_TRY();
	{
		execute_file(&frame, tap_read, &tap);
	}
	PG_CATCH();
	{
		run->error_line = frame.error_line;
		PG_RE_THROW();
	}
	PG_END_TRY();

	source_close(tap.reader, run->checksum);
	run->sql = tap.keep;
	run->statements = frame.executed;
}
