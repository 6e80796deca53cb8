/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  Running a migration's statements at top level, each in its own
 *	  transaction, in a dynamic background worker.
 *
 * Some statements (CREATE INDEX CONCURRENTLY, VACUUM, ...) refuse to run
 * anywhere but at the top level of a session, outside any transaction
 * block; SPI can never run them.  So a migration that contains one runs
 * in a background worker: another session connected to the same
 * database as the same role (with the caller's search_path and other
 * relevant settings), which executes each statement the way the server's
 * simple-query path does: start a transaction, parse, analyze, plan, run
 * a portal as top level, commit.
 *
 * One worker serves one migration file.  The caller (migration.c, through
 * the executor) splits the file and sends the statements one at a time
 * over a shm_mq; the worker's protocol messages come back over another
 * (pq_redirect_to_shm_mq): notices and warnings, which the caller raises
 * again in its own session, the first error, which it raises again as an
 * ERROR with its SQLSTATE, detail and hint and the error position moved
 * to the statement text (so the executor names the exact file line), and
 * a ReadyForQuery after each statement, carrying the transaction state.
 *
 * The caller holds no snapshot and no lock while it waits (it committed
 * before starting the worker and drops its catalog snapshot before each
 * wait), so a concurrent index build in the worker never waits for it.
 * If the caller fails or is cancelled, detaching the shared memory
 * terminates the worker, and worker_stop waits until it has gone, so no
 * worker outlives its migration.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/dest.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "migrate.h"
#include "txblocks.h"
#include "worker.h"

/* identifies our shared memory segments ("migw") */
#define WORKER_MAGIC 0x6d696777

/* keys of the table of contents */
#define KEY_SHARED		1
#define KEY_SETTINGS	2
#define KEY_TO_WORKER	3
#define KEY_FROM_WORKER 4

/* each queue; longer messages pass through in pieces */
#define WORKER_QUEUE_SIZE (64 * 1024)

/* how often a migration waiting for a worker slot tries again */
#define WORKER_SLOT_POLL_MS 100

/* how much of a statement the dirty message quotes */
#define SNIPPET_LEN 100

/* messages to the worker: a statement, or the end of the file */
#define MSG_STATEMENT 'Q'
#define MSG_END 'X'

/* what the worker needs to connect, in the shared segment */
typedef struct WorkerShared
{
	Oid			database;
	Oid			login_role;		/* the role the caller logged in as */
} WorkerShared;

/*
 * Settings passed to the worker, so that its statements behave as they
 * would in the caller's session (as psql -f would run them there).
 * client_encoding is not among them: messages travel in the server
 * encoding and the caller converts them.
 */
typedef struct PassedSetting
{
	const char *name;
	bool		superuser_only; /* only a superuser may set it */
} PassedSetting;

static const PassedSetting passed_settings[] = {
	{"search_path", false},
	{"statement_timeout", false},
	{"lock_timeout", false},
	{"idle_in_transaction_session_timeout", false},
	{"DateStyle", false},
	{"IntervalStyle", false},
	{"TimeZone", false},
	{"extra_float_digits", false},
	{"bytea_output", false},
	{"xmloption", false},
	{"standard_conforming_strings", false},
	{"check_function_bodies", false},
	{"client_min_messages", false},
	{"default_tablespace", false},
	{"default_table_access_method", false},
	{"default_toast_compression", false},	/* PG 14+; skipped when absent */
	{"default_transaction_isolation", false},
	{"default_transaction_read_only", false},
	{"maintenance_work_mem", false},
	{"work_mem", false},
	{"max_parallel_maintenance_workers", false},
	{"synchronous_commit", false},
	{"row_security", false},
	{"lc_messages", true},
	{"session_replication_role", true},
	{NULL, false}
};

