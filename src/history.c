/*-------------------------------------------------------------------------
 *
 * history.c
 *	  The tracking table migrate.history.
 *
 * migrate.history is an append-only log: every execution of a script,
 * successful or not, is a row, and the state of a migration is derived
 * from its rows (plan.c).  Every query here goes through SPI with
 * parameters and schema-qualified names and operators, so a caller's
 * search_path cannot redirect it.  The caller must be SPI-connected.
 *
 * Both queries run once per migration or per run, so they are prepared
 * once per backend and kept (SPI_keepplan) rather than parsed and planned
 * each time; the plan cache re-plans them if the table changes, and
 * privileges are checked at every execution.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "history.h"

/* plans kept for the life of the backend */
static SPIPlanPtr history_load_plan = NULL;
static SPIPlanPtr history_record_plan = NULL;

/* the kept plan of sql in *plan, prepared on first use */
static SPIPlanPtr
kept_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, argtypes);

		if (p == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "could not keep the plan of \"%s\"", sql);
		*plan = p;
	}
	return *plan;
}

/* rows read from the history per fetch (bounds the memory of a read) */
#define HISTORY_FETCH 256

/* columns history_load reads, in its query's order */
#define HISTORY_COLUMNS 12

static int
compare_rank(const ListCell *a, const ListCell *b)
{
	int64		ra = ((const HistoryRow *) lfirst(a))->rank;
	int64		rb = ((const HistoryRow *) lfirst(b))->rank;

	return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/*
 * The rows of a track in rank order, copied into cxt.  Read through a
 * cursor, HISTORY_FETCH rows at a time, and sorted here rather than by
 * ORDER BY: a no-op apply over a long history then holds one copy of the
 * rows instead of three (sort, SPI result, ours), and every page a fresh
 * backend touches counts.  Not read_only: a read-only cursor runs on the
 * active snapshot, and a nonatomic apply that waited for the runner lock
 * has committed and holds none.
 */
List *
history_load(const char *track, MemoryContext cxt)
{
	Datum		args[1];
	Oid			argtypes[1] = {TEXTOID};
	List	   *rows = NIL;
	Portal		portal;

	migrate_require_schema(MIGRATE_SCHEMA_1_0, "migrate.history");
	args[0] = CStringGetTextDatum(track);
	portal = SPI_cursor_open(NULL,
							 kept_plan(&history_load_plan,
									   "SELECT rank, version, description, type, script, checksum, "
									   "installed_on, execution_ms, success, dirty, error, error_line "
									   "FROM migrate.history "
									   "WHERE track OPERATOR(pg_catalog.=) $1",
									   1, argtypes),
							 args, NULL, false);
	for (;;)
	{
		MemoryContext old;
		uint64		i;

		SPI_cursor_fetch(portal, true, HISTORY_FETCH);
		if (SPI_processed == 0)
			break;

		old = MemoryContextSwitchTo(cxt);
		for (i = 0; i < SPI_processed; i++)
		{
			HistoryRow *row = palloc0(sizeof(HistoryRow));
			Datum		v[HISTORY_COLUMNS];
			bool		n[HISTORY_COLUMNS];

			/* one pass over the tuple, not one per column */
			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, v, n);
			row->rank = DatumGetInt64(v[0]);
			row->version = n[1] ? NULL : TextDatumGetCString(v[1]);
			row->description = n[2] ? NULL : TextDatumGetCString(v[2]);
			row->type = n[3] ? NULL : TextDatumGetCString(v[3]);
			row->script = n[4] ? NULL : TextDatumGetCString(v[4]);
			row->checksum = n[5] ? NULL : TextDatumGetCString(v[5]);
			row->installed_on = n[6] ? 0 : DatumGetTimestampTz(v[6]);
			row->execution_ms = n[7] ? -1 : DatumGetInt64(v[7]);
			row->success = DatumGetBool(v[8]);
			row->dirty = DatumGetBool(v[9]);
			row->error = n[10] ? NULL : TextDatumGetCString(v[10]);
			row->error_line = n[11] ? 0 : DatumGetInt32(v[11]);
			rows = lappend(rows, row);
		}
		MemoryContextSwitchTo(old);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	list_sort(rows, compare_rank);
	return rows;
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

/* append one row to migrate.history */
void
history_record(const HistoryEntry *e)
{
	Oid			argtypes[15] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TIMESTAMPTZOID, INT8OID, BOOLOID, BOOLOID, TEXTOID, TEXTOID, INT4OID, TEXTOID};
	Datum		args[15];
	char		nulls[16];
	int			ret;

	migrate_require_schema(MIGRATE_SCHEMA_1_0, "migrate.history");
	memset(nulls, ' ', sizeof(nulls));
	nulls[15] = '\0';

	args[0] = CStringGetTextDatum(e->track);
	args[1] = text_or_null(e->version, nulls, 1);
	args[2] = text_or_null(e->description ? e->description : "", nulls, 2);
	args[3] = CStringGetTextDatum(e->type);
	args[4] = text_or_null(e->script, nulls, 4);
	args[5] = text_or_null(e->checksum, nulls, 5);
	args[6] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	args[7] = TimestampTzGetDatum(GetCurrentTimestamp());
	args[8] = Int64GetDatum(e->execution_ms);
	if (e->execution_ms < 0)
		nulls[8] = 'n';
	args[9] = BoolGetDatum(e->success);
	args[10] = BoolGetDatum(e->dirty);
	args[11] = text_or_null(e->error, nulls, 11);
	args[12] = text_or_null(e->sqlstate, nulls, 12);
	args[13] = Int32GetDatum(e->error_line);
	if (e->error_line <= 0)
		nulls[13] = 'n';
	args[14] = text_or_null(e->sql, nulls, 14);

	ret = SPI_execute_plan(kept_plan(&history_record_plan,
									 "INSERT INTO migrate.history "
									 "(track, version, description, type, script, checksum, "
									 "installed_by, installed_on, execution_ms, success, dirty, "
									 "error, sqlstate, error_line, sql) "
									 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
									 "$12, $13, $14, $15)",
									 15, argtypes),
						   args, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record in migrate.history: %s", SPI_result_code_string(ret));
}
