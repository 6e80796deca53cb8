/*-------------------------------------------------------------------------
 *
 * layout_dbmate.c
 *	  dbmate's files: <version>_<name>.sql with sections.
 *
 *	  -- migrate:up
 *	  CREATE TABLE users (...);
 *
 *	  -- migrate:down
 *	  DROP TABLE users;
 *
 * A <digits>_<name>.sql file (at any depth) with a "-- migrate:up" or
 * "-- migrate:down" line is dbmate's.  <version> is the leading digits
 * (dbmate writes a UTC timestamp, 20240131120000).  The up section, from
 * its "-- migrate:up" line, is the versioned script; the down section the
 * undo script (see layout_sections.c).  Options on the marker line, such
 * as "transaction:false", stay in the script's text for the executor.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "adopt.h"
#include "layouts.h"

static bool
dbmate_claims(LayoutDir *dir, const SourceFile *f)
{
	const SectionScan *scan;

	if (!sections_numbered_name(layout_base_name(f->name)))
		return false;
	scan = sections_scan(dir, f);
	return scan->count[SECTION_DBMATE_UP] > 0 || scan->count[SECTION_DBMATE_DOWN] > 0;
}

static void
dbmate_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	sections_build(dir, files, set, "dbmate", sections_dbmate_marker,
				   SECTION_DBMATE_UP, SECTION_DBMATE_DOWN,
				   "-- migrate:up", "-- migrate:down");
}

/* migrate.adopt: the tool's history table (adopt.c) */
/* dbmate's and golang-migrate's tables share a name */
static void
dbmate_check_columns(Adoption *a)
{
	uint64		i;

	for (i = 0; i < SPI_processed; i++)
		if (strcmp(adopt_value(i, 1), "dirty") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("table %s is not a dbmate history table", a->table),
					 errdetail("It has a \"dirty\" column, as golang-migrate's table has."),
					 errhint("Adopt it with SELECT migrate.adopt('golang-migrate', dir => ...).")));
}

/* dbmate's schema_migrations: one row per applied version */
static void
rows_dbmate(Adoption *a)
{
	uint64		i;

	adopt_query(psprintf("SELECT version::pg_catalog.text FROM %s", a->table), 0, NULL);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *raw = adopt_value(i, 1);

		CHECK_FOR_INTERRUPTS();
		if (raw == NULL)
			continue;
		adopt_new_row(a, adopt_version(a, raw, strlen(raw)), "versioned", NULL, NULL);
	}
}

const LayoutAdopt adopt_dbmate = {
	.table = "schema_migrations",
	.columns = "version",
	.needs_dir = NULL,
	.check_columns = dbmate_check_columns,
	.rows = rows_dbmate
};

const Layout layout_dbmate = {
	.name = "dbmate",
	.claims = dbmate_claims,
	.build = dbmate_build,
	.naming_hint = "dbmate files are named <version>_<name>.sql and begin with a "
	"\"-- migrate:up\" line; a misnamed file is never skipped.",
	.adopt = &adopt_dbmate
};
