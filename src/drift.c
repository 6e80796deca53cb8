/*-------------------------------------------------------------------------
 *
 * drift.c
 *	  Schema changes made outside migrations: the event trigger that
 *	  records them in migrate.drift, the schema fingerprint that catches
 *	  what the trigger could not see, and how status, validate and
 *	  acknowledge_drift report and clear them.
 *
 * The trigger.  migrate._drift_record() runs at ddl_command_end and at
 * sql_drop for every DDL command of the database and writes one row per
 * command: who (current and session role, application, client address,
 * pid), what (command tag, the object it is about and every object it
 * touched, the statement text cut at 4 kB) and when.  It records nothing
 * for DDL that a migrate call runs (progress_in_call: apply, undo, run
 * in this backend) or that the migrate background worker runs (another
 * backend: it knows itself by its entry point), nor for temporary
 * objects, extension scripts (creating_extension), pg_upgrade, a restore
 * (pg_dump's and pg_restore's scripts set check_function_bodies off and
 * an empty search_path; their DDL would be noise, and would collide with
 * the rows of migrate.drift the same restore loads), or when
 * migrate.track_drift is off.  session_replication_role = replica keeps
 * the server from firing the trigger at all.
 *
 * It runs for every DDL command, so it runs no query: it calls
 * pg_event_trigger_ddl_commands() (or _dropped_objects()) directly and
 * writes its row the way the server writes a catalog row, a heap insert
 * and its index entries.  That also settles privileges: the role running
 * the DDL needs no right on migrate.drift, and nothing runs with more
 * rights than it has (no role switch, no user code: the row is formed in
 * C from the event's data, into the table of the extension's schema,
 * which must have the columns and plain indexes it was created with).
 * It never makes the user's DDL fail: its work runs in a subtransaction,
 * and any error there is rolled back and reported as a WARNING (a query
 * cancel still cancels: that is what the user asked for).
 *
 * The fingerprint.  After every run that ran migrations (and after run,
 * baseline and acknowledge_drift) a hash over the catalog definition of
 * every object in the user schemas (tables with their columns,
 * constraints, triggers, policies and rules; views; sequences; indexes;
 * functions; types; extensions) is stored in migrate.schema_fingerprint,
 * with one short hash per object (fingerprint.c reads them from the
 * catalogs).  Definitions come from the server's own deparsers with
 * search_path pinned, object names rather than OIDs, column order rather
 * than attnum, and the "C" collation for sorting, so a dump restored into
 * another database gives the same fingerprint.
 * validate computes it again and names the objects that differ and that
 * no drift row names: drift the trigger did not see (trigger disabled,
 * replica mode, a restore of another dump).  Before a call changes the
 * schema it makes the same comparison, and records what it finds as a
 * drift row ("unseen change"), so that the fingerprint it records
 * afterwards cannot hide it.
 *
 * Reporting.  Drift is reported until acknowledged: an apply on top of a
 * hand-made change does not make the change reviewed.  status sums it up
 * in a NOTICE, validate lists it in its error, acknowledge_drift marks
 * the rows with who accepted them, when and why, and records the current
 * schema as the expected one.  These read and write the extension's
 * tables as its owner (a security-restricted operation, search_path
 * pinned, fixed queries), so the roles that run migrations need no right
 * on them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "args.h"
#include "drift.h"
#include "fingerprint.h"
#include "history.h"
#include "migrate.h"
#include "progress.h"
#include "safety.h"

PG_FUNCTION_INFO_V1(migrate_drift_record);
PG_FUNCTION_INFO_V1(migrate_acknowledge_drift);

/* bytes of a DDL statement kept in migrate.drift.statement */
#define DRIFT_STATEMENT_MAX 4096

/* drift rows and changed objects validate lists before "and N more" */
#define DRIFT_DETAIL_MAX 20

/* the first schema version with migrate.drift and the fingerprint */
#define DRIFT_SCHEMA_VERSION 101

/* the trigger's working memory */
static MemoryContext drift_cxt = NULL;

/* where an owner's scope saved the caller's identity and settings */
typedef struct OwnerScope
{
	Oid			save_user;
	int			save_sec;
	int			nestlevel;
} OwnerScope;


/* ----------------------------------------------------------------
 * Helpers
 * ----------------------------------------------------------------
 */

/*
 * Become the extension's owner for our own fixed queries on the drift
 * tables: a security-restricted operation with search_path pinned.
 * Returns false (and changes nothing) when the extension is gone.
 */