/* the caller's view of its worker */
struct WorkerSession
{
	MemoryContext cxt;			/* where the session and its progress live */
	const char *script;			/* migration name, for messages */
	dsm_segment *seg;			/* NULL once detached */
	BackgroundWorkerHandle *handle;
	shm_mq_handle *to_worker;
	shm_mq_handle *from_worker;
	char		txstatus;		/* after the last statement: I, T or E */
	int			block_line;		/* line of the BEGIN of the block open, or 0 */
	const char *block_file;		/* the file it is in */
	WorkerProgress progress;
};

PGDLLEXPORT void migrate_worker_main(Datum main_arg);

static bool receive_until_ready(WorkerSession *ws, const char *sql);
pg_noreturn static void worker_not_started(WorkerSession *ws);

/* ----------------------------------------------------------------
 * Caller side
 * ----------------------------------------------------------------
 */

/* settings for the worker: "name\0value\0" pairs, then "\0" */
static void
collect_settings(StringInfo buf)
{
	const PassedSetting *ps;
	bool		su = superuser();

	/* who the caller is: SET SESSION AUTHORIZATION, then SET ROLE */
	if (GetSessionUserId() != GetAuthenticatedUserId())
	{
		appendStringInfoString(buf, "session_authorization");
		appendStringInfoChar(buf, '\0');
		appendStringInfoString(buf, GetUserNameFromId(GetSessionUserId(), false));
		appendStringInfoChar(buf, '\0');
	}
	if (GetUserId() != GetSessionUserId())
	{
		appendStringInfoString(buf, "role");
		appendStringInfoChar(buf, '\0');
		appendStringInfoString(buf, GetUserNameFromId(GetUserId(), false));
		appendStringInfoChar(buf, '\0');
	}

	for (ps = passed_settings; ps->name; ps++)
	{
		const char *value;

		if (ps->superuser_only && !su)
			continue;
		value = GetConfigOption(ps->name, true, false);
		if (value == NULL)
			continue;
		appendStringInfoString(buf, ps->name);
		appendStringInfoChar(buf, '\0');
		appendStringInfoString(buf, value);
		appendStringInfoChar(buf, '\0');
	}
	appendStringInfoChar(buf, '\0');
}

/* the worker must not outlive the caller's interest: stop it on detach */
static void
terminate_on_detach(dsm_segment *seg, Datum arg)
{
	WorkerSession *ws = (WorkerSession *) DatumGetPointer(arg);

	if (ws->handle)
		TerminateBackgroundWorker(ws->handle);
}

/*
 * The worker never began its work: the postmaster could not start its
 * process (no free process slot, fork failed), or the process ended before
 * the worker's code ran (the library could not be loaded).
 */
static void
worker_not_started(WorkerSession *ws)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
			 errmsg("could not start the background worker for migration \"%s\"", ws->script),
			 errdetail("A migration with statements that cannot run in a transaction block "
					   "runs in a background worker, and the worker did not start; none of the "
					   "migration's statements ran."),
			 errhint("The server log says why: for example that it could not fork the worker "
					 "process (run the command again when the server has the resources), or that the "
					 "library \"migrate\" could not be loaded (it was replaced or removed while "
					 "the server runs, or dynamic_library_path does not lead to it).")));
}

/*
 * Wait until the postmaster has started the worker (its process exists).
 * A worker that never ran (no free process slot, fork failed) is an error
 * here, and not "ended unexpectedly" at its first statement; one that ran
 * and ended at once (it could not log in, a setting was refused) said why
 * on the queue, and that is raised instead.
 */
static void
wait_for_startup(WorkerSession *ws)
{
	pid_t		pid;

	switch (WaitForBackgroundWorkerStartup(ws->handle, &pid))
	{
		case BGWH_STARTED:
			return;
		case BGWH_POSTMASTER_DIED:
			ereport(FATAL,
					(errcode(ERRCODE_ADMIN_SHUTDOWN),
					 errmsg("postmaster exited while a migrate worker was starting")));
			break;
		case BGWH_STOPPED:
		case BGWH_NOT_YET_STARTED:	/* not returned by the wait */
			break;
	}
	/* raises the worker's own error, if it lived long enough to send one */
	(void) receive_until_ready(ws, NULL);
	worker_not_started(ws);
}

