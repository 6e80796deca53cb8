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

/* the down section of the same file */
static char *
node_pg_undo_name(const MigrationScript *s)
{
	return psprintf("a \"-- Down Migration\" section at the end of %s", s->name);
}

static void
node_pg_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	sections_build(dir, files, set, "node-pg-migrate", sections_node_marker,
				   SECTION_NODE_UP, SECTION_NODE_DOWN,
				   "-- Up Migration", "-- Down Migration");
}

const Layout layout_node_pg_migrate = {
	.name = "node-pg-migrate",
	.claims = node_pg_claims,
	.build = node_pg_build,
	.naming_hint = "node-pg-migrate SQL files are named <timestamp>_<name>.sql and begin "
	"with an \"-- Up Migration\" line; a misnamed file is never skipped.",
	.undo_name = node_pg_undo_name
};
