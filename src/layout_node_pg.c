/*-------------------------------------------------------------------------
 *
 * layout_node_pg.c
 *	  node-pg-migrate's SQL files: <timestamp>_<name>.sql with sections.
 *
 *	  -- Up Migration
 *	  CREATE TABLE users (...);
 *
 *	  -- Down Migration
 *	  DROP TABLE users;
 *
 * A <digits>_<name>.sql file (at any depth) with an "-- Up Migration" or
 * "-- Down Migration" line (any case, as node-pg-migrate matches them) is
 * node-pg-migrate's.  <version> is the leading digits (node-pg-migrate
 * writes milliseconds since 1970, 1706702400000).  The up section is the
 * versioned script, the down section the undo script (layout_sections.c).
 * Its JavaScript and TypeScript migrations are not SQL and are not read.
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
node_pg_claims(LayoutDir *dir, const SourceFile *f)
{
	const SectionScan *scan;

	if (!sections_numbered_name(layout_base_name(f->name)))
		return false;
	scan = sections_scan(dir, f);
	return scan->count[SECTION_NODE_UP] > 0 || scan->count[SECTION_NODE_DOWN] > 0;
}

static void
node_pg_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	sections_build(dir, files, set, "node-pg-migrate", sections_node_marker,
				   SECTION_NODE_UP, SECTION_NODE_DOWN,
				   "-- Up Migration", "-- Down Migration");
}

/* migrate.adopt: the tool's history table (adopt.c) */
/* pgmigrations: one row per applied file, named <timestamp>_<name> */
static void
rows_node_pg(Adoption *a)
{
	uint64		i;

	adopt_query(psprintf("SELECT name, run_on::pg_catalog.timestamptz FROM %s ORDER BY run_on, id",
				   a->table), 0, NULL);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = adopt_value(i, 1);
		size_t		digits = name ? layout_digits(name) : 0;
		AdoptRow   *r;

		CHECK_FOR_INTERRUPTS();
		if (digits == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("node-pg-migrate history table %s has a migration without a timestamp: \"%s\"",
							a->table, name ? name : ""),
					 errhint("node-pg-migrate names migrations <timestamp>_<name>.")));
		r = adopt_new_row(a, adopt_version(a, name, digits), "versioned",
					NULL, NULL);
		if (r->script == NULL)
		{
			r->script = name;
			r->description = layout_description(name + digits + (name[digits] == '_'),
												 strlen(name + digits + (name[digits] == '_')));
		}
		adopt_set_installed_on(r, i, 2);
	}
}

const LayoutAdopt adopt_node_pg_migrate = {
	.table = "pgmigrations",
	.columns = "id, name, run_on",
	.needs_dir = NULL,
	.rows = rows_node_pg
};

const Layout layout_node_pg_migrate = {
	.name = "node-pg-migrate",
	.claims = node_pg_claims,
	.build = node_pg_build,
	.naming_hint = "node-pg-migrate SQL files are named <timestamp>_<name>.sql and begin "
	"with an \"-- Up Migration\" line; a misnamed file is never skipped.",
	.adopt = &adopt_node_pg_migrate
};
