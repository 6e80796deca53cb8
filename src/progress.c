/*-------------------------------------------------------------------------
 *
 * progress.c
 *	  What a running migrate call is doing: kept in the backend's activity
 *	  string, read back by migrate.progress.
 *
 * Another session must see the migration, the statement, the phase and
 * the times of a running call, without shared_preload_libraries (so no
 * shared memory of our own on PostgreSQL 15) and with the same result on
 * every version.  Every backend already publishes one string in shared
 * memory: its current activity, pg_stat_activity.query.  So a call writes
 * its progress there (pgstat_report_activity, a memcpy into this
 * backend's own slot), as a comment in front of the first line of the
 * statement it runs:
 *
 *	 / * migrate apply phase="running" migration=3/10 statement=5 line=42
 *	   started=<call>,<migration>,<statement> version="3"
 *	   script="V3__add_users.sql" track="main" dir="/srv/app" * / ALTER ...
 *
 * (on one line; times are TimestampTz microseconds).  Dashboards that
 * watch pg_stat_activity see the migration without knowing about us, and
 * migrate.progress parses the fields back.  Short fields come first, so
 * that a track_activity_query_size smaller than the string cuts the
 * directory and the statement text, not the numbers.  The string is
 * visible to whom pg_stat_activity.query is: the same role, members of
 * pg_read_all_stats, superusers.
 *
 * When the call ends, normally or by an error, the CALL's own text is put
 * back; an error that escapes without passing run_locked's PG_FINALLY
 * (migrate.run has none) is caught by the transaction and subtransaction
 * abort callbacks.  The reader lists only active backends, so nothing
 * stale is ever shown.  A lock wait is not written (a backend blocked in
 * a lock cannot write anything): the reader sees it in pg_locks.
 *
 * progress_in_call also tells the drift trigger (drift.c) that DDL in
 * this backend comes from a migrate call.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "args.h"
#include "progress.h"

PG_FUNCTION_INFO_V1(migrate_progress);

/* how the activity string starts: what the reader looks for */
#define PROGRESS_PREFIX "/* migrate "

/* bytes of a statement's first line that are shown */
#define PROGRESS_TEXT_MAX 200

/* nested migrate calls tracked (a migration may call migrate.run) */
#define PROGRESS_MAX_DEPTH 16

/* the call being shown: the outermost one of this backend */
typedef struct ProgressCall
{
	char	   *call;			/* apply, undo, run, ... */
	char	   *track;			/* NULL for run */
	char	   *dir;			/* directory, bundle or file */
	const char *phase;
	char		phase_buf[64];
	int			total;			/* migrations of the run, 0 if not known */
	int			index;			/* the migration running, 1-based; 0 none */
	char	   *script;
	char	   *version;
	int			attempt;		/* at the migration, 1-based */
	int			statement;		/* of the migration, 1-based; 0 none */
	int			line;
	char		text[PROGRESS_TEXT_MAX + 4];
	TimestampTz call_start;
	TimestampTz migration_start;
	TimestampTz statement_start;
	char	   *saved_activity; /* the CALL's own text, put back at the end */
	uint64		saved_query_id;
} ProgressCall;

static MemoryContext progress_cxt = NULL;
static ProgressCall cur;
static StringInfoData buf;

/* the subtransaction each nested call started in, outermost first */
static SubTransactionId call_subids[PROGRESS_MAX_DEPTH];
static int	depth = 0;

/* counts the outermost calls of this backend, so each can be told apart */
static uint64 call_serial = 0;
static bool callbacks_registered = false;

static void progress_reset(void);

/* is a migrate call (apply, undo, run, ...) running in this backend? */
bool
progress_in_call(void)
{
	return depth > 0;
}

/* the name of the running call (apply, undo, run, ...), or NULL */
const char *
progress_call_name(void)
{
	return depth > 0 ? cur.call : NULL;
}

/* a number that tells the running outermost call from earlier ones; 0: none */
uint64
progress_call_serial(void)
{
	return depth > 0 ? call_serial : 0;
}

