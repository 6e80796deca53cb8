/*-------------------------------------------------------------------------
 *
 * run.h
 *	  A run: one call's work on a track, under the track's runner lock
 *	  (apply in commands.c; undo, repair and baseline in
 *	  lifecycle.c; adopt in adopt.c), and the plan it starts from.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_RUN_H
#define MIGRATE_RUN_H

#include "fmgr.h"
#include "utils/jsonb.h"

#include "migrate.h"
#include "plan.h"

/*
 * One run of scripts under the runner lock of a track (apply, undo,
 * repair, baseline, adopt).  Everything it reads lives in cxt, which
 * survives the commits between migrations.
 */
typedef struct TrackRun
{
	const char *dir;			/* as given; NULL for calls without one */
	const char *real_dir;
	const char *track;
	const char *statement_timeout;	/* for each migration, or NULL */
	bool		nonatomic;		/* may commit between migrations */
	struct LintRun *lint;		/* the pending migrations' lint findings (lint.h) */
	struct RunRecord *record;	/* its row of migrate.runs, or NULL (runs.h) */
	List	   *callbacks;		/* the directory's callback scripts (callbacks.h) */
	bool		callbacks_ran;	/* an event's callback scripts started */
	Jsonb	   *placeholder_args; /* the call's placeholders => object, or NULL */
	const struct Placeholders *placeholders;	/* what its scripts replace
												 * (placeholders.h), or NULL */
	MemoryContext cxt;			/* survives the commits of the run */
} TrackRun;

/* the work of a run, called with the lock held, SPI connected, in run->cxt */
typedef void (*RunBody) (TrackRun *run, void *arg);

/* which checksums load_plan computes */
typedef enum PlanLoad
{
	PLAN_FOR_RUN,				/* the ones the states need (apply, undo, lint) */
	PLAN_FOR_STATUS,			/* those, then every other (status shows them) */
	PLAN_VERIFY_ALL				/* every script read and hashed (validate, repair) */
} PlanLoad;

extern MigrationPlan *load_plan(const char *dir, const char *track, const char *target,
								char **real_dir, PlanLoad how);
extern MigrationPlan *load_plan_listed(List *files, const char *track, const char *target,
									   PlanLoad how);
extern void run_refresh_identities(MigrationPlan *plan);
extern void run_init(FunctionCallInfo fcinfo, TrackRun *run, const char *dir, const char *track);
extern char *run_strdup(TrackRun *run, const char *s);
extern void run_locked(TrackRun *run, RunBody body, void *arg);
extern void run_commit(void);

#endif							/* MIGRATE_RUN_H */
