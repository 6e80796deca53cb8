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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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

#include "executor.h"
#include "history.h"
#include "layout.h"
#include "lock.h"
#include "migrate.h"
#include "nontx.h"
#include "paths.h"
#include "plan.h"
#include "source.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(migrate_apply);
PG_FUNCTION_INFO_V1(migrate_status);

/* what one apply call was asked to do */
typedef struct ApplyRun
{
	const char *dir;			/* as given */
	const char *real_dir;
	const char *track;
	bool		nonatomic;		/* may commit between migrations */
	MemoryContext cxt;			/* survives the commits of the run */
} ApplyRun;

/* text argument n, or NULL */
static char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	if (PG_NARGS() <= n || PG_ARGISNULL(n))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* a required text argument */
static char *
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
static bool
call_is_nonatomic(FunctionCallInfo fcinfo)
{
	return fcinfo->context != NULL && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;
}

/* read a directory and the history of a track into a plan */
static MigrationPlan *
load_plan(const char *dir, const char *track, const char *target, char **real_dir)
{
	ScriptSet  *set;
	ListCell   *lc;

	*real_dir = path_check_dir(dir);
	set = layout_classify(source_list_dir(*real_dir));
	foreach(lc, set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);

		source_checksum(s->file, s->checksum, &s->size);
	}
	return plan_build(set, history_load(track, CurrentMemoryContext), target);
}

/* commit the current transaction and start the next one */
static void
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
 * Run one migration and record it.  Nonatomic: in a subtransaction, so
 * that a failure can be rolled back, recorded and committed before the
 * error is raised again; the success row commits with the migration.
 * Settings a script changes (SET) last until its end.
 *
 * A migration that must run outside a transaction (nontx.c) runs in a
 * background worker (worker.c), only in a nonatomic call, after a commit
 * so that the caller holds nothing the worker's statements could wait
 * for.  If it fails having changed something, its failure row is dirty.
 */
static void
run_migration(ApplyRun *ar, PlanEntry *e)
{
	MigrationScript *s = e->script;
	ScriptRun	run;
	HistoryEntry he;
	TimestampTz start = GetCurrentTimestamp();
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	int			nestlevel;
	double		ms;
	char	   *nontx_why = NULL;
	bool		nontx;
	List	   *invalid_before = NIL;

	memset(&run, 0, sizeof(run));
	run.script = s;
	run.base_dir = ar->real_dir;

	memset(&he, 0, sizeof(he));
	he.track = ar->track;
	he.version = s->version;
	he.description = s->description;
	he.type = migration_kind_name(s->kind);
	he.script = s->name;

	nontx = nontx_detect(s, &nontx_why);
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
		/* the commit replaced the transaction's resource owner */
		oldowner = CurrentResourceOwner;
	}

	nestlevel = NewGUCNestLevel();
	if (ar->nonatomic)
		BeginInternalSubTransaction(NULL);

	PG_TRY();
	{
		if (nontx)
			run.worker = worker_start(s->name, oldcxt);
		execute_script(&run);
		if (nontx)
			worker_finish(run.worker);
		if (strcmp(run.checksum, s->checksum) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("migration file \"%s\" changed while it was being applied", s->name),
					 errhint("Run migrate.apply again once the files are no longer changing.")));
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

		MemoryContextSwitchTo(ar->cxt);
		edata = CopyErrorData();
		if (!ar->nonatomic)
		{
			/* the caller's transaction fails whole */
			FlushErrorState();
			nontx_enum_hint(edata, false);
			ReThrowError(edata);
		}

		FlushErrorState();
		/* detaches the worker's shared memory, which tells it to stop */
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		AtEOXact_GUC(false, nestlevel);

		he.checksum = s->checksum;
		he.execution_ms = (int64) elapsed_ms(start);
		he.success = false;
		he.error = edata->message;
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
		commit_and_continue();

		ReThrowError(edata);
	}
	PG_END_TRY();

	AtEOXact_GUC(false, nestlevel);

	ms = elapsed_ms(start);
	he.checksum = run.checksum;
	he.execution_ms = (int64) ms;
	he.success = true;
	he.sql = run.sql ? run.sql->data : NULL;
	history_record(&he);
	if (ar->nonatomic)
		commit_and_continue();

	if (nontx)
		ereport(NOTICE,
				(errmsg("applied %s outside a transaction (%.3f ms)", s->name, ms),
				 errdetail("It runs statement by statement: %s.", nontx_why)));
	else
		ereport(NOTICE,
				(errmsg("applied %s (%.3f ms)", s->name, ms)));
}

