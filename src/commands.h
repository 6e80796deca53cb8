/*-------------------------------------------------------------------------
 *
 * commands.h
 *	  The run machinery shared by every SQL entry point that runs scripts
 *	  (apply and status in commands.c; undo, validate, repair, baseline
 *	  and run in lifecycle.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_COMMANDS_H
#define MIGRATE_COMMANDS_H

#include "fmgr.h"
#include "funcapi.h"
#include "utils/tuplestore.h"

#include "migrate.h"
#include "plan.h"

/*
 * One run of scripts under the runner lock of a track (apply, undo,
 * repair, baseline).  Everything it reads lives in cxt, which survives
 * the commits between migrations.
 */
typedef struct ApplyRun
{
	const char *dir;			/* as given; NULL for calls without one */
	const char *real_dir;
	const char *track;
	const char *statement_timeout;	/* for each migration, or NULL */
	bool		nonatomic;		/* may commit between migrations */
	struct LintRun *lint;		/* the pending migrations' lint findings (lint.h) */
	struct RunRecord *record;	/* its row of migrate.runs, or NULL (runs.h) */
	MemoryContext cxt;			/* survives the commits of the run */
} ApplyRun;

/* the work of a run, called with the lock held, SPI connected, in ar->cxt */
typedef void (*RunBody) (ApplyRun *ar, void *arg);

extern char *text_arg(FunctionCallInfo fcinfo, int n);
extern bool call_is_nonatomic(FunctionCallInfo fcinfo);
extern char *required_arg(FunctionCallInfo fcinfo, int n, const char *name);
extern MigrationPlan *load_plan(const char *dir, const char *track, const char *target,
								char **real_dir);
extern void run_init(FunctionCallInfo fcinfo, ApplyRun *ar, const char *dir, const char *track);
extern char *run_strdup(ApplyRun *ar, const char *s);
extern void run_locked(ApplyRun *ar, RunBody body, void *arg);
extern void run_migration(ApplyRun *ar, MigrationScript *s);
extern void commit_and_continue(void);
extern Tuplestorestate *materialize_result(FunctionCallInfo fcinfo, TupleDesc *desc);

#endif							/* MIGRATE_COMMANDS_H */
