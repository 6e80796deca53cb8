/*-------------------------------------------------------------------------
 *
 * commands.c
 *	  The SQL-callable entry points: each wires the steps together.
 *
 * migrate.apply is a procedure so that it can commit: called with CALL
 * outside a transaction block it runs every pending migration in its own
 * transaction, together with the history row that records it.  Called in
 * a transaction block or from a function (an atomic context), it cannot
 * commit, and runs all pending migrations in the caller's transaction:
 * all or nothing.  For that reason the procedure must be neither SECURITY
 * DEFINER nor carry a SET clause (either makes every call atomic), and
 * every internal query names its schema instead.
 *
 * The run machinery here is shared with lifecycle.c: run_locked takes the
 * runner lock of a track around a run's work, and run_migration runs one
 * script (versioned, repeatable or undo) and records it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupdesc.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "commands.h"
#include "compat.h"
#include "drift.h"
#include "executor.h"
#include "history.h"
#include "layout.h"
#include "lint.h"
#include "lock.h"
#include "migrate.h"
#include "nontx.h"
#include "paths.h"
#include "plan.h"
#include "progress.h"
#include "runs.h"
#include "safety.h"
#include "source.h"
#include "staged.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(migrate_apply);
PG_FUNCTION_INFO_V1(migrate_status);

/* what apply was asked, beyond the directory and the track */
typedef struct ApplyArgs
{
	const char *target;			/* normalized, or NULL */
	bool		out_of_order;
	bool		dry_run;
} ApplyArgs;

/* text argument n, or NULL */
char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	if (PG_NARGS() <= n || PG_ARGISNULL(n))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* a required text argument */
char *
required_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	char	   *v = text_arg(fcinfo, n);

	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return v;
}

/* may this call commit? (a CALL outside any transaction block) */
bool
call_is_nonatomic(FunctionCallInfo fcinfo)
{
	return fcinfo->context != NULL && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;
}

/* read a directory and the history of a track into a plan */
MigrationPlan *
load_plan(const char *dir, const char *track, const char *target, char **real_dir)
{
	ScriptSet  *set;
	ListCell   *lc;

	set = layout_classify(source_list(dir, real_dir));
	foreach(lc, set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);

		source_checksum(s->file, s->checksum, &s->size);
	}
	return plan_build(set, history_load(track, CurrentMemoryContext), target);
}

/* commit the current transaction and start the next one */
void
commit_and_continue(void)
{
	SPI_commit();
	SPI_start_transaction();
}

/* milliseconds since start */
static double
elapsed_ms(TimestampTz start)
{
	return (double) (GetCurrentTimestamp() - start) / 1000.0;
}

/*
 * One attempt at one script, recorded as a history row of its kind
 * (versioned, repeatable, or undo for an undo script, which has the
 * version of the migration it undoes).  Nonatomic: in a subtransaction,
 * so that a failure can be rolled back, recorded and committed before the
 * error is raised again; the success row commits with the migration.
 * Settings a script changes (SET) last until its end; the script runs
 * with migrate.lock_timeout and the run's statement_timeout.
 *
 * A script that must run outside a transaction (nontx_why set, see
 * nontx.c) runs in a background worker (worker.c), only in a nonatomic
 * call, after a commit so that the caller holds nothing the worker's
 * statements could wait for.  If it fails having changed something, its
 * failure row is dirty.
 *
 * Returns false when the attempt failed on a lock and another one may
 * follow (after the back-off); true when the script is applied.
 */
