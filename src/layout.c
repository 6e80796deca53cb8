/*-------------------------------------------------------------------------
 *
 * layout.c
 *	  File names -> kind, version and description; version order.
 *
 * Flyway's names are the default layout:
 *	  V<version>__<description>.sql   versioned, applied once in order
 *	  U<version>__<description>.sql   undoes the versioned one of that version
 *	  R__<description>.sql            repeatable
 * <version> is digits separated by '.' or '_' ("1", "1.2", "2_1",
 * "20240131120000"); it is normalized to its numeric parts joined by '.',
 * without leading zeros or trailing zero parts, so "01" is "1" and "1.0"
 * is "1": two files whose versions normalize alike are duplicates.
 * Versions compare numerically part by part, of any length (no overflow).
 * <description> reads '_' as a space.  Any other name ending in .sql is
 * misnamed and reported; other files are not scripts.
 *
 * This file touches no database.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "layout.h"

/*
 * Normalize raw[0..len) as a version; NULL if it is not one.
 */
char *
version_normalize(const char *raw, size_t len)
{
	StringInfoData buf;
	size_t		i = 0;
	int			keep = 0;		/* buf length up to the last non-zero part */
	char	   *result;

	if (len == 0)
		return NULL;

	initStringInfo(&buf);
	while (i < len)
	{
		size_t		start = i;

		while (i < len && raw[i] >= '0' && raw[i] <= '9')
			i++;
		if (i == start)
			return NULL;		/* empty part: "1..2", ".1", "1." */

		/* strip leading zeros, keep one digit */
		while (start < i - 1 && raw[start] == '0')
			start++;

		if (buf.len > 0)
			appendStringInfoChar(&buf, '.');
		appendBinaryStringInfo(&buf, raw + start, i - start);
		if (!(i - start == 1 && raw[start] == '0'))
			keep = buf.len;

		if (i < len)
		{
			if (raw[i] != '.' && raw[i] != '_')
				return NULL;
			i++;
			if (i == len)
				return NULL;
		}
	}

	/* trailing zero parts do not count: 1.0 is 1; 0 stays 0 */
	if (keep == 0)
		keep = 1;

	/*
	 * Return a copy of the exact size: every file of a directory has a
	 * version, and the buffer is 1 kB.  Freed, it is reused for the next.
	 */
	result = pnstrdup(buf.data, keep);
	pfree(buf.data);
	return result;
}

/* a version given by a user (target =>): normalized, or an error */
char *
version_check(const char *raw)
{
	const char *p = raw;
	char	   *v;

	/* accept "V3" as well as "3" */
	if (*p == 'V' || *p == 'v')
		p++;
	v = version_normalize(p, strlen(p));
	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid migration version \"%s\"", raw),
				 errhint("A version is digits separated by \".\" or \"_\", such as 3 or 1.2.")));
	return v;
}

/* compare two normalized versions numerically, part by part */
int
version_cmp(const char *a, const char *b)
{
	for (;;)
	{
		size_t		la = strcspn(a, ".");
		size_t		lb = strcspn(b, ".");
		int			c;

		if (la != lb)
			return la < lb ? -1 : 1;
		c = strncmp(a, b, la);
		if (c != 0)
			return c < 0 ? -1 : 1;
		a += la;
		b += lb;
		if (*a == '\0' || *b == '\0')
		{
			/* a prefix sorts first: 1 < 1.1 */
			if (*a == *b)
				return 0;
			return *a == '\0' ? -1 : 1;
		}
		a++;
		b++;
	}
}

/* description from a file name part: '_' reads as a space */
static char *
description_from(const char *s, size_t len)
{
	char	   *d = pnstrdup(s, len);
	char	   *p;

	for (p = d; *p; p++)
		if (*p == '_')
			*p = ' ';
	return d;
}

/*
 * Parse one Flyway name (the last path component).  Returns false if the
 * name fits no pattern.
 */
static bool
parse_flyway_name(const char *base, MigrationScript *s)
{
	size_t		len = strlen(base);
	const char *sep;

	if (len < 4 || strcmp(base + len - 4, ".sql") != 0)
		return false;
	len -= 4;

	if (base[0] == 'R' && len > 3 && strncmp(base, "R__", 3) == 0)
	{
		s->kind = MIGRATION_REPEATABLE;
		s->version = NULL;
		s->description = description_from(base + 3, len - 3);
		return true;
	}

	if (base[0] != 'V' && base[0] != 'U')
		return false;
	sep = strstr(base + 1, "__");
	if (sep == NULL || sep - base > (ptrdiff_t) len || sep + 2 - base >= (ptrdiff_t) len)
		return false;
	s->version = version_normalize(base + 1, sep - (base + 1));
	if (s->version == NULL)
		return false;
	s->kind = base[0] == 'V' ? MIGRATION_VERSIONED : MIGRATION_UNDO;
	s->description = description_from(sep + 2, len - (sep + 2 - base));
	return true;
}

static int
compare_scripts(const ListCell *a, const ListCell *b)
{
	const MigrationScript *sa = (const MigrationScript *) lfirst(a);
	const MigrationScript *sb = (const MigrationScript *) lfirst(b);

	/* versioned and undo by version, repeatable after them by name */
	if ((sa->version == NULL) != (sb->version == NULL))
		return sa->version == NULL ? 1 : -1;
	if (sa->version != NULL)
	{
		int			c = version_cmp(sa->version, sb->version);

		if (c != 0)
			return c;
		if (sa->kind != sb->kind)
			return sa->kind < sb->kind ? -1 : 1;
	}
	return strcmp(sa->name, sb->name);
}

/*
 * Classify the files of a directory.  Files whose names do not end in
 * .sql are not scripts and are left out; .sql files fitting no pattern
 * are collected as misnamed.
 */
ScriptSet *
layout_classify(List *files)
{
	ScriptSet  *set = palloc0(sizeof(ScriptSet));
	ListCell   *lc;

	foreach(lc, files)
	{
		SourceFile *f = (SourceFile *) lfirst(lc);
		const char *base = strrchr(f->name, '/');
		size_t		len;
		MigrationScript *s;

		base = base ? base + 1 : f->name;
		len = strlen(base);
		if (len < 4 || pg_strcasecmp(base + len - 4, ".sql") != 0)
			continue;

		s = palloc0(sizeof(MigrationScript));
		s->name = f->name;
		s->path = f->path;
		s->file = f;
		if (!parse_flyway_name(base, s))
		{
			set->misnamed = lappend(set->misnamed, f->name);
			pfree(s);
			continue;
		}
		set->scripts = lappend(set->scripts, s);
	}
	list_sort(set->scripts, compare_scripts);
	return set;
}
