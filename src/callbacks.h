/*-------------------------------------------------------------------------
 *
 * callbacks.h
 *	  Flyway's SQL callbacks: scripts named after an event (afterMigrate.sql,
 *	  beforeEachMigrate__audit.sql) that run at that event and are never
 *	  migrations.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_CALLBACKS_H
#define MIGRATE_CALLBACKS_H

#include "migrate.h"

struct TrackRun;

/* the events a callback script can be named after, in Flyway's spelling */
typedef enum CallbackEvent
{
	CALLBACK_BEFORE_MIGRATE,
	CALLBACK_BEFORE_EACH_MIGRATE,
	CALLBACK_AFTER_EACH_MIGRATE,
	CALLBACK_AFTER_MIGRATE,
	CALLBACK_AFTER_MIGRATE_APPLIED,
	CALLBACK_AFTER_MIGRATE_ERROR,
	CALLBACK_BEFORE_UNDO,
	CALLBACK_BEFORE_EACH_UNDO,
	CALLBACK_AFTER_EACH_UNDO,
	CALLBACK_AFTER_UNDO,
	CALLBACK_AFTER_UNDO_ERROR,
	CALLBACK_BEFORE_VALIDATE,
	CALLBACK_AFTER_VALIDATE
} CallbackEvent;

/* one callback script of a directory (ScriptSet.callbacks, in run order) */
typedef struct ScriptCallback
{
	CallbackEvent event;
	MigrationScript *script;	/* name, path and file; kind and version unused */
} ScriptCallback;

/* the callback script whose statement failed, for a migration's failure row */
typedef struct CallbackFailure
{
	const char *name;			/* NULL: no callback failed */
	int			line;
} CallbackFailure;

extern bool callback_parse(const char *base, CallbackEvent *event, char **description);
extern const char *callback_not_run(const char *base);
extern const char *callback_event_name(CallbackEvent event);
extern int	callback_compare(const ListCell *a, const ListCell *b);

extern bool callbacks_any(List *callbacks, CallbackEvent event);
extern void callbacks_check(List *callbacks);
struct Placeholders;

extern void callbacks_execute(List *callbacks, const char *base_dir,
							  const struct Placeholders *placeholders, CallbackEvent event,
							  CallbackFailure *failed);
extern void callbacks_event(struct TrackRun *run, CallbackEvent event);
pg_noreturn extern void callbacks_after_error(struct TrackRun *run, CallbackEvent event);
extern void callbacks_would_run(List *callbacks, CallbackEvent event, const char *when);

#endif							/* MIGRATE_CALLBACKS_H */
