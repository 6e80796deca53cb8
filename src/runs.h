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

/* the newest row of a track (runs_newest) */
typedef struct RunsNewest
{
	char	   *call;
	char	   *outcome;
	char	   *version;		/* NULL: none */
	char	   *dir_state;		/* NULL: none */
} RunsNewest;

extern void runs_begin(TrackRun *run);
extern void runs_skip(TrackRun *run);
extern void runs_applied(TrackRun *run);
extern void runs_reached(TrackRun *run, const char *version);
extern void runs_dir_state(TrackRun *run, const char *digest);
extern void runs_recorded(TrackRun *run, RunBody body, void *arg);
extern bool runs_newest(const char *track, RunsNewest *newest);

#endif							/* MIGRATE_RUNS_H */
