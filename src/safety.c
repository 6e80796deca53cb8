/*-------------------------------------------------------------------------
 *
 * safety.c
 *	  Production safety: the checks every changing call makes first, and
 *	  the lock and statement timeouts a migration runs with.
 *
 * Changing calls (apply, undo, repair, baseline, run, adopt) start with
 * migrate_check_changing_call: on a hot standby or in a read-only
 * transaction they fail at once, and in a database marked
 * migrate.protected they fail unless given confirm => '<database name>';
 * the hint spells out the call to run.  status and dry runs make no check.
 *
 * Lock safety: every migration runs with lock_timeout set to
 * migrate.lock_timeout (migration.c retries a migration that timed out on
 * a lock).  To name the session that blocked it, a repeating timer watches
 * what the backend waits for while a migration runs: its handler copies
 * the tag of the lock being awaited (MyProc->waitLock), and after a lock
 * timeout the holders of conflicting locks on that tag are looked up with
 * GetLockConflicts, as CREATE INDEX CONCURRENTLY looks up the sessions it
 * must wait for.  Their current query is shown when the caller may see it.
 *
 * Statement timeout: statements run through SPI inside one client
 * statement (the CALL), whose statement_timeout timer was armed when the
 * CALL began; setting the GUC afterwards changes nothing.  So each
 * migration statement arms the timer itself from the current
 * statement_timeout (the run's value, or what the migration SET), never
 * later than the client's own deadline, and restores it afterwards.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "migrate.h"
#include "safety.h"

/* at most this many blocking sessions are named */
#define MAX_BLOCKERS_SHOWN 3

/* the longest back-off between two attempts */
#define MAX_BACKOFF_MS 60000

/* the lock watch: its timeout, and the last lock seen awaited */
static TimeoutId lock_watch_id = MAX_TIMEOUTS;
static volatile sig_atomic_t lock_seen = false;
static volatile LOCKTAG lock_seen_tag;
static volatile LOCKMODE lock_seen_mode;

/* "migrate.apply": the schema-qualified name of the function called */
static char *
call_name(FunctionCallInfo fcinfo)
{
	Oid			fn = fcinfo->flinfo->fn_oid;
	char	   *nsp = get_namespace_name(get_func_namespace(fn));

	return psprintf("%s.%s", nsp ? nsp : "?", get_func_name(fn));
}

/* an argument value as it would be written in a call */
static char *
literal(Datum value, Oid type)
{
	Oid			outfunc;
	bool		isvarlena;
	char	   *s;

	getTypeOutputInfo(type, &outfunc, &isvarlena);
	s = OidOutputFunctionCall(outfunc, value);
	switch (type)
	{
		case BOOLOID:
			return pstrdup(DatumGetBool(value) ? "true" : "false");
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
			return s;
		default:
			return quote_literal_cstr(s);
	}
}

/* is argument value equal to the Const that is its default? */
static bool
is_default(Datum value, Oid type, Node *def)
{
	Const	   *c;
	int16		typlen;
	bool		typbyval;

	if (def == NULL || !IsA(def, Const))
		return false;
	c = (Const *) def;
	if (c->constisnull || c->consttype != type)
		return false;
	get_typlenbyval(type, &typlen, &typbyval);
	return datumIsEqual(value, c->constvalue, typbyval, typlen);
}

/*
 * The call the user made, with confirm => 'dbname': the arguments given
 * (defaults left out), the first one by position, the others by name.
 */
static char *
confirmed_call(FunctionCallInfo fcinfo, const char *dbname)
{
	Oid			fn = fcinfo->flinfo->fn_oid;
	HeapTuple	tup;
	Form_pg_proc proc;
	Oid		   *types;
	char	  **names;
	char	   *modes;
	int			nargs;
	int			i;
	int			k = 0;
	int			first_default;
	List	   *defaults = NIL;
	Datum		d;
	bool		isnull;
	bool		is_proc;
	StringInfoData buf;
	int			shown = 0;

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", fn);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	is_proc = proc->prokind == PROKIND_PROCEDURE;
	nargs = get_func_arg_info(tup, &types, &names, &modes);
	d = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_proargdefaults, &isnull);
	if (!isnull)
		defaults = castNode(List, stringToNode(TextDatumGetCString(d)));
	first_default = proc->pronargs - list_length(defaults);

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s %s(", is_proc ? "CALL" : "SELECT", call_name(fcinfo));
	for (i = 0; i < nargs; i++)
	{
		char		mode = modes ? modes[i] : PROARGMODE_IN;
		const char *name = names ? names[i] : NULL;
		int			arg;

		if (mode == PROARGMODE_TABLE || (mode == PROARGMODE_OUT && !is_proc))
			continue;
		arg = k++;
		if (arg >= PG_NARGS() || PG_ARGISNULL(arg))
			continue;
		if (name && strcmp(name, "confirm") == 0)
			continue;
		if (arg >= first_default &&
			is_default(PG_GETARG_DATUM(arg), types[i],
					   (Node *) list_nth(defaults, arg - first_default)))
			continue;
		if (shown++ > 0)
			appendStringInfoString(&buf, ", ");
		if (arg > 0 && name && name[0])
			appendStringInfo(&buf, "%s => ", quote_identifier(name));
		appendStringInfoString(&buf, literal(PG_GETARG_DATUM(arg), types[i]));
	}
	appendStringInfo(&buf, "%sconfirm => %s)", shown > 0 ? ", " : "",
					 quote_literal_cstr(dbname));
	ReleaseSysCache(tup);
	return buf.data;
}

