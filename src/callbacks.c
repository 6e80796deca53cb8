/*-------------------------------------------------------------------------
 *
 * callbacks.c
 *	  Flyway's SQL callbacks: which events there are, and running the
 *	  scripts of one event.
 *
 * In a Flyway directory a script named after an event, "<event>.sql" or
 * "<event>__<description>.sql" (afterMigrate.sql, afterMigrate__grants.sql),
 * is a callback: the layout (layout_flyway.c, layout.c) sets it apart from
 * the migrations, so it is never planned, recorded or reported misnamed,
 * and its checksum is never compared with anything.  The scripts of one
 * event run in name order, through the executor like a migration (errors
 * at file and line, \i, COPY), as the caller, in a transaction:
 *	  beforeMigrate        before the first migration (every apply, even
 *	                       with nothing pending), committed on its own
 *	  beforeEachMigrate,   in each migration's transaction, around its
 *	  afterEachMigrate     statements and before its history row: their
 *	                       failure is the migration's, rolled back with it
 *	  afterMigrate         after the last migration (every apply)
 *	  afterMigrateApplied  then, when at least one migration was applied
 *	  afterMigrateError    when the apply failed from beforeMigrate on, in
 *	                       a transaction of its own after the failure row
 *	                       was committed
 * and the same for undo (beforeUndo, beforeEachUndo, afterEachUndo,
 * afterUndo, afterUndoError) and validate (beforeValidate, afterValidate).
 * Where a migration runs outside a transaction (the worker), migration.c
 * runs its each-migration callbacks in transactions of their own before
 * and after it.  In the caller's transaction (apply inside BEGIN) every
 * callback runs in that transaction, and the error callbacks cannot run.
 * Flyway's other events (afterEachMigrateError, beforeClean, ...) are
 * callbacks migrate never runs: their files are ignored with a NOTICE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "callbacks.h"
#include "drift.h"
#include "executor.h"
#include "layouts.h"
#include "run.h"
#include "source.h"
#include "staged.h"

/* the events migrate runs, by CallbackEvent */
static const char *const event_names[] = {
	"beforeMigrate",
	"beforeEachMigrate",
	"afterEachMigrate",
	"afterMigrate",
	"afterMigrateApplied",
	"afterMigrateError",
	"beforeUndo",
	"beforeEachUndo",
	"afterEachUndo",
	"afterUndo",
	"afterUndoError",
	"beforeValidate",
	"afterValidate"
};

/* Flyway's events that migrate has no moment for, or does not run */
static const char *const other_events[] = {
	"beforeRepeatables",
	"beforeEachMigrateStatement",
	"afterEachMigrateStatement",
	"afterEachMigrateStatementError",
	"afterEachMigrateError",
	"afterVersioned",
	"beforeEachUndoStatement",
	"afterEachUndoStatement",
	"afterEachUndoStatementError",
	"afterEachUndoError",
	"afterValidateError",
	"beforeClean",
	"afterClean",
	"afterCleanError",
	"beforeInfo",
	"afterInfo",
	"afterInfoError",
	"beforeBaseline",
	"afterBaseline",
	"afterBaselineError",
	"beforeRepair",
	"afterRepair",
	"afterRepairError",
	"createSchema",
	"beforeCreateSchema",
	"beforeConnect",
	"afterConnect",
	NULL
};

/* the event's name, as in the file name */
const char *
callback_event_name(CallbackEvent event)
{
	return event_names[event];
}

/*
 * Does base (a file's last component) name a callback of event name ev:
 * "<ev>.sql" or "<ev>__<description>.sql"?  Sets *description (NULL when
 * it has none).  Case counts, as in Flyway.
 */
static bool
names_event(const char *base, const char *ev, char **description)
{
	size_t		len = strlen(base);
	size_t		elen = strlen(ev);

	if (len < 4 || strcmp(base + len - 4, ".sql") != 0)
		return false;
	len -= 4;
	if (strncmp(base, ev, elen) != 0)
		return false;
	if (len == elen)
	{
		*description = NULL;
		return true;
	}
	if (len > elen + 2 && base[elen] == '_' && base[elen + 1] == '_')
	{
		*description = layout_description(base + elen + 2, len - elen - 2);
		return true;
	}
	return false;
}

/* is base the name of a callback migrate runs?  Sets its event and description */
bool
callback_parse(const char *base, CallbackEvent *event, char **description)
{
	int			i;

	/* longest names first would matter only for prefixes; "__" settles it */
	for (i = 0; i < (int) lengthof(event_names); i++)
	{
		if (names_event(base, event_names[i], description))
		{
			*event = (CallbackEvent) i;
			return true;
		}
	}
	return false;
}

/*
 * Why migrate never runs base, when it names one of Flyway's callbacks of
 * an event migrate does not run; else NULL.
 */
const char *
callback_not_run(const char *base)
{
	int			i;
	char	   *description;

	for (i = 0; other_events[i]; i++)
		if (names_event(base, other_events[i], &description))
			return psprintf("It is Flyway's %s callback, an event migrate does not run",
							other_events[i]);
	return NULL;
}

/* the order callbacks run in: by file name, then by path */
int
callback_compare(const ListCell *a, const ListCell *b)
{
	const MigrationScript *sa = ((const ScriptCallback *) lfirst(a))->script;
	const MigrationScript *sb = ((const ScriptCallback *) lfirst(b))->script;
	int			c = strcmp(layout_base_name(sa->name), layout_base_name(sb->name));

	return c != 0 ? c : strcmp(sa->name, sb->name);
}