/*
 * Register the worker, waiting up to migrate.worker_slot_wait for a free
 * slot: on a fleet, pg_cron's own workers (cron.use_background_workers)
 * and parallel queries can hold every slot of max_worker_processes for a
 * moment.  The caller committed before (run_attempt) and holds no lock;
 * the poll drops the catalog snapshot, so the wait holds no snapshot and
 * delays nobody's vacuum or index build.  A cancel ends the wait.
 */
static void
register_worker(BackgroundWorker *bgw, WorkerSession *ws)
{
	TimestampTz start = GetCurrentTimestamp();
	bool		announced = false;

	while (!RegisterDynamicBackgroundWorker(bgw, &ws->handle))
	{
		InvalidateCatalogSnapshot();
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), migrate_worker_slot_wait))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("could not start a background worker for migration \"%s\"", ws->script),
					 errdetail("A migration with statements that cannot run in a transaction block "
							   "runs in a background worker, and all background worker slots are in "
							   "use (waited %d ms for one).", migrate_worker_slot_wait),
					 errhint("Raise max_worker_processes (now %d) or migrate.worker_slot_wait, or "
							 "try again when fewer parallel queries and other workers are running.",
							 max_worker_processes)));
		if (!announced)
		{
			ereport(NOTICE,
					(errmsg("waiting for a free background worker slot for migration \"%s\"",
							ws->script)));
			announced = true;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 WORKER_SLOT_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Start a background worker for migration script.  The session lives in
 * cxt, which must outlive the current subtransaction so that a failure
 * can be inspected after its rollback; the shared memory belongs to the
 * current resource owner (released at the end of the (sub)transaction,
 * which terminates the worker if it is still running).
 */
WorkerSession *
worker_start(const char *script, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	WorkerSession *ws = palloc0(sizeof(WorkerSession));
	StringInfoData settings;
	shm_toc_estimator e;
	Size		size;
	shm_toc    *toc;
	WorkerShared *shared;
	char	   *settings_copy;
	shm_mq	   *to_worker;
	shm_mq	   *from_worker;
	BackgroundWorker bgw;

	ws->cxt = cxt;
	ws->script = pstrdup(script);
	ws->txstatus = 'I';

	initStringInfo(&settings);
	collect_settings(&settings);

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, sizeof(WorkerShared));
	shm_toc_estimate_chunk(&e, settings.len);
	shm_toc_estimate_chunk(&e, WORKER_QUEUE_SIZE);
	shm_toc_estimate_chunk(&e, WORKER_QUEUE_SIZE);
	shm_toc_estimate_keys(&e, 4);
	size = shm_toc_estimate(&e);

	ws->seg = dsm_create(size, 0);
	toc = shm_toc_create(WORKER_MAGIC, dsm_segment_address(ws->seg), size);

	shared = shm_toc_allocate(toc, sizeof(WorkerShared));
	shared->database = MyDatabaseId;
	shared->login_role = GetAuthenticatedUserId();
	shm_toc_insert(toc, KEY_SHARED, shared);

	settings_copy = shm_toc_allocate(toc, settings.len);
	memcpy(settings_copy, settings.data, settings.len);
	shm_toc_insert(toc, KEY_SETTINGS, settings_copy);
	pfree(settings.data);

	to_worker = shm_mq_create(shm_toc_allocate(toc, WORKER_QUEUE_SIZE), WORKER_QUEUE_SIZE);
	shm_toc_insert(toc, KEY_TO_WORKER, to_worker);
	shm_mq_set_sender(to_worker, MyProc);
	from_worker = shm_mq_create(shm_toc_allocate(toc, WORKER_QUEUE_SIZE), WORKER_QUEUE_SIZE);
	shm_toc_insert(toc, KEY_FROM_WORKER, from_worker);
	shm_mq_set_receiver(from_worker, MyProc);
	ws->to_worker = shm_mq_attach(to_worker, ws->seg, NULL);
	ws->from_worker = shm_mq_attach(from_worker, ws->seg, NULL);

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_ConsistentState;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	/*
	 * By name, not "$libdir/migrate": the postmaster finds it through
	 * dynamic_library_path as the caller found it, also when the extension
	 * lives outside the server's own directories (PG 18's
	 * extension_control_path with dynamic_library_path).
	 */
	snprintf(bgw.bgw_library_name, sizeof(bgw.bgw_library_name), "migrate");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "migrate_worker_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "migrate worker for %s", script);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "migrate worker");
	bgw.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(ws->seg));
	bgw.bgw_notify_pid = MyProcPid;

	register_worker(&bgw, ws);

	shm_mq_set_handle(ws->to_worker, ws->handle);
	shm_mq_set_handle(ws->from_worker, ws->handle);
	on_dsm_detach(ws->seg, terminate_on_detach, PointerGetDatum(ws));
	MemoryContextSwitchTo(old);
	wait_for_startup(ws);
	return ws;
}

