/*-------------------------------------------------------------------------
 *
 * runs.c
 *	  The heartbeat migrate.runs, and migrate.summary.
 *
 * migrate.history changes only when a script runs, so a database whose
 * scheduled job stopped looks exactly like one that was checked a minute
 * ago.  migrate.runs has one row per changing call that takes the runner
 * lock (apply, undo, repair, baseline, adopt), the no-ops included: when it
 * started and ended, the call, the track, the directory or bundle, how
 * many scripts it ran, the version the track is at, the outcome and the
 * error.  A dry run writes nothing (it may run on a standby).
 *
 * The row is written as migrate.history's rows are (history.c,
 * as_owner_execute): with the extension owner's rights around that one
 * statement, the caller named as a parameter.  A successful call writes
 * it in its last transaction, under the runner lock.  A failed call that
 * can commit (CALL outside a transaction block) rolls its transaction
 * back, writes the row, commits, and raises the error again, so the
 * failure survives the error, like a failed migration's history row; in
 * the caller's transaction (atomic) everything, this row included, goes
 * with the caller's rollback.  Each track keeps its last
 * migrate.runs_keep rows.
 *
 * The hooks are one call each in the run machinery: runs_begin in
 * run_init and runs_recorded around the body in run_locked (run.c),
 * runs_applied after each script that ran (migration.c), runs_reached
 * where a body knows the version it ends at (else the version is read
 * from the history), runs_skip for a dry run.  The library also works
 * against 1.0's objects, which have no migrate.runs: nothing is recorded
 * there.
 *
 * migrate.summary is the one-row answer for a fleet check over dblink:
 * version, pending (when a directory is given), failed, dirty, the last
 * successful apply, and the last run with its outcome and error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "args.h"
#include "history.h"
#include "layout.h"
#include "migrate.h"
#include "plan.h"
#include "progress.h"
#include "run.h"
#include "runs.h"

PG_FUNCTION_INFO_V1(migrate_summary);

/* what a run has done so far, in the run's memory (TrackRun.record) */
typedef struct RunRecord
{
	TimestampTz started;
	const char *call;			/* apply, undo, repair, baseline, adopt */
	int			applied;		/* scripts that ran successfully */
	const char *version;		/* the version reached, when version_known */
	bool		version_known;
	const char *dir_state;		/* a success: what dirstate.c compares, or NULL */
} RunRecord;

/* plans kept for the life of the backend */
static SPIPlanPtr runs_insert_plan = NULL;
static SPIPlanPtr runs_insert_plan_old = NULL;	/* a table without dir_state */
static SPIPlanPtr runs_prune_plan = NULL;
static SPIPlanPtr runs_last_plan = NULL;

/* start the record of a run (run_init, after progress_call_start) */
void
runs_begin(TrackRun *run)
{
	RunRecord  *r = MemoryContextAllocZero(run->cxt, sizeof(RunRecord));
	const char *call = progress_call_name();

	r->started = GetCurrentTimestamp();
	r->call = MemoryContextStrdup(run->cxt, call ? call : "call");
	run->record = r;
}

/* this run records nothing (a dry run: it may run where nothing can be written) */
void
runs_skip(TrackRun *run)
{
	run->record = NULL;
}

/* one more script of the run succeeded */
void
runs_applied(TrackRun *run)
{
	if (run->record)
		run->record->applied++;
}

/* a success records the directory's state (dirstate.c), or NULL */
void
runs_dir_state(TrackRun *run, const char *digest)
{
	if (run->record)
		run->record->dir_state = digest ? MemoryContextStrdup(run->cxt, digest) : NULL;
}

/* the column of rel named name, if it has type typid; else InvalidAttrNumber */
static AttrNumber
column_of(Relation rel, const char *name, Oid typid)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->atttypid == typid ? att->attnum : InvalidAttrNumber;
	}
	return InvalidAttrNumber;
}

/*
 * migrate.runs and its (track, id) index opened, with the columns read
 * here, when they are as created; else false and nothing open.
 */
