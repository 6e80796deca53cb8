/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  What a running migrate call is doing, for migrate.progress and
 *	  pg_stat_activity: the hooks the run machinery calls.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_PROGRESS_H
#define MIGRATE_PROGRESS_H

#include "fmgr.h"

#include "migrate.h"
#include "splitter.h"

extern void progress_call_start(FunctionCallInfo fcinfo, const char *dir, const char *track);
extern void progress_call_running(void);
extern void progress_call_end(void);
extern void progress_run_total(int migrations);
extern void progress_migration(const MigrationScript *s, int attempt, int attempts);
extern void progress_retry_wait(int next_attempt, int attempts);
extern void progress_statement(const Statement *st, bool in_worker);
extern bool progress_in_call(void);
extern const char *progress_call_name(void);
extern uint64 progress_call_serial(void);
extern int	progress_migrations_started(void);
extern int	progress_attempt(void);

#endif							/* MIGRATE_PROGRESS_H */