/* the attempt at the running migration (1 for the first, 0 for none) */
int
progress_attempt(void)
{
	return depth > 0 ? cur.attempt : 0;
}

/* how many migrations the call has started so far (retries not counted) */
int
progress_migrations_started(void)
{
	return depth > 0 ? cur.index : 0;
}

/* append a value in double quotes, quotes doubled, on one line */
static void
append_quoted(StringInfo s, const char *key, const char *value)
{
	const char *p;

	if (value == NULL)
		return;
	appendStringInfo(s, " %s=\"", key);
	for (p = value; *p; p++)
	{
		if (*p == '"')
			appendStringInfoString(s, "\"\"");
		else if (*p == '\n' || *p == '\r' || *p == '\t')
			appendStringInfoChar(s, ' ');
		else
			appendStringInfoChar(s, *p);
	}
	appendStringInfoChar(s, '"');
}

/* write the current state into this backend's activity string */
static void
progress_report(void)
{
	if (depth != 1 || MyBEEntry == NULL)
		return;

	resetStringInfo(&buf);
	appendStringInfo(&buf, "%s%s", PROGRESS_PREFIX, cur.call);
	append_quoted(&buf, "phase", cur.phase);
	if (cur.index > 0)
		appendStringInfo(&buf, " migration=%d/%d", cur.index, cur.total);
	if (cur.statement > 0)
		appendStringInfo(&buf, " statement=%d line=%d", cur.statement, cur.line);
	appendStringInfo(&buf, " started=" INT64_FORMAT ",", (int64) cur.call_start);
	if (cur.index > 0)
		appendStringInfo(&buf, INT64_FORMAT, (int64) cur.migration_start);
	appendStringInfoChar(&buf, ',');
	if (cur.statement > 0)
		appendStringInfo(&buf, INT64_FORMAT, (int64) cur.statement_start);
	if (cur.index > 0)
	{
		append_quoted(&buf, "version", cur.version);
		append_quoted(&buf, "script", cur.script);
	}
	append_quoted(&buf, "track", cur.track);
	append_quoted(&buf, "dir", cur.dir);
	appendStringInfoString(&buf, " */");
	if (cur.statement > 0)
	{
		appendStringInfoChar(&buf, ' ');
		appendStringInfoString(&buf, cur.text);
	}

	pgstat_report_activity(STATE_RUNNING, buf.data);
	/* reporting an activity forgets the query id; keep the CALL's */
	if (cur.saved_query_id != 0)
		pgstat_report_query_id(cur.saved_query_id, true);
}

/* the transaction ended in an error: no call of it runs any more */
static void
progress_xact_callback(XactEvent event, void *arg)
{
	if (depth > 0 && (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT))
	{
		depth = 1;
		progress_call_end();
	}
}

/*
 * A subtransaction was rolled back: the calls that started in it or in a
 * newer one have ended (a plpgsql exception block caught their error).
 * Subtransaction ids grow within a transaction, and a call that commits
 * started at the top level (id 1), so its own subtransactions never end it.
 */
static void
progress_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (depth > 0 && call_subids[Min(depth, PROGRESS_MAX_DEPTH) - 1] >= mySubid)
		progress_call_end();
}

/*
 * A migrate call starts (apply, undo, repair, baseline with a track: they
 * take the runner lock first; run without).  Only the outermost call of
 * the backend is shown.
 */