/*
 * Refuse to change anything on a hot standby or in a read-only
 * transaction.  what names the call in the message.
 */
void
migrate_check_writable(const char *what)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("%s cannot run on a hot standby", what),
				 errdetail("This server is in recovery: it replays the changes of its primary "
						   "and cannot make any of its own."),
				 errhint("Run %s on the primary server.", what)));
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("%s cannot run in a read-only transaction", what),
				 DefaultXactReadOnly ?
				 errdetail("default_transaction_read_only is on, so every transaction is read-only.") :
				 errdetail("The current transaction was started read-only."),
				 DefaultXactReadOnly ?
				 errhint("Run it on a read-write connection, or after "
						 "SET default_transaction_read_only = off.") :
				 errhint("Run it outside this transaction, or in one started READ WRITE.")));
}

/*
 * The checks every changing call makes before doing anything: the server
 * and transaction accept writes, and a protected database is confirmed by
 * name (confirm may be NULL).
 */
void
migrate_check_changing_call(FunctionCallInfo fcinfo, const char *confirm)
{
	char	   *what = call_name(fcinfo);
	char	   *dbname;

	migrate_check_writable(what);
	if (!migrate_protected)
		return;

	dbname = get_database_name(MyDatabaseId);
	if (confirm != NULL && dbname != NULL && strcmp(confirm, dbname) == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("database \"%s\" is protected", dbname),
			 confirm == NULL ?
			 errdetail("migrate.protected is on in this database, so %s changes nothing unless "
					   "the call names the database in confirm.", what) :
			 errdetail("confirm => %s does not name this database.", quote_literal_cstr(confirm)),
			 errhint("If you mean to change database \"%s\", run: %s", dbname,
					 confirmed_call(fcinfo, dbname))));
}

/* error now if value is not a valid statement_timeout */
void
safety_check_statement_timeout(const char *value)
{
	(void) set_config_option("statement_timeout", value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, false, ERROR, false);
}

/*
 * Settings one migration runs with: lock_timeout from migrate.lock_timeout
 * (unless 0) and the run's statement_timeout (if given).  Saved in the
 * current GUC nest level, so closing that level restores the caller's.
 */
void
safety_migration_settings(const char *statement_timeout)
{
	if (migrate_lock_timeout > 0)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), "%d", migrate_lock_timeout);
		(void) set_config_option("lock_timeout", buf, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, ERROR, false);
	}
	if (statement_timeout)
		(void) set_config_option("statement_timeout", statement_timeout, PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, ERROR, false);
}

/*
 * The lock watch's timeout handler (signal context): remember the lock
 * this backend is waiting for, if any.  Only reads this backend's PGPROC.
 */
static void
lock_watch_handler(void)
{
	LOCK	   *lock;

	if (MyProc == NULL)
		return;
	lock = MyProc->waitLock;
	if (lock == NULL)
		return;
	memcpy((void *) &lock_seen_tag, &lock->tag, sizeof(LOCKTAG));
	lock_seen_mode = MyProc->waitLockMode;
	lock_seen = true;
}

/* start watching the locks one migration attempt waits for */
void
safety_lock_watch_start(void)
{
	lock_seen = false;
	if (LockTimeout > 0)
	{
		/* a few looks within every lock_timeout, at most one a second */
		int			every = Min(Max(LockTimeout / 4, 5), 1000);

		if (lock_watch_id == MAX_TIMEOUTS)
			lock_watch_id = RegisterTimeout(USER_TIMEOUT, lock_watch_handler);
		enable_timeout_every(lock_watch_id,
							 TimestampTzPlusMilliseconds(GetCurrentTimestamp(), every),
							 every);
	}
}

/* stop the lock watch (safe to call when it is not running) */
void
safety_lock_watch_stop(void)
{
	if (lock_watch_id != MAX_TIMEOUTS && get_timeout_active(lock_watch_id))
		disable_timeout(lock_watch_id, false);
}

