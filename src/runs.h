/*-------------------------------------------------------------------------
 *
 * runs.h
 *	  The heartbeat migrate.runs: one row per changing call (runs.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_RUNS_H
#define MIGRATE_RUNS_H

#include "commands.h"

extern void runs_begin(ApplyRun *ar);
extern void runs_skip(ApplyRun *ar);
extern void runs_applied(ApplyRun *ar);
extern void runs_reached(ApplyRun *ar, const char *version);
extern void runs_recorded(ApplyRun *ar, RunBody body, void *arg);

#endif							/* MIGRATE_RUNS_H */
