/*-------------------------------------------------------------------------
 *
 * history.c
 *	  The tracking table migrate.history.
 *
 * migrate.history is an append-only log: every execution of a script,
 * successful or not, is a row, and the state of a migration is derived
 * from its rows (plan.c).  Every query here goes through SPI with
 * parameters and schema-qualified names and operators, so a caller's
 * search_path cannot redirect it.  The caller must be SPI-connected.  The
 * one read every call makes, a track's rows (history_load), is a scan of
 * the table instead when the caller may read all of it, since a query
 * projected and copied every row first (history_read_direct says when,
 * and how it reads what the query would).
 *
 * Both queries run once per migration or per run, so they are prepared
 * once per backend and kept (SPI_keepplan) rather than parsed and planned
 * each time; the plan cache re-plans them if the table changes, and
 * privileges are checked at every execution.
 *
 * Who may write: nobody but the extension.  No role is granted INSERT,
 * UPDATE or DELETE on migrate.history or migrate.staged (a role that could
 * would forge rows: installed_by 'postgres', a dirty row that blocks every
 * run, a poisoned staged script).  So each write here runs with the rights
 * of the extension's owner, switched to in C around that one statement
 * only (as_owner_execute), never around migration SQL, which always runs
 * with the caller's rights.  Inside the switch the operation is restricted
 * (SECURITY_RESTRICTED_OPERATION: no SET ROLE, no temporary objects),
 * search_path is pg_catalog, pg_temp, and a table with a user trigger, a
 * rule or row security is refused, since those would run someone's code
 * with the owner's rights.  installed_by and staged_by are the caller,
 * passed as parameters (never current_user, which is the owner there).
 * Reads keep the caller's rights: reading needs SELECT.
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
#include "catalog/pg_collation.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "history.h"

/* plans kept for the life of the backend */
static SPIPlanPtr history_load_plan = NULL;
static SPIPlanPtr history_load_plan_11 = NULL;
static SPIPlanPtr history_record_plan = NULL;
static SPIPlanPtr history_record_plan_11 = NULL;
static SPIPlanPtr history_set_identity_plan = NULL;
static SPIPlanPtr history_delete_failed_plan = NULL;
static SPIPlanPtr history_set_checksum_plan = NULL;

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

/*
 * The role that owns the extension, and so its tables; InvalidOid when the
 * extension is not installed and missing_ok (else an error).
 */
Oid
migrate_extension_owner(bool missing_ok)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("migrate"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(owner) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"migrate\" is not installed in this database"),
				 errhint("CREATE EXTENSION migrate;")));
	return owner;
}

/*
 * Refuse to write migrate.<table> with the owner's rights when something
 * on it would run code that someone else wrote: a trigger (its function
 * would run as the owner), a rule, or row security (a policy's functions).
 * None of them is there unless a role that may change the table put it
 * there; the extension creates none.
 */
static void
check_table_untouched(const char *table)
{
	Oid			nsp = get_namespace_oid("migrate", false);
	Oid			relid = get_relname_relid(table, nsp);
	Relation	rel;
	const char *what = NULL;
	char	   *name = NULL;
	int			i;

	if (!OidIsValid(relid))
		elog(ERROR, "table migrate.%s does not exist", table);
	rel = table_open(relid, AccessShareLock);
	if (rel->trigdesc)
	{
		for (i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];

			if (!t->tgisinternal)
			{
				what = "trigger";
				name = pstrdup(t->tgname);
				break;
			}
		}
	}
	if (what == NULL && rel->rd_rules != NULL)
		what = "rule";
	if (what == NULL && rel->rd_rel->relrowsecurity)
		what = "row security";
	table_close(rel, AccessShareLock);

	if (what)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 name ?
				 errmsg("table migrate.%s has a trigger \"%s\"", table, name) :
				 errmsg("table migrate.%s has a %s", table, what),
				 errdetail("migrate writes migrate.%s with the rights of the extension's owner; "
						   "a %s on it would run its code with those rights.", table, what),
				 errhint("Remove it (DROP TRIGGER, DROP RULE, ALTER TABLE ... DISABLE ROW LEVEL "
						 "SECURITY). Only the extension writes this table.")));
}

/*
 * Execute the kept plan of sql with the rights of the extension's owner:
 * the one place migrate writes its tables.  table is the table written
 * (checked first).  The user id, the security context and search_path are
 * restored at once on success and on error.  Returns the SPI result code;
 * SPI_tuptable and SPI_processed are as SPI left them.
 */
