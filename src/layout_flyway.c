/*-------------------------------------------------------------------------
 *
 * layout_flyway.c
 *	  Flyway's names, the default layout.
 *
 *	  V<version>__<description>.sql   versioned, applied once in order
 *	  U<version>__<description>.sql   undoes the versioned one of that version
 *	  R__<description>.sql            repeatable
 *
 * Every file with such a name, at any depth, is Flyway's.  <version> is
 * normalized by version_normalize; <description> reads '_' as a space.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "layouts.h"

/*
 * Parse a Flyway name (the last path component).  Returns false if the
 * name fits no pattern.
 */
static bool
parse_flyway_name(const char *base, MigrationKind *kind, char **version, char **description)
{
	size_t		len = strlen(base);
	const char *sep;

	if (len < 4 || strcmp(base + len - 4, ".sql") != 0)
		return false;
	len -= 4;

	if (base[0] == 'R' && len > 3 && strncmp(base, "R__", 3) == 0)
	{
		*kind = MIGRATION_REPEATABLE;
		*version = NULL;
		*description = layout_description(base + 3, len - 3);
		return true;
	}

	if (base[0] != 'V' && base[0] != 'U')
		return false;
	sep = strstr(base + 1, "__");
	if (sep == NULL || sep - base > (ptrdiff_t) len || sep + 2 - base >= (ptrdiff_t) len)
		return false;
	*version = version_normalize(base + 1, sep - (base + 1));
	if (*version == NULL)
		return false;
	*kind = base[0] == 'V' ? MIGRATION_VERSIONED : MIGRATION_UNDO;
	*description = layout_description(sep + 2, len - (sep + 2 - base));
	return true;
}

/* V1__x.sql, U1__x.sql, R__x.sql */
static bool
flyway_claims(LayoutDir *dir, const SourceFile *f)
{
	return layout_claims_by_name(parse_flyway_name, f);
}

static void
flyway_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	layout_build_by_name(parse_flyway_name, files, set);
}

const Layout layout_flyway = {
	.name = "flyway",
	.claims = flyway_claims,
	.build = flyway_build,
	.naming_hint = "Name versioned migrations V<version>__<description>.sql, undo scripts "
	"U<version>__<description>.sql and repeatable ones R__<description>.sql; "
	"a misnamed file is never skipped."
};
