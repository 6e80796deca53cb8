/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *	  The rest of a migration's life, as SQL entry points: undo, validate,
 *	  repair, baseline, and running one untracked file.
 *
 * undo runs undo scripts (U<version>__x.sql, or another layout's down
 * script, classified as MIGRATION_UNDO with the version of the migration
 * it undoes) with the machinery apply uses (run.c, migration.c): under the runner
 * lock of the track, each in its own transaction with its history row of
 * type undo when called with CALL outside a transaction block, all in the
 * caller's transaction otherwise; a failure is recorded the same way.
 * Everything undo will do is decided, and checked, before the first
 * script runs: the migrations to undo, that each has an undo script, and
 * that none of their files changed since they were applied.
 *
 * validate lists what plan_problems (plan.c) finds; repair removes failed
 * runs and re-records checksums; baseline records a version the database
 * is known to be at.  None of them executes a script.  run executes one
 * file and records nothing; a file that needs top level runs in the
 * background worker, as apply runs such a migration.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "args.h"
#include "callbacks.h"
#include "drift.h"
#include "migration.h"
#include "placeholders.h"
#include "run.h"
#include "runs.h"
#include "executor.h"
#include "history.h"
#include "layout.h"
#include "migrate.h"
#include "nontx.h"
#include "plan.h"
#include "progress.h"
#include "safety.h"
#include "source.h"
#include "staged.h"

PG_FUNCTION_INFO_V1(migrate_undo);
PG_FUNCTION_INFO_V1(migrate_validate);
PG_FUNCTION_INFO_V1(migrate_repair);
PG_FUNCTION_INFO_V1(migrate_baseline);
PG_FUNCTION_INFO_V1(migrate_run);

/* what undo was asked: at most one of target and version */
typedef struct UndoArgs
{
	const char *target;			/* undo everything above it */
	const char *version;		/* undo exactly this one */
} UndoArgs;

/* what repair returns its lines into */
typedef struct RepairOut
{
	Tuplestorestate *ts;
	TupleDesc	desc;
} RepairOut;

/* what baseline records */
typedef struct BaselineArgs
{
	const char *version;
	const char *description;
} BaselineArgs;

/* "a, b and c" of the items of a list of char * */
static char *
join_names(List *names)
{
	StringInfoData buf;
	ListCell   *lc;
	int			i = 0;
	int			n = list_length(names);

	initStringInfo(&buf);
	foreach(lc, names)
	{
		if (i > 0)
			appendStringInfoString(&buf, i == n - 1 ? " and " : ", ");
		appendStringInfoString(&buf, (char *) lfirst(lc));
		i++;
	}
	return buf.data;
}

/* the name an applied migration goes by: its file, else its version */
static char *
applied_name(PlanEntry *e)
{
	if (e->script)
		return psprintf("\"%s\"", e->script->name);
	if (e->applied && e->applied->script)
		return psprintf("\"%s\"", e->applied->script);
	return psprintf("version %s", e->version);
}

/* the applied versioned migrations of a plan, newest (highest version) first */
static List *
applied_newest_first(MigrationPlan *plan)
{
	List	   *applied = NIL;
	ListCell   *lc;

	foreach(lc, plan->entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		/* entries are in version order; repeatables (no version) come last */
		if (e->version && e->applied)
			applied = lcons(e, applied);
	}
	return applied;
}

/* the highest applied version once the entries of undone are undone */
static const char *
version_after_undo(MigrationPlan *plan, List *undone)
{
	List	   *applied = applied_newest_first(plan);
	ListCell   *lc;

	foreach(lc, applied)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		if (!list_member_ptr(undone, e))
			return e->version;
	}
	return plan->baseline;
}

/*
 * The migrations an undo call undoes, in the order it runs them: the
 * newest applied one; with target every applied one above target, newest
 * first; with version exactly that one.
 */