/* has the directory a callback of event? */
bool
callbacks_any(List *callbacks, CallbackEvent event)
{
	ListCell   *lc;

	foreach(lc, callbacks)
		if (((ScriptCallback *) lfirst(lc))->event == event)
			return true;
	return false;
}

/*
 * Before a run changes anything: every callback it may run can be read,
 * and a staged one was written by a role the caller is a member of.
 */
void
callbacks_check(List *callbacks)
{
	List	   *scripts = NIL;
	ListCell   *lc;

	foreach(lc, callbacks)
	{
		MigrationScript *s = ((ScriptCallback *) lfirst(lc))->script;

		staged_check_run(s->file);
		scripts = lappend(scripts, s);
	}
	source_check_readable(scripts);
}

/*
 * Run the callbacks of event, in order, in the current transaction, each
 * in one pass over its file as the executor runs a migration (errors name
 * "callback <file>, line N").  When one fails, *failed (if given) says
 * which, and where.
 */
void
callbacks_execute(List *callbacks, const char *base_dir,
				  const struct Placeholders *placeholders, CallbackEvent event,
				  CallbackFailure *failed)
{
	ListCell   *lc;

	foreach(lc, callbacks)
	{
		ScriptCallback *cb = (ScriptCallback *) lfirst(lc);
		ScriptExec	exec;
		TimestampTz start;

		if (cb->event != event)
			continue;
		memset(&exec, 0, sizeof(exec));
		exec.script = cb->script;
		exec.base_dir = base_dir;
		exec.what = "callback";
		exec.placeholders = placeholders;
		start = GetCurrentTimestamp();
		PG_TRY();
		{
			execute_script(&exec);
		}
		PG_CATCH();
		{
			if (failed)
			{
				failed->name = cb->script->name;
				failed->line = exec.error_line;
			}
			PG_RE_THROW();
		}
		PG_END_TRY();
		ereport(NOTICE,
				(errmsg("ran callback %s (%.3f ms)", cb->script->name,
						(double) (GetCurrentTimestamp() - start) / 1000.0)));
	}
}

/*
 * The callbacks of an event of the whole run (beforeMigrate, afterMigrate,
 * beforeUndo, ...): in a transaction of their own when the call may commit
 * (committed here), else in the caller's.  A SET in them lasts until the
 * last of them ends.
 */
void
callbacks_event(TrackRun *run, CallbackEvent event)
{
	MemoryContext cxt;
	MemoryContext old;
	int			nestlevel;

	if (!callbacks_any(run->callbacks, event))
		return;
	run->callbacks_ran = true;
	/* before the fingerprint recorded after the run could hide them */
	drift_check_unseen();
	cxt = AllocSetContextCreate(CurrentMemoryContext, "migrate callbacks",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	nestlevel = NewGUCNestLevel();
	callbacks_execute(run->callbacks, run->real_dir, run->placeholders, event, NULL);
	AtEOXact_GUC(false, nestlevel);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	if (run->nonatomic)
		run_commit();
}

/*
 * A run failed (called in a PG_CATCH): run the error callbacks of event
 * (afterMigrateError, afterUndoError) in a transaction of their own, then
 * raise the run's error again.  The failed transaction is rolled back
 * first; a failed migration's row was committed before its error was
 * raised.  A failing error callback is a WARNING, so that the run's own
 * error is the one raised.  When callbacks ran, the schema fingerprint
 * (drift.c) is recorded then too: a failing afterMigrate leaves the
 * migrations before it applied, and a migration's own failure recorded
 * the fingerprint before beforeMigrate's or afterMigrateError's changes.  Not in the caller's transaction (nothing can
 * run in a failed transaction, and nothing of it stays), not with a
 * subtransaction or another SPI level open (their state is not ours to
 * end), and not after a cancel: then the error goes on as it is.
 */
void
callbacks_after_error(TrackRun *run, CallbackEvent event)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ErrorData  *edata;

	if (!(run->callbacks_ran || callbacks_any(run->callbacks, event)) || !run->nonatomic ||
		IsSubTransaction() || !SPI_inside_nonatomic_context())
		PG_RE_THROW();

	MemoryContextSwitchTo(run->cxt);
	edata = CopyErrorData();
	if (migrate_error_is_interruption(edata))
	{
		MemoryContextSwitchTo(oldcxt);
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	FlushErrorState();

	PG_TRY();
	{
		int			nestlevel;

		SPI_rollback();
		SPI_start_transaction();
		drift_check_unseen();
		nestlevel = NewGUCNestLevel();
		callbacks_execute(run->callbacks, run->real_dir, run->placeholders, event, NULL);
		AtEOXact_GUC(false, nestlevel);
		/* guarded: a failure to record it is a WARNING */
		drift_fingerprint_record();
		run_commit();
	}
	PG_CATCH();
	{
		ErrorData  *second;

		MemoryContextSwitchTo(run->cxt);
		second = CopyErrorData();
		FlushErrorState();
		ereport(WARNING,
				(errmsg("%s callback failed: %s", callback_event_name(event), second->message),
				 second->context ? errdetail_internal("%s", second->context) : 0,
				 errhint("The error below is the run's; what the callback did is rolled back.")));
	}
	PG_END_TRY();

	MemoryContextSwitchTo(oldcxt);
	migrate_rethrow(edata);
}

/* the dry run: the callbacks of event that apply would run, and when */
void
callbacks_would_run(List *callbacks, CallbackEvent event, const char *when)
{
	ListCell   *lc;

	foreach(lc, callbacks)
	{
		ScriptCallback *cb = (ScriptCallback *) lfirst(lc);

		if (cb->event == event)
			ereport(NOTICE,
					(errmsg("would run callback %s%s", cb->script->name, when ? when : "")));
	}
}
