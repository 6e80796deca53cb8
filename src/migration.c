/*-------------------------------------------------------------------------
 *
 * migration.c
 *	  Carrying out one migration end to end: its transaction or
 *	  subtransaction, its settings, its retries, the worker for a
 *	  migration that runs outside a transaction, and its history row.
 *
 * A migration is one script (versioned, repeatable, or undo) of a run
 * (run.c).  Its statements are executed by executor.c; this file decides
 * around them: in a call that may commit, each migration is an attempt in
 * a subtransaction, so that a failure can be rolled back, recorded with
 * its failure row (history.c) and committed before the error is raised
 * again, and a lock timeout can be retried after a back-off; the success
 * row commits with the migration.  A migration that must run outside a
 * transaction (nontx.c) runs in a background worker (worker.c) after a
 * commit, and a failure part-way leaves a dirty row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "callbacks.h"
#include "executor.h"
#include "drift.h"
#include "history.h"
#include "lint.h"
#include "migrate.h"
#include "migration.h"
#include "nontx.h"
#include "placeholders.h"
#include "progress.h"
#include "run.h"
#include "runs.h"
#include "safety.h"
#include "worker.h"

/* milliseconds since start */
static double
elapsed_ms(TimestampTz start)
{
	return (double) (GetCurrentTimestamp() - start) / 1000.0;
}

/* the error of a migration that must run outside a transaction, in a call that cannot */
pg_noreturn static void
refuse_in_transaction_block(MigrationScript *s, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
			 errmsg("migration \"%s\" cannot run inside a transaction block", s->name),
			 errdetail("It must run outside a transaction, statement by statement: %s.", why),
			 errhint("Call migrate.apply with CALL outside a transaction block (not inside "
					 "BEGIN ... COMMIT, a function or a multi-statement query string).")));
}

/* how an attempt ended */
typedef enum AttemptResult
{
	ATTEMPT_APPLIED,			/* applied and recorded */
	ATTEMPT_RETRY,				/* failed on a lock; another attempt may follow */
	ATTEMPT_OUTSIDE				/* must run outside a transaction: nothing of it stays */
} AttemptResult;

/*
 * One attempt at one script, recorded as a history row of its kind
 * (versioned, repeatable, or undo for an undo script, which has the
 * version of the migration it undoes).  Nonatomic: in a subtransaction,
 * so that a failure can be rolled back, recorded and committed before the
 * error is raised again; the success row commits with the migration.
 * Settings a script changes (SET) last until its end; the script runs
 * with migrate.lock_timeout and the run's statement_timeout.
 *
 * The file is read once, while it runs (executor.c).  Whether it must
 * run outside a transaction is found on the way: the pass stops before
 * the first statement that needs top level (or at another tool's marker),
 * and after a failure it reads the rest of the file to tell.  Then the
 * subtransaction is rolled back, so nothing of the attempt stays, and the
 * attempt returns ATTEMPT_OUTSIDE (*outside_why says why); in a call that
 * cannot commit, that is the error it always was, and the caller's
 * transaction rolls back whole.  The reader is opened before the
 * subtransaction, so that it survives the rollback and the rest of the
 * file is read on, not again.
 *
 * A script known to run outside a transaction (nontx_why set, see
 * nontx.c) runs in a background worker (worker.c), only in a nonatomic
 * call, after a commit so that the caller holds nothing the worker's
 * statements could wait for.  If it fails having changed something, its
 * failure row is dirty.
 *
 * The directory's beforeEachMigrate and afterEachMigrate callbacks
 * (beforeEachUndo and afterEachUndo for an undo script; callbacks.c) run
 * in the migration's (sub)transaction, before its statements and after
 * them, with its settings: a SET in one lasts until the migration ends,
 * and a failure in one is the migration's failure, rolled back with it,
 * its failure row naming the callback's file and line.  Around a script
 * that runs in the worker they cannot: the worker's statements must not
 * wait for anything this session holds.  There the before callbacks run
 * and commit in a transaction of their own before the worker starts (a
 * failure stops the run before the migration, which stays pending), and
 * the after callbacks in one after the migration's row is committed (a
 * failure stops the run; the migration stays applied).
 */