static bool
owner_scope_begin(OwnerScope *sc)
{
	Oid			owner = migrate_extension_owner(true);

	if (!OidIsValid(owner))
		return false;
	GetUserIdAndSecContext(&sc->save_user, &sc->save_sec);
	sc->nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	SetUserIdAndSecContext(owner, sc->save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	return true;
}

/* back to the caller's identity and settings (an error does this by itself) */
static void
owner_scope_end(OwnerScope *sc)
{
	SetUserIdAndSecContext(sc->save_user, sc->save_sec);
	AtEOXact_GUC(true, sc->nestlevel);
}

/* do the 1.1 objects (migrate.drift, the fingerprint) exist? */
static bool
drift_tables_exist(void)
{
	return migrate_schema_version() >= DRIFT_SCHEMA_VERSION;
}

/* the role's name, or its OID when it has none any more */
static char *
role_name(Oid role)
{
	char	   *name = GetUserNameFromId(role, true);

	return name ? name : psprintf("%u", role);
}

/*
 * Run fn(arg) in a subtransaction; if it fails, roll it back and report
 * the error as a WARNING prefixed by what, instead of failing the
 * caller.  A query cancel (or statement timeout) is raised again: the
 * user asked for it.
 */
static void
run_guarded(void (*fn) (void *), void *arg, const char *what, const char *hint)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata = migrate_subxact_abort(oldcxt, oldowner);

		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			migrate_rethrow(edata);
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("%s: %s", what, edata->message),
				 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
				 errhint("%s", hint)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

/* ----------------------------------------------------------------
 * The event trigger
 * ----------------------------------------------------------------
 */

/* is this backend the migrate background worker (worker.c)? */
static bool
is_migrate_worker(void)
{
	return MyBgworkerEntry != NULL &&
		strcmp(MyBgworkerEntry->bgw_library_name, "migrate") == 0 &&
		strcmp(MyBgworkerEntry->bgw_function_name, "migrate_worker_main") == 0;
}

/*
 * Does this session run a script written by pg_dump or pg_restore?  Both
 * start with SET check_function_bodies = false and
 * set_config('search_path', '', false); DDL by hand hardly ever runs so.
 */
static bool
looks_like_restore(void)
{
	return !check_function_bodies && namespace_search_path != NULL &&
		namespace_search_path[0] == '\0';
}

/* the statement text to keep: cut at DRIFT_STATEMENT_MAX, none for secrets */
static char *
drift_statement(CommandTag tag)
{
	const char *q = debug_query_string;
	int			len;

	/* their options may hold passwords */
	if (tag == CMDTAG_CREATE_USER_MAPPING || tag == CMDTAG_ALTER_USER_MAPPING ||
		tag == CMDTAG_CREATE_SERVER || tag == CMDTAG_ALTER_SERVER ||
		tag == CMDTAG_CREATE_SUBSCRIPTION || tag == CMDTAG_ALTER_SUBSCRIPTION)
		return pstrdup("(not kept: the options may hold a password)");
	if (q == NULL)
		return NULL;
	len = strlen(q);
	if (len <= DRIFT_STATEMENT_MAX)
		return pstrdup(q);
	len = pg_mbcliplen(q, len, DRIFT_STATEMENT_MAX);
	return psprintf("%.*s...", len, q);
}

/*
 * GRANT and REVOKE on temporary tables only (pgTAP's plan() makes some):
 * the trigger gets no schema for them, so look at the statement.
 */
static bool
grants_on_temporary_only(Node *parsetree)
{
	GrantStmt  *stmt;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, GrantStmt))
		return false;
	stmt = (GrantStmt *) parsetree;
	if (stmt->targtype != ACL_TARGET_OBJECT ||
		(stmt->objtype != OBJECT_TABLE && stmt->objtype != OBJECT_SEQUENCE) ||
		stmt->objects == NIL)
		return false;
	foreach(lc, stmt->objects)
	{
		Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc), NoLock, true);

		if (!OidIsValid(relid) || !isAnyTempNamespace(get_rel_namespace(relid)))
			return false;
	}
	return true;
}

/* what the trigger records about one command */
typedef struct DriftCommand
{
	bool		drop;
	CommandTag	tag;
} DriftCommand;

/* the columns of migrate.drift, in order, as the trigger writes them */
static const Oid drift_columns[] = {
	INT8OID,					/* id */
	TIMESTAMPTZOID,				/* occurred_at */
	TEXTOID,					/* role_name */
	TEXTOID,					/* session_role */
	TEXTOID,					/* application_name */
	INETOID,					/* client_addr */
	INT4OID,					/* pid */
	TEXTOID,					/* command_tag */
	TEXTOID,					/* object_type */
	TEXTOID,					/* object_identity */
	TEXTARRAYOID,				/* objects */
	TEXTOID,					/* statement */
	TIMESTAMPTZOID,				/* acknowledged_at */
	TEXTOID,					/* acknowledged_by */
	TEXTOID						/* acknowledge_note */
};
#define DRIFT_NCOLUMNS lengthof(drift_columns)