static bool
run_attempt(ApplyRun *ar, MigrationScript *s, const char *nontx_why,
			int attempt, int attempts)
{
	ScriptRun	run;
	HistoryEntry he;
	TimestampTz start = GetCurrentTimestamp();
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner;
	int			nestlevel;
	volatile int backoff = 0;
	double		ms;
	bool		nontx = nontx_why != NULL;
	List	   *invalid_before = NIL;

	progress_migration(s, attempt, attempts);
	drift_check_unseen();

	memset(&run, 0, sizeof(run));
	run.script = s;
	run.base_dir = ar->real_dir;

	memset(&he, 0, sizeof(he));
	he.track = ar->track;
	he.version = s->version;
	he.description = s->description;
	he.type = migration_kind_name(s->kind);
	he.script = s->name;

	if (nontx)
	{
		if (!ar->nonatomic)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("migration \"%s\" cannot run inside a transaction block", s->name),
					 errdetail("It must run outside a transaction, statement by statement: %s.",
							   nontx_why),
					 errhint("Call migrate.apply with CALL outside a transaction block (not inside "
							 "BEGIN ... COMMIT, a function or a multi-statement query string).")));
		invalid_before = nontx_invalid_indexes();
		commit_and_continue();
	}
	/* after any commit: the commit replaced the transaction's resource owner */
	oldowner = CurrentResourceOwner;

	nestlevel = NewGUCNestLevel();
	safety_migration_settings(ar->statement_timeout);
	if (ar->nonatomic)
		BeginInternalSubTransaction(NULL);

	PG_TRY();
	{
		/* the worker copies this session's settings, timeouts included */
		if (nontx)
			run.worker = worker_start(s->name, oldcxt);
		safety_lock_watch_start();
		execute_script(&run);
		safety_lock_watch_stop();
		if (nontx)
			worker_finish(run.worker);
		if (strcmp(run.checksum, s->checksum) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("migration file \"%s\" changed while it was being applied", s->name),
					 errhint("Run the command again once the files are no longer changing.")));
		if (ar->nonatomic)
		{
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char	   *blockers = NULL;
		bool		lock_failure;

		safety_lock_watch_stop();
		MemoryContextSwitchTo(ar->cxt);
		edata = CopyErrorData();
		FlushErrorState();
		lock_failure = safety_is_lock_failure(edata);

		if (!ar->nonatomic)
		{
			/* the caller's transaction fails whole */
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
		if (lock_failure && !nontx)
			blockers = safety_lock_blockers(true);

		he.checksum = s->checksum;
		he.execution_ms = (int64) elapsed_ms(start);
		he.success = false;
		he.error = blockers ? psprintf("%s. %s", edata->message, blockers) : edata->message;
		he.sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
		he.error_line = run.error_line;
		if (nontx)
		{
			char	   *summary;

			worker_stop(run.worker);
			he.dirty = nontx_describe_failure(s->name, run.worker, invalid_before,
											  edata->message, run.error_line, &summary);
			if (he.dirty)
			{
				he.error = summary;
				ereport(WARNING,
						(errmsg("migration \"%s\" stopped part-way and is now dirty", s->name),
						 errdetail("%s", summary),
						 errhint("%s", NONTX_REPAIR_HINT)));
			}
		}
		else
			nontx_enum_hint(edata, true);
		history_record(&he);
		drift_run_failed();
		commit_and_continue();

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
						s->name, run.error_line, attempt, attempts, backoff),
				 blockers ? errdetail("%s", blockers) : 0));
	}
	PG_END_TRY();

	if (backoff > 0)
	{
		/* committed above: the wait holds no lock and no snapshot */
		progress_retry_wait(attempt + 1, attempts);
		safety_sleep_ms(backoff);
		return false;
	}

	AtEOXact_GUC(false, nestlevel);

	ms = elapsed_ms(start);
	he.checksum = run.checksum;
	he.execution_ms = (int64) ms;
	he.success = true;
	he.sql = run.sql ? run.sql->data : NULL;
	history_record(&he);
	runs_applied(ar);
	lint_record_ignored(ar->lint, ar->track, s);
	if (ar->nonatomic)
		commit_and_continue();

	if (nontx)
		ereport(NOTICE,
				(errmsg("%s %s outside a transaction (%.3f ms)",
						s->kind == MIGRATION_UNDO ? "undid" : "applied", s->name, ms),
				 errdetail("It runs statement by statement: %s.", nontx_why)));
	else
		ereport(NOTICE,
				(errmsg("%s %s (%.3f ms)", s->kind == MIGRATION_UNDO ? "undid" : "applied",
						s->name, ms)));
	return true;
}

/*
 * Run one script and record it.  A script that times out on a lock is
 * retried up to migrate.lock_retries times when the run can commit (in the
 * caller's transaction a failure is final).  A script that runs outside a
 * transaction is never retried: a retry would start it again part-way.
 */
void
run_migration(ApplyRun *ar, MigrationScript *s)
{
	char	   *nontx_why = NULL;
	bool		nontx = nontx_detect(s, &nontx_why);
	int			attempts = ar->nonatomic && !nontx ? migrate_lock_retries + 1 : 1;
	int			attempt = 1;

	while (!run_attempt(ar, s, nontx ? nontx_why : NULL, attempt, attempts))
		attempt++;
}

/* the summary line of a run (pg_cron keeps the last notice) */
static void
report_summary(const char *track, int applied, const char *version, bool dry_run)
{
	const char *at = version ? psprintf("now at version %s", version) : "no version applied";

	if (dry_run)
		ereport(NOTICE,
				(errmsg("migrate: dry run on track \"%s\": %d migration(s) would be applied, "
						"then at version %s",
						track, applied, version ? version : "none")));
	else if (applied == 0)
		ereport(NOTICE,
				(errmsg("migrate: nothing to apply on track \"%s\", %s", track, at)));
	else
		ereport(NOTICE,
				(errmsg("migrate: applied %d migration(s) on track \"%s\", %s",
						applied, track, at)));
}