static AttemptResult
migration_attempt(TrackRun *run, MigrationScript *s, const char *nontx_why,
				  int attempt, int attempts, char **outside_why)
{
	ScriptExec	exec;
	HistoryEntry he;
	TimestampTz start = GetCurrentTimestamp();
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner;
	int			nestlevel;
	volatile int backoff = 0;
	volatile bool outside = false;
	double		ms;
	bool		nontx = nontx_why != NULL;
	List	   *invalid_before = NIL;
	bool		undo = s->kind == MIGRATION_UNDO;
	CallbackEvent before_each = undo ? CALLBACK_BEFORE_EACH_UNDO : CALLBACK_BEFORE_EACH_MIGRATE;
	CallbackEvent after_each = undo ? CALLBACK_AFTER_EACH_UNDO : CALLBACK_AFTER_EACH_MIGRATE;
	CallbackFailure cb_failed = {NULL, 0};

	progress_migration(s, attempt, attempts);
	drift_check_unseen();

	memset(&exec, 0, sizeof(exec));
	exec.script = s;
	exec.base_dir = run->real_dir;
	exec.detect_nontx = !nontx;
	exec.lint = lint_stream_of(run->lint);
	exec.placeholders = run->placeholders;

	memset(&he, 0, sizeof(he));
	he.track = run->track;
	he.version = s->version;
	he.description = s->description;
	he.type = migration_kind_name(s->kind);
	he.script = s->name;

	if (nontx)
	{
		if (!run->nonatomic)
			refuse_in_transaction_block(s, nontx_why);
		invalid_before = nontx_invalid_indexes();
		run_commit();
		/* committed before the worker starts: see above */
		callbacks_event(run, before_each);
	}
	/* after any commit: the commit replaced the transaction's resource owner */
	oldowner = CurrentResourceOwner;

	/* in this transaction, not the subtransaction: see above */
	execute_open(&exec);
	nestlevel = NewGUCNestLevel();
	safety_migration_settings(run->statement_timeout);
	if (run->nonatomic)
		BeginInternalSubTransaction(NULL);

	PG_TRY();
	{
		/*
		 * The worker's statements cannot be taken back: a placeholder without
		 * a value must stop the migration before the first of them runs.
		 */
		if (nontx && run->placeholders)
			placeholders_check_file(run->placeholders, s->file, s->name);
		/* the worker copies this session's settings, timeouts included */
		if (nontx)
			exec.worker = worker_start(s->name, oldcxt);
		safety_lock_watch_start();
		if (!nontx)
			callbacks_execute(run->callbacks, run->real_dir, run->placeholders, before_each,
							  &cb_failed);
		execute_script(&exec);
		if (!nontx && !exec.nontx_why)
			callbacks_execute(run->callbacks, run->real_dir, run->placeholders, after_each,
							  &cb_failed);
		safety_lock_watch_stop();
		if (exec.nontx_why)
		{
			/* stopped before a statement that needs top level: undo what ran */
			if (!run->nonatomic)
				refuse_in_transaction_block(s, exec.nontx_why);
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
			AtEOXact_GUC(false, nestlevel);
			*outside_why = pstrdup(exec.nontx_why);
			execute_close(&exec);
			outside = true;
		}
		else
		{
			if (nontx)
				worker_finish(exec.worker, &exec.error_line);
			/* known beforehand only for a repeatable script (the plan needed it) */
			if (s->checksum[0] != '\0' && strcmp(exec.checksum, s->checksum) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("migration file \"%s\" changed while it was being applied", s->name),
						 errhint("Run the command again once the files are no longer changing.")));
			if (run->nonatomic)
			{
				ReleaseCurrentSubTransaction();
				MemoryContextSwitchTo(oldcxt);
				CurrentResourceOwner = oldowner;
			}
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char	   *blockers = NULL;
		bool		lock_failure;
		const char *why = NULL;

		safety_lock_watch_stop();
		MemoryContextSwitchTo(run->cxt);
		edata = CopyErrorData();
		FlushErrorState();
		lock_failure = safety_is_lock_failure(edata);

		if (!run->nonatomic)
		{
			/*
			 * The caller's transaction fails whole.  A file that would have
			 * run outside a transaction fails as it always did, before
			 * anything of it counts.
			 */
			if (!nontx && !migrate_error_is_interruption(edata) && cb_failed.name == NULL)
				why = execute_scan_rest(&exec);
			if (why)
				refuse_in_transaction_block(s, why);
			if (lock_failure)
				safety_lock_error(edata, safety_lock_blockers(false), 1, false);
			else
				nontx_enum_hint(edata, false);
			migrate_rethrow(edata);
		}

		/* detaches the worker's shared memory, which tells it to stop */
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		AtEOXact_GUC(false, nestlevel);

		/* would the file have run outside a transaction? then it runs there now */
		if (!nontx && !migrate_error_is_interruption(edata) && cb_failed.name == NULL)
			why = execute_scan_rest(&exec);
		/* the file stays open until here (its checksum context too) */
		execute_close(&exec);
		if (why)
		{
			*outside_why = pstrdup(why);
			outside = true;
		}
		else
		{
			if (lock_failure && !nontx)
				blockers = safety_lock_blockers(true);

			he.checksum = s->checksum[0] != '\0' ? s->checksum : NULL;
			he.execution_ms = (int64) elapsed_ms(start);
			he.success = false;
			he.error = blockers ? psprintf("%s. %s", edata->message, blockers) : edata->message;
			he.sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
			he.error_line = exec.error_line;
			if (cb_failed.name)
			{
				/* error_line is a line of the migration's own file */
				he.error = psprintf("callback %s, line %d: %s", cb_failed.name,
									cb_failed.line, he.error);
				he.error_line = 0;
			}
			if (nontx)
			{
				char	   *summary;

				worker_stop(exec.worker);
				he.dirty = nontx_describe_failure(s->name, exec.worker, invalid_before,
												  edata->message, exec.error_line, &summary);
				if (he.dirty)
				{
					he.error = summary;
					ereport(WARNING,
							(errmsg("migration \"%s\" stopped part-way and is now dirty", s->name),
							 errdetail("%s", summary),
							 errhint("%s", nontx_repair_hint(s->kind == MIGRATION_UNDO))));
				}
			}
			else
				nontx_enum_hint(edata, true);
			history_record(&he);
			drift_run_failed();
			run_commit();

			if (!lock_failure || nontx)
				migrate_rethrow(edata);
			if (attempt >= attempts)
			{
				safety_lock_error(edata, blockers, attempt, true);
				migrate_rethrow(edata);
			}
			backoff = safety_backoff_ms(attempt);
			ereport(NOTICE,
					(errmsg("lock timeout in %s, line %d (attempt %d of %d); retrying in %d ms",
							s->name, exec.error_line, attempt, attempts, backoff),
					 blockers ? errdetail("%s", blockers) : 0));
		}
	}
	PG_END_TRY();

	if (outside)
		return ATTEMPT_OUTSIDE;
	if (backoff > 0)
	{
		/* committed above: the wait holds no lock and no snapshot */
		progress_retry_wait(attempt + 1, attempts);
		safety_sleep_ms(backoff);
		return ATTEMPT_RETRY;
	}

	AtEOXact_GUC(false, nestlevel);

	ms = elapsed_ms(start);
	he.checksum = exec.checksum;
	he.identity = &exec.identity;
	he.execution_ms = (int64) ms;
	he.success = true;
	he.sql = exec.sql ? exec.sql->data : NULL;
	history_record(&he);
	runs_applied(run);
	lint_record_ignored(run->lint, run->track, s);
	if (run->nonatomic)
		run_commit();

	if (nontx)
	{
		ereport(NOTICE,
				(errmsg("%s %s outside a transaction (%.3f ms)",
						s->kind == MIGRATION_UNDO ? "undid" : "applied", s->name, ms),
				 errdetail("It runs statement by statement: %s.", nontx_why)));
		/* after the migration's row is committed: see above */
		callbacks_event(run, after_each);
	}
	else
		ereport(NOTICE,
				(errmsg("%s %s (%.3f ms)", s->kind == MIGRATION_UNDO ? "undid" : "applied",
						s->name, ms)));
	return ATTEMPT_APPLIED;
}

/*
 * Carry out one script and record it.  A script that times out on a lock
 * is retried up to migrate.lock_retries times when the run can commit (in
 * the caller's transaction a failure is final).  A script that must run
 * outside a transaction is found so while it runs, and then runs again
 * from its start in the worker; it is never retried: a retry would start
 * it again part-way.
 */
void
migration_apply(TrackRun *run, MigrationScript *s)
{
	char	   *nontx_why = NULL;
	bool		nontx = nontx_name_says(s, &nontx_why);
	int			attempts = run->nonatomic && !nontx ? migrate_lock_retries + 1 : 1;
	int			attempt = 1;

	for (;;)
	{
		AttemptResult r = migration_attempt(run, s, nontx ? nontx_why : NULL,
											attempt, attempts, &nontx_why);

		if (r == ATTEMPT_APPLIED)
			break;
		if (r == ATTEMPT_OUTSIDE)
		{
			nontx = true;
			attempt = attempts = 1;
			continue;
		}
		attempt++;
	}
}