/* a session's query for a message: one line, and only when visible */
static char *
visible_query(int pid)
{
	const char *q = pgstat_get_backend_current_activity(pid, true);
	char	   *s;
	char	   *p;

	if (q == NULL || q[0] == '<')
		return NULL;			/* "<insufficient privilege>" and the like */
	s = pstrdup(q);
	for (p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return s;
}

/* the object of a lock tag, by name when the catalogs may be read */
static void
describe_lock_object(StringInfo buf, const LOCKTAG *tag, bool catalog_ok)
{
	if (catalog_ok && tag->locktag_type == LOCKTAG_RELATION &&
		tag->locktag_field1 == MyDatabaseId)
	{
		Oid			relid = tag->locktag_field2;
		char	   *rel = get_rel_name(relid);
		char	   *nsp = rel ? get_namespace_name(get_rel_namespace(relid)) : NULL;

		if (rel && nsp)
		{
			appendStringInfo(buf, "table %s", quote_qualified_identifier(nsp, rel));
			return;
		}
	}
	DescribeLockTag(buf, tag);
}

/*
 * After a lock failure: which lock the attempt waited for and who holds a
 * conflicting one, as a sentence; NULL when the watch saw no wait.
 * catalog_ok says whether names may be looked up (not while an error is
 * being handled in an aborted transaction).
 */
char *
safety_lock_blockers(bool catalog_ok)
{
	LOCKTAG		tag;
	LOCKMODE	mode;
	VirtualTransactionId *vxids;
	StringInfoData buf;
	int			n = 0;

	if (!lock_seen)
		return NULL;
	memcpy(&tag, (const void *) &lock_seen_tag, sizeof(LOCKTAG));
	mode = lock_seen_mode;
	lock_seen = false;

	initStringInfo(&buf);
	appendStringInfo(&buf, "The migration waited for %s on ",
					 GetLockmodeName(tag.locktag_lockmethodid, mode));
	describe_lock_object(&buf, &tag, catalog_ok);

	for (vxids = GetLockConflicts(&tag, mode, NULL);
		 VirtualTransactionIdIsValid(*vxids); vxids++)
	{
		PGPROC	   *proc = migrate_vxid_proc(*vxids);
		int			pid = proc ? proc->pid : 0;
		char	   *query;

		if (pid == 0)
			continue;			/* gone, or a prepared transaction */
		if (n++ == MAX_BLOCKERS_SHOWN)
		{
			appendStringInfoString(&buf, "; and more sessions hold one");
			break;
		}
		query = visible_query(pid);
		appendStringInfo(&buf, "; process %d holds a conflicting lock", pid);
		if (query)
			appendStringInfo(&buf, " (query: %s)", query);
		else
			appendStringInfoString(&buf, " (its query is not visible to this role)");
	}
	if (n == 0)
		appendStringInfoString(&buf, "; no session holds a conflicting lock any more");
	appendStringInfoChar(&buf, '.');
	return buf.data;
}

/* did a migration fail on a lock (lock_timeout, or NOWAIT)? */
bool
safety_is_lock_failure(const ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE;
}

/*
 * Turn the last lock failure of a migration into the error the run ends
 * with: what happened, after how many attempts, and who blocked it.
 * can_retry is false in a transaction block, where no retry is possible.
 */
void
safety_lock_error(ErrorData *edata, const char *blockers, int attempts, bool can_retry)
{
	const char *what = edata->message;

	edata->message = psprintf("%s (%d attempt%s)", what, attempts, attempts == 1 ? "" : "s");
	if (blockers)
		edata->detail = pstrdup(blockers);
	if (can_retry)
		edata->hint = psprintf("Retry when the blocking session has finished, or end it. "
							   "migrate.lock_timeout (now %d ms) and migrate.lock_retries "
							   "(now %d) set how long a migration waits.",
							   migrate_lock_timeout, migrate_lock_retries);
	else
		edata->hint = pstrdup("Retry when the blocking session has finished, or end it. "
							  "Called outside a transaction block, migrate.apply retries "
							  "a migration up to migrate.lock_retries times.");
}

/* how long to wait before retry number retry (1-based): doubling each time */
int
safety_backoff_ms(int retry)
{
	int64		base = migrate_lock_timeout > 0 ? migrate_lock_timeout : LockTimeout;
	int64		ms;

	base = Min(Max(base, 50), 10000);
	ms = base << Min(Max(retry - 1, 0), 10);
	return (int) Min(ms, MAX_BACKOFF_MS);
}

/*
 * Sleep ms milliseconds on the latch, interruptibly, holding no snapshot
 * (the caller has committed).
 */
void
safety_sleep_ms(int ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	InvalidateCatalogSnapshot();
	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Arm the statement timeout for one migration statement from the current
 * statement_timeout, unless the client statement's own deadline comes
 * first.  Pair with safety_statement_timer_stop.
 */
void
safety_statement_timer_start(StatementTimer *t)
{
	TimestampTz fin;

	t->armed = false;
	if (StatementTimeout <= 0)
		return;
	t->outer_active = get_timeout_active(STATEMENT_TIMEOUT);
	t->outer_fin = t->outer_active ? get_timeout_finish_time(STATEMENT_TIMEOUT) : 0;
	fin = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), StatementTimeout);
	if (t->outer_active && t->outer_fin <= fin)
		return;
	enable_timeout_at(STATEMENT_TIMEOUT, fin);
	t->armed = true;
}

/* give the statement timeout back to the client statement */
void
safety_statement_timer_stop(StatementTimer *t)
{
	if (!t->armed)
		return;
	t->armed = false;
	if (t->outer_active)
		enable_timeout_at(STATEMENT_TIMEOUT, t->outer_fin);
	else
		disable_timeout(STATEMENT_TIMEOUT, false);
}