static List *
undo_selection(MigrationPlan *plan, UndoArgs *a, const char *track)
{
	List	   *applied = applied_newest_first(plan);
	List	   *todo = NIL;
	ListCell   *lc;

	if (a->version)
	{
		PlanEntry  *found = NULL;
		List	   *newer = NIL;

		foreach(lc, plan->entries)
		{
			PlanEntry  *e = (PlanEntry *) lfirst(lc);

			if (e->version && plan_version_cmp(plan, e->version, a->version) == 0)
				found = e;
		}
		if (found == NULL || found->applied == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("migration version %s is not applied on track \"%s\"", a->version, track),
					 found == NULL ?
					 errdetail("No file and no history row of the track has that version.") :
					 found->state == STATE_BASELINE ?
					 errdetail("Version %s is part of the baseline %s: it was never applied by migrate.",
							   a->version, plan->baseline) :
					 errdetail("Its state is %s.", migration_state_name(found->state)),
					 errhint("SELECT * FROM migrate.status(...) shows what is applied.")));

		foreach(lc, applied)
		{
			PlanEntry  *e = (PlanEntry *) lfirst(lc);

			if (plan_version_cmp(plan, e->version, a->version) > 0)
				newer = lappend(newer, applied_name(e));
		}
		if (newer != NIL)
			ereport(WARNING,
					(errmsg("undoing version %s while newer migrations stay applied: %s",
							a->version, join_names(newer)),
					 errdetail("Only the undo script of version %s runs; the newer migrations are not undone.",
							   a->version)));
		return list_make1(found);
	}

	if (a->target)
	{
		if (plan->baseline && plan_version_cmp(plan, a->target, plan->baseline) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot undo below the baseline of track \"%s\"", track),
					 errdetail("The track was baselined at version %s: the migrations up to it were "
							   "never applied by migrate, so they cannot be undone.", plan->baseline),
					 errhint("Undo down to target => '%s' at the lowest.", plan->baseline)));
		foreach(lc, applied)
		{
			PlanEntry  *e = (PlanEntry *) lfirst(lc);

			if (plan_version_cmp(plan, e->version, a->target) > 0)
				todo = lappend(todo, e);
		}
		return todo;
	}

	return applied == NIL ? NIL : list_make1(linitial(applied));
}

/*
 * Refuse an undo before anything runs: a misnamed file, duplicate
 * versions, a dirty migration anywhere, a changed file among those to
 * undo (as apply refuses), or one of them without an undo script.
 */
static void
undo_check(MigrationPlan *plan, List *todo, const char *target)
{
	List	   *problems = NIL;
	List	   *no_undo = NIL;
	List	   *no_undo_entries = NIL;
	ListCell   *lc;

	foreach(lc, plan_problems(plan, true, false))
	{
		PlanProblem *p = (PlanProblem *) lfirst(lc);

		if (p->kind == PROBLEM_CHANGED && !list_member_ptr(todo, p->entry))
			continue;
		problems = lappend(problems, p);
	}
	plan_raise(problems);

	foreach(lc, todo)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		if (e->undo == NULL)
		{
			no_undo = lappend(no_undo, applied_name(e));
			no_undo_entries = lappend(no_undo_entries, e);
		}
	}
	if (no_undo != NIL)
	{
		List	   *versions = NIL;

		foreach(lc, todo)
			versions = lappend(versions, (char *) ((PlanEntry *) lfirst(lc))->version);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 list_length(no_undo) == 1 ?
				 errmsg("migration %s has no undo script", (char *) linitial(no_undo)) :
				 errmsg("migrations %s have no undo script", join_names(no_undo)),
				 list_length(versions) == 1 ?
				 errdetail("Nothing was undone.") :
				 errdetail("This undo would undo versions %s, newest first; nothing was undone.",
						   join_names(versions)),
				 errhint("%s", plan_undo_hint(plan, no_undo_entries, target != NULL))));
	}
}

