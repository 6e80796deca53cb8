/*-------------------------------------------------------------------------
 *
 * layout_prisma.c
 *	  Prisma Migrate's folders: one per migration, with migration.sql.
 *
 *	  20240131120000_init/migration.sql   versioned
 *	  20240131120000_init/down.sql        its undo script, if written
 *	  migration_lock.toml                 marks the directory as prisma's
 *
 * The folder name is <version>_<name>, <version> the leading digits (a
 * UTC timestamp).  Prisma writes no down migrations itself; its guide to
 * down migrations has one generated with "prisma migrate diff" and saved
 * as down.sql next to migration.sql, which is read as the undo script.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "layouts.h"

/*
 * The version and description of a folder <digits>_<name>, the part of
 * name before its last '/'.  False if it is not such a folder.
 */
static bool
parse_prisma_folder(const char *name, char **folder, char **version, char **description)
{
	const char *base = layout_base_name(name);
	const char *start;
	size_t		digits;

	if (base == name)
		return false;
	*folder = pnstrdup(name, base - 1 - name);
	start = layout_base_name(*folder);
	digits = layout_digits(start);
	if (digits == 0 || start[digits] != '_' || start[digits + 1] == '\0')
		return false;
	*version = version_normalize(start, digits);
	*description = layout_description(start + digits + 1, strlen(start + digits + 1));
	return true;
}

/* migration.sql, or down.sql next to one, in a folder; migration_lock.toml */
static bool
prisma_claims(LayoutDir *dir, const SourceFile *f)
{
	if (strcmp(f->name, "migration_lock.toml") == 0)
		return true;
	return layout_folder_claims(dir, f, parse_prisma_folder, "migration.sql", "down.sql");
}

static void
prisma_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	layout_folder_build(files, set, parse_prisma_folder, "migration.sql");
}

const Layout layout_prisma = {
	.name = "prisma",
	.claims = prisma_claims,
	.build = prisma_build,
	.naming_hint = "Prisma migrations are folders <timestamp>_<name> holding migration.sql "
	"(and down.sql to undo it); a misnamed file is never skipped."
};