/* the highest version that is applied after a plan ran */
static const char *
version_after(MigrationPlan *plan, int applied)
{
	const char *v = plan->current;
	ListCell   *lc;
	int			i = 0;

	foreach(lc, plan->pending)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		if (i++ >= applied)
			break;
		if (e->version && (v == NULL || version_cmp(e->version, v) > 0))
			v = e->version;
	}
	return v;
}

/* why a pending migration runs, for the dry run ("" when it is new) */
static const char *
pending_reason(MigrationPlan *plan, PlanEntry *e)
{
	if (e->version == NULL)
		return e->applied ? " (repeatable, changed since its last run)" : " (repeatable)";
	if (e->state == STATE_FAILED)
		return " (its last attempt failed)";
	if (plan->current && version_cmp(e->version, plan->current) < 0)
		return " (out of order)";
	if (e->state == STATE_UNDONE)
		return " (undone before)";
	return "";
}

/*
 * The dry run: what apply would run, in order, then what would stop it
 * (the very error apply would raise, listing every problem), or the
 * summary.  Changes nothing.
 */
static void
dry_run(ApplyRun *ar, MigrationPlan *plan, bool out_of_order)
{
	List	   *problems = plan_problems(plan, out_of_order, false);
	ListCell   *lc;
	int			n = list_length(plan->pending);

	foreach(lc, plan->pending)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		ereport(NOTICE,
				(errmsg("would apply %s%s", e->script->name, pending_reason(plan, e))));
		lint_report_script(ar->lint, e->script);
	}
	if (problems != NIL)
	{
		ereport(NOTICE,
				(errmsg("migrate: dry run on track \"%s\": apply would stop before running "
						"any of the %d migration(s) above", ar->track, n)));
		plan_raise(problems);
	}
	lint_enforce(ar->lint, false);
	report_summary(ar->track, n, version_after(plan, n), true);
}

/* the work of apply, under the runner lock */
static void
apply_body(ApplyRun *ar, void *arg)
{
	ApplyArgs  *a = (ApplyArgs *) arg;
	MigrationPlan *plan;
	char	   *real_dir;
	ListCell   *lc;
	int			applied = 0;
	MemoryContext mcxt;

	plan = load_plan(ar->dir, ar->track, a->target, &real_dir);
	ar->real_dir = real_dir;
	ar->lint = lint_before_run(plan, a->dry_run);

	if (a->dry_run)
	{
		dry_run(ar, plan, a->out_of_order);
		return;
	}

	plan_check(plan, a->out_of_order);
	staged_check_plan(plan->pending, false);
	lint_enforce(ar->lint, true);
	progress_run_total(list_length(plan->pending));
	mcxt = AllocSetContextCreate(ar->cxt, "migrate migration", ALLOCSET_DEFAULT_SIZES);
	foreach(lc, plan->pending)
	{
		MemoryContextSwitchTo(mcxt);
		run_migration(ar, ((PlanEntry *) lfirst(lc))->script);
		applied++;
		MemoryContextReset(mcxt);
	}
	MemoryContextSwitchTo(ar->cxt);
	runs_reached(ar, version_after(plan, applied));
	report_summary(ar->track, applied, version_after(plan, applied), false);
}

/*
 * Start a run: its memory context, which survives the commits between
 * migrations, with the directory and the track copied into it.  Check
 * the arguments before: from here on only run_locked frees the context.
 */
void
run_init(FunctionCallInfo fcinfo, ApplyRun *ar, const char *dir, const char *track)
{
	memset(ar, 0, sizeof(*ar));
	ar->nonatomic = call_is_nonatomic(fcinfo);
	ar->cxt = AllocSetContextCreate(TopMemoryContext, "migrate run", ALLOCSET_DEFAULT_SIZES);
	ar->dir = run_strdup(ar, dir);
	ar->track = run_strdup(ar, track);
	progress_call_start(fcinfo, dir, track);
	runs_begin(ar);
}

/* a copy of s (or NULL) that lives as long as the run */
char *
run_strdup(ApplyRun *ar, const char *s)
{
	return s ? MemoryContextStrdup(ar->cxt, s) : NULL;
}

/*
 * Run body under the runner lock of the run's track: connect SPI
 * (nonatomic when the call may commit), take the lock (waiting for it
 * without holding a snapshot when possible), run, and always release the
 * lock and the run's memory.
 */