/* the work of undo, under the runner lock */
static void
undo_body(TrackRun *run, void *arg)
{
	UndoArgs   *a = (UndoArgs *) arg;
	MigrationPlan *plan;
	char	   *real_dir;
	List	   *volatile todo;	/* read after the PG_TRY below */
	ListCell   *lc;
	MemoryContext mcxt;
	const char *now;

	plan = load_plan(run->dir, run->track, NULL, &real_dir, PLAN_FOR_RUN);
	run->real_dir = real_dir;
	run->callbacks = plan->set->callbacks;
	plan_check_version(plan, a->target);
	plan_check_version(plan, a->version);

	todo = undo_selection(plan, a, run->track);
	if (todo == NIL)
	{
		ereport(NOTICE,
				(errmsg("migrate: nothing to undo on track \"%s\", %s", run->track,
						plan->current ? psprintf("at version %s", plan->current) :
						"no version applied")));
		return;
	}
	undo_check(plan, todo, a->target);
	run->placeholders = placeholders_for_dir(run->placeholder_args, plan->set->layout,
											 run->dir, real_dir);
	staged_check_plan(todo, true);
	source_check_readable(plan_scripts(todo, true));
	callbacks_check(run->callbacks);
	run_refresh_identities(plan);
	now = version_after_undo(plan, todo);
	progress_run_total(list_length(todo));

	/* Flyway's beforeUndo, afterUndo and afterUndoError (callbacks.c) */
	mcxt = AllocSetContextCreate(run->cxt, "migrate undo", ALLOCSET_DEFAULT_SIZES);
	PG_TRY();
	{
		callbacks_event(run, CALLBACK_BEFORE_UNDO);
		foreach(lc, todo)
		{
			MemoryContextSwitchTo(mcxt);
			migration_apply(run, ((PlanEntry *) lfirst(lc))->undo);
			MemoryContextReset(mcxt);
		}
		MemoryContextSwitchTo(run->cxt);
		callbacks_event(run, CALLBACK_AFTER_UNDO);
	}
	PG_CATCH();
	{
		callbacks_after_error(run, CALLBACK_AFTER_UNDO_ERROR);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(run->cxt);
	runs_reached(run, now);
	ereport(NOTICE,
			(errmsg("migrate: undid %d migration(s) on track \"%s\", %s",
					list_length(todo), run->track,
					now ? psprintf("now at version %s", now) : "no version applied")));
}

/*
 * CALL migrate.undo(dir, target, version, track, confirm, placeholders)
 */
Datum
migrate_undo(PG_FUNCTION_ARGS)
{
	TrackRun	run;
	UndoArgs	a;
	char	   *dir = required_arg(fcinfo, 0, "dir");
	char	   *target = text_arg(fcinfo, 1);
	char	   *version = text_arg(fcinfo, 2);
	char	   *track = required_arg(fcinfo, 3, "track");
	Jsonb	   *placeholders = placeholders_arg(fcinfo, 5);

	migrate_check_changing_call(fcinfo, text_arg(fcinfo, 4));
	if (target && version)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target and version cannot both be given"),
				 errhint("Use target => to undo every migration above a version, "
						 "or version => to undo exactly one.")));
	if (target)
		target = version_arg(target);
	if (version)
		version = version_arg(version);

	run_init(fcinfo, &run, dir, track);
	a.target = run_strdup(&run, target);
	a.version = run_strdup(&run, version);
	run.placeholder_args = placeholders_copy(placeholders, run.cxt);
	run_locked(&run, undo_body, &a);
	PG_RETURN_VOID();
}

/*
 * SELECT migrate.validate(dir, track): one error listing every problem,
 * nothing when the directory and the history agree.  Reads only, like
 * status, so it takes no lock.  Flyway's beforeValidate callbacks run
 * before the checks and afterValidate ones after them when they pass, in
 * the caller's transaction (callbacks.c).
 */
Datum
migrate_validate(PG_FUNCTION_ARGS)
{
	char	   *dir = required_arg(fcinfo, 0, "dir");
	char	   *track = required_arg(fcinfo, 1, "track");
	char	   *real_dir;
	MigrationPlan *plan;
	List	   *callbacks;
	Placeholders *placeholders = NULL;
	int			nestlevel;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = load_plan(dir, track, NULL, &real_dir, PLAN_VERIFY_ALL);
	callbacks = plan->set->callbacks;
	callbacks_check(callbacks);
	/* callbacks get the settings' and the config's placeholder values */
	if (callbacks != NIL)
		placeholders = placeholders_for_dir(NULL, plan->set->layout, dir, real_dir);
	nestlevel = NewGUCNestLevel();
	callbacks_execute(callbacks, real_dir, placeholders, CALLBACK_BEFORE_VALIDATE, NULL);
	AtEOXact_GUC(false, nestlevel);
	plan_validate(plan, track);
	drift_validate();
	nestlevel = NewGUCNestLevel();
	callbacks_execute(callbacks, real_dir, placeholders, CALLBACK_AFTER_VALIDATE, NULL);
	AtEOXact_GUC(false, nestlevel);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	PG_RETURN_VOID();
}