/* the first line of a statement, shortened, for messages */
static char *
snippet(const char *text)
{
	int			len = strcspn(text, "\n");
	int			cut = len > SNIPPET_LEN ? pg_mbcliplen(text, len, SNIPPET_LEN) : len;

	return psprintf("%.*s%s", cut, text, cut < len ? "..." : "");
}

/*
 * Raise a notice or error the worker sent, in the caller's session.  An
 * error becomes an ERROR (a worker FATAL ends only the worker) whose
 * position, if any, points into the statement text as internal query, so
 * the executor can name the exact line.
 */
static void
relay_message(StringInfo msg, const char *sql)
{
	ErrorData	edata;

	memset(&edata, 0, sizeof(edata));
	pq_parse_errornotice(msg, &edata);
	if (edata.elevel >= ERROR)
	{
		edata.elevel = ERROR;
		if (edata.cursorpos > 0 && sql != NULL)
		{
			edata.internalpos = edata.cursorpos;
			edata.internalquery = pstrdup(sql);
			edata.cursorpos = 0;
		}
	}
	ThrowErrorData(&edata);
}

/*
 * Read the worker's messages until its ReadyForQuery (returns true) or
 * until it has gone (returns false).  Notices are raised again here; an
 * error is raised again and ends the wait.
 */
static bool
receive_until_ready(WorkerSession *ws, const char *sql)
{
	for (;;)
	{
		Size		nbytes;
		void	   *data;
		StringInfoData msg;
		shm_mq_result res;
		char		type;

		/* a catalog snapshot would give us an xmin that a concurrent build waits for */
		InvalidateCatalogSnapshot();
		res = shm_mq_receive(ws->from_worker, &nbytes, &data, false);
		if (res != SHM_MQ_SUCCESS)
			return false;
		if (nbytes < 1)
			continue;

		/* a read-only view of the message, which the queue owns */
		msg.data = (char *) data;
		msg.len = (int) nbytes;
		msg.maxlen = (int) nbytes;
		msg.cursor = 0;
		type = pq_getmsgbyte(&msg);
		switch (type)
		{
			case 'E':
			case 'N':
				relay_message(&msg, sql);
				break;
			case 'Z':
				ws->txstatus = pq_getmsgbyte(&msg);
				return true;
			default:
				/* nothing else matters here (e.g. a NotificationResponse) */
				break;
		}
	}
}

/*
 * The worker ended without saying why.  If it never attached to its queue
 * it ended before its own code ran (its library could not be loaded, it
 * was killed at once): it never started, and none of the statements ran.
 */
