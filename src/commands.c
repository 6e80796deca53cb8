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
 * apply's work is a run (run.c): under the runner lock of the track, the
 * plan is checked, then each pending migration is carried out by
 * migration.c.  status reads the same plan, and takes no lock.
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

#include "args.h"
#include "callbacks.h"
#include "dirstate.h"
#include "drift.h"
#include "executor.h"
#include "layout.h"
#include "lint.h"
#include "migrate.h"
#include "migration.h"
#include "nontx.h"
#include "placeholders.h"
#include "plan.h"
#include "progress.h"
#include "run.h"
#include "runs.h"
#include "safety.h"
#include "source.h"
#include "staged.h"

PG_FUNCTION_INFO_V1(migrate_apply);
PG_FUNCTION_INFO_V1(migrate_status);

/* what apply was asked, beyond the directory and the track */
typedef struct ApplyArgs
{
	const char *target;			/* normalized, or NULL */
	bool		out_of_order;
	bool		dry_run;
} ApplyArgs;

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
		if (e->version && (v == NULL || plan_version_cmp(plan, e->version, v) > 0))
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
	if (plan->current && plan_version_cmp(plan, e->version, plan->current) < 0)
		return " (out of order)";
	if (e->state == STATE_UNDONE)
		return " (undone before)";
	return "";
}

/*
 * Would pending script s run outside a transaction?  Why, or NULL.  Its
 * name or layout may say so; otherwise its file is scanned as the pass
 * that runs it would (executor.c): markers and the statements that need
 * top level, in included files too, running nothing.  So a dry run reads
 * each pending file once more.
 */
static const char *
dry_run_outside(TrackRun *run, MigrationScript *s)
{
	ScriptExec	exec;
	char	   *why = NULL;
	const char *found;

	if (nontx_name_says(s, &why))
		return why;
	memset(&exec, 0, sizeof(exec));
	exec.script = s;
	exec.base_dir = run->real_dir;
	/* what runs is the replaced text: a placeholder may name the index's table */
	exec.placeholders = run->placeholders;
	exec.detect_nontx = true;
	exec.scan_only = true;
	execute_open(&exec);
	found = execute_scan_rest(&exec);
	execute_close(&exec);
	return found;
}

/*
 * The dry run: what apply would run, in order (and which of them outside
 * a transaction), then what would stop it (the very error apply would
 * raise, listing every problem), or the summary.  Changes nothing.
 */
static void
dry_run(TrackRun *run, MigrationPlan *plan, bool out_of_order)
{
	List	   *problems = plan_problems(plan, out_of_order, false);
	ListCell   *lc;
	int			n = list_length(plan->pending);

	callbacks_would_run(run->callbacks, CALLBACK_BEFORE_MIGRATE, NULL);
	if (n > 0)
	{
		callbacks_would_run(run->callbacks, CALLBACK_BEFORE_EACH_MIGRATE,
							" before each migration");
		callbacks_would_run(run->callbacks, CALLBACK_AFTER_EACH_MIGRATE,
							" after each migration");
	}
	foreach(lc, plan->pending)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);
		const char *outside = dry_run_outside(run, e->script);

		if (outside)
			ereport(NOTICE,
					(errmsg("would apply %s%s outside a transaction", e->script->name,
							pending_reason(plan, e)),
					 errdetail("It would run statement by statement: %s.", outside)));
		else
			ereport(NOTICE,
					(errmsg("would apply %s%s", e->script->name, pending_reason(plan, e))));
		lint_report_script(run->lint, e->script);
		/* a placeholder without a value would stop apply at this script */
		if (run->placeholders)
			placeholders_check_file(run->placeholders, e->script->file, e->script->name);
	}
	callbacks_would_run(run->callbacks, CALLBACK_AFTER_MIGRATE, NULL);
	if (n > 0)
		callbacks_would_run(run->callbacks, CALLBACK_AFTER_MIGRATE_APPLIED, NULL);
	if (problems != NIL)
	{
		ereport(NOTICE,
				(errmsg("migrate: dry run on track \"%s\": apply would stop before running "
						"any of the %d migration(s) above", run->track, n)));
		plan_raise(problems);
	}
	lint_enforce(run->lint, false);
	report_summary(run->track, n, version_after(plan, n), true);
}

/*
 * May this apply record what it found for the next one to stop at its
 * listing when nothing changed (dirstate.c)?  Only a plain one: of a
 * directory, with no target, out_of_order or placeholders, and its run
 * recorded.  It may stop there itself only when checksums are verified
 * as the identities allow (under 'always' it reads every file).
 */
static bool
shortcut_applies(TrackRun *run, ApplyArgs *a)
{
	return !a->dry_run && a->target == NULL && !a->out_of_order &&
		run->placeholder_args == NULL && run->record != NULL && migrate_runs_keep > 0 &&
		!source_is_bundle(run->dir) && migrate_schema_version() >= MIGRATE_SCHEMA_1_1;
}