/* one line of repair's result */
static void
repair_line(RepairOut *out, char *line)
{
	Datum		value = CStringGetTextDatum(line);
	bool		isnull = false;

	tuplestore_putvalues(out->ts, out->desc, &value, &isnull);
}

/* remove the failed rows of the track, one line per row, in rank order */
static void
repair_failed_rows(TrackRun *run, RepairOut *out)
{
	uint64		i;

	history_delete_failed(run->track);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *rank = SPI_getvalue(tup, desc, 1);
		char	   *name = SPI_getvalue(tup, desc, 2);
		char	   *type = SPI_getvalue(tup, desc, 3);
		bool		isnull;
		bool		dirty = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		char	   *line = SPI_getvalue(tup, desc, 5);
		const char *what = strcmp(type, "undo") == 0 ? "failed undo" : "failed run";

		if (dirty)
			repair_line(out, psprintf("cleared dirty %s: removed its %s (rank %s)%s; "
									  "it is pending again",
									  name ? name : "migration", what, rank,
									  line ? psprintf(", which stopped at line %s", line) : ""));
		else
			repair_line(out, psprintf("removed the %s of %s (rank %s)", what,
									  name ? name : "a migration", rank));
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * The work of repair, under the runner lock.  Checksums are re-recorded
 * by updating the row that applied the migration, not by a new row: a
 * new row would claim the migration was applied again (at the time of
 * the repair, by whoever repaired), and status would show that.  The row
 * keeps the SQL text that actually ran; the old checksum is in repair's
 * result.
 */
static void
repair_body(TrackRun *run, void *arg)
{
	RepairOut  *out = (RepairOut *) arg;
	MigrationPlan *plan;
	char	   *real_dir;
	ListCell   *lc;

	plan = load_plan(run->dir, run->track, NULL, &real_dir, PLAN_VERIFY_ALL);
	repair_failed_rows(run, out);

	foreach(lc, plan->entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);
		HistoryRow *row = e->applied;

		/* repeatables with another checksum are simply pending: not repaired */
		if (e->version == NULL || row == NULL || e->script == NULL)
			continue;
		if (row->checksum == NULL)
		{
			history_set_checksum(row->rank, e->script->checksum);
			repair_line(out, psprintf("recorded the checksum of %s (applied without one): %s",
									  e->script->name, e->script->checksum));
		}
		else if (strcmp(row->checksum, e->script->checksum) != 0)
		{
			history_set_checksum(row->rank, e->script->checksum);
			repair_line(out, psprintf("re-recorded the checksum of %s: was %s, now %s",
									  e->script->name, row->checksum, e->script->checksum));
		}
	}
}

/*
 * SELECT * FROM migrate.repair(dir, track): one line per thing done.
 */
Datum
migrate_repair(PG_FUNCTION_ARGS)
{
	char	   *dir = required_arg(fcinfo, 0, "dir");
	char	   *track = required_arg(fcinfo, 1, "track");
	RepairOut	out;
	TrackRun	run;

	migrate_check_changing_call(fcinfo, text_arg(fcinfo, 2));
	out.ts = materialize_result(fcinfo, &out.desc);
	run_init(fcinfo, &run, dir, track);
	run_locked(&run, repair_body, &out);
	PG_RETURN_NULL();
}