static void
worker_vanished(WorkerSession *ws)
{
	if (shm_mq_get_sender(shm_mq_get_queue(ws->from_worker)) == NULL)
		worker_not_started(ws);
	ereport(ERROR,
			(errcode(ERRCODE_CONNECTION_FAILURE),
			 errmsg("the background worker of migration \"%s\" ended unexpectedly", ws->script),
			 errhint("The server log may say why.")));
}

/*
 * Run one statement of file (the migration or a file it includes) in the
 * worker and wait for it to finish.  Errors of the statement are raised
 * here, in the caller, with its SQLSTATE and fields.
 */
void
worker_run(WorkerSession *ws, const Statement *st, const char *file)
{
	StringInfoData msg;
	shm_mq_result res;
	bool		in_block = ws->txstatus != 'I';

	if (st->copy_from_stdin)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY FROM STDIN is not supported in a migration that runs outside a transaction"),
				 errhint("Move the COPY and its data to a migration of its own, which runs in a "
						 "transaction.")));

	initStringInfo(&msg);
	appendStringInfoChar(&msg, MSG_STATEMENT);
	appendBinaryStringInfo(&msg, st->text, st->len);

	InvalidateCatalogSnapshot();
	res = shm_mq_send(ws->to_worker, msg.len, msg.data, false, true);
	pfree(msg.data);

	/* if the worker is gone, it may have said why (e.g. it could not log in) */
	if (!receive_until_ready(ws, st->text) || res != SHM_MQ_SUCCESS)
		worker_vanished(ws);

	ws->progress.statements++;
	if (!in_block && ws->txstatus != 'I')
	{
		/* the file's own BEGIN opened a block: remember where, for worker_finish */
		MemoryContext old = MemoryContextSwitchTo(ws->cxt);

		ws->block_line = st->line;
		ws->block_file = pstrdup(file);
		MemoryContextSwitchTo(old);
	}
	/* outside a transaction block, the statement (or the block it ended) is committed */
	if (ws->txstatus == 'I' && txblocks_commits(st, in_block))
	{
		MemoryContext old = MemoryContextSwitchTo(ws->cxt);

		if (ws->progress.committed_file == NULL ||
			strcmp(ws->progress.committed_file, file) != 0)
			ws->progress.committed_file = pstrdup(file);
		if (ws->progress.committed_text)
			pfree((char *) ws->progress.committed_text);
		ws->progress.committed_line = st->line;
		ws->progress.committed_text = snippet(st->text);
		MemoryContextSwitchTo(old);
	}
}

/* wait until the worker process has exited */
static void
wait_until_gone(WorkerSession *ws)
{
	if (ws->handle == NULL)
		return;
	if (WaitForBackgroundWorkerShutdown(ws->handle) == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while a migrate worker was running")));
	pfree(ws->handle);
	ws->handle = NULL;
}

/*
 * The file is done: let the worker end, wait for it, and release the
 * shared memory.  A transaction block the file left open (a BEGIN with no
 * COMMIT) is rolled back by the worker's exit, as psql's exit would roll
 * it back, and is an error here: the statements in it did not happen,
 * yet the migration would be recorded as applied.  *error_line is then
 * the line of its BEGIN.
 */
void
worker_finish(WorkerSession *ws, int *error_line)
{
	char		end = MSG_END;
	bool		open_block = ws->txstatus != 'I';

	InvalidateCatalogSnapshot();
	(void) shm_mq_send(ws->to_worker, 1, &end, false, true);
	/* anything it says on the way out (nothing is expected) */
	while (receive_until_ready(ws, NULL))
		;
	wait_until_gone(ws);

	cancel_on_dsm_detach(ws->seg, terminate_on_detach, PointerGetDatum(ws));
	dsm_detach(ws->seg);
	ws->seg = NULL;

	if (open_block)
	{
		bool		own = ws->block_file == NULL || strcmp(ws->block_file, ws->script) == 0;

		*error_line = own ? ws->block_line : 0;
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("migration \"%s\" ends inside a transaction block", ws->script),
				 own ?
				 errdetail("The transaction block that BEGIN at line %d opened was never ended; "
						   "its statements were rolled back when the migration ended.",
						   ws->block_line) :
				 errdetail("The transaction block that BEGIN at line %d of included file %s "
						   "opened was never ended; its statements were rolled back when the "
						   "migration ended.", ws->block_line, ws->block_file),
				 errhint("End the transaction block with COMMIT at the end of the file.")));
	}
}