int
as_owner_execute(const char *table, SPIPlanPtr *plan, const char *sql,
				 int nargs, Oid *argtypes, Datum *args, const char *nulls)
{
	Oid			owner = migrate_extension_owner(false);
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	int			ret;

	check_table_untouched(table);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = NewGUCNestLevel();
	PG_TRY();
	{
		(void) set_config_option("search_path", "pg_catalog, pg_temp",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		ret = SPI_execute_plan(kept_plan(plan, sql, nargs, argtypes), args, nulls, false, 0);
		AtEOXact_GUC(true, save_nestlevel);
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_CATCH();
	{
		/* the (sub)transaction's abort would restore them too; do not wait for it */
		AtEOXact_GUC(false, save_nestlevel);
		SetUserIdAndSecContext(save_userid, save_sec_context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return ret;
}

/* the name of the role calling migrate (not the owner a write switches to) */
static char *
caller_name(void)
{
	return GetUserNameFromId(GetUserId(), false);
}

/* rows read from the history per fetch (bounds the memory of a read) */
#define HISTORY_FETCH 256

/* columns history_load reads, in its query's order (1.1: the file's identity too) */
#define HISTORY_COLUMNS 12
#define HISTORY_COLUMNS_11 17

static int
compare_rank(const ListCell *a, const ListCell *b)
{
	int64		ra = ((const HistoryRow *) lfirst(a))->rank;
	int64		rb = ((const HistoryRow *) lfirst(b))->rank;

	return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/*
 * The columns history_load reads, by name: the first HISTORY_COLUMNS are
 * 1.0's, the rest the file's identity (1.1).  Their types are checked
 * against the table before a direct read trusts them.
 */
static const struct
{
	const char *name;
	Oid			type;
}			history_columns[HISTORY_COLUMNS_11] = {
	{"rank", INT8OID}, {"version", TEXTOID}, {"description", TEXTOID},
	{"type", TEXTOID}, {"script", TEXTOID}, {"checksum", TEXTOID},
	{"installed_on", TIMESTAMPTZOID}, {"execution_ms", INT8OID},
	{"success", BOOLOID}, {"dirty", BOOLOID}, {"error", TEXTOID},
	{"error_line", INT4OID}, {"file_dev", INT8OID}, {"file_ino", INT8OID},
	{"file_size", INT8OID}, {"file_mtime_ns", INT8OID}, {"file_ctime_ns", INT8OID}
};

/* the text columns of a row, copied into the row's own chunk */
static const int history_text_columns[] = {1, 2, 3, 4, 5, 10};

/*
 * One row from the values of history_columns (v[i], n[i]), allocated in
 * cxt as ONE chunk: the struct, then its strings.
 * A no-op apply over 10 000 applied files holds 10 000 rows, and a chunk
 * per string (each rounded up to a power of two, with its header) made
 * them three times their size.  No field of a row is freed on its own.
 */
static HistoryRow *
history_row_from(MemoryContext cxt, const Datum *v, const bool *n, int ncols)
{
	text	   *texts[lengthof(history_text_columns)];
	char	   *strings[lengthof(history_text_columns)];
	size_t		size = MAXALIGN(sizeof(HistoryRow));
	HistoryRow *row;
	char	   *p;
	int			i;

	for (i = 0; i < (int) lengthof(history_text_columns); i++)
	{
		int			c = history_text_columns[i];

		texts[i] = n[c] ? NULL : DatumGetTextPP(v[c]);
		if (texts[i])
			size += VARSIZE_ANY_EXHDR(texts[i]) + 1;
	}
	row = MemoryContextAllocZero(cxt, size);
	p = (char *) row + MAXALIGN(sizeof(HistoryRow));
	for (i = 0; i < (int) lengthof(history_text_columns); i++)
	{
		size_t		len;

		strings[i] = NULL;
		if (texts[i] == NULL)
			continue;
		len = VARSIZE_ANY_EXHDR(texts[i]);
		memcpy(p, VARDATA_ANY(texts[i]), len);
		p[len] = '\0';
		strings[i] = p;
		p += len + 1;
		/* a detoasted copy (a long error message) is not kept */
		if ((Pointer) texts[i] != DatumGetPointer(v[history_text_columns[i]]))
			pfree(texts[i]);
	}

	row->rank = DatumGetInt64(v[0]);
	row->version = strings[0];
	row->description = strings[1];
	row->type = strings[2];
	row->script = strings[3];
	row->checksum = strings[4];
	row->error = strings[5];
	row->installed_on = n[6] ? 0 : DatumGetTimestampTz(v[6]);
	row->execution_ms = n[7] ? -1 : DatumGetInt64(v[7]);
	row->success = DatumGetBool(v[8]);
	row->dirty = DatumGetBool(v[9]);
	row->error_line = n[11] ? 0 : DatumGetInt32(v[11]);
	if (ncols == HISTORY_COLUMNS_11 && !n[12] && !n[13] && !n[14] && !n[15] && !n[16])
	{
		row->identity.known = true;
		row->identity.settled = true;
		row->identity.dev = DatumGetInt64(v[12]);
		row->identity.ino = DatumGetInt64(v[13]);
		row->identity.size = DatumGetInt64(v[14]);
		row->identity.mtime_ns = DatumGetInt64(v[15]);
		row->identity.ctime_ns = DatumGetInt64(v[16]);
	}
	return row;
}

/*
 * Is "track" the text datum d?  Bytewise: the track column has a
 * deterministic collation, under which equal texts are equal bytes.
 */
static bool
track_equals(Datum d, const char *track, size_t track_len)
{
	text	   *t = DatumGetTextPP(d);

	return VARSIZE_ANY_EXHDR(t) == track_len && memcmp(VARDATA_ANY(t), track, track_len) == 0;
}

/*
 * The index on migrate.history (track, version), opened, when it is there
 * and usable to find a track's rows; else NULL.
 */
static Relation
history_track_index(Relation rel, AttrNumber track_attnum)
{
	return migrate_table_index(rel, "history_track_version_idx", track_attnum);
}

/*
 * Are all rows of the history, as snapshot sees them, rows of track?
 * Then reading the whole table in its physical order is the cheapest way
 * to them (the common case: one track); else the index finds the track's
 * rows without reading the others.  Answered from the two ends of the
 * (track, version) index: two descents, not a scan.
 */
static bool
history_one_track(Relation rel, Relation idx, Snapshot snapshot, AttrNumber track_attnum,
				  const char *track, size_t track_len)
{
	ScanDirection dirs[2] = {ForwardScanDirection, BackwardScanDirection};
	int			i;

	for (i = 0; i < 2; i++)
	{
		SysScanDesc scan = systable_beginscan_ordered(rel, idx, snapshot, 0, NULL);
		HeapTuple	tup = systable_getnext_ordered(scan, dirs[i]);
		bool		same = true;

		if (HeapTupleIsValid(tup))
		{
			bool		isnull;
			Datum		d = heap_getattr(tup, track_attnum, RelationGetDescr(rel), &isnull);

			same = !isnull && track_equals(d, track, track_len);
		}
		systable_endscan_ordered(scan);
		if (!same)
			return false;
	}
	return true;
}

/*
 * Read the rows of track straight from the table, each into rows_cxt and
 * the list in cxt: a scan that deforms each row in place, where a query
 * through SPI would project and copy every row first (over a history of
 * 10 000 rows, most of what a no-op apply did).  The whole table when it
 * holds that track alone, else the track's rows through the (track,
 * version) index.  It reads what the query would, as the query would:
 * under a new snapshot (GetTransactionSnapshot, after
 * CommandCounterIncrement, as a cursor that is not read-only takes), with
 * the caller's rights checked first.  When the caller has no SELECT on the
 * whole table, row security applies to it, or a column is not what this
 * library expects, it returns false without reading anything, and the
 * query runs instead: its errors and its row security are the reference.
 */
static bool
history_read_direct(const char *track, MemoryContext cxt, MemoryContext rows_cxt, int ncols,
					List **rows)
{
	Oid			nsp = get_namespace_oid("migrate", false);
	Oid			relid;
	Relation	rel;
	Relation	idx;
	TupleDesc	desc;
	AttrNumber	attnums[HISTORY_COLUMNS_11];
	AttrNumber	track_attnum = InvalidAttrNumber;
	Snapshot	snapshot;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	Datum	   *values;
	bool	   *isnull;
	size_t		track_len = strlen(track);
	bool		use_index;
	int			i;

	relid = get_relname_relid("history", nsp);
	if (!OidIsValid(relid) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) != RLS_NONE)
		return false;

	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	for (i = 0; i < ncols; i++)
		attnums[i] = InvalidAttrNumber;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int			c;

		if (att->attisdropped)
			continue;
		if (strcmp(NameStr(att->attname), "track") == 0 && att->atttypid == TEXTOID)
			track_attnum = att->attnum;
		for (c = 0; c < ncols; c++)
			if (strcmp(NameStr(att->attname), history_columns[c].name) == 0 &&
				att->atttypid == history_columns[c].type)
				attnums[c] = att->attnum;
	}
	for (i = 0; i < ncols; i++)
		if (attnums[i] == InvalidAttrNumber)
			break;
	if (i < ncols || track_attnum == InvalidAttrNumber)
	{
		table_close(rel, AccessShareLock);
		return false;
	}

	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	idx = history_track_index(rel, track_attnum);
	use_index = idx != NULL &&
		!history_one_track(rel, idx, snapshot, track_attnum, track, track_len);

	/* WHERE track = $1, compared as the index compares it */
	ScanKeyEntryInitialize(&key, 0, track_attnum, BTEqualStrategyNumber, InvalidOid,
						   idx ? idx->rd_indcollation[0] : DEFAULT_COLLATION_OID,
						   F_TEXTEQ, CStringGetTextDatum(track));
	scan = systable_beginscan(rel, use_index ? RelationGetRelid(idx) : InvalidOid, use_index,
							  snapshot, 1, &key);
	values = palloc(sizeof(Datum) * desc->natts);
	isnull = palloc(sizeof(bool) * desc->natts);
	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Datum		v[HISTORY_COLUMNS_11];
		bool		n[HISTORY_COLUMNS_11];
		HistoryRow *row;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		heap_deform_tuple(tuple, desc, values, isnull);
		/* the key decided already; this only guards against a lossy index */
		if (isnull[track_attnum - 1] ||
			!track_equals(values[track_attnum - 1], track, track_len))
			continue;
		for (i = 0; i < ncols; i++)
		{
			v[i] = values[attnums[i] - 1];
			n[i] = isnull[attnums[i] - 1];
		}
		row = history_row_from(rows_cxt, v, n, ncols);
		old = MemoryContextSwitchTo(cxt);
		*rows = lappend(*rows, row);
		MemoryContextSwitchTo(old);
	}
	systable_endscan(scan);
	pfree(values);
	pfree(isnull);
	if (idx)
		index_close(idx, NoLock);
	UnregisterSnapshot(snapshot);
	/* the locks are kept until the transaction ends, as a query keeps them */
	table_close(rel, NoLock);
	return true;
}

/*
 * The rows of a track in rank order, copied into cxt: read straight from
 * the table when the caller may (history_read_direct), else through a
 * cursor, HISTORY_FETCH rows at a time.  Sorted here rather than by ORDER
 * BY: a no-op apply over a long history then holds one copy of the rows
 * instead of three (sort, SPI result, ours), and every page a fresh
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
	bool		v11 = migrate_schema_version() >= 101;
	int			ncols = v11 ? HISTORY_COLUMNS_11 : HISTORY_COLUMNS;
	MemoryContext rows_cxt;

	migrate_require_schema(MIGRATE_SCHEMA_1_0, "migrate.history");

	/*
	 * The rows go into a generation context, which does not round a chunk
	 * up to a power of two as cxt would: a row with its strings is about
	 * 280 bytes, which AllocSet makes 512.  Rows are only ever freed with
	 * it (when cxt goes).
	 */
	rows_cxt = GenerationContextCreate(cxt, "migrate history rows", ALLOCSET_DEFAULT_SIZES);
	if (history_read_direct(track, cxt, rows_cxt, ncols, &rows))
	{
		list_sort(rows, compare_rank);
		return rows;
	}

	args[0] = CStringGetTextDatum(track);
	portal = SPI_cursor_open(NULL,
							 v11 ?
							 kept_plan(&history_load_plan_11,
									   "SELECT rank, version, description, type, script, checksum, "
									   "installed_on, execution_ms, success, dirty, error, error_line, "
									   "file_dev, file_ino, file_size, file_mtime_ns, file_ctime_ns "
									   "FROM migrate.history "
									   "WHERE track OPERATOR(pg_catalog.=) $1",
									   1, argtypes) :
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
			Datum		v[HISTORY_COLUMNS_11];
			bool		n[HISTORY_COLUMNS_11];

			/* one pass over the tuple, not one per column */
			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, v, n);
			rows = lappend(rows, history_row_from(rows_cxt, v, n, ncols));
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

/* append one row to migrate.history, with the extension's rights */
void
history_record(const HistoryEntry *e)
{
	Oid			argtypes[20] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TIMESTAMPTZOID, INT8OID, BOOLOID, BOOLOID, TEXTOID, TEXTOID, INT4OID, TEXTOID,
	INT8OID, INT8OID, INT8OID, INT8OID, INT8OID};
	Datum		args[20];
	char		nulls[21];
	int			ret;
	const FileIdentity *id = e->identity;

	migrate_require_schema(MIGRATE_SCHEMA_1_0, "migrate.history");
	memset(nulls, ' ', sizeof(nulls));
	nulls[20] = '\0';

	args[0] = CStringGetTextDatum(e->track);
	args[1] = text_or_null(e->version, nulls, 1);
	args[2] = text_or_null(e->description ? e->description : "", nulls, 2);
	args[3] = CStringGetTextDatum(e->type);
	args[4] = text_or_null(e->script, nulls, 4);
	args[5] = text_or_null(e->checksum, nulls, 5);
	/* the caller, taken before the switch to the owner */
	args[6] = CStringGetTextDatum(e->installed_by ? e->installed_by : caller_name());
	args[7] = TimestampTzGetDatum(e->has_installed_on ? e->installed_on : GetCurrentTimestamp());
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

	if (migrate_schema_version() >= 101)
	{
		bool		known = id && id->known && id->settled;

		args[15] = Int64GetDatum(known ? id->dev : 0);
		args[16] = Int64GetDatum(known ? id->ino : 0);
		args[17] = Int64GetDatum(known ? id->size : 0);
		args[18] = Int64GetDatum(known ? id->mtime_ns : 0);
		args[19] = Int64GetDatum(known ? id->ctime_ns : 0);
		if (!known)
			memset(nulls + 15, 'n', 5);
		ret = as_owner_execute("history", &history_record_plan_11,
							   "INSERT INTO migrate.history "
							   "(track, version, description, type, script, checksum, "
							   "installed_by, installed_on, execution_ms, success, dirty, "
							   "error, sqlstate, error_line, sql, "
							   "file_dev, file_ino, file_size, file_mtime_ns, file_ctime_ns) "
							   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
							   "$12, $13, $14, $15, $16, $17, $18, $19, $20)",
							   20, argtypes, args, nulls);
	}
	else
		ret = as_owner_execute("history", &history_record_plan,
						   "INSERT INTO migrate.history "
						   "(track, version, description, type, script, checksum, "
						   "installed_by, installed_on, execution_ms, success, dirty, "
						   "error, sqlstate, error_line, sql) "
						   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
						   "$12, $13, $14, $15)",
						   15, argtypes, args, nulls);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record in migrate.history: %s", SPI_result_code_string(ret));
}

/*
 * Remove the failed rows of a track (repair).  The removed rows, in rank
 * order, are left in SPI_tuptable: rank, the script (or "version V"),
 * type, dirty, error_line.
 */
void
history_delete_failed(const char *track)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	int			ret;

	args[0] = CStringGetTextDatum(track);
	ret = as_owner_execute("history", &history_delete_failed_plan,
						   "WITH removed AS ("
						   " DELETE FROM migrate.history"
						   " WHERE track OPERATOR(pg_catalog.=) $1 AND NOT success"
						   " RETURNING rank, version, type, script, dirty, error_line) "
						   "SELECT rank, coalesce(script, 'version ' "
						   "OPERATOR(pg_catalog.||) version), "
						   "type, dirty, error_line FROM removed "
						   "ORDER BY rank USING OPERATOR(pg_catalog.<)",
						   1, argtypes, args, NULL);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not remove failed rows from migrate.history: %s",
			 SPI_result_code_string(ret));
}