/* the work of baseline, under the runner lock */
static void
baseline_body(TrackRun *run, void *arg)
{
	BaselineArgs *a = (BaselineArgs *) arg;
	ScriptSet  *none = palloc0(sizeof(ScriptSet));
	MigrationPlan *plan = plan_build(none, history_load(run->track, CurrentMemoryContext), NULL,
										 NULL);
	List	   *above = NIL;
	ListCell   *lc;
	HistoryEntry he;

	foreach(lc, plan->entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		if (e->version && e->applied && plan_version_cmp(plan, e->version, a->version) > 0)
			above = lappend(above, applied_name(e));
	}
	if (above != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot baseline track \"%s\" at version %s", run->track, a->version),
				 errdetail("Migrations above that version are already applied: %s. A baseline "
						   "says the database is at version %s; it would hide them.",
						   join_names(above), a->version),
				 errhint("Baseline at version %s or higher, or undo those migrations first.",
						 plan->current)));
	if (plan->baseline && plan_version_cmp(plan, plan->baseline, a->version) >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("track \"%s\" is already baselined at version %s", run->track, plan->baseline),
				 errdetail("A baseline can only move the track forward."),
				 errhint("Baseline at a version above %s.", plan->baseline)));

	memset(&he, 0, sizeof(he));
	he.track = run->track;
	he.version = a->version;
	he.description = a->description;
	he.type = "baseline";
	he.execution_ms = -1;
	he.success = true;
	drift_check_unseen();
	history_record(&he);
	drift_fingerprint_record();
	ereport(NOTICE,
			(errmsg("migrate: track \"%s\" baselined at version %s", run->track, a->version),
			 errdetail("Migrations up to version %s count as applied; newer ones are pending.",
					   a->version)));
}

/*
 * SELECT migrate.baseline(version, description, track)
 */
Datum
migrate_baseline(PG_FUNCTION_ARGS)
{
	char	   *version = version_check(required_arg(fcinfo, 0, "version"));
	char	   *description = required_arg(fcinfo, 1, "description");
	char	   *track = required_arg(fcinfo, 2, "track");
	BaselineArgs a;
	TrackRun	run;

	migrate_check_changing_call(fcinfo, text_arg(fcinfo, 3));
	run_init(fcinfo, &run, NULL, track);
	a.version = run_strdup(&run, version);
	a.description = run_strdup(&run, description);
	run_locked(&run, baseline_body, &a);
	PG_RETURN_VOID();
}

/* the error of a file that must run outside a transaction, in a call that cannot */
pg_noreturn static void
run_refuse_in_transaction_block(const char *file, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
			 errmsg("file \"%s\" cannot run inside a transaction block", file),
			 errdetail("It must run outside a transaction, statement by statement: %s.", why),
			 errhint("Call migrate.run with CALL outside a transaction block (not inside "
					 "BEGIN ... COMMIT, a function or a multi-statement query string).")));
}

/*
 * migrate.run's file in the caller's transaction (a subtransaction of it
 * when the call may commit), stopping before a statement that needs top
 * level, as apply's pass does (executor.c).  Returns NULL when the file
 * ran, or why it must run outside a transaction, with nothing of it left.
 */
static char *
run_in_transaction(MigrationScript *s, const Placeholders *placeholders, bool nonatomic,
				   int *statements)
{
	ScriptExec	exec;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	int			nestlevel;
	char	   *why;

	memset(&exec, 0, sizeof(exec));
	exec.script = s;
	exec.what = "file";
	exec.placeholders = placeholders;
	exec.detect_nontx = true;

	/* before the subtransaction, so that the file survives its rollback */
	execute_open(&exec);
	nestlevel = NewGUCNestLevel();
	if (!nonatomic)
		execute_script(&exec);
	else
	{
		BeginInternalSubTransaction(NULL);
		PG_TRY();
		{
			execute_script(&exec);
		}
		PG_CATCH();
		{
			/* the subtransaction must end here: the caller's transaction then fails */
			migrate_rethrow(migrate_subxact_abort(oldcxt, oldowner));
		}
		PG_END_TRY();
	}
	if (exec.nontx_why)
	{
		if (!nonatomic)
			run_refuse_in_transaction_block(s->name, exec.nontx_why);
		/* what ran before that statement is undone: the worker runs it all */
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		why = pstrdup(exec.nontx_why);
		execute_close(&exec);
	}
	else
	{
		why = NULL;
		if (nonatomic)
		{
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
		}
	}
	AtEOXact_GUC(false, nestlevel);
	*statements = exec.statements;
	return why;
}

