/*-------------------------------------------------------------------------
 *
 * run.c
 *	  A run: one call's work on a track, under the track's runner lock.
 *
 * apply, undo, repair, baseline and adopt each do their work as a run:
 * run_init checks nothing and allocates the run's memory context, which
 * survives the commits between migrations; run_locked connects SPI
 * (nonatomic when the call may commit), takes the runner lock of the
 * track (lock.c), calls the work, and always releases the lock and the
 * memory.  Inside, each migration is carried out by migration.c, and
 * run_commit ends one transaction and starts the next.
 *
 * load_plan is where every entry point starts: the files of a directory
 * or bundle (source.c), named by their layout (layout.c), checksummed
 * (reader.c), and compared with the history of the track (plan.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "utils/memutils.h"

#include "args.h"
#include "drift.h"
#include "history.h"
#include "layout.h"
#include "lock.h"
#include "migrate.h"
#include "plan.h"
#include "progress.h"
#include "reader.h"
#include "run.h"
#include "runs.h"
#include "source.h"

/*
 * The checksum of a script the plan must compare with its history row
 * (row; NULL when it has none).  Under migrate.verify_checksums =
 * 'changed', a file whose identity (listed through the open directory, no
 * walk) is the one recorded when row applied it has the checksum recorded
 * then: nothing is read.  A staged file has the checksum stage recorded.
 * Any other file is read and hashed, and when it turns out unchanged under
 * a new, settled identity, that identity is remembered for
 * run_refresh_identities, so the next run need not read it again.
 */
static void
checksum_for_plan(MigrationPlan *plan, MigrationScript *s, const HistoryRow *row)
{
	const SourceFile *f = s->file;
	FileIdentity opened;

	if (migrate_verify_checksums == VERIFY_CHANGED && row && row->checksum &&
		source_identity_equal(&row->identity, &f->listed))
	{
		strlcpy(s->checksum, row->checksum, MIGRATE_CHECKSUM_LEN);
		return;
	}
	if (f->stored_checksum && f->section == NULL)
	{
		strlcpy(s->checksum, f->stored_checksum, MIGRATE_CHECKSUM_LEN);
		return;
	}
	reader_checksum(f, s->checksum, &s->size, &opened);
	if (row && row->checksum && strcmp(row->checksum, s->checksum) == 0 &&
		opened.settled && source_identity_equal(&opened, &f->listed) &&
		!source_identity_equal(&row->identity, &opened) &&
		migrate_schema_version() >= 101)
	{
		IdentityRefresh *r = palloc(sizeof(IdentityRefresh));

		r->rank = row->rank;
		r->identity = opened;
		plan->refresh = lappend(plan->refresh, r);
	}
}

/*
 * Record the identities checksum_for_plan found for files it read and
 * found unchanged (apply and undo, not the read-only calls): a write only
 * after the files moved (a new checkout), once.
 */
void
run_refresh_identities(MigrationPlan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->refresh)
	{
		IdentityRefresh *r = (IdentityRefresh *) lfirst(lc);

		history_set_identity(r->rank, &r->identity);
	}
}

/*
 * Read a directory and the history of a track into a plan.
 *	  PLAN_VERIFY_ALL (validate, repair): every script is read and hashed.
 *	  PLAN_FOR_RUN (apply, undo, lint): only the checksums the states
 *	  need: of the applied scripts, which may have changed, and of the
 *	  repeatable ones, which run again when they changed (see
 *	  checksum_for_plan: most are not read at all).  A pending migration is
 *	  read once, when it runs, and its checksum taken then.
 *	  PLAN_FOR_STATUS: as for a run, then every other script is hashed,
 *	  since status shows every checksum.
 */
MigrationPlan *
load_plan(const char *dir, const char *track, const char *target, char **real_dir,
		  PlanLoad how)
{
	return load_plan_listed(source_list(dir, real_dir), track, target, how);
}

/* load_plan of files source_list returned */
MigrationPlan *
load_plan_listed(List *files, const char *track, const char *target, PlanLoad how)
{
	ScriptSet  *set;
	ListCell   *lc;
	MigrationPlan *plan;

	set = layout_classify(files);
	if (how == PLAN_VERIFY_ALL)
		foreach(lc, set->scripts)
		{
			MigrationScript *s = (MigrationScript *) lfirst(lc);

			reader_checksum(s->file, s->checksum, &s->size, NULL);
		}
	plan = plan_build(set, history_load(track, CurrentMemoryContext), target,
					  how == PLAN_VERIFY_ALL ? NULL : checksum_for_plan);
	if (how == PLAN_FOR_STATUS)
		foreach(lc, set->scripts)
		{
			MigrationScript *s = (MigrationScript *) lfirst(lc);

			if (s->checksum[0] == '\0')
				checksum_for_plan(plan, s, NULL);
		}
	return plan;
}

/* commit the current transaction and start the next one */
void
run_commit(void)
{
	SPI_commit();
	SPI_start_transaction();
}

/*
 * Start a run: its memory context, which survives the commits between
 * migrations, with the directory and the track copied into it.  Check
 * the arguments before: from here on only run_locked frees the context.
 */
void
run_init(FunctionCallInfo fcinfo, TrackRun *run, const char *dir, const char *track)
{
	memset(run, 0, sizeof(*run));
	run->nonatomic = call_is_nonatomic(fcinfo);
	run->cxt = AllocSetContextCreate(TopMemoryContext, "migrate run", ALLOCSET_DEFAULT_SIZES);
	run->dir = run_strdup(run, dir);
	run->track = run_strdup(run, track);
	progress_call_start(fcinfo, dir, track);
	runs_begin(run);
}

/* a copy of s (or NULL) that lives as long as the run */
char *
run_strdup(TrackRun *run, const char *s)
{
	return s ? MemoryContextStrdup(run->cxt, s) : NULL;
}

/*
 * Run body under the runner lock of the run's track: connect SPI
 * (nonatomic when the call may commit), take the lock (waiting for it
 * without holding a snapshot when possible), run, and always release the
 * lock and the run's memory.
 */
void
run_locked(TrackRun *run, RunBody body, void *arg)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool locked = false;
	volatile bool session_lock = false;

	if (SPI_connect_ext(run->nonatomic ? SPI_OPT_NONATOMIC : 0) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	PG_TRY();
	{
		session_lock = runner_lock_acquire(run->track, run->nonatomic);
		locked = true;
		progress_call_running();
		MemoryContextSwitchTo(run->cxt);
		/* body, and its row of migrate.runs, a failure's too */
		runs_recorded(run, body, arg);
		drift_run_finished(run->callbacks_ran);
	}
	PG_FINALLY();
	{
		MemoryContextSwitchTo(oldcxt);
		if (locked)
			runner_lock_release(run->track, session_lock);
		MemoryContextDelete(run->cxt);
		run->cxt = NULL;
		progress_call_end();
	}
	PG_END_TRY();

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}