/* record checksum on the history row rank (repair) */
void
history_set_checksum(int64 rank, const char *checksum)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		args[2];
	int			ret;

	args[0] = Int64GetDatum(rank);
	args[1] = CStringGetTextDatum(checksum);
	ret = as_owner_execute("history", &history_set_checksum_plan,
						   "UPDATE migrate.history SET checksum = $2 "
						   "WHERE rank OPERATOR(pg_catalog.=) $1",
						   2, argtypes, args, NULL);
	if (ret != SPI_OK_UPDATE || SPI_processed != 1)
		elog(ERROR, "could not update row %lld of migrate.history", (long long) rank);
}

/*
 * Record on the history row rank the identity its file has now (1.1): the
 * file was read and is what that row applied, under a new identity (a
 * fresh checkout, a touch), so the next runs need not read it again.
 */
void
history_set_identity(int64 rank, const FileIdentity *id)
{
	Oid			argtypes[6] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID};
	Datum		args[6];
	int			ret;

	args[0] = Int64GetDatum(rank);
	args[1] = Int64GetDatum(id->dev);
	args[2] = Int64GetDatum(id->ino);
	args[3] = Int64GetDatum(id->size);
	args[4] = Int64GetDatum(id->mtime_ns);
	args[5] = Int64GetDatum(id->ctime_ns);
	ret = as_owner_execute("history", &history_set_identity_plan,
						   "UPDATE migrate.history SET file_dev = $2, file_ino = $3, "
						   "file_size = $4, file_mtime_ns = $5, file_ctime_ns = $6 "
						   "WHERE rank OPERATOR(pg_catalog.=) $1",
						   6, argtypes, args, NULL);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not update row %lld of migrate.history", (long long) rank);
}