/* is a schema name one of the temporary schemas? */
static bool
temporary_schema(const char *nsp)
{
	return nsp != NULL &&
		(strcmp(nsp, "pg_temp") == 0 || strncmp(nsp, "pg_temp_", 8) == 0 ||
		 strncmp(nsp, "pg_toast_temp_", 14) == 0);
}

/*
 * The rows of pg_event_trigger_ddl_commands() or _dropped_objects(), by a
 * direct call (no query: this runs for every DDL command).  Both are
 * set-returning functions in materialize mode.
 */
static Tuplestorestate *
event_trigger_rows(Oid fn, TupleDesc *desc)
{
	FmgrInfo	flinfo;
	ReturnSetInfo rsinfo;
	ExprContext econtext;
	LOCAL_FCINFO(fcinfo, 0);

	fmgr_info(fn, &flinfo);
	/* the functions only allocate their result in the query's memory */
	memset(&econtext, 0, sizeof(econtext));
	econtext.type = T_ExprContext;
	econtext.ecxt_per_query_memory = CurrentMemoryContext;
	econtext.ecxt_per_tuple_memory = CurrentMemoryContext;
	memset(&rsinfo, 0, sizeof(rsinfo));
	rsinfo.type = T_ReturnSetInfo;
	rsinfo.econtext = &econtext;
	rsinfo.allowedModes = SFRM_Materialize;
	rsinfo.returnMode = SFRM_ValuePerCall;
	InitFunctionCallInfoData(*fcinfo, &flinfo, 0, InvalidOid, NULL, (Node *) &rsinfo);
	(void) FunctionCallInvoke(fcinfo);
	if (rsinfo.returnMode != SFRM_Materialize || rsinfo.setDesc == NULL)
		elog(ERROR, "function %u did not return a materialized set", fn);
	*desc = rsinfo.setDesc;
	return rsinfo.setResult;
}

/* the client's address, once per backend (NULL over a Unix socket) */
static Datum
client_addr(bool *isnull)
{
	static bool known = false;
	static bool none = true;
	static Datum addr;

	if (!known)
	{
		LOCAL_FCINFO(fcinfo, 0);
		Datum		d;
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
		d = inet_client_addr(fcinfo);
		none = fcinfo->isnull;
		if (!none)
			addr = datumCopy(d, false, -1);
		MemoryContextSwitchTo(old);
		known = true;
	}
	*isnull = none;
	return none ? (Datum) 0 : addr;
}

/*
 * Append a row to migrate.drift, the way a catalog row is written: a heap
 * insert and its index entries, with no query, no plan and no privilege
 * check (the DDL's role needs no right on the table: the extension writes
 * its own table).  The table is the one of the extension's schema, and
 * must have the columns above and plain indexes; anything else is an
 * error (which the trigger turns into a WARNING).
 */