/* the summary line of a run (pg_cron keeps the last notice) */
static void
report_summary(const char *track, int applied, const char *version, bool dry_run)
{
	const char *at = version ? psprintf("now at version %s", version) : "no version applied";

	if (dry_run)
		ereport(NOTICE,
				(errmsg("migrate: dry run on track \"%s\": %d migration(s) would be applied, %s",
						track, applied, at)));
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

/*
 * CALL migrate.apply(dir, target, out_of_order, dry_run, track)
 */
Datum
migrate_apply(PG_FUNCTION_ARGS)
{
	ApplyRun	ar;
	MemoryContext oldcxt;
	char	   *target_raw;
	const char *target = NULL;
	bool		out_of_order = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	bool		dry_run = PG_ARGISNULL(3) ? false : PG_GETARG_BOOL(3);
	volatile bool locked = false;

	memset(&ar, 0, sizeof(ar));
	ar.nonatomic = call_is_nonatomic(fcinfo);
	/* what the run reads lives across its commits */
	ar.cxt = AllocSetContextCreate(TopMemoryContext, "migrate run", ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(ar.cxt);
	ar.dir = required_arg(fcinfo, 0, "dir");
	target_raw = text_arg(fcinfo, 1);
	ar.track = required_arg(fcinfo, 4, "track");
	if (target_raw)
		target = version_check(target_raw);
	MemoryContextSwitchTo(oldcxt);

	if (SPI_connect_ext(ar.nonatomic ? SPI_OPT_NONATOMIC : 0) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	PG_TRY();
	{
		MigrationPlan	   *plan;
		ListCell   *lc;
		int			applied = 0;
		char	   *real_dir;

		runner_lock_acquire(ar.track, ar.nonatomic);
		locked = true;

		MemoryContextSwitchTo(ar.cxt);
		plan = load_plan(ar.dir, ar.track, target, &real_dir);
		ar.real_dir = real_dir;

		if (dry_run)
		{
			foreach(lc, plan->pending)
			{
				PlanEntry  *e = (PlanEntry *) lfirst(lc);

				ereport(NOTICE,
						(errmsg("would apply %s", e->script->name)));
			}
			plan_check(plan, out_of_order);
			report_summary(ar.track, list_length(plan->pending),
						   version_after(plan, list_length(plan->pending)), true);
		}
		else
		{
			MemoryContext mcxt = AllocSetContextCreate(ar.cxt, "migrate migration",
													   ALLOCSET_DEFAULT_SIZES);

			plan_check(plan, out_of_order);
			foreach(lc, plan->pending)
			{
				MemoryContextSwitchTo(mcxt);
				run_migration(&ar, (PlanEntry *) lfirst(lc));
				applied++;
				MemoryContextReset(mcxt);
			}
			MemoryContextSwitchTo(ar.cxt);
			report_summary(ar.track, applied, version_after(plan, applied), false);
		}
	}
	PG_FINALLY();
	{
		MemoryContextSwitchTo(oldcxt);
		if (locked)
			runner_lock_release(ar.track);
		MemoryContextDelete(ar.cxt);
	}
	PG_END_TRY();

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	PG_RETURN_VOID();
}

/* a materialized result set for an SRF, on every supported version */
static Tuplestorestate *
materialize_result(FunctionCallInfo fcinfo, TupleDesc *desc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	Tuplestorestate *ts;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	*desc = CreateTupleDescCopy(*desc);
	ts = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = ts;
	rsinfo->setDesc = *desc;
	MemoryContextSwitchTo(old);
	return ts;
}

/*
 * SELECT * FROM migrate.status(dir, track): one row per migration known
 * from the files or the history, in order.
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

		memset(nulls, 0, sizeof(nulls));
		if (e->script)
			type = migration_kind_name(e->script->kind);
		else
			type = row ? row->type : "versioned";
		if (e->state == STATE_BASELINE)
			type = "baseline";

		values[0] = e->version ? CStringGetTextDatum(e->version) : (Datum) 0;
		nulls[0] = e->version == NULL;
		values[1] = CStringGetTextDatum(e->description ? e->description : "");
		values[2] = CStringGetTextDatum(type);
		if (e->script)
			values[3] = CStringGetTextDatum(e->script->name);
		else if (row && row->script)
			values[3] = CStringGetTextDatum(row->script);
		else
			nulls[3] = true;
		if (e->script)
			values[4] = CStringGetTextDatum(e->script->checksum);
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

	SPI_finish();
	PG_RETURN_NULL();
}
