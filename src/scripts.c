/*-------------------------------------------------------------------------
 *
 * scripts.c
 *	  migrate.scripts(dir): what migrate reads in a directory.
 *
 * One row per script, in the order apply would consider them, with the
 * layout detected, the kind (versioned, undo, repeatable), the version
 * and description its name gives, and its checksum; then one row per
 * misnamed .sql file.  It shows what status does not: the undo scripts
 * (and so the down sections of dbmate or node-pg-migrate files), and
 * which layout a directory was read as.  It reads files only, never the
 * history.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "layout.h"
#include "migrate.h"
#include "paths.h"
#include "source.h"

PG_FUNCTION_INFO_V1(migrate_scripts);

#define SCRIPTS_COLS 6

/* one row: layout, version, description, type, script, checksum */
static void
put_row(Tuplestorestate *ts, TupleDesc desc, const char *layout, const char *version,
		const char *description, const char *type, const char *script, const char *checksum)
{
	const char *v[SCRIPTS_COLS] = {layout, version, description, type, script, checksum};
	Datum		values[SCRIPTS_COLS];
	bool		nulls[SCRIPTS_COLS];
	int			i;

	for (i = 0; i < SCRIPTS_COLS; i++)
	{
		nulls[i] = v[i] == NULL;
		values[i] = v[i] ? CStringGetTextDatum(v[i]) : (Datum) 0;
	}
	tuplestore_putvalues(ts, desc, values, nulls);
}

/*
 * SELECT * FROM migrate.scripts(dir)
 */
Datum
migrate_scripts(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TupleDesc	desc;
	Tuplestorestate *ts;
	MemoryContext old;
	ScriptSet  *set;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("dir must not be null")));
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTupleDescCopy(desc);
	ts = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = ts;
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(old);

	set = layout_classify(source_list_dir(path_check_dir(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
	foreach(lc, set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);

		source_checksum(s->file, s->checksum, &s->size);
		put_row(ts, desc, set->layout, s->version, s->description,
				migration_kind_name(s->kind), s->name, s->checksum);
	}
	foreach(lc, set->misnamed)
		put_row(ts, desc, set->layout, NULL, NULL, "misnamed", (char *) lfirst(lc), NULL);

	PG_RETURN_NULL();
}
