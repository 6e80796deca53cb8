/*-------------------------------------------------------------------------
 *
 * scripts.c
 *	  migrate.scripts(dir): what migrate reads in a directory.
 *
 * One row per script, in the order apply would consider them, with the
 * layout detected, the kind (versioned, undo, repeatable), the version
 * and description its name gives, and its checksum; then one row per
 * callback script (type callback, its event as description, callbacks.h);
 * then one row per misnamed .sql file, then one per .sql file its tool
 * ignores.  It shows
 * what status does not: the undo scripts
 * (and so the down sections of dbmate or node-pg-migrate files), and
 * which layout a directory was read as.  It reads files only, never the
 * history.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "args.h"
#include "callbacks.h"
#include "run.h"
#include "layout.h"
#include "migrate.h"
#include "reader.h"
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
	char	   *dir = required_arg(fcinfo, 0, "dir");
	TupleDesc	desc;
	Tuplestorestate *ts = materialize_result(fcinfo, &desc);
	ScriptSet  *set;
	ListCell   *lc;
	char	   *base;

	/* a staged bundle is read through SPI */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	set = layout_classify(source_list(dir, &base));
	foreach(lc, set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);

		reader_checksum(s->file, s->checksum, &s->size, NULL);
		put_row(ts, desc, set->layout, s->version, s->description,
				migration_kind_name(s->kind), s->name, s->checksum);
	}
	foreach(lc, set->callbacks)
	{
		ScriptCallback *cb = (ScriptCallback *) lfirst(lc);
		MigrationScript *s = cb->script;

		reader_checksum(s->file, s->checksum, &s->size, NULL);
		put_row(ts, desc, set->layout, NULL, callback_event_name(cb->event), "callback",
				s->name, s->checksum);
	}
	foreach(lc, set->misnamed)
		put_row(ts, desc, set->layout, NULL, NULL, "misnamed",
				((NotScript *) lfirst(lc))->name, NULL);
	foreach(lc, set->ignored)
		put_row(ts, desc, set->layout, NULL, NULL, "ignored",
				((NotScript *) lfirst(lc))->name, NULL);

	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	PG_RETURN_NULL();
}
