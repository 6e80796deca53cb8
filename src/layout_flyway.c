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
 *	  <event>[__<description>].sql    a callback (callbacks.c), no migration
 *
 * A callback of an event migrate runs is set apart; one of Flyway's other
 * events is ignored with a NOTICE; "aftermigrate.sql" is misnamed, and
 * meant "afterMigrate.sql".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/pg_crc.h"
#include "utils/builtins.h"

#include "adopt.h"
#include "callbacks.h"
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

/*
 * The callback name a misnamed file probably meant: its event's name in
 * another case ("aftermigrate.sql", "AFTERMIGRATE__grants.sql"), or NULL.
 */
static char *
callback_suggest(const char *name)
{
	const char *base = layout_base_name(name);
	size_t		len = strcspn(base, ".");
	const char *sep = strstr(base, "__");
	int			e;

	if (sep && sep - base < (ptrdiff_t) len)
		len = sep - base;
	for (e = CALLBACK_BEFORE_MIGRATE; e <= CALLBACK_AFTER_VALIDATE; e++)
	{
		const char *ev = callback_event_name((CallbackEvent) e);

		if (strlen(ev) == len && pg_strncasecmp(base, ev, len) == 0)
		{
			const char *rest = base + len;
			const char *dot = strrchr(rest, '.');

			return psprintf("%.*s%s%.*s.sql", (int) (base - name), name, ev,
							(int) (dot ? dot - rest : (ptrdiff_t) strlen(rest)), rest);
		}
	}
	return NULL;
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
	if ((meant = callback_suggest(name)) != NULL)
		return strcmp(meant, name) != 0 ? meant : NULL;
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

/* Flyway's callbacks of the events migrate runs: set apart, not migrations */
static bool
flyway_callback(SourceFile *f, ScriptSet *set)
{
	CallbackEvent event;
	char	   *description;
	ScriptCallback *cb;
	MigrationScript *s;

	if (!callback_parse(layout_base_name(f->name), &event, &description))
		return false;
	s = palloc0(sizeof(MigrationScript));
	s->file = f;
	s->name = f->name;
	s->path = f->path;
	s->description = description ? description : "";
	cb = palloc(sizeof(ScriptCallback));
	cb->event = event;
	cb->script = s;
	set->callbacks = lappend(set->callbacks, cb);
	return true;
}

/* Flyway's callbacks of other events: Flyway would run them, migrate does not */
static const char *
flyway_ignores(LayoutDir *dir, const SourceFile *f)
{
	return callback_not_run(layout_base_name(f->name));
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

/* migrate.adopt: the tool's history table (adopt.c) */
/*
 * Flyway's checksum of a script: CRC-32 over its lines without their
 * terminators (Flyway reads lines, so CR, LF and CRLF all end one), BOM
 * dropped, as a signed 32-bit integer.
 */
static int32
flyway_checksum(const SourceFile *f)
{
	ScriptReader *r = reader_open(f);
	char	   *buf = palloc(READER_CHUNK + 1);
	pg_crc32	crc;
	size_t		n;

	INIT_TRADITIONAL_CRC32(crc);
	while ((n = reader_read(r, buf)) > 0)
	{
		size_t		i = 0;

		buf[n] = '\0';			/* the reader refuses NUL bytes in scripts */
		while (i < n)
		{
			size_t		run = strcspn(buf + i, "\r\n");

			COMP_TRADITIONAL_CRC32(crc, buf + i, run);
			i += run;
			while (i < n && (buf[i] == '\r' || buf[i] == '\n'))
				i++;
		}
	}
	FIN_TRADITIONAL_CRC32(crc);
	reader_close(r, NULL);
	pfree(buf);
	return (int32) crc;
}

/* a Flyway repeatable row: adopted when the file is what Flyway last ran */
static void
adopt_flyway_repeatable(Adoption *a, const char *script, bool checksum_null, int32 checksum,
						uint64 i)
{
	ListCell   *lc;

	foreach(lc, a->set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);
		AdoptRow   *r;

		if (s->kind != MIGRATION_REPEATABLE ||
			(strcmp(s->name, script) != 0 &&
			 strcmp(layout_base_name(s->name), layout_base_name(script)) != 0))
			continue;
		if (checksum_null || flyway_checksum(s->file) != checksum)
			return;				/* changed since: apply runs it, as Flyway would */
		r = adopt_new_row(a, NULL, "repeatable", pstrdup(s->description), s->name);
		r->checksum = palloc(MIGRATE_CHECKSUM_LEN);
		reader_checksum(s->file, r->checksum, &s->size, NULL);
		r->installed_by = adopt_value(i, 7);
		adopt_set_installed_on(r, i, 8);
		return;
	}
}

/* flyway_schema_history, replayed */
static void
rows_flyway(Adoption *a)
{
	List	   *applied = NIL;	/* AdoptRow * by version, as replayed */
	AdoptRow   *baseline = NULL;
	List	   *repeatable = NIL;	/* uint64 row numbers: the latest per script */
	ListCell   *lc;
	uint64		i;
	int			skipped = 0;

	adopt_query(psprintf("SELECT installed_rank, version, description, type, script, checksum, "
				   "installed_by, installed_on::pg_catalog.timestamptz, execution_time "
				   "FROM %s WHERE success ORDER BY installed_rank", a->table), 0, NULL);

	for (i = 0; i < SPI_processed; i++)
	{
		char	   *raw = adopt_value(i, 2);
		char	   *type = adopt_value(i, 4) ? adopt_value(i, 4) : "";
		char	   *version;
		ListCell   *prev = NULL;
		AdoptRow   *r;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		if (raw == NULL)
		{
			/* a repeatable script: keep only its latest run */
			char	   *script = adopt_value(i, 5);

			if (script == NULL)
				continue;
			foreach(lc, repeatable)
				if (strcmp(adopt_value(lfirst_int(lc), 5), script) == 0)
					prev = lc;
			if (prev)
				lfirst_int(prev) = (int) i;
			else
				repeatable = lappend_int(repeatable, (int) i);
			continue;
		}
		if (strcmp(type, "SCHEMA") == 0)
			continue;			/* "<< Flyway Schema Creation >>" */

		version = adopt_version(a, raw, strlen(raw));
		if (strcmp(type, "BASELINE") == 0)
		{
			baseline = palloc0(sizeof(AdoptRow));
			baseline->version = version;
			baseline->type = "baseline";
			baseline->description = adopt_value(i, 3);
			baseline->installed_by = adopt_value(i, 7);
			baseline->execution_ms = -1;
			adopt_set_installed_on(baseline, i, 8);
			continue;
		}

		foreach(lc, applied)
			if (version_cmp(((AdoptRow *) lfirst(lc))->version, version) == 0)
				prev = lc;
		if (strncmp(type, "UNDO_", 5) == 0 || strcmp(type, "DELETE") == 0)
		{
			/* undone, or marked deleted by flyway repair */
			if (prev)
				applied = list_delete_ptr(applied, lfirst(prev));
			continue;
		}
		if (prev)
			continue;

		r = palloc0(sizeof(AdoptRow));
		r->version = version;
		r->type = "versioned";
		r->description = adopt_value(i, 3);
		r->script = adopt_value(i, 5);
		r->installed_by = adopt_value(i, 7);
		adopt_set_installed_on(r, i, 8);
		r->execution_ms = DatumGetInt32(adopt_binvalue(i, 9, &isnull));
		if (isnull)
			r->execution_ms = -1;
		applied = lappend(applied, r);
	}

	if (baseline)
		a->rows = lappend(a->rows, baseline);
	a->rows = list_concat(a->rows, applied);

	/* repeatables: only with the files, to compare Flyway's checksums */
	foreach(lc, repeatable)
	{
		uint64		row = (uint64) lfirst_int(lc);
		bool		isnull;
		int32		checksum = DatumGetInt32(adopt_binvalue(row, 6, &isnull));

		if (a->set == NULL)
			skipped++;
		else
			adopt_flyway_repeatable(a, adopt_value(row, 5), isnull, checksum, row);
	}
	if (skipped > 0)
		ereport(NOTICE,
				(errmsg("%d repeatable migration(s) of Flyway not adopted", skipped),
				 errdetail("Without dir, their files cannot be compared with the checksums Flyway recorded."),
				 errhint("Adopt with dir => '...', or let the next apply run them once.")));
}

const LayoutAdopt adopt_flyway = {
	.table = "flyway_schema_history",
	.columns = "installed_rank, version, description, type, script, checksum, installed_by, installed_on, "
	"execution_time, success",
	.needs_dir = NULL,
	.rows = rows_flyway
};

const Layout layout_flyway = {
	.name = "flyway",
	.claims = flyway_claims,
	.build = flyway_build,
	.naming_hint = "Name versioned migrations V<version>__<description>.sql, undo scripts "
	"U<version>__<description>.sql and repeatable ones R__<description>.sql; "
	"a misnamed file is never skipped.",
	.ignores = flyway_ignores,
	.callback = flyway_callback,
	.suggest = flyway_suggest,
	.undo_name = flyway_undo_name,
	.adopt = &adopt_flyway
};