void
progress_call_start(FunctionCallInfo fcinfo, const char *dir, const char *track)
{
	MemoryContext old;
	char	   *name;

	if (!callbacks_registered)
	{
		RegisterXactCallback(progress_xact_callback, NULL);
		RegisterSubXactCallback(progress_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (depth < PROGRESS_MAX_DEPTH)
		call_subids[depth] = GetCurrentSubTransactionId();
	if (++depth > 1)
		return;

	if (progress_cxt == NULL)
	{
		progress_cxt = AllocSetContextCreate(TopMemoryContext, "migrate progress",
											 ALLOCSET_SMALL_SIZES);
		old = MemoryContextSwitchTo(progress_cxt);
		initStringInfo(&buf);
		MemoryContextSwitchTo(old);
	}
	progress_reset();
	call_serial++;

	name = fcinfo->flinfo ? get_func_name(fcinfo->flinfo->fn_oid) : NULL;
	old = MemoryContextSwitchTo(progress_cxt);
	cur.call = pstrdup(name ? name : "call");
	cur.dir = dir ? pstrdup(dir) : NULL;
	cur.track = track ? pstrdup(track) : NULL;
	cur.phase = track ? "waiting for runner lock" : "running";
	cur.call_start = GetCurrentTimestamp();
	if (MyBEEntry != NULL)
	{
		cur.saved_activity = pnstrdup((const char *) MyBEEntry->st_activity_raw,
									  pgstat_track_activity_query_size);
		cur.saved_query_id = pgstat_get_my_query_id();
	}
	MemoryContextSwitchTo(old);
	progress_report();
}

/* the call holds its runner lock and starts its work */
void
progress_call_running(void)
{
	if (depth != 1)
		return;
	cur.phase = "running";
	progress_report();
}

/* forget the shown call (the string buffer stays for the next one) */
static void
progress_reset(void)
{
	if (cur.call)
		pfree(cur.call);
	if (cur.dir)
		pfree(cur.dir);
	if (cur.track)
		pfree(cur.track);
	if (cur.script)
		pfree(cur.script);
	if (cur.version)
		pfree(cur.version);
	if (cur.saved_activity)
		pfree(cur.saved_activity);
	memset(&cur, 0, sizeof(cur));
}

/*
 * The call ends (also while an error unwinds: nothing here can fail).
 * The outermost one puts the CALL's own text back.
 */
void
progress_call_end(void)
{
	if (depth == 0)
		return;
	if (--depth > 0)
		return;
	if (MyBEEntry != NULL && cur.saved_activity != NULL)
	{
		pgstat_report_activity(STATE_RUNNING, cur.saved_activity);
		if (cur.saved_query_id != 0)
			pgstat_report_query_id(cur.saved_query_id, true);
	}
	progress_reset();
}

/* how many migrations the run will run */
void
progress_run_total(int migrations)
{
	if (depth != 1)
		return;
	cur.total = migrations;
}

/* attempt of attempts at script s starts */
void
progress_migration(const MigrationScript *s, int attempt, int attempts)
{
	MemoryContext old;

	if (depth != 1)
		return;
	old = MemoryContextSwitchTo(progress_cxt);
	if (attempt <= 1)
	{
		cur.index++;
		if (cur.index > cur.total)
			cur.total = cur.index;
	}
	if (cur.script)
		pfree(cur.script);
	if (cur.version)
		pfree(cur.version);
	cur.script = pstrdup(s->name);
	cur.version = s->version ? pstrdup(s->version) : NULL;
	MemoryContextSwitchTo(old);

	cur.attempt = attempt;
	cur.statement = 0;
	cur.line = 0;
	cur.text[0] = '\0';
	cur.migration_start = GetCurrentTimestamp();
	if (attempt > 1)
	{
		snprintf(cur.phase_buf, sizeof(cur.phase_buf),
				 "retrying after lock timeout (attempt %d of %d)", attempt, attempts);
		cur.phase = cur.phase_buf;
	}
	else
		cur.phase = "running";
	progress_report();
}

/* between two attempts: backing off before next_attempt */
void
progress_retry_wait(int next_attempt, int attempts)
{
	if (depth != 1)
		return;
	snprintf(cur.phase_buf, sizeof(cur.phase_buf),
			 "retrying after lock timeout (attempt %d of %d)", next_attempt, attempts);
	cur.phase = cur.phase_buf;
	cur.statement = 0;
	progress_report();
}

/*
 * A statement of the running migration starts.  Hot: no allocation, one
 * clock read and one copy into shared memory.
 */
void
progress_statement(const Statement *st, bool in_worker)
{
	int			len;

	if (depth != 1)
		return;
	cur.statement++;
	cur.line = st->line;
	cur.statement_start = GetCurrentTimestamp();
	if (in_worker)
		cur.phase = "in background worker";

	len = strcspn(st->text, "\r\n");
	if (len > PROGRESS_TEXT_MAX)
	{
		len = pg_mbcliplen(st->text, len, PROGRESS_TEXT_MAX);
		memcpy(cur.text, st->text, len);
		strcpy(cur.text + len, "...");
	}
	else
	{
		memcpy(cur.text, st->text, len);
		cur.text[len] = '\0';
	}
	progress_report();
}

/* ----------------------------------------------------------------
 * Reading: migrate.progress
 * ----------------------------------------------------------------
 */

/* the fields of one activity string */
typedef struct ParsedProgress
{
	char	   *call;
	char	   *phase;
	int			migration;
	int			migrations;
	int			statement;
	int			line;
	bool		has_started[3];
	int64		started[3];
	char	   *version;
	char	   *script;
	char	   *track;
	char	   *dir;
	char	   *text;
} ParsedProgress;

/*
 * Parse an activity string written by progress_report.  A string cut
 * short by track_activity_query_size leaves the fields after the cut
 * NULL.  Returns false if it is not one of ours.
 */
static bool
parse_progress(const char *s, ParsedProgress *p)
{
	const char *c;
	size_t		n;

	memset(p, 0, sizeof(*p));
	if (strncmp(s, PROGRESS_PREFIX, strlen(PROGRESS_PREFIX)) != 0)
		return false;
	c = s + strlen(PROGRESS_PREFIX);
	n = strcspn(c, " ");
	if (n == 0)
		return false;
	p->call = pnstrdup(c, n);
	c += n;

	for (;;)
	{
		const char *key;
		size_t		keylen;
		char	   *value;

		while (*c == ' ')
			c++;
		if (*c == '\0')
			break;
		if (c[0] == '*' && c[1] == '/')
		{
			c += 2;
			if (*c == ' ')
				p->text = pstrdup(c + 1);
			break;
		}
		key = c;
		keylen = strcspn(c, "= ");
		c += keylen;
		if (*c != '=')
			break;
		c++;
		if (*c == '"')
		{
			StringInfoData v;
			bool		closed = false;

			initStringInfo(&v);
			for (c++; *c; c++)
			{
				if (*c == '"')
				{
					if (c[1] == '"')
					{
						appendStringInfoChar(&v, '"');
						c++;
						continue;
					}
					closed = true;
					c++;
					break;
				}
				appendStringInfoChar(&v, *c);
			}
			if (!closed)
				break;			/* cut short */
			value = v.data;
		}
		else
		{
			n = strcspn(c, " ");
			value = pnstrdup(c, n);
			c += n;
			if (*c == '\0')
				break;			/* may be cut short */
		}

#define KEY_IS(k) (keylen == strlen(k) && strncmp(key, k, keylen) == 0)
		if (KEY_IS("phase"))
			p->phase = value;
		else if (KEY_IS("migration"))
			(void) sscanf(value, "%d/%d", &p->migration, &p->migrations);
		else if (KEY_IS("statement"))
			p->statement = atoi(value);
		else if (KEY_IS("line"))
			p->line = atoi(value);
		else if (KEY_IS("started"))
		{
			/* call,migration,statement; an empty one is not known */
			char	   *part = value;
			int			k;

			for (k = 0; k < 3; k++)
			{
				char	   *end;
				long long	v = strtoll(part, &end, 10);

				p->has_started[k] = end != part;
				p->started[k] = (int64) v;
				if (*end != ',')
					break;
				part = end + 1;
			}
		}
		else if (KEY_IS("version"))
			p->version = value;
		else if (KEY_IS("script"))
			p->script = value;
		else if (KEY_IS("track"))
			p->track = value;
		else if (KEY_IS("dir"))
			p->dir = value;
#undef KEY_IS
	}
	return true;
}

/* what a backend waits for, as the phase shows it */
static char *
lock_phase(HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		rel = SPI_getbinval(tup, desc, 3, &isnull);
	char	   *locktype = SPI_getvalue(tup, desc, 4);
	char	   *xid = SPI_getvalue(tup, desc, 5);

	if (!isnull)
	{
		Oid			relid = DatumGetObjectId(rel);
		char	   *relname = get_rel_name(relid);
		char	   *nsp = relname ? get_namespace_name(get_rel_namespace(relid)) : NULL;

		if (relname && nsp)
			return psprintf("waiting for lock on %s", quote_qualified_identifier(nsp, relname));
		return psprintf("waiting for lock on relation %u", relid);
	}
	if (locktype && strcmp(locktype, "transactionid") == 0 && xid)
		return psprintf("waiting for lock on transaction %s", xid);
	return psprintf("waiting for lock on %s", locktype ? locktype : "an object");
}

/*
 * SELECT * FROM migrate.progress: one row per running migrate call in
 * this database whose activity the caller may see.
 */
Datum
migrate_progress(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Tuplestorestate *ts = materialize_result(fcinfo, &desc);
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1];
	int			ret;
	uint64		i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = ObjectIdGetDatum(MyDatabaseId);
	ret = SPI_execute_with_args("SELECT a.pid, a.query, l.relation, l.locktype, "
								"l.transactionid::pg_catalog.text "
								"FROM pg_catalog.pg_stat_activity a "
								"LEFT JOIN LATERAL (SELECT k.relation, k.locktype, k.transactionid "
								"  FROM pg_catalog.pg_locks k "
								"  WHERE a.wait_event_type OPERATOR(pg_catalog.=) 'Lock' "
								"  AND k.pid OPERATOR(pg_catalog.=) a.pid AND NOT k.granted "
								"  LIMIT 1) l ON true "
								"WHERE a.datid OPERATOR(pg_catalog.=) $1 "
								"AND a.state OPERATOR(pg_catalog.=) 'active' "
								"AND pg_catalog.starts_with(a.query, '" PROGRESS_PREFIX "') "
								"ORDER BY a.pid",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_stat_activity: %s", SPI_result_code_string(ret));

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	sdesc = SPI_tuptable->tupdesc;
		ParsedProgress p;
		Datum		values[15];
		bool		nulls[15];
		bool		isnull;
		char	   *query = SPI_getvalue(tup, sdesc, 2);
		char	   *phase;
		int			k;

		if (query == NULL || !parse_progress(query, &p))
			continue;
		phase = p.phase;
		if (!heap_attisnull(tup, 4, sdesc) && phase &&
			(strcmp(phase, "running") == 0 || strncmp(phase, "retrying", 8) == 0))
			phase = lock_phase(tup, sdesc);

		memset(nulls, 0, sizeof(nulls));
		values[0] = SPI_getbinval(tup, sdesc, 1, &isnull);
		values[1] = CStringGetTextDatum(p.call);
#define TEXT_OR_NULL(i, s) \
		do { if (s) values[i] = CStringGetTextDatum(s); else nulls[i] = true; } while (0)
#define INT_OR_NULL(i, v) \
		do { if ((v) > 0) values[i] = Int32GetDatum(v); else nulls[i] = true; } while (0)
		TEXT_OR_NULL(2, p.track);
		TEXT_OR_NULL(3, p.dir);
		TEXT_OR_NULL(4, p.migration > 0 ? p.script : NULL);
		TEXT_OR_NULL(5, p.migration > 0 ? p.version : NULL);
		INT_OR_NULL(6, p.migration);
		INT_OR_NULL(7, p.migrations);
		INT_OR_NULL(8, p.statement);
		INT_OR_NULL(9, p.line);
		TEXT_OR_NULL(10, p.statement > 0 ? p.text : NULL);
		TEXT_OR_NULL(11, phase);
#undef TEXT_OR_NULL
#undef INT_OR_NULL
		/* call, migration, statement: each only when the string has it */
		for (k = 0; k < 3; k++)
		{
			values[12 + k] = p.has_started[k] ? TimestampTzGetDatum((TimestampTz) p.started[k]) : (Datum) 0;
			nulls[12 + k] = !p.has_started[k];
		}
		tuplestore_putvalues(ts, desc, values, nulls);
	}

	SPI_finish();
	PG_RETURN_NULL();
}
