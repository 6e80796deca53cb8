/*-------------------------------------------------------------------------
 *
 * layout_golang.c
 *	  golang-migrate's names.
 *
 *	  <version>_<name>.up.sql     versioned
 *	  <version>_<name>.down.sql   its undo script
 *
 * <version> is the leading digits (golang-migrate's "-seq" numbers such as
 * 000001, or timestamps), normalized like any version; <name> reads '_' as
 * a space.  Files are golang-migrate's at any depth.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "adopt.h"
#include "layouts.h"

/* parse <digits>_<name>.up.sql or .down.sql; false if the name is not one */
static bool
parse_golang_name(const char *base, MigrationKind *kind, char **version, char **description)
{
	size_t		digits = layout_digits(base);
	size_t		len = strlen(base);
	size_t		suffix;

	if (digits == 0 || base[digits] != '_')
		return false;
	if (layout_has_suffix(base, ".up.sql"))
	{
		*kind = MIGRATION_VERSIONED;
		suffix = strlen(".up.sql");
	}
	else if (layout_has_suffix(base, ".down.sql"))
	{
		*kind = MIGRATION_UNDO;
		suffix = strlen(".down.sql");
	}
	else
		return false;
	if (len < digits + 1 + suffix)
		return false;
	*version = version_normalize(base, digits);
	*description = layout_description(base + digits + 1, len - suffix - digits - 1);
	return true;
}

static bool
golang_claims(LayoutDir *dir, const SourceFile *f)
{
	return layout_claims_by_name(parse_golang_name, f);
}

static void
golang_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	layout_build_by_name(parse_golang_name, files, set);
}

/* migrate.adopt: the tool's history table (adopt.c) */
/* golang-migrate's schema_migrations: the version the database is at */
static void
rows_golang(Adoption *a)
{
	char	   *at;
	bool		isnull;
	ListCell   *lc;

	adopt_query(psprintf("SELECT version::pg_catalog.text, dirty FROM %s "
				   "ORDER BY version DESC LIMIT 1", a->table), 0, NULL);
	if (SPI_processed == 0 || adopt_value(0, 1) == NULL)
		return;					/* nothing applied yet */
	at = adopt_version(a, adopt_value(0, 1), strlen(adopt_value(0, 1)));
	if (DatumGetBool(adopt_binvalue(0, 2, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("golang-migrate left version %s dirty", at),
				 errdetail("Migration %s failed part-way under golang-migrate, so %s does not say "
						   "what is applied.", at, a->table),
				 errhint("Repair the database, run \"migrate force %s\" (or the version before "
						 "it), then adopt.", at)));
	if (adopt_script_of(a, at) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("golang-migrate's version %s has no migration in \"%s\"", at, a->dir),
				 errhint("Pass the directory golang-migrate ran from.")));
	foreach(lc, a->set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);

		if (s->kind == MIGRATION_VERSIONED && version_cmp(s->version, at) <= 0)
			adopt_new_row(a, (char *) s->version, "versioned", NULL, NULL);
	}
}

const LayoutAdopt adopt_golang_migrate = {
	.table = "schema_migrations",
	.columns = "version, dirty",
	.needs_dir = "golang-migrate records only the version the database is at; "
	"the files say which migrations that includes.",
	.rows = rows_golang
};

const Layout layout_golang_migrate = {
	.name = "golang-migrate",
	.claims = golang_claims,
	.build = golang_build,
	.naming_hint = "golang-migrate files are named <version>_<name>.up.sql and "
	"<version>_<name>.down.sql; a misnamed file is never skipped.",
	.adopt = &adopt_golang_migrate
};
