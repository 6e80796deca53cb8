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
 * dropped, and diesel orders versions as strings, so here too: projects
 * mix diesel's formats (20140924113530_x, 2024-02-12-120203_x,
 * 2026-07-30-140000-0000_x, 18 digits), and compared as numbers the
 * longer one would come last and call a newer folder out of order.  The
 * version keeps its leading zeros, as diesel's does: its initial setup
 * folder, 00000000000000_diesel_initial_setup, has version
 * 00000000000000 (before 1.1 the version was normalized, 0 for it; a
 * history row with that version still counts for the folder whose script
 * it names, see plan.c).  A down.sql is diesel's only next to an up.sql
 * (prisma's folders have a migration.sql instead).
 *
 * Diesel reads nothing but the up.sql and down.sql of its folders: a
 * loose .sql file beside them is ignored, with a NOTICE.  A folder's
 * metadata.toml with "run_in_transaction = false" makes both its scripts
 * run outside a transaction, as diesel runs them (nontx.c).
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
	if (*p != '_' || p[1] == '\0' || digits.len == 0)
		return false;
	*version = digits.data;
	*description = layout_description(p + 1, strlen(p + 1));
	return true;
}

/*
 * Diesel's order: versions as strings.  Versions of zeros only are all
 * the same version (a target of 0, the initial setup recorded before 1.1).
 */
static int
diesel_order(const char *a, const char *b)
{
	int			c;

	if (a[strspn(a, "0")] == '\0' && b[strspn(b, "0")] == '\0')
		return 0;
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0 ? 1 : 0;
}

/*
 * Does a folder's metadata.toml say run_in_transaction = false?  Read as
 * diesel reads the key: at the top level of the file (before any [table]
 * header), a boolean; comments after '#'.
 */
static bool
no_transaction(SourceFile *toml)
{
	size_t		len;
	char	   *text = reader_read_all(toml, &len, NULL);
	char	   *save = NULL;
	char	   *line;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		char	   *hash = strchr(line, '#');
		char	   *eq;
		char	   *key;
		char	   *val;

		if (hash)
			*hash = '\0';
		key = line + strspn(line, " \t\r");
		if (*key == '[')
			break;				/* a table: the keys after it are not top-level */
		eq = strchr(key, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		val = eq + 1 + strspn(eq + 1, " \t\r");
		key[strcspn(key, " \t\r")] = '\0';
		val[strcspn(val, " \t\r")] = '\0';
		if (strcmp(key, "run_in_transaction") == 0)
			return strcmp(val, "false") == 0;
	}
	return false;
}

/* up.sql, or down.sql next to an up.sql, in a <version>_<name> folder */
static bool
diesel_claims(LayoutDir *dir, const SourceFile *f)
{
	return layout_folder_claims(dir, f, parse_diesel_folder, "up.sql", "down.sql");
}

/* up.sql is versioned, down.sql its undo; metadata.toml and 1.0's version noted */
static void
diesel_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	ListCell   *lc;

	foreach(lc, files)
	{
		SourceFile *f = (SourceFile *) lfirst(lc);
		char	   *folder;
		MigrationScript *s;
		SourceFile *toml;
		char	   *legacy;

		s = layout_add_folder_script(set, f, parse_diesel_folder, "up.sql", &folder);
		if (s == NULL)
			continue;
		legacy = version_normalize(s->version, strlen(s->version));
		if (strcmp(legacy, s->version) != 0)
			s->legacy_version = legacy;
		toml = layout_find_file(dir, psprintf("%s/metadata.toml", folder));
		if (toml && no_transaction(toml))
			s->nontx_marker = psprintf("run_in_transaction = false in %s/metadata.toml", folder);
	}
}

/* diesel reads up.sql and down.sql in its folders, nothing else */
static const char *
diesel_ignores(LayoutDir *dir, const SourceFile *f)
{
	if (strchr(f->name, '/') == NULL)
		return "diesel reads only migration folders, <version>_<name>/up.sql and down.sql, "
			"not files beside them";
	return "diesel reads only the up.sql and down.sql of each migration folder";
}

/* down.sql beside up.sql */
static char *
diesel_undo_name(const MigrationScript *s)
{
	return layout_sibling_name(s, "down.sql");
}

const Layout layout_diesel = {
	.name = "diesel",
	.claims = diesel_claims,
	.build = diesel_build,
	.naming_hint = "Diesel migrations are folders <version>_<name> (such as "
	"2024-01-31-120000_create_users) holding up.sql and down.sql.",
	.order = diesel_order,
	.ignores = diesel_ignores,
	.undo_name = diesel_undo_name
};