/*
 * After a failure: make sure the worker has stopped (detaching the shared
 * memory, at the end of the failed subtransaction, asked it to) and wait
 * until it has exited, so that what it left behind can be inspected.
 */
void
worker_stop(WorkerSession *ws)
{
	if (ws == NULL || ws->handle == NULL)
		return;
	TerminateBackgroundWorker(ws->handle);
	wait_until_gone(ws);
}

/* what the worker ran and committed so far */
WorkerProgress
worker_progress(const WorkerSession *ws)
{
	return ws->progress;
}

/* ----------------------------------------------------------------
 * Worker side
 * ----------------------------------------------------------------
 */

/* the setting the worker is applying, for the error context */
static const char *applying_setting = NULL;

static void
setting_error_callback(void *arg)
{
	if (applying_setting)
		errcontext("applying the caller's setting \"%s\" in the migrate worker", applying_setting);
}

/* take over the caller's identity and settings */
static void
apply_settings(const char *p)
{
	ErrorContextCallback errcallback;

	errcallback.callback = setting_error_callback;
	errcallback.arg = NULL;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	/* role and session_authorization look up catalogs */
	StartTransactionCommand();
	while (*p)
	{
		const char *name = p;
		const char *value = name + strlen(name) + 1;

		applying_setting = name;
		(void) set_config_option(name, value,
								 superuser() ? PGC_SUSET : PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SET, true, ERROR, false);
		p = value + strlen(value) + 1;
	}
	applying_setting = NULL;
	CommitTransactionCommand();

	error_context_stack = errcallback.previous;
}

/* COPY to or from the client has no client here */
static void
refuse_client_copy(Node *stmt)
{
	if (IsA(stmt, CopyStmt) && ((CopyStmt *) stmt)->filename == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY to or from the client is not supported in a migration"),
				 errhint("COPY to or from a server file instead; COPY ... FROM STDIN with inline "
						 "data works in a migration that runs in a transaction.")));
}

/*
 * PREPARE TRANSACTION would leave a prepared transaction behind, holding
 * its locks with no session, while the migration is recorded as applied:
 * refused here, for every parse tree the worker is given (a statement
 * string may hold several), as the executor refuses it in a transaction.
 */
static void
refuse_prepare_transaction(Node *stmt)
{
	if (IsA(stmt, TransactionStmt) &&
		((TransactionStmt *) stmt)->kind == TRANS_STMT_PREPARE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("PREPARE TRANSACTION is not allowed in a migration"),
				 errdetail("The prepared transaction would outlive the migration, holding its "
						   "locks, while the migration is recorded as applied."),
				 errhint("Remove the statement; a migration's transactions end with COMMIT.")));
}

/*
 * Run one statement as the simple-query path does: each parse tree in its
 * own transaction, run by a portal as top level.  Parse trees and plans
 * live in cxt, outside the transaction, since statements such as CREATE
 * INDEX CONCURRENTLY and VACUUM commit and start transactions themselves.
 */