/* the work of apply, under the runner lock */
static void
apply_body(TrackRun *run, void *arg)
{
	ApplyArgs  *a = (ApplyArgs *) arg;
	MigrationPlan *plan;
	char	   *real_dir;
	ListCell   *lc;
	volatile int applied = 0;
	MemoryContext mcxt;
	DirState	state;
	bool		shortcut = shortcut_applies(run, a);

	if (shortcut)
	{
		/* the directory and the history as the last apply left them: its answer */
		List	   *files = source_list(run->dir, &real_dir);
		char	   *version;

		dirstate_begin(&state, run->track, real_dir, files);
		if (migrate_verify_checksums == VERIFY_CHANGED &&
			dirstate_unchanged(&state, run->track, &version))
		{
			elog(DEBUG1, "migrate: directory \"%s\" and the history of track \"%s\" are as the last apply left them",
				 run->dir, run->track);
			run->real_dir = real_dir;
			progress_run_total(0);
			runs_dir_state(run, dirstate_digest(&state));
			runs_reached(run, version);
			report_summary(run->track, 0, version, false);
			return;
		}
		plan = load_plan_listed(files, run->track, a->target, PLAN_FOR_RUN);
	}
	else
		plan = load_plan(run->dir, run->track, a->target, &real_dir, PLAN_FOR_RUN);
	run->real_dir = real_dir;
	run->callbacks = plan->set->callbacks;
	/*
	 * Only a run with work reads a Flyway config: a no-op reads nothing.
	 * Callbacks are work (beforeMigrate and afterMigrate run on every apply).
	 */
	if (plan->pending != NIL || run->callbacks != NIL)
		run->placeholders = placeholders_for_dir(run->placeholder_args, plan->set->layout,
												 run->dir, real_dir);
	run->lint = lint_before_run(plan, a->dry_run, run->placeholders);

	if (a->dry_run)
	{
		dry_run(run, plan, a->out_of_order);
		return;
	}

	plan_check(plan, a->out_of_order);
	staged_check_plan(plan->pending, false);
	source_check_readable(plan_scripts(plan->pending, false));
	callbacks_check(run->callbacks);
	run_refresh_identities(plan);
	lint_enforce(run->lint, true);
	progress_run_total(list_length(plan->pending));
	mcxt = AllocSetContextCreate(run->cxt, "migrate migration", ALLOCSET_DEFAULT_SIZES);

	/*
	 * Flyway's callbacks (callbacks.c): beforeMigrate and afterMigrate on
	 * every apply, afterMigrateApplied when something was applied, and
	 * afterMigrateError when anything from beforeMigrate on failed.
	 */
	PG_TRY();
	{
		callbacks_event(run, CALLBACK_BEFORE_MIGRATE);
		foreach(lc, plan->pending)
		{
			MemoryContextSwitchTo(mcxt);
			migration_apply(run, ((PlanEntry *) lfirst(lc))->script);
			applied++;
			MemoryContextReset(mcxt);
		}
		MemoryContextSwitchTo(run->cxt);
		callbacks_event(run, CALLBACK_AFTER_MIGRATE);
		if (applied > 0)
			callbacks_event(run, CALLBACK_AFTER_MIGRATE_APPLIED);
	}
	PG_CATCH();
	{
		callbacks_after_error(run, CALLBACK_AFTER_MIGRATE_ERROR);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(run->cxt);
	runs_reached(run, version_after(plan, applied));
	report_summary(run->track, applied, version_after(plan, applied), false);

	/*
	 * The next apply may stop at its listing if nothing changes: when this
	 * one's answer depended on nothing but the files and the history (no
	 * callback runs on every apply, no file draws a NOTICE on every run).
	 */
	if (shortcut && plan->set->callbacks == NIL && plan->misnamed == NIL &&
		plan->ignored == NIL && plan->duplicates == NIL)
		runs_dir_state(run, dirstate_digest(&state));
}

/*
 * CALL migrate.apply(dir, target, out_of_order, dry_run, track,
 *					  statement_timeout, confirm, placeholders)
 */
Datum
migrate_apply(PG_FUNCTION_ARGS)
{
	TrackRun	run;
	ApplyArgs	a;
	char	   *dir = required_arg(fcinfo, 0, "dir");
	char	   *target = text_arg(fcinfo, 1);
	char	   *track = required_arg(fcinfo, 4, "track");

	char	   *statement_timeout = text_arg(fcinfo, 5);
	Jsonb	   *placeholders = placeholders_arg(fcinfo, 7);

	memset(&a, 0, sizeof(a));
	a.out_of_order = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	a.dry_run = PG_ARGISNULL(3) ? false : PG_GETARG_BOOL(3);

	/* production safety first: standby, read-only, protected database */
	if (!a.dry_run)
		migrate_check_changing_call(fcinfo, text_arg(fcinfo, 6));
	if (statement_timeout)
		safety_check_statement_timeout(statement_timeout);
	if (target)
		target = version_arg(target);

	run_init(fcinfo, &run, dir, track);
	if (a.dry_run)
		runs_skip(&run);
	a.target = run_strdup(&run, target);
	run.statement_timeout = run_strdup(&run, statement_timeout);
	run.placeholder_args = placeholders_copy(placeholders, run.cxt);
	run_locked(&run, apply_body, &a);
	PG_RETURN_VOID();
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
	plan = load_plan(dir, track, NULL, &real_dir, PLAN_FOR_STATUS);

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
	plan_status_files(plan, ts, desc);

	drift_status_notice();
	SPI_finish();
	PG_RETURN_NULL();
}
