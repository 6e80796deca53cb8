/*-------------------------------------------------------------------------
 *
 * layout_timestamped.c
 *	  Timestamped pairs: <YYYYMMDD_HHMMSS>_<name>.sql and its rollback.
 *
 *	  20240131_120000_create_users.sql            versioned
 *	  20240131_120000_create_users_rollback.sql   its undo script
 *
 * The layout of hand-rolled migration runners (a Python or shell script
 * applying files in name order).  The version is the timestamp's 14
 * digits, 20240131120000, the way dbmate, prisma and diesel versions read
 * (taken as Flyway reads "_", it would be the version 20240131.120000, and
 * 090000 would show as 90000).  A file with dbmate or node-pg-migrate
 * markers is theirs, not this layout's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "layouts.h"

#define TIMESTAMP_LEN 15		/* YYYYMMDD_HHMMSS */

/* parse a timestamped name; false if it is not one */
static bool
parse_timestamped_name(const char *base, MigrationKind *kind, char **version, char **description)
{
	size_t		len = strlen(base);
	size_t		name_len;

	if (layout_digits(base) != 8 || base[8] != '_' || layout_digits(base + 9) != 6 ||
		base[TIMESTAMP_LEN] != '_' || !layout_has_suffix(base, ".sql") ||
		len <= TIMESTAMP_LEN + 1 + 4)
		return false;
	name_len = len - TIMESTAMP_LEN - 1 - 4;
	*kind = MIGRATION_VERSIONED;
	if (name_len > 9 && pg_strncasecmp(base + TIMESTAMP_LEN + 1 + name_len - 9, "_rollback", 9) == 0)
	{
		*kind = MIGRATION_UNDO;
		name_len -= 9;
	}
	*version = version_normalize(psprintf("%.8s%.6s", base, base + 9), 14);
	*description = layout_description(base + TIMESTAMP_LEN + 1, name_len);
	return true;
}

/* x_rollback.sql beside x.sql */
static char *
timestamped_undo_name(const MigrationScript *s)
{
	return psprintf("%.*s_rollback.sql", (int) (strlen(s->name) - 4), s->name);
}

static bool
timestamped_claims(LayoutDir *dir, const SourceFile *f)
{
	return layout_claims_by_name(parse_timestamped_name, f) && !sections_any_marker(dir, f);
}

static void
timestamped_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	layout_build_by_name(parse_timestamped_name, files, set);
}

const Layout layout_timestamped = {
	.name = "timestamped",
	.claims = timestamped_claims,
	.build = timestamped_build,
	.naming_hint = "Timestamped migrations are named <YYYYMMDD_HHMMSS>_<name>.sql, their "
	"undo scripts <YYYYMMDD_HHMMSS>_<name>_rollback.sql; a misnamed file is never skipped.",
	.undo_name = timestamped_undo_name
};
