/*-------------------------------------------------------------------------
 *
 * layout_sql_migrate.c
 *	  sql-migrate's files (github.com/rubenv/sql-migrate): any .sql file
 *	  at the top of the directory, with sections.
 *
 *	  -- +migrate Up
 *	  CREATE TABLE users (...);
 *	  -- +migrate StatementBegin
 *	  CREATE FUNCTION touch() RETURNS trigger AS $$ ... ; ... $$ LANGUAGE plpgsql;
 *	  -- +migrate StatementEnd
 *
 *	  -- +migrate Down
 *	  DROP TABLE users;
 *
 * As sql-migrate reads a directory: every file at its top whose name ends
 * in ".sql" is a migration, whatever the rest of its name; files in
 * subdirectories are not read (they are ignored, with a NOTICE).  A
 * migration is identified by its file name, which is what sql-migrate
 * records in gorp_migrations.id, so the file name is the version here
 * too, and migrations sort as sql-migrate sorts them (its byId order):
 * two names that both start with digits compare by that number when it
 * differs, a name with a number comes before one without, and otherwise
 * the names compare as byte strings ("1_a.sql" < "1_b.sql" < "2_a.sql" <
 * "10_a.sql" < "init.sql").
 *
 * A file is sql-migrate's when it has a "-- +migrate Up" line, matched as
 * sql-migrate matches its commands: the line starts with "-- +migrate "
 * and its first word after that is "Up", case and all.  The up section,
 * from that line to the "-- +migrate Down" line, is the versioned script;
 * the down section its undo script.  A file without a down section has an
 * empty undo script (sql-migrate runs nothing and forgets the migration),
 * so an undo through it works.  "-- +migrate Up notransaction" (or Down)
 * makes that script run outside a transaction (nontx.c reads the marker,
 * which stays in the script's text), and the splitter takes the lines
 * between "-- +migrate StatementBegin" and "-- +migrate StatementEnd" as
 * one statement (SPLIT_STATEMENT_BLOCKS, splitter.c).
 *
 * Where this layout differs from sql-migrate, it refuses instead of
 * guessing: SQL before the first marker (sql-migrate skips it silently),
 * a second up section, or a down section before the up section.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"

#include "adopt.h"
#include "layouts.h"
#include "splitter.h"

/* the number a name starts with: its digits without leading zeros */
static const char *
number_prefix(const char *s, size_t *len)
{
	size_t		n = layout_digits(s);

	while (n > 1 && *s == '0')
	{
		s++;
		n--;
	}
	*len = n;
	return s;
}

/*
 * sql-migrate's order of migration ids (Migration.Less).  A bare number,
 * as a user gives a target or a baseline, equals every name starting with
 * that number, as sql-migrate's -version does.
 */
static int
sql_migrate_order(const char *a, const char *b)
{
	size_t		la;
	size_t		lb;
	const char *na = number_prefix(a, &la);
	const char *nb = number_prefix(b, &lb);
	int			c;

	if (la > 0 && lb > 0)
	{
		if (la != lb)
			return la < lb ? -1 : 1;
		c = strncmp(na, nb, la);
		if (c != 0)
			return c < 0 ? -1 : 1;
		if (layout_is_number(a) || layout_is_number(b))
			return 0;
	}
	else if (la > 0 || lb > 0)
		return la > 0 ? -1 : 1;
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0 ? 1 : 0;
}

/* a .sql file at the top of the directory with a "-- +migrate Up" line */
static bool
sql_migrate_claims(LayoutDir *dir, const SourceFile *f)
{
	size_t		len = strlen(f->name);

	if (strchr(f->name, '/') != NULL || len <= 4 || strcmp(f->name + len - 4, ".sql") != 0)
		return false;

	/*
	 * Files that Flyway or golang-migrate claim by their names alone are
	 * not read for markers: that would read every file of a Flyway
	 * directory once more on every call.
	 */
	if (layout_dir_claims(dir, &layout_flyway, f) ||
		layout_dir_claims(dir, &layout_golang_migrate, f))
		return false;
	return sections_scan(dir, f)->count[SECTION_SQLMIGRATE_UP] > 0;
}