void
run_locked(ApplyRun *ar, RunBody body, void *arg)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool locked = false;
	volatile bool session_lock = false;

	if (SPI_connect_ext(ar->nonatomic ? SPI_OPT_NONATOMIC : 0) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	PG_TRY();
	{
		session_lock = runner_lock_acquire(ar->track, ar->nonatomic);
		locked = true;
		progress_call_running();
		MemoryContextSwitchTo(ar->cxt);
		/* body, and its row of migrate.runs, a failure's too */
		runs_recorded(ar, body, arg);
		drift_run_finished();
	}
	PG_FINALLY();
	{
		MemoryContextSwitchTo(oldcxt);
		if (locked)
			runner_lock_release(ar->track, session_lock);
		MemoryContextDelete(ar->cxt);
		ar->cxt = NULL;
		progress_call_end();
	}
	PG_END_TRY();

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/*
 * CALL migrate.apply(dir, target, out_of_order, dry_run, track,
 *					  statement_timeout, confirm)
 */
Datum
migrate_apply(PG_FUNCTION_ARGS)
{
	ApplyRun	ar;
	ApplyArgs	a;
	char	   *dir = required_arg(fcinfo, 0, "dir");
	char	   *target = text_arg(fcinfo, 1);
	char	   *track = required_arg(fcinfo, 4, "track");

	char	   *statement_timeout = text_arg(fcinfo, 5);

	memset(&a, 0, sizeof(a));
	a.out_of_order = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	a.dry_run = PG_ARGISNULL(3) ? false : PG_GETARG_BOOL(3);

	/* production safety first: standby, read-only, protected database */
	if (!a.dry_run)
		migrate_check_changing_call(fcinfo, text_arg(fcinfo, 6));
	if (statement_timeout)
		safety_check_statement_timeout(statement_timeout);
	if (target)
		target = version_check(target);

	run_init(fcinfo, &ar, dir, track);
	if (a.dry_run)
		runs_skip(&ar);
	a.target = run_strdup(&ar, target);
	ar.statement_timeout = run_strdup(&ar, statement_timeout);
	run_locked(&ar, apply_body, &a);
	PG_RETURN_VOID();
}

/*
 * The tuplestore and row shape of an SRF's result (InitMaterializedSRF):
 * of rows (OUT parameters) or of one scalar column (SETOF text), as the
 * query expects them.
 */
Tuplestorestate *
materialize_result(FunctionCallInfo fcinfo, TupleDesc *desc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	*desc = rsinfo->setDesc;
	return rsinfo->setResult;
}

/*
 * SELECT * FROM migrate.status(dir, track): one row per migration known
 * from the files or the history, in order.  The row that describes a
 * migration: the run that applied it; else its last failed attempt; else,
 * when undone, the undo that undid it (type undo, its script, checksum
 * and time: the versioned file is pending again); else, below the
 * baseline, the baseline (type baseline).
 */
Datum
migrate_status(PG_FUNCTION_ARGS)
{
	char	   *dir = required_arg(fcinfo, 0, "dir");
	char	   *track = required_arg(fcinfo, 1, "track");
	TupleDesc	desc;
	Tuplestorestate *ts = materialize_result(fcinfo, &desc);
	MigrationPlan	   *plan;
	ListCell   *lc;
	char	   *real_dir;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = load_plan(dir, track, NULL, &real_dir);

	foreach(lc, plan->entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);
		Datum		values[8];
		bool		nulls[8];
		HistoryRow *row = e->applied ? e->applied : e->failed;
		const char *type;
		MigrationScript *script = e->script;

		memset(nulls, 0, sizeof(nulls));
		if (e->script)
			type = migration_kind_name(e->script->kind);
		else
			type = row ? row->type : "versioned";
		if (e->state == STATE_UNDONE && e->undo_row)
		{
			row = e->undo_row;
			type = "undo";
			script = NULL;		/* show the undo script that ran */
		}
		if (e->state == STATE_BASELINE)
		{
			row = plan->baseline_row;
			type = "baseline";
		}

		values[0] = e->version ? CStringGetTextDatum(e->version) : (Datum) 0;
		nulls[0] = e->version == NULL;
		values[1] = CStringGetTextDatum(e->description ? e->description : "");
		values[2] = CStringGetTextDatum(type);
		if (script)
			values[3] = CStringGetTextDatum(script->name);
		else if (row && row->script)
			values[3] = CStringGetTextDatum(row->script);
		else
			nulls[3] = true;
		if (script)
			values[4] = CStringGetTextDatum(script->checksum);
		else if (row && row->checksum)
			values[4] = CStringGetTextDatum(row->checksum);
		else
			nulls[4] = true;
		values[5] = CStringGetTextDatum(migration_state_name(e->state));
		if (row)
		{
			values[6] = TimestampTzGetDatum(row->installed_on);
			values[7] = Int64GetDatum(row->execution_ms);
			nulls[7] = row->execution_ms < 0;
		}
		else
			nulls[6] = nulls[7] = true;
		tuplestore_putvalues(ts, desc, values, nulls);
	}

	drift_status_notice();
	SPI_finish();
	PG_RETURN_NULL();
}
