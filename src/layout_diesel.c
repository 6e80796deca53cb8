/*-------------------------------------------------------------------------
 *
 * layout_diesel.c
 *	  Diesel's folders: one per migration, with up.sql and down.sql.
 *
 *	  2024-01-31-120000_create_users/up.sql     versioned
 *	  2024-01-31-120000_create_users/down.sql   its undo script
 *
 * The folder name is <version>_<name>.  Diesel's version is everything
 * before the first '_', digits and dashes; like diesel itself (which
 * records 20240131120000 in __diesel_schema_migrations) the dashes are
 * dropped, so the version is one number and compares as diesel orders
 * its folders.  A down.sql is diesel's only next to an up.sql (prisma's
 * folders have a migration.sql instead).  Diesel's initial setup folder,
 * 00000000000000_diesel_initial_setup, has version 0.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "layouts.h"

/*
 * The version and description of a folder <version>_<name>, the part of
 * name before its last '/'.  False if it is not such a folder.
 */
static bool
parse_diesel_folder(const char *name, char **folder, char **version, char **description)
{
	const char *base = layout_base_name(name);
	const char *start;
	const char *p;
	StringInfoData digits;

	if (base == name)
		return false;			/* not in a folder */
	*folder = pnstrdup(name, base - 1 - name);
	start = layout_base_name(*folder);
	if (start[0] < '0' || start[0] > '9')
		return false;
	initStringInfo(&digits);
	for (p = start; (*p >= '0' && *p <= '9') || *p == '-'; p++)
		if (*p != '-')
			appendStringInfoChar(&digits, *p);
	if (*p != '_' || p[1] == '\0')
		return false;
	*version = version_normalize(digits.data, digits.len);
	*description = layout_description(p + 1, strlen(p + 1));
	return *version != NULL;
}

/* up.sql, or down.sql next to an up.sql, in a <version>_<name> folder */
static bool
diesel_claims(LayoutDir *dir, const SourceFile *f)
{
	return layout_folder_claims(dir, f, parse_diesel_folder, "up.sql", "down.sql");
}

static void
diesel_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	layout_folder_build(files, set, parse_diesel_folder, "up.sql");
}

const Layout layout_diesel = {
	.name = "diesel",
	.claims = diesel_claims,
	.build = diesel_build,
	.naming_hint = "Diesel migrations are folders <version>_<name> (such as "
	"2024-01-31-120000_create_users) holding up.sql and down.sql; a misnamed file is "
	"never skipped."
};
