/*-------------------------------------------------------------------------
 *
 * runs.h
 *	  The heartbeat migrate.runs: one row per changing call (runs.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_RUNS_H
#define MIGRATE_RUNS_H

#include "run.h"

extern void runs_begin(TrackRun *run);
extern void runs_skip(TrackRun *run);
extern void runs_applied(TrackRun *run);
extern void runs_reached(TrackRun *run, const char *version);
extern void runs_dir_state(TrackRun *run, const char *digest);
extern void runs_recorded(TrackRun *run, RunBody body, void *arg);

#endif							/* MIGRATE_RUNS_H */