/*
 * The description of a name: after its number and one '-' or '_', '_' as
 * ' ', without ".sql" (also for migrate.adopt)
 */
char *
layout_sql_migrate_description(const char *name)
{
	size_t		digits = layout_digits(name);
	const char *p = name + digits;
	size_t		len = strlen(p);

	if (layout_has_suffix(p, ".sql"))
		len -= 4;

	if (digits > 0 && len > 0 && (*p == '_' || *p == '-'))
	{
		p++;
		len--;
	}
	return layout_description(p, len);
}

static void
sql_migrate_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	ListCell   *lc;

	foreach(lc, files)
	{
		SourceFile *f = (SourceFile *) lfirst(lc);
		const SectionScan *scan = sections_scan(dir, f);
		char	   *description;
		SourceFile *up;
		SourceFile *down;

		sections_check(scan, f, "sql-migrate", SECTION_SQLMIGRATE_UP, SECTION_SQLMIGRATE_DOWN,
					   "-- +migrate Up", "-- +migrate Down");
		description = layout_sql_migrate_description(f->name);
		up = reader_section(f, sections_sqlmigrate_marker, 1);
		up->split = SPLIT_STATEMENT_BLOCKS;
		/* without a down section, the undo script is empty: sql-migrate's */
		down = reader_section(f, sections_sqlmigrate_marker, 2);
		down->split = SPLIT_STATEMENT_BLOCKS;
		layout_add_script(set, up, MIGRATION_VERSIONED, pstrdup(f->name), description);
		layout_add_script(set, down, MIGRATION_UNDO, pstrdup(f->name), description);
	}
}

/* sql-migrate reads the .sql files at the top of the directory, no others */
static const char *
sql_migrate_ignores(LayoutDir *dir, const SourceFile *f)
{
	if (strchr(f->name, '/') != NULL)
		return "sql-migrate reads only the files at the top of the migration directory";
	if (!layout_has_suffix(f->name, ".sql") || strcmp(f->name + strlen(f->name) - 4, ".sql") != 0)
		return "sql-migrate reads only files whose names end in \".sql\"";
	return NULL;
}

/* the down section of the same file */
static char *
sql_migrate_undo_name(const MigrationScript *s)
{
	return psprintf("a \"-- +migrate Down\" section at the end of %s", s->name);
}

/* migrate.adopt: the tool's history table (adopt.c) */
/*
 * sql-migrate's gorp_migrations: one row per applied file, id its name
 * (what this layout takes as the version), in the order applied.  A
 * checksum column that forks of sql-migrate add is not ours: not read.
 */
static void
rows_sql_migrate(Adoption *a)
{
	uint64		i;

	adopt_query(psprintf("SELECT id::pg_catalog.text, applied_at::pg_catalog.timestamptz FROM %s "
						 "ORDER BY applied_at, id", a->table), 0, NULL);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *id = adopt_value(i, 1);
		AdoptRow   *r;

		CHECK_FOR_INTERRUPTS();
		if (id == NULL || *id == '\0' || strchr(id, '/') != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sql-migrate history table %s has an id that is no file name: \"%s\"",
							a->table, id ? id : ""),
					 errhint("sql-migrate records the name of each migration file it applied.")));
		r = adopt_new_row(a, id, "versioned", NULL, NULL);
		if (r->script == NULL)
		{
			r->script = id;
			r->description = layout_sql_migrate_description(id);
		}
		adopt_set_installed_on(r, i, 2);
	}
}

const LayoutAdopt adopt_sql_migrate = {
	.table = "gorp_migrations",
	.columns = "id, applied_at",
	.needs_dir = NULL,
	.rows = rows_sql_migrate
};

const Layout layout_sql_migrate = {
	.name = "sql-migrate",
	.claims = sql_migrate_claims,
	.build = sql_migrate_build,
	.naming_hint = "sql-migrate migrations are the .sql files at the top of the directory, "
	"each with a \"-- +migrate Up\" line; a file without one is never skipped.",
	.order = sql_migrate_order,
	.ignores = sql_migrate_ignores,
	.undo_name = sql_migrate_undo_name,
	.adopt = &adopt_sql_migrate
};
