/*-------------------------------------------------------------------------
 *
 * layout_prisma.c
 *	  Prisma Migrate's folders: one per migration, with migration.sql.
 *
 *	  20240131120000_init/migration.sql   versioned
 *	  20240131120000_init/down.sql        its undo script, if written
 *	  migration_lock.toml                 marks the directory as prisma's
 *
 * Prisma identifies a migration by its whole folder name (what it records
 * in _prisma_migrations.migration_name) and applies the folders in the
 * byte order of their names, so two folders may share a timestamp
 * (20240101000000_a, 20240101000000_b).  Here too the folder name is the
 * migration's version, and versions sort as byte strings.  A bare number,
 * as a user types a target or a baseline, stands for every folder whose
 * name starts with that timestamp.  The description is the name after
 * the timestamp.  Before 1.1, the version was the leading digits: a
 * history row that recorded the leading digits of a folder whose
 * migration.sql (or down.sql) it names still counts for that folder
 * (MigrationScript.legacy_version, plan.c).
 *
 * Prisma writes no down migrations itself; its guide to down migrations
 * has one generated with "prisma migrate diff" and saved as down.sql next
 * to migration.sql, which is read as the undo script.  Prisma reads
 * nothing but the migration.sql of each folder: any other .sql file (a
 * loose one beside the folders) is ignored, with a NOTICE.
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
	*version = pstrdup(start);
	*description = layout_description(start + digits + 1, strlen(start + digits + 1));
	return true;
}

/*
 * Prisma's order: folder names as byte strings.  A bare number (a target
 * a user typed, a baseline) equals the names that start with it and a
 * non-digit.
 */
static int
prisma_order(const char *a, const char *b)
{
	int			c;

	if (layout_is_number(a) != layout_is_number(b))
	{
		const char *num = layout_is_number(a) ? a : b;
		const char *name = num == a ? b : a;
		size_t		n = strlen(num);

		if (strncmp(num, name, n) == 0 && !(name[n] >= '0' && name[n] <= '9'))
			return 0;
	}
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0 ? 1 : 0;
}

/* migration.sql, or down.sql next to one, in a folder; migration_lock.toml */
static bool
prisma_claims(LayoutDir *dir, const SourceFile *f)
{
	if (strcmp(f->name, "migration_lock.toml") == 0)
		return true;
	return layout_folder_claims(dir, f, parse_prisma_folder, "migration.sql", "down.sql");
}

/* migration.sql is versioned, down.sql its undo; their 1.0 version noted */
static void
prisma_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	ListCell   *lc;

	foreach(lc, files)
	{
		SourceFile *f = (SourceFile *) lfirst(lc);
		char	   *folder;
		MigrationScript *s;

		s = layout_add_folder_script(set, f, parse_prisma_folder, "migration.sql", &folder);
		if (s != NULL)
			s->legacy_version = version_normalize(s->version, layout_digits(s->version));
	}
}

/* Prisma reads the migration.sql of each folder and nothing else */
static const char *
prisma_ignores(LayoutDir *dir, const SourceFile *f)
{
	return "Prisma reads only the migration.sql of each migration folder";
}

/* down.sql beside migration.sql */
static char *
prisma_undo_name(const MigrationScript *s)
{
	return layout_sibling_name(s, "down.sql");
}

const Layout layout_prisma = {
	.name = "prisma",
	.claims = prisma_claims,
	.build = prisma_build,
	.naming_hint = "Prisma migrations are folders <timestamp>_<name> holding migration.sql "
	"(and down.sql to undo it).",
	.order = prisma_order,
	.ignores = prisma_ignores,
	.undo_name = prisma_undo_name
};