static void
run_statement(const char *sql, MemoryContext cxt)
{
	List	   *parsetrees;
	ListCell   *lc;

	debug_query_string = sql;
	pgstat_report_activity(STATE_RUNNING, sql);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);

	MemoryContextSwitchTo(cxt);
	parsetrees = pg_parse_query(sql);
	if (parsetrees == NIL)
		CommitTransactionCommand();

	foreach(lc, parsetrees)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);
		bool		snapshot_set = false;
		List	   *queries;
		List	   *plans;
		Portal		portal;
		DestReceiver *dest;
		QueryCompletion qc;
		int16		format = 0;

		if (lc != list_head(parsetrees))
		{
			StartTransactionCommand();
			MemoryContextSwitchTo(cxt);
		}
		refuse_client_copy(raw->stmt);
		refuse_prepare_transaction(raw->stmt);

		if (analyze_requires_snapshot(raw))
		{
			PushActiveSnapshot(GetTransactionSnapshot());
			snapshot_set = true;
		}
		queries = pg_analyze_and_rewrite_fixedparams(raw, sql, NULL, 0, NULL);
		plans = pg_plan_queries(queries, sql, CURSOR_OPT_PARALLEL_OK, NULL);
		if (snapshot_set)
			PopActiveSnapshot();
		CHECK_FOR_INTERRUPTS();

		portal = CreatePortal("", true, true);
		portal->visible = false;
		PortalDefineQuery(portal, NULL, sql, CreateCommandTag(raw->stmt), plans, NULL);
		PortalStart(portal, NULL, 0, InvalidSnapshot);
		PortalSetResultFormat(portal, 1, &format);

		/* results are discarded, as psql -f -o /dev/null would */
		dest = CreateDestReceiver(DestNone);
		(void) migrate_portal_run(portal, FETCH_ALL, true, dest, dest, &qc);
		dest->rDestroy(dest);
		PortalDrop(portal, false);

		CommitTransactionCommand();
	}

	if (StatementTimeout > 0)
		disable_timeout(STATEMENT_TIMEOUT, false);
	debug_query_string = NULL;
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Entry point of the worker.  Any error ends it: the background worker
 * machinery reports it (to the caller, through the queue) and exits.
 */
void
migrate_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	shm_toc    *toc;
	WorkerShared *shared;
	const char *settings;
	shm_mq	   *q;
	shm_mq_handle *from_caller;
	shm_mq_handle *to_caller;
	MemoryContext cxt;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the shared memory of the migrate worker")));
	toc = shm_toc_attach(WORKER_MAGIC, dsm_segment_address(seg));
	if (toc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("invalid shared memory of the migrate worker")));
	shared = shm_toc_lookup(toc, KEY_SHARED, false);
	settings = shm_toc_lookup(toc, KEY_SETTINGS, false);

	/* from here on every message, including a failure to log in, goes to the caller */
	q = shm_toc_lookup(toc, KEY_FROM_WORKER, false);
	shm_mq_set_sender(q, MyProc);
	to_caller = shm_mq_attach(q, seg, NULL);
	pq_redirect_to_shm_mq(seg, to_caller);

	q = shm_toc_lookup(toc, KEY_TO_WORKER, false);
	shm_mq_set_receiver(q, MyProc);
	from_caller = shm_mq_attach(q, seg, NULL);

	BackgroundWorkerInitializeConnectionByOid(shared->database, shared->login_role,
											  MIGRATE_BGW_CONNECT_FLAGS);
	apply_settings(settings);

	cxt = AllocSetContextCreate(TopMemoryContext, "migrate worker statement",
								ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		Size		nbytes;
		void	   *data;
		char	   *sql;

		pgstat_report_activity(STATE_IDLE, NULL);
		if (shm_mq_receive(from_caller, &nbytes, &data, false) != SHM_MQ_SUCCESS)
			break;				/* the caller has gone: stop */
		if (nbytes < 1 || ((char *) data)[0] == MSG_END)
			break;
		if (((char *) data)[0] != MSG_STATEMENT)
			elog(ERROR, "unexpected message type 0x%02x from the migrate caller",
				 ((unsigned char *) data)[0]);

		sql = MemoryContextAlloc(cxt, nbytes);
		memcpy(sql, (char *) data + 1, nbytes - 1);
		sql[nbytes - 1] = '\0';

		run_statement(sql, cxt);
		ReadyForQuery(DestRemote);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextReset(cxt);
	}
	/* an open transaction block is rolled back as the worker exits */
}
