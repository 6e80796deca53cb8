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

/* text value of column col, copied into the current context, or NULL */
static char *
get_text(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* the rows of a track in rank order, copied into cxt */
List *
history_load(const char *track, MemoryContext cxt)
{
	Datum		args[1];
	Oid			argtypes[1] = {TEXTOID};
	int			ret;
	List	   *rows = NIL;
	MemoryContext old;
	uint64		i;

	args[0] = CStringGetTextDatum(track);
	ret = SPI_execute_plan(kept_plan(&history_load_plan,
									 "SELECT rank, version, description, type, script, checksum, "
									 "installed_on, execution_ms, success, dirty "
									 "FROM migrate.history "
									 "WHERE track OPERATOR(pg_catalog.=) $1 "
									 "ORDER BY rank",
									 1, argtypes),
						   args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read migrate.history: %s", SPI_result_code_string(ret));

	old = MemoryContextSwitchTo(cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		HistoryRow *row = palloc0(sizeof(HistoryRow));
		bool		isnull;
		Datum		d;

		row->rank = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		row->version = get_text(tup, desc, 2);
		row->description = get_text(tup, desc, 3);
		row->type = get_text(tup, desc, 4);
		row->script = get_text(tup, desc, 5);
		row->checksum = get_text(tup, desc, 6);
		d = SPI_getbinval(tup, desc, 7, &isnull);
		row->installed_on = isnull ? 0 : DatumGetTimestampTz(d);
		d = SPI_getbinval(tup, desc, 8, &isnull);
		row->execution_ms = isnull ? -1 : DatumGetInt64(d);
		row->success = DatumGetBool(SPI_getbinval(tup, desc, 9, &isnull));
		row->dirty = DatumGetBool(SPI_getbinval(tup, desc, 10, &isnull));
		rows = lappend(rows, row);
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
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
