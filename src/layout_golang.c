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

/* x.down.sql beside x.up.sql */
static char *
golang_undo_name(const MigrationScript *s)
{
	size_t		len = strlen(s->name);

	if (!layout_has_suffix(s->name, ".up.sql"))
		return NULL;
	return psprintf("%.*s.down.sql", (int) (len - strlen(".up.sql")), s->name);
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

const Layout layout_golang_migrate = {
	.name = "golang-migrate",
	.claims = golang_claims,
	.build = golang_build,
	.naming_hint = "golang-migrate files are named <version>_<name>.up.sql and "
	"<version>_<name>.down.sql; a misnamed file is never skipped.",
	.undo_name = golang_undo_name
};
