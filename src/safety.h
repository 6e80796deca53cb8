/*-------------------------------------------------------------------------
 *
 * safety.h
 *	  Production safety: protected databases, read-only and standby
 *	  refusal, lock and statement timeouts of migrations.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SAFETY_H
#define MIGRATE_SAFETY_H

#include "fmgr.h"
#include "datatype/timestamp.h"

/* a statement timer armed around one statement (see safety.c) */
typedef struct StatementTimer
{
	bool		armed;
	bool		outer_active;	/* the client statement's own timer */
	TimestampTz outer_fin;
} StatementTimer;

/* checks at the start of a call */
extern void migrate_check_changing_call(FunctionCallInfo fcinfo, const char *confirm);
extern void migrate_check_writable(const char *what);
extern void safety_check_statement_timeout(const char *value);

/* one migration attempt */
extern void safety_migration_settings(const char *statement_timeout);
extern void safety_lock_watch_start(void);
extern void safety_lock_watch_stop(void);
extern char *safety_lock_blockers(bool catalog_ok);
extern bool safety_is_lock_failure(const ErrorData *edata);
extern void safety_lock_error(ErrorData *edata, const char *blockers, int attempts,
							  bool can_retry);
extern int	safety_backoff_ms(int retry);
extern void safety_sleep_ms(int ms);

/* one statement */
extern void safety_statement_timer_start(StatementTimer *t);
extern void safety_statement_timer_stop(StatementTimer *t);

#endif							/* MIGRATE_SAFETY_H */