typedef struct RunsTable
{
	Relation	rel;
	Relation	idx;
	AttrNumber	track;
	AttrNumber	id;
	AttrNumber	call;
	AttrNumber	outcome;
	AttrNumber	version;
	AttrNumber	dir_state;		/* InvalidAttrNumber in a 1.1 made before it */
} RunsTable;

static bool
runs_open(RunsTable *t)
{
	Oid			nsp = get_namespace_oid("migrate", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("runs", nsp) : InvalidOid;

	if (!OidIsValid(relid))
		return false;
	t->rel = table_open(relid, AccessShareLock);
	t->track = column_of(t->rel, "track", TEXTOID);
	t->id = column_of(t->rel, "id", INT8OID);
	t->call = column_of(t->rel, "call", TEXTOID);
	t->outcome = column_of(t->rel, "outcome", TEXTOID);
	t->version = column_of(t->rel, "version", TEXTOID);
	t->dir_state = column_of(t->rel, "dir_state", TEXTOID);
	t->idx = t->track && t->id && t->call && t->outcome && t->version ?
		migrate_table_index(t->rel, "runs_track_id_idx", t->track) : NULL;
	if (t->idx == NULL || t->idx->rd_index->indnkeyatts < 2 ||
		t->idx->rd_index->indkey.values[1] != t->id)
	{
		if (t->idx)
			index_close(t->idx, AccessShareLock);
		table_close(t->rel, AccessShareLock);
		return false;
	}
	return true;
}

/* the locks are kept until the transaction ends, as a query keeps them */
static void
runs_close(RunsTable *t)
{
	index_close(t->idx, NoLock);
	table_close(t->rel, NoLock);
}

/* the first row of track in direction dir of its (track, id) index, or NULL */
static HeapTuple
runs_end(RunsTable *t, Snapshot snapshot, const char *track, ScanDirection dir)
{
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	/* WHERE track = $1, compared as the index compares it */
	ScanKeyEntryInitialize(&key, 0, t->track, BTEqualStrategyNumber, InvalidOid,
						   t->idx->rd_indcollation[0], F_TEXTEQ, CStringGetTextDatum(track));
	scan = systable_beginscan_ordered(t->rel, t->idx, snapshot, 1, &key);
	tup = systable_getnext_ordered(scan, dir);
	if (HeapTupleIsValid(tup))
		tup = heap_copytuple(tup);
	systable_endscan_ordered(scan);
	return tup;
}

/* a text column of tup, as a C string, or NULL */
static char *
text_column(HeapTuple tup, TupleDesc desc, AttrNumber attnum)
{
	bool		isnull;
	Datum		d;

	if (attnum == InvalidAttrNumber)
		return NULL;
	d = heap_getattr(tup, attnum, desc, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * The newest row of track as committed now (dirstate.c asks, under the
 * runner lock), read straight from the table: false if it has none, or
 * the table is not as created.
 */
bool
runs_newest(const char *track, RunsNewest *newest)
{
	RunsTable	t;
	Snapshot	snapshot;
	HeapTuple	tup;

	memset(newest, 0, sizeof(*newest));
	if (!runs_open(&t))
		return false;
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	tup = runs_end(&t, snapshot, track, BackwardScanDirection);
	UnregisterSnapshot(snapshot);
	if (HeapTupleIsValid(tup))
	{
		TupleDesc	desc = RelationGetDescr(t.rel);

		newest->call = text_column(tup, desc, t.call);
		newest->outcome = text_column(tup, desc, t.outcome);
		newest->version = text_column(tup, desc, t.version);
		newest->dir_state = text_column(tup, desc, t.dir_state);
	}
	runs_close(&t);
	return HeapTupleIsValid(tup) && newest->call && newest->outcome;
}

/*
 * Can the track have more than keep rows (its row of this run included)?
 * Its ids run from its oldest to its newest, so it has no more rows than
 * that span: most of the time the prune's DELETE need not even be
 * planned.  True when it cannot tell.
 */
static bool
runs_may_exceed(const char *track, int keep)
{
	RunsTable	t;
	Snapshot	snapshot;
	HeapTuple	oldest;
	HeapTuple	newest;
	bool		may = true;

	if (!runs_open(&t))
		return true;
	/* the row this run inserted included */
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	oldest = runs_end(&t, snapshot, track, ForwardScanDirection);
	newest = runs_end(&t, snapshot, track, BackwardScanDirection);
	UnregisterSnapshot(snapshot);
	if (HeapTupleIsValid(oldest) && HeapTupleIsValid(newest))
	{
		bool		n1;
		bool		n2;
		int64		first = DatumGetInt64(heap_getattr(oldest, t.id, RelationGetDescr(t.rel), &n1));
		int64		last = DatumGetInt64(heap_getattr(newest, t.id, RelationGetDescr(t.rel), &n2));

		may = n1 || n2 || last - first + 1 > keep;
	}
	runs_close(&t);
	return may;
}

/* does migrate.runs have dir_state (a 1.1 made by a build before it has not)? */
static bool
runs_have_dir_state(void)
{
	Oid			nsp = get_namespace_oid("migrate", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("runs", nsp) : InvalidOid;

	return OidIsValid(relid) && get_attnum(relid, "dir_state") != InvalidAttrNumber;
}

/* the run ends at version (NULL: none applied) */
void
runs_reached(TrackRun *run, const char *version)
{
	if (run->record == NULL)
		return;
	run->record->version = version ? MemoryContextStrdup(run->cxt, version) : NULL;
	run->record->version_known = true;
}

/* the version a track is at, from its history */
static const char *
history_version(const char *track)
{
	ScriptSet  *none = palloc0(sizeof(ScriptSet));

	return plan_build(none, history_load(track, CurrentMemoryContext), NULL, NULL)->current;
}

static Datum
text_or_null(const char *s, char *nulls, int i)
{
	if (s == NULL)
	{
		nulls[i] = 'n';
		return (Datum) 0;
	}
	return CStringGetTextDatum(s);
}

/*
 * Write the run's row, and remove the track's rows beyond
 * migrate.runs_keep.  edata is the error of a failed run, or NULL.
 */
static void
record_run(TrackRun *run, ErrorData *edata)
{
	RunRecord  *r = run->record;
	Oid			argtypes[12] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
		INT4OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[12];
	char		nulls[13];
	Oid			prune_types[2] = {TEXTOID, INT4OID};
	Datum		prune_args[2];
	int			ret;

	if (r == NULL || migrate_runs_keep <= 0 ||
		migrate_schema_version() < MIGRATE_SCHEMA_1_1)
		return;

	memset(nulls, ' ', sizeof(nulls));
	nulls[12] = '\0';
	args[0] = CStringGetTextDatum(run->track);
	args[1] = CStringGetTextDatum(r->call);
	args[2] = text_or_null(run->dir, nulls, 2);
	args[3] = TimestampTzGetDatum(r->started);
	args[4] = TimestampTzGetDatum(GetCurrentTimestamp());
	args[5] = Int32GetDatum(r->applied);
	args[6] = text_or_null(r->version_known ? r->version : history_version(run->track), nulls, 6);
	args[7] = CStringGetTextDatum(edata ? "failed" : "success");
	args[8] = text_or_null(edata ? unpack_sql_state(edata->sqlerrcode) : NULL, nulls, 8);
	args[9] = text_or_null(edata ? edata->message : NULL, nulls, 9);
	/* the caller, taken before the switch to the owner */
	args[10] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	args[11] = text_or_null(edata ? NULL : r->dir_state, nulls, 11);

	if (runs_have_dir_state())
		ret = as_owner_execute("runs", &runs_insert_plan,
							   "INSERT INTO migrate.runs "
							   "(track, call, dir, started, ended, applied, version, outcome, "
							   "sqlstate, error, run_by, dir_state) "
							   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
							   12, argtypes, args, nulls);
	else
	{
		nulls[11] = '\0';
		ret = as_owner_execute("runs", &runs_insert_plan_old,
							   "INSERT INTO migrate.runs "
							   "(track, call, dir, started, ended, applied, version, outcome, "
							   "sqlstate, error, run_by) "
							   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
							   11, argtypes, args, nulls);
	}
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record in migrate.runs: %s", SPI_result_code_string(ret));

	/* the newest runs_keep rows stay: at most a row or two go per run */
	if (!runs_may_exceed(run->track, migrate_runs_keep))
		return;
	prune_args[0] = args[0];
	prune_args[1] = Int32GetDatum(migrate_runs_keep);
	ret = as_owner_execute("runs", &runs_prune_plan,
						   "DELETE FROM migrate.runs "
						   "WHERE track OPERATOR(pg_catalog.=) $1 "
						   "AND id OPERATOR(pg_catalog.<=) ("
						   " SELECT id FROM migrate.runs"
						   " WHERE track OPERATOR(pg_catalog.=) $1"
						   " ORDER BY id USING OPERATOR(pg_catalog.>)"
						   " OFFSET $2 LIMIT 1)",
						   2, prune_types, prune_args, NULL);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not prune migrate.runs: %s", SPI_result_code_string(ret));
}

/*
 * The run failed (called in a PG_CATCH, SPI connected).  When the call
 * can commit, roll the failed transaction back, record the failure and
 * commit it, then raise the error again.  Recording must not
 * replace the run's error: if it fails, it says so in a warning.  In the
 * caller's transaction, or with a subtransaction or another SPI level
 * still open (their state is not ours to end), the error goes on as it
 * is, as a failed migration's history row does there.
 */
pg_noreturn static void
runs_failed(TrackRun *run)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ErrorData  *edata;

	if (run->record == NULL || !run->nonatomic || migrate_runs_keep <= 0 ||
		IsSubTransaction() || !SPI_inside_nonatomic_context())
		PG_RE_THROW();

	MemoryContextSwitchTo(run->cxt);
	edata = CopyErrorData();
	FlushErrorState();

	PG_TRY();
	{
		SPI_rollback();
		SPI_start_transaction();
		record_run(run, edata);
		run_commit();
	}
	PG_CATCH();
	{
		ErrorData  *second;

		MemoryContextSwitchTo(run->cxt);
		second = CopyErrorData();
		FlushErrorState();
		ereport(WARNING,
				(errmsg("could not record the failed %s in migrate.runs: %s",
						run->record->call, second->message)));
	}
	PG_END_TRY();

	MemoryContextSwitchTo(oldcxt);
	migrate_rethrow(edata);
}

/*
 * Run body (under the runner lock, SPI connected) and record the run: a
 * success in the run's last transaction, a failure as runs_failed says.
 */
void
runs_recorded(TrackRun *run, RunBody body, void *arg)
{
	PG_TRY();
	{
		body(run, arg);
	}
	PG_CATCH();
	{
		runs_failed(run);
	}
	PG_END_TRY();
	record_run(run, NULL);
}

/* a history row's migration: its version, or a repeatable's script */
static const char *
row_key(const HistoryRow *row, char *kind)
{
	if (row->version)
	{
		*kind = 'v';
		return row->version;
	}
	*kind = 'r';
	return row->script ? row->script : "";
}

/* order rows by migration, then by rank */
static int
compare_key_rank(const ListCell *a, const ListCell *b)
{
	const HistoryRow *ra = (const HistoryRow *) lfirst(a);
	const HistoryRow *rb = (const HistoryRow *) lfirst(b);
	char		ka,
				kb;
	const char *sa = row_key(ra, &ka);
	const char *sb = row_key(rb, &kb);
	int			c;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	c = strcmp(sa, sb);
	if (c != 0)
		return c;
	return ra->rank < rb->rank ? -1 : ra->rank > rb->rank ? 1 : 0;
}

/*
 * From a track's history: how many migrations' latest row is a failure,
 * whether one of those is dirty, and when a migration was last applied.
 */
static void
history_counts(List *rows, int *failed, bool *dirty, TimestampTz *last_applied,
			   bool *has_last_applied)
{
	List	   *sorted = list_copy(rows);
	ListCell   *lc;

	*failed = 0;
	*dirty = false;
	*has_last_applied = false;
	list_sort(sorted, compare_key_rank);
	foreach(lc, sorted)
	{
		HistoryRow *row = (HistoryRow *) lfirst(lc);
		HistoryRow *next = lnext(sorted, lc) ? (HistoryRow *) lfirst(lnext(sorted, lc)) : NULL;
		char		k1,
					k2;

		if (row->success && strcmp(row->type, "undo") != 0 &&
			(!*has_last_applied || row->installed_on > *last_applied))
		{
			*last_applied = row->installed_on;
			*has_last_applied = true;
		}
		/* the latest row of its migration: the next one is of another */
		if (next)
		{
			const char *s1 = row_key(row, &k1);
			const char *s2 = row_key(next, &k2);

			if (k1 == k2 && strcmp(s1, s2) == 0)
				continue;
		}
		if (!row->success)
		{
			(*failed)++;
			if (row->dirty)
				*dirty = true;
		}
	}
	list_free(sorted);
}

/*
 * SELECT * FROM migrate.summary(dir, track): one row about a track.
 * Reads with the caller's rights (SELECT on migrate.history and
 * migrate.runs) and takes no lock, like status.
 */
Datum
migrate_summary(PG_FUNCTION_ARGS)
{
	char	   *dir = text_arg(fcinfo, 0);
	char	   *track = required_arg(fcinfo, 1, "track");
	TupleDesc	desc;
	Datum		values[9];
	bool		nulls[9];
	MigrationPlan *plan;
	List	   *rows;
	int			failed;
	bool		dirty;
	TimestampTz last_applied = 0;
	bool		has_last_applied;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	HeapTuple	result;
	MemoryContext oldcxt = CurrentMemoryContext;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "migrate.summary must return a row");
	desc = BlessTupleDesc(desc);
	migrate_require_schema(MIGRATE_SCHEMA_1_1, "migrate.summary");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	memset(nulls, 0, sizeof(nulls));
	rows = history_load(track, CurrentMemoryContext);
	if (dir)
	{
		char	   *real_dir;

		plan = load_plan(dir, track, NULL, &real_dir, PLAN_FOR_RUN);
		values[1] = Int32GetDatum(list_length(plan->pending));
	}
	else
	{
		plan = plan_build(palloc0(sizeof(ScriptSet)), rows, NULL, NULL);
		nulls[1] = true;
	}
	values[0] = plan->current ? CStringGetTextDatum(plan->current) : (Datum) 0;
	nulls[0] = plan->current == NULL;

	history_counts(rows, &failed, &dirty, &last_applied, &has_last_applied);
	values[2] = Int32GetDatum(failed);
	values[3] = BoolGetDatum(dirty);
	values[4] = TimestampTzGetDatum(last_applied);
	nulls[4] = !has_last_applied;

	/* the last run (migrate.runs), read with the caller's rights */
	if (runs_last_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("SELECT ended, call, outcome, error FROM migrate.runs "
									"WHERE track OPERATOR(pg_catalog.=) $1 "
									"ORDER BY id USING OPERATOR(pg_catalog.>) LIMIT 1",
									1, argtypes);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare the query of migrate.runs: %s",
				 SPI_result_code_string(SPI_result));
		runs_last_plan = p;
	}
	args[0] = CStringGetTextDatum(track);
	if (SPI_execute_plan(runs_last_plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read migrate.runs");
	if (SPI_processed == 1)
	{
		int			i;

		for (i = 0; i < 4; i++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										  i + 1, &isnull);

			nulls[5 + i] = isnull;
			values[5 + i] = d;
		}
	}
	else
		nulls[5] = nulls[6] = nulls[7] = nulls[8] = true;

	/* in the caller's memory: SPI_finish frees SPI's, the values with it */
	MemoryContextSwitchTo(oldcxt);
	result = heap_form_tuple(desc, values, nulls);
	SPI_finish();
	PG_RETURN_DATUM(HeapTupleGetDatum(result));
}