static void
insert_drift_row(const DriftCommand *cmd, const char *object_type,
				 const char *object_identity, List *objects, const char *statement)
{
	Oid			nsp = get_namespace_oid("migrate", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("drift", nsp) : InvalidOid;
	Oid			seqid = OidIsValid(nsp) ? get_relname_relid("drift_id_seq", nsp) : InvalidOid;
	Relation	rel;
	TupleDesc	desc;
	CatalogIndexState indstate;
	Datum		values[DRIFT_NCOLUMNS];
	bool		nulls[DRIFT_NCOLUMNS];
	int			column[DRIFT_NCOLUMNS];
	Datum	   *tvalues;
	bool	   *tnulls;
	int			n;
	Datum	   *elems;
	ListCell   *lc;
	HeapTuple	tup;
	int			i;

	/* DROP EXTENSION migrate: nothing to record into any more */
	if ((!OidIsValid(relid) || !OidIsValid(seqid)) &&
		!OidIsValid(get_extension_oid("migrate", true)))
		return;
	if (!OidIsValid(relid) || !OidIsValid(seqid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table migrate.drift or its sequence migrate.drift_id_seq does not exist")));
	rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);
	/* the columns it was created with, in order; dropped ones in between are skipped */
	n = 0;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (n >= (int) DRIFT_NCOLUMNS || att->atttypid != drift_columns[n])
			break;
		column[n++] = i;
	}
	if (rel->rd_rel->relkind != RELKIND_RELATION || i < desc->natts || n != (int) DRIFT_NCOLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table migrate.drift does not have the columns the extension writes")));

	memset(nulls, true, sizeof(nulls));
	values[0] = Int64GetDatum(nextval_internal(seqid, false));
	values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[2] = CStringGetTextDatum(role_name(GetUserId()));
	values[3] = CStringGetTextDatum(role_name(GetSessionUserId()));
	values[4] = CStringGetTextDatum(application_name ? application_name : "");
	values[5] = client_addr(&nulls[5]);
	values[6] = Int32GetDatum(MyProcPid);
	values[7] = CStringGetTextDatum(GetCommandTagName(cmd->tag));
	for (i = 0; i <= 7; i++)
		if (i != 5)
			nulls[i] = false;
	if (object_type)
	{
		values[8] = CStringGetTextDatum(object_type);
		nulls[8] = false;
	}
	if (object_identity)
	{
		values[9] = CStringGetTextDatum(object_identity);
		nulls[9] = false;
	}
	elems = palloc(sizeof(Datum) * Max(list_length(objects), 1));
	i = 0;
	foreach(lc, objects)
		elems[i++] = CStringGetTextDatum((char *) lfirst(lc));
	values[10] = PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
	nulls[10] = false;
	if (statement)
	{
		values[11] = CStringGetTextDatum(statement);
		nulls[11] = false;
	}

	/* into the table's own attribute positions */
	tvalues = palloc0(sizeof(Datum) * desc->natts);
	tnulls = palloc(sizeof(bool) * desc->natts);
	memset(tnulls, true, sizeof(bool) * desc->natts);
	for (i = 0; i < (int) DRIFT_NCOLUMNS; i++)
	{
		tvalues[column[i]] = values[i];
		tnulls[column[i]] = nulls[i];
	}
	tup = heap_form_tuple(desc, tvalues, tnulls);
	indstate = CatalogOpenIndexes(rel);
	for (i = 0; i < indstate->ri_NumIndices; i++)
	{
		IndexInfo  *ii = indstate->ri_IndexRelationInfo[i];

		/* what inserting without an executor cannot maintain */
		if (ii->ii_Expressions != NIL || ii->ii_Predicate != NIL || ii->ii_ExclusionOps != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table migrate.drift has an index on an expression, a partial index or an exclusion constraint"),
					 errhint("Drop it: migrate writes the table without the executor.")));
	}
	CatalogTupleInsertWithInfo(rel, tup, indstate);
	CatalogCloseIndexes(indstate);
	table_close(rel, RowExclusiveLock);
}

/*
 * Record one DDL command (in run_guarded's subtransaction): one row, the
 * object it is about first (the one of the command's own tag, or the
 * dropped object the command named), every object it touched in objects;
 * temporary objects left out, and nothing when only they remain.
 */
static void
record_command(void *arg)
{
	DriftCommand *cmd = (DriftCommand *) arg;
	MemoryContext old;
	const char *tagname = GetCommandTagName(cmd->tag);
	Tuplestorestate *ts;
	TupleDesc	desc;
	TupleTableSlot *slot;
	List	   *objects = NIL;
	char	   *main_type = NULL;
	char	   *main_identity = NULL;
	bool		have_main = false;

	/* one context for the life of the backend, emptied for each command */
	if (drift_cxt == NULL)
		drift_cxt = AllocSetContextCreate(TopMemoryContext, "migrate drift",
										  ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(drift_cxt);
	old = MemoryContextSwitchTo(drift_cxt);

	ts = event_trigger_rows(cmd->drop ? F_PG_EVENT_TRIGGER_DROPPED_OBJECTS :
							F_PG_EVENT_TRIGGER_DDL_COMMANDS, &desc);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	while (tuplestore_gettupleslot(ts, true, false, slot))
	{
		bool		isnull;
		char	   *type;
		char	   *identity;
		char	   *schema;
		bool		is_main;

		if (cmd->drop)
		{
			bool		original = DatumGetBool(slot_getattr(slot, 4, &isnull));
			bool		normal = DatumGetBool(slot_getattr(slot, 5, &isnull));
			bool		temporary = DatumGetBool(slot_getattr(slot, 6, &isnull));
			Datum		d;

			if (temporary || !(original || normal))
				continue;
			d = slot_getattr(slot, 7, &isnull);
			type = isnull ? NULL : TextDatumGetCString(d);
			d = slot_getattr(slot, 10, &isnull);
			identity = isnull ? NULL : TextDatumGetCString(d);
			is_main = original;
		}
		else
		{
			Datum		d;

			if (DatumGetBool(slot_getattr(slot, 8, &isnull)))
				continue;		/* in_extension */
			d = slot_getattr(slot, 6, &isnull);
			schema = isnull ? NULL : TextDatumGetCString(d);
			if (temporary_schema(schema))
				continue;
			d = slot_getattr(slot, 5, &isnull);
			type = isnull ? NULL : TextDatumGetCString(d);
			d = slot_getattr(slot, 7, &isnull);
			identity = isnull ? NULL : TextDatumGetCString(d);
			d = slot_getattr(slot, 4, &isnull);
			is_main = !isnull && strcmp(TextDatumGetCString(d), tagname) == 0;
		}

		if (objects == NIL || (is_main && !have_main))
		{
			main_type = type;
			main_identity = identity;
			have_main = is_main;
		}
		objects = lappend(objects, identity ? psprintf("%s %s", type ? type : "", identity) :
						  pstrdup(type ? type : ""));
	}
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(ts);

	if (objects != NIL)
		insert_drift_row(cmd, main_type, main_identity, objects, drift_statement(cmd->tag));

	MemoryContextSwitchTo(old);
	MemoryContextReset(drift_cxt);
}

/*
 * The event trigger of ddl_command_end and sql_drop: record a DDL command
 * run outside migrate calls.  Never fails the command (see the header).
 */
Datum
migrate_drift_record(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	DriftCommand cmd;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migrate._drift_record() can only be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;

	if (!migrate_track_drift || progress_in_call() || is_migrate_worker() ||
		creating_extension || IsBinaryUpgrade || looks_like_restore())
		PG_RETURN_NULL();

	cmd.drop = strcmp(trigdata->event, "sql_drop") == 0;
	cmd.tag = trigdata->tag;
	/* ALTER TABLE ... DROP COLUMN: recorded once, at ddl_command_end */
	if (cmd.drop && strncmp(GetCommandTagName(cmd.tag), "DROP", 4) != 0)
		PG_RETURN_NULL();
	if (!cmd.drop && grants_on_temporary_only(trigdata->parsetree))
		PG_RETURN_NULL();

	run_guarded(record_command, &cmd,
				"migrate could not record a schema change in migrate.drift",
				"The command itself succeeded. Check that migrate.drift exists and accepts "
				"rows, or SET migrate.track_drift = off to stop recording.");
	PG_RETURN_NULL();
}

/* ----------------------------------------------------------------
 * The fingerprint
 * ----------------------------------------------------------------
 */

/* the fingerprint recorded last, as validate and a run compare with it */
typedef struct Fingerprint
{
	char	   *hash;
	Datum		objects;		/* text[] of "identity hash" lines */
	Datum		recorded;		/* recorded_at */
	char	   *recorded_at;
	char	   *recorded_by;
	char	   *reason;
} Fingerprint;

/* compute the current fingerprint (as the owner, SPI connected: fingerprint.c) */
static void
fingerprint_compute(Fingerprint *fp)
{
	Datum		objects;

	memset(fp, 0, sizeof(*fp));
	fingerprint_schema(&fp->hash, &objects);
	fp->objects = SPI_datumTransfer(objects, false, -1);
}

/* read the fingerprint recorded last; false when none is */
static bool
fingerprint_recorded(Fingerprint *fp)
{
	int			ret;
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;

	memset(fp, 0, sizeof(*fp));
	ret = SPI_execute("SELECT f.fingerprint, f.objects, f.recorded_at::pg_catalog.text, "
					  "f.recorded_by, f.reason, f.recorded_at FROM migrate.schema_fingerprint f "
					  "ORDER BY f.recorded_at DESC LIMIT 1", false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read migrate.schema_fingerprint: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	fp->hash = SPI_getvalue(tup, desc, 1);
	fp->objects = SPI_datumTransfer(SPI_getbinval(tup, desc, 2, &isnull), false, -1);
	fp->recorded_at = SPI_getvalue(tup, desc, 3);
	fp->recorded_by = SPI_getvalue(tup, desc, 4);
	fp->reason = SPI_getvalue(tup, desc, 5);
	fp->recorded = SPI_getbinval(tup, desc, 6, &isnull);
	return true;
}

/*
 * What differs between the recorded fingerprint and the current one,
 * object by object: "changed table public.t", "added index public.i",
 * "removed function public.f()" in identity order, leaving out objects
 * that drift rows since the recording name (the trigger saw those).
 * Returns them as a text[] (every one), and sets *count and *shown (the
 * first DRIFT_DETAIL_MAX, joined by "; ").
 */
static Datum
fingerprint_changes(Fingerprint *recorded, Fingerprint *current, int64 *count, char **shown)
{
	Oid			argtypes[4] = {TEXTARRAYOID, TEXTARRAYOID, INT4OID, TIMESTAMPTZOID};
	Datum		args[4];
	int			ret;
	bool		isnull;
	Datum		changes;

	args[0] = recorded->objects;
	args[1] = current->objects;
	args[2] = Int32GetDatum(DRIFT_DETAIL_MAX);
	args[3] = recorded->recorded;
	ret = SPI_execute_with_args("WITH o AS (SELECT pg_catalog.left(x, -17) AS id, "
								"  pg_catalog.right(x, 16) AS h FROM pg_catalog.unnest($1) x), "
								" n AS (SELECT pg_catalog.left(x, -17) AS id, "
								"  pg_catalog.right(x, 16) AS h FROM pg_catalog.unnest($2) x), "
								" c AS (SELECT COALESCE(pg_catalog.array_agg("
								"  CASE WHEN o.id IS NULL THEN 'added ' WHEN n.id IS NULL THEN 'removed ' "
								"  ELSE 'changed ' END OPERATOR(pg_catalog.||) COALESCE(n.id, o.id) "
								"  ORDER BY COALESCE(n.id, o.id) COLLATE \"C\"), '{}') AS a "
								"  FROM o FULL JOIN n ON o.id OPERATOR(pg_catalog.=) n.id "
								"  WHERE o.h IS DISTINCT FROM n.h "
								"  AND COALESCE(n.id, o.id) NOT IN (SELECT x FROM migrate.drift d, "
								"   pg_catalog.unnest(d.objects) x WHERE x IS NOT NULL "
								"   AND d.occurred_at OPERATOR(pg_catalog.>=) $4)) "
								"SELECT c.a, pg_catalog.cardinality(c.a), "
								"  pg_catalog.array_to_string(c.a[1:$3], '; ') FROM c",
								4, argtypes, args, NULL, false, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not compare the schema fingerprints: %s", SPI_result_code_string(ret));
	changes = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
											  &isnull), false, -1);
	*count = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	*shown = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	return changes;
}

/* "a; b; c" followed by "; and N more" when count exceeds what is shown */
static char *
changes_text(int64 count, const char *shown)
{
	if (count > DRIFT_DETAIL_MAX)
		return psprintf("%s; and %lld more", shown ? shown : "",
						(long long) (count - DRIFT_DETAIL_MAX));
	return pstrdup(shown ? shown : "");
}

/* store the current schema's fingerprint as the expected one; reason names the call */
static void
fingerprint_store(const char *reason)
{
	Oid			argtypes[4] = {TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID};
	Datum		args[4];
	Fingerprint fp;
	char	   *by = role_name(GetUserId());
	OwnerScope	sc;
	int			ret;

	if (!owner_scope_begin(&sc))
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	fingerprint_compute(&fp);
	args[0] = CStringGetTextDatum(fp.hash);
	args[1] = fp.objects;
	args[2] = CStringGetTextDatum(by);
	args[3] = CStringGetTextDatum(reason);
	ret = SPI_execute("DELETE FROM migrate.schema_fingerprint", false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not clear migrate.schema_fingerprint: %s", SPI_result_code_string(ret));
	ret = SPI_execute_with_args("INSERT INTO migrate.schema_fingerprint "
								"(fingerprint, objects, recorded_by, reason) "
								"VALUES ($1, $2, $3, $4)",
								4, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record the schema fingerprint: %s", SPI_result_code_string(ret));
	SPI_finish();
	owner_scope_end(&sc);
}

/* fingerprint_store for run_guarded */
static void
fingerprint_store_guarded(void *arg)
{
	fingerprint_store((const char *) arg);
}

/*
 * Record the schema as a migrate call left it, as the one validate
 * expects (after a run, a failed migration, run, baseline).  A failure
 * here is a WARNING: the migrations it follows stay recorded.
 */
void
drift_fingerprint_record(void)
{
	const char *call = progress_call_name();

	if (!drift_tables_exist())
		return;
	run_guarded(fingerprint_store_guarded, (void *) (call ? call : "migrate"),
				"migrate could not record the schema fingerprint",
				"The migrations are applied; migrate.validate may report their changes as "
				"drift until the next run or SELECT migrate.acknowledge_drift().");
}

/*
 * A migration failed, its failure row is about to commit: record the
 * schema the migrations before it (or a dirty one) left.  A retry after a
 * lock timeout changed nothing since the first attempt recorded it.
 */
void
drift_run_failed(void)
{
	if (progress_attempt() <= 1)
		drift_fingerprint_record();
}

/*
 * A run body returned: record the fingerprint if it ran any migration, or
 * any callback script (callbacks.c), which may change the schema too.
 */
void
drift_run_finished(bool ran_callbacks)
{
	if (ran_callbacks || progress_migrations_started() > 0)
		drift_fingerprint_record();
}

/*
 * Before a call changes the schema: has it changed, unseen by the
 * trigger, since the fingerprint was recorded?  Then the difference
 * becomes a row of migrate.drift (command tag "unseen change"), so that
 * recording the fingerprint after this run does not hide it, and a
 * WARNING says so.
 */
static void
check_unseen(void *arg)
{
	Oid			argtypes[3] = {TEXTARRAYOID, TEXTOID, TEXTOID};
	Datum		args[3];
	Fingerprint recorded;
	Fingerprint current;
	OwnerScope	sc;
	Datum		changes;
	int64		count;
	char	   *shown;
	char	   *first;
	int			ret;

	if (!owner_scope_begin(&sc))
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!fingerprint_recorded(&recorded))
	{
		SPI_finish();
		owner_scope_end(&sc);
		return;
	}
	fingerprint_compute(&current);
	if (strcmp(recorded.hash, current.hash) == 0)
	{
		SPI_finish();
		owner_scope_end(&sc);
		return;
	}
	changes = fingerprint_changes(&recorded, &current, &count, &shown);
	if (count == 0)
	{
		/* every difference is in rows the trigger wrote */
		SPI_finish();
		owner_scope_end(&sc);
		return;
	}
	/* "changed table public.t": the first object's identity, after the verb */
	first = pnstrdup(shown, strcspn(shown, ";"));
	first += strcspn(first, " ");
	if (*first == ' ')
		first++;
	args[0] = changes;
	args[1] = CStringGetTextDatum(first);
	args[2] = CStringGetTextDatum(psprintf("changed since %s (%s by %s)", recorded.recorded_at,
										   recorded.reason, recorded.recorded_by));
	ret = SPI_execute_with_args("INSERT INTO migrate.drift (role_name, session_role, "
								"application_name, pid, command_tag, object_identity, objects, "
								"statement) VALUES ('unknown', 'unknown', 'migrate fingerprint', "
								"pg_catalog.pg_backend_pid(), 'unseen change', $2, $1, $3)",
								3, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not record in migrate.drift: %s", SPI_result_code_string(ret));
	SPI_finish();
	owner_scope_end(&sc);

	ereport(WARNING,
			(errmsg("the schema changed outside migrations since the last migration run, "
					"unseen by the drift trigger"),
			 errdetail("%s.", changes_text(count, shown)),
			 errhint("It is recorded in migrate.drift; SELECT migrate.acknowledge_drift() "
					 "accepts it.")));
}

/*
 * A call is about to change the schema (a migration, run, baseline): the
 * first time in the call, look for changes the trigger did not see
 * (check_unseen), before the fingerprint recorded after the call hides
 * them.
 */
void
drift_check_unseen(void)
{
	static uint64 checked_call = 0;
	uint64		call = progress_call_serial();

	if (call == 0 || call == checked_call)
		return;
	checked_call = call;
	if (!drift_tables_exist())
		return;
	run_guarded(check_unseen, NULL,
				"migrate could not compare the schema with its fingerprint",
				"The migrations run anyway; migrate.validate compares the schema again.");
}

/* ----------------------------------------------------------------
 * Reporting: status, validate, acknowledge_drift
 * ----------------------------------------------------------------
 */

/* the drift not acknowledged yet */
#define DRIFT_OPEN "FROM migrate.drift d WHERE d.acknowledged_at IS NULL "

/* one drift row as a line of a message */
#define DRIFT_LINE \
	"CASE WHEN d.command_tag OPERATOR(pg_catalog.=) 'unseen change' THEN " \
	"'unseen change found at ' OPERATOR(pg_catalog.||) d.occurred_at::pg_catalog.text " \
	"OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) " \
	"pg_catalog.array_to_string(d.objects, '; ') ELSE " \
	"pg_catalog.concat_ws(' ', d.command_tag, d.object_type, d.object_identity) " \
	"OPERATOR(pg_catalog.||) ' by ' OPERATOR(pg_catalog.||) d.role_name " \
	"OPERATOR(pg_catalog.||) ' at ' OPERATOR(pg_catalog.||) d.occurred_at::pg_catalog.text " \
	"OPERATOR(pg_catalog.||) COALESCE(' (' OPERATOR(pg_catalog.||) " \
	"NULLIF(d.application_name, '') OPERATOR(pg_catalog.||) ')', '') END "

/*
 * status: one NOTICE summing up the drift not acknowledged yet, if any.
 * The caller is SPI-connected.
 */
void
drift_status_notice(void)
{
	OwnerScope	sc;
	int			ret;
	int64		n = 0;
	char	   *latest = NULL;

	if (!drift_tables_exist() || !owner_scope_begin(&sc))
		return;
	ret = SPI_execute("SELECT pg_catalog.count(*) OVER (), " DRIFT_LINE
					  DRIFT_OPEN "ORDER BY d.id DESC LIMIT 1", false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read migrate.drift: %s", SPI_result_code_string(ret));
	if (SPI_processed == 1)
	{
		bool		isnull;

		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		latest = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	}
	owner_scope_end(&sc);

	if (n > 0)
		ereport(NOTICE,
				(errmsg_plural("migrate: %lld schema change made outside migrations is not acknowledged",
							   "migrate: %lld schema changes made outside migrations are not acknowledged",
							   n, (long long) n),
				 errdetail("The latest: %s.", latest),
				 errhint("SELECT migrate.validate(...) lists them, SELECT * FROM migrate.drift shows "
						 "them whole, SELECT migrate.acknowledge_drift('why') accepts them.")));
}

/* the drift rows not acknowledged, as lines of validate's detail */
static void
drift_rows_detail(StringInfo detail, int64 *count)
{
	int			ret;
	uint64		i;

	ret = SPI_execute("SELECT pg_catalog.count(*) OVER (), " DRIFT_LINE
					  "OPERATOR(pg_catalog.||) CASE WHEN d.command_tag OPERATOR(pg_catalog.=) "
					  "'unseen change' THEN '' ELSE COALESCE(': ' OPERATOR(pg_catalog.||) "
					  "pg_catalog.rtrim(pg_catalog.split_part(pg_catalog.btrim(d.statement, "
					  "E' \\n\\r\\t'), E'\\n', 1), '; '), '') END "
					  DRIFT_OPEN "ORDER BY d.id",
					  false, DRIFT_DETAIL_MAX);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read migrate.drift: %s", SPI_result_code_string(ret));
	*count = 0;
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		*count = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		appendStringInfo(detail, "%s%s.", detail->len > 0 ? "\n" : "",
						 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
	}
	if (*count > (int64) SPI_processed)
		appendStringInfo(detail, "\n... and %lld more (SELECT * FROM migrate.drift).",
						 (long long) (*count - (int64) SPI_processed));
}

/*
 * Compare the schema with the fingerprint recorded after the last run;
 * append a sentence naming what differs.  Returns whether it differs.
 */
static bool
fingerprint_detail(StringInfo detail)
{
	Fingerprint recorded;
	Fingerprint current;
	int64		count;
	char	   *shown;

	if (!fingerprint_recorded(&recorded))
		return false;
	fingerprint_compute(&current);
	if (strcmp(recorded.hash, current.hash) == 0)
		return false;
	(void) fingerprint_changes(&recorded, &current, &count, &shown);
	if (count == 0)
		return false;			/* every difference is in rows the trigger wrote */
	appendStringInfo(detail, "%sThe schema differs from the one recorded after the last "
					 "migration run (%s by %s at %s): %s.",
					 detail->len > 0 ? "\n" : "", recorded.reason, recorded.recorded_by,
					 recorded.recorded_at, changes_text(count, shown));
	return true;
}

/*
 * validate: an error listing the drift not acknowledged yet, and whether
 * the schema still has the fingerprint recorded after the last run.  The
 * caller is SPI-connected.
 */
void
drift_validate(void)
{
	OwnerScope	sc;
	StringInfoData detail;
	int64		rows;
	bool		differs;

	if (!drift_tables_exist() || !owner_scope_begin(&sc))
		return;
	initStringInfo(&detail);
	drift_rows_detail(&detail, &rows);
	differs = fingerprint_detail(&detail);
	owner_scope_end(&sc);

	if (rows == 0 && !differs)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 rows > 0 ?
			 errmsg_plural("validation found %lld schema change made outside migrations",
						   "validation found %lld schema changes made outside migrations",
						   rows, (long long) rows) :
			 errmsg("validation found schema changes made outside migrations"),
			 errdetail_internal("%s", detail.data),
			 errhint("Write the changes as a migration (and undo them by hand), or accept them "
					 "with SELECT migrate.acknowledge_drift('why').")));
}

/* the work of acknowledge_drift, as the owner */
static int64
acknowledge(const char *by, const char *note)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	char		nulls[3] = "  ";
	OwnerScope	sc;
	int			ret;
	int64		n;

	args[0] = CStringGetTextDatum(by);
	args[1] = note ? CStringGetTextDatum(note) : (Datum) 0;
	if (note == NULL)
		nulls[1] = 'n';
	if (!owner_scope_begin(&sc))
		elog(ERROR, "extension \"migrate\" is not installed");
	ret = SPI_execute_with_args("UPDATE migrate.drift SET acknowledged_at = pg_catalog.clock_timestamp(), "
								"acknowledged_by = $1, acknowledge_note = $2 "
								"WHERE acknowledged_at IS NULL",
								2, argtypes, args, nulls, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "could not update migrate.drift: %s", SPI_result_code_string(ret));
	n = (int64) SPI_processed;
	owner_scope_end(&sc);
	return n;
}

/*
 * SELECT migrate.acknowledge_drift(note, confirm): accept the drift so
 * far.  Marks every unacknowledged row of migrate.drift with who accepted
 * it, when and why, and records the current schema as the expected one.
 */
Datum
migrate_acknowledge_drift(PG_FUNCTION_ARGS)
{
	char	   *note = text_arg(fcinfo, 0);
	char	   *by = role_name(GetUserId());
	int64		n;

	migrate_check_changing_call(fcinfo, text_arg(fcinfo, 1));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	n = acknowledge(by, note);
	SPI_finish();
	fingerprint_store("acknowledge_drift");
	ereport(NOTICE,
			(errmsg("migrate: acknowledged %lld schema change(s) made outside migrations; "
					"the current schema is now the expected one", (long long) n)));
	PG_RETURN_INT64(n);
}
