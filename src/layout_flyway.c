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
 * A .sql file that fits no name is misnamed, never skipped; its error
 * says the name it probably meant: "V5_add.sql", "v5__add.sql",
 * "V5-add.sql" and "V5__add.SQL" all meant "V5__add.sql".
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

/* a separator a misnamed file put where "__" belongs */
static inline bool
is_separator(char c)
{
	return c == '_' || c == '-' || c == ' ' || c == '.';
}

/*
 * The Flyway name that name (a misnamed .sql file) probably meant, or
 * NULL: its prefix letter in upper case ('V' if it starts with the
 * version), the version, "__", the description, ".sql".
 */
static char *
flyway_suggest(const char *name)
{
	const char *base = layout_base_name(name);
	const char *dot = strrchr(base, '.');
	const char *p = base;
	const char *end;
	const char *vstart;
	char		kind;
	char	   *meant;
	MigrationKind k;
	char	   *v;
	char	   *d;

	if (dot == NULL || dot == base)
		return NULL;
	end = dot;
	if (*p >= '0' && *p <= '9')
		kind = 'V';
	else if (strchr("VvUuRr", *p) != NULL)
		kind = pg_ascii_toupper((unsigned char) *p++);
	else
		return NULL;

	if (kind == 'R')
	{
		while (p < end && is_separator(*p))
			p++;
		if (p == end)
			return NULL;
		meant = psprintf("%.*sR__%.*s.sql", (int) (base - name), name, (int) (end - p), p);
	}
	else
	{
		vstart = p;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		/* digits, and more digits after each '.' or '_' */
		for (;;)
		{
			while (p < end && *p >= '0' && *p <= '9')
				p++;
			if (p + 1 < end && (*p == '.' || *p == '_') && p[1] >= '0' && p[1] <= '9')
				p++;
			else
				break;
		}
		if (p == end || !is_separator(*p))
			return NULL;
		{
			const char *vend = p;

			while (p < end && is_separator(*p))
				p++;
			if (p == end)
				return NULL;
			meant = psprintf("%.*s%c%.*s__%.*s.sql", (int) (base - name), name, kind,
							 (int) (vend - vstart), vstart, (int) (end - p), p);
		}
	}
	/* only a name Flyway reads, and not the one the file has */
	if (strcmp(meant, name) == 0 || !parse_flyway_name(layout_base_name(meant), &k, &v, &d))
		return NULL;
	return meant;
}

/* the undo script of a versioned one: U<version>__<description>.sql beside it */
static char *
flyway_undo_name(const MigrationScript *s)
{
	const char *base = layout_base_name(s->name);
	char	   *name = pstrdup(s->name);

	name[base - s->name] = 'U';
	return name;
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
	"a misnamed file is never skipped.",
	.suggest = flyway_suggest,
	.undo_name = flyway_undo_name
};