/*
 * migrate.run's file outside a transaction, statement by statement in the
 * background worker, as apply runs such a migration (migration.c), after
 * a commit so that the caller holds nothing its statements could wait
 * for.  Nothing is recorded; a failure part-way says what stayed
 * committed, in a WARNING before the error.
 */
static void
run_outside(MigrationScript *s, const Placeholders *placeholders, int *statements)
{
	ScriptExec	exec;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner;
	List	   *invalid_before = nontx_invalid_indexes();

	run_commit();
	oldowner = CurrentResourceOwner;

	memset(&exec, 0, sizeof(exec));
	exec.script = s;
	exec.what = "file";
	exec.placeholders = placeholders;
	execute_open(&exec);
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		exec.worker = worker_start(s->name, oldcxt);
		execute_script(&exec);
		worker_finish(exec.worker, &exec.error_line);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		/* the rollback detaches the worker's shared memory, which tells it to stop */
		ErrorData  *edata = migrate_subxact_abort(oldcxt, oldowner);
		char	   *summary;

		if (exec.worker)
			worker_stop(exec.worker);
		if (nontx_describe_failure(s->name, exec.worker, invalid_before, edata->message,
								   exec.error_line, &summary))
			ereport(WARNING,
					(errmsg("file \"%s\" stopped part-way", s->name),
					 errdetail("%s", summary),
					 errhint("Nothing is recorded for migrate.run: repair the database by hand "
							 "before running the file again.")));
		execute_close(&exec);
		migrate_rethrow(edata);
	}
	PG_END_TRY();
	*statements = exec.statements;
}

/*
 * CALL migrate.run(file, confirm, placeholders): run one file from an
 * allowed directory, once, recording nothing (seed data for development).
 * Outside a transaction block it commits when the file is done; its SET
 * commands last until then, as with psql -f.  A file with a statement that
 * can only run at top level (CREATE INDEX CONCURRENTLY, VACUUM, ...; in an
 * included file too), or a marker saying so, runs outside a transaction,
 * statement by statement in the background worker, as apply runs such a
 * migration.  Flyway placeholders are replaced when the call or a config
 * beside the file asks (placeholders.c).
 */
Datum
migrate_run(PG_FUNCTION_ARGS)
{
	char	   *file;
	bool		nonatomic = call_is_nonatomic(fcinfo);
	MigrationScript s;
	TimestampTz start = GetCurrentTimestamp();
	Jsonb	   *placeholder_args = placeholders_arg(fcinfo, 2);
	const Placeholders *placeholders;
	char	   *why = NULL;
	int			statements = 0;

	migrate_check_changing_call(fcinfo, text_arg(fcinfo, 1));
	if (SPI_connect_ext(nonatomic ? SPI_OPT_NONATOMIC : 0) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* allocated in SPI's procedure context, which survives the commit */
	file = required_arg(fcinfo, 0, "file");
	progress_call_start(fcinfo, file, NULL);

	memset(&s, 0, sizeof(s));
	s.file = source_file(file);
	s.name = file;
	s.path = s.file->path;
	s.kind = MIGRATION_VERSIONED;
	s.description = "";

	placeholders = placeholders_for_file(placeholder_args, s.path);

	drift_check_unseen();
	if (nontx_name_says(&s, &why))
	{
		if (!nonatomic)
			run_refuse_in_transaction_block(s.name, why);
	}
	else
		why = run_in_transaction(&s, placeholders, nonatomic, &statements);
	if (why)
	{
		/* a placeholder without a value stops it before the worker runs any of it */
		if (placeholders)
			placeholders_check_file(placeholders, s.file, s.name);
		run_outside(&s, placeholders, &statements);
	}
	drift_fingerprint_record();
	if (nonatomic)
		run_commit();
	progress_call_end();

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	if (why)
		ereport(NOTICE,
				(errmsg("ran %s outside a transaction: %d statement(s) (%.3f ms), not recorded",
						file, statements, (double) (GetCurrentTimestamp() - start) / 1000.0),
				 errdetail("It runs statement by statement: %s.", why)));
	else
		ereport(NOTICE,
				(errmsg("ran %s: %d statement(s) (%.3f ms), not recorded", file, statements,
						(double) (GetCurrentTimestamp() - start) / 1000.0)));
	PG_RETURN_VOID();
}
