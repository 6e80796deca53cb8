/*-------------------------------------------------------------------------
 *
 * layout.c
 *	  Which layout a directory uses; versions and their order.
 *
 * A directory is read the way the tool that wrote it reads it.  Each
 * layout has a parser, layout_<tool>.c, whose claims() recognises the
 * tool's files:
 *	  layout_flyway.c        V1__x.sql, U1__x.sql, R__x.sql (the default)
 *	  layout_golang.c        1_x.up.sql, 1_x.down.sql
 *	  layout_dbmate.c        1_x.sql with "-- migrate:up" / "-- migrate:down"
 *	  layout_node_pg.c       1_x.sql with "-- Up Migration" / "-- Down Migration"
 *	  layout_timestamped.c   20240131_120000_x.sql, ..._x_rollback.sql
 *	  layout_diesel.c        2024-01-31-120000_x/up.sql, down.sql
 *	  layout_prisma.c        20240131120000_x/migration.sql (down.sql)
 *	  layout_drizzle.c       0000_x.sql, meta/_journal.json
 *	  layout_sqitch.c        sqitch.plan, deploy/x.sql, revert/x.sql
 *	  layout_sql_migrate.c   any x.sql with "-- +migrate Up" / "-- +migrate Down"
 * The markers that tell dbmate and node-pg-migrate files (and the plain
 * files of the other <digits>_<name>.sql layouts) apart are found by
 * layout_sections.c.
 *
 * Detection: every file of the directory is offered to every layout.  The
 * directory's layout is the one that claims all claimed files: files of
 * two layouts that no single layout claims together are an error naming
 * one file of each ("mixes layouts"), and files that two layouts claim
 * equally are an error naming them ("ambiguous").  A directory with no
 * claimed file is read as Flyway's.  A .sql file that no layout claims is
 * misnamed, reported with the naming rules of the detected layout and the
 * name it probably meant, unless its name or a directory on its path
 * starts with '_' ("_common.sql", "_include/grants.sql"): that is a file
 * for \i and \ir, which read only .sql files, and it is left alone.  A
 * layout whose tool passes over such a file without a word (a file the
 * Drizzle journal does not list, a loose file beside diesel's folders)
 * says so instead (Layout.ignores): the file is ignored, with a NOTICE,
 * and never run.  Flyway's layout ignores only the callbacks of events
 * migrate does not run; the callbacks it runs (afterMigrate.sql, see
 * callbacks.c) it takes out of the unclaimed files (Layout.callback), so
 * they never take part in the detection and are never migrations.
 *
 * Versions: <version> is digits separated by '.' or '_' ("1", "1.2",
 * "2_1", "20240131120000"); it is normalized to its numeric parts joined
 * by '.', without leading zeros or trailing zero parts, so "01" is "1"
 * and "1.0" is "1": two files whose versions normalize alike are
 * duplicates.  Versions compare numerically part by part, of any length
 * (no overflow).  Each layout says how its names map to versions, and a
 * layout whose tool orders its migrations otherwise says how they sort
 * (Layout.order): diesel compares its versions as strings, and Prisma and
 * sql-migrate identify a migration by its folder or file name, which is
 * the version there.
 *
 * A layout whose tool kept a history table also says how migrate.adopt
 * imports it (Layout.adopt, adopt.h), beside its parser.
 *
 * This file, and every layout parser, touches no database (the adopt
 * parts read the old tool's table, called only by adopt.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "callbacks.h"
#include "layouts.h"

/*
 * Normalize raw[0..len) as a version; NULL if it is not one.
 */
char *
version_normalize(const char *raw, size_t len)
{
	char	   *buf;
	size_t		out = 0;
	size_t		i = 0;
	size_t		keep = 0;		/* length up to the last non-zero part */

	if (len == 0)
		return NULL;

	/*
	 * Written straight into a buffer of the raw length, which the result
	 * never exceeds (a separator for a separator, leading zeros dropped):
	 * every file of a directory has its name parsed, so no growing buffer.
	 */
	buf = palloc(len + 1);
	while (i < len)
	{
		size_t		start = i;

		while (i < len && raw[i] >= '0' && raw[i] <= '9')
			i++;
		if (i == start)
		{
			pfree(buf);
			return NULL;		/* empty part: "1..2", ".1", "1." */
		}

		/* strip leading zeros, keep one digit */
		while (start < i - 1 && raw[start] == '0')
			start++;

		if (out > 0)
			buf[out++] = '.';
		memcpy(buf + out, raw + start, i - start);
		out += i - start;
		if (!(i - start == 1 && raw[start] == '0'))
			keep = out;

		if (i < len)
		{
			if ((raw[i] != '.' && raw[i] != '_') || i + 1 == len)
			{
				pfree(buf);
				return NULL;
			}
			i++;
		}
	}

	/* trailing zero parts do not count: 1.0 is 1; 0 stays 0 */
	if (keep == 0)
		keep = 1;
	buf[keep] = '\0';
	return buf;
}

/* is v a numeric version (digits and dots), not a layout's name? */
bool
version_is_numeric(const char *v)
{
	return *v != '\0' && v[strspn(v, "0123456789.")] == '\0';
}

/*
 * A version given by a user for a directory (target =>, version =>):
 * normalized if it is numeric, else taken as a layout's name for a
 * migration (a Prisma folder, a sql-migrate file), which plan_check_version
 * checks once the directory's layout is known.
 */
char *
version_arg(const char *raw)
{
	const char *p = raw;
	char	   *v;

	if (*p == 'V' || *p == 'v')
		p++;
	v = version_normalize(p, strlen(p));
	if (v)
		return v;
	for (p = raw; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == '/')
			break;
	if (*raw == '\0' || *p != '\0' || p - raw > 1024)
		return version_check(raw);	/* the error */
	return pstrdup(raw);
}

/* compare two versions in a layout's order (numerically when order is NULL) */
int
layout_version_cmp(VersionOrder order, const char *a, const char *b)
{
	return order ? order(a, b) : version_cmp(a, b);
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

/*
 * Compare two normalized versions numerically, part by part: a longer part
 * is the larger number (normalized parts have no leading zeros), parts of
 * the same length compare as strings, and a prefix sorts first (1 < 1.1).
 * One pass over both, without measuring each part first: sorting and
 * matching 10 000 versions calls this a few hundred thousand times.
 */
int
version_cmp(const char *a, const char *b)
{
	for (;;)
	{
		int			c = 0;
		bool		end_a;
		bool		end_b;

		/* walk both parts together; c: their first differing byte */
		while (*a != '.' && *a != '\0' && *b != '.' && *b != '\0')
		{
			if (c == 0 && *a != *b)
				c = (unsigned char) *a < (unsigned char) *b ? -1 : 1;
			a++;
			b++;
		}
		end_a = (*a == '.' || *a == '\0');
		end_b = (*b == '.' || *b == '\0');
		if (end_a != end_b)
			return end_a ? -1 : 1;	/* a's part is shorter: smaller */
		if (c != 0)
			return c;
		if (*a == '\0' || *b == '\0')
		{
			if (*a == *b)
				return 0;
			return *a == '\0' ? -1 : 1;
		}
		a++;
		b++;
	}
}

/* the layouts, in the order their names appear in messages */
static const Layout *const all_layouts[] = {
	&layout_flyway,
	&layout_golang_migrate,
	&layout_dbmate,
	&layout_node_pg_migrate,
	&layout_timestamped,
	&layout_diesel,
	&layout_prisma,
	&layout_drizzle,
	&layout_sqitch,
	&layout_sql_migrate
};

#define NUM_LAYOUTS lengthof(all_layouts)

/* the layout of the tool called name (ASCII case ignored), or NULL */
const Layout *
layout_find(const char *name)
{
	int			i;

	for (i = 0; i < (int) NUM_LAYOUTS; i++)
		if (pg_strcasecmp(name, all_layouts[i]->name) == 0)
			return all_layouts[i];
	return NULL;
}

/* "flyway, dbmate and sqitch": the tools migrate.adopt can read */
char *
layout_adopt_names(void)
{
	StringInfoData buf;
	int			i;
	int			n = 0;
	int			k = 0;

	for (i = 0; i < (int) NUM_LAYOUTS; i++)
		n += all_layouts[i]->adopt != NULL;
	initStringInfo(&buf);
	for (i = 0; i < (int) NUM_LAYOUTS; i++)
	{
		if (all_layouts[i]->adopt == NULL)
			continue;
		if (k > 0)
			appendStringInfoString(&buf, k == n - 1 ? " and " : ", ");
		appendStringInfoString(&buf, all_layouts[i]->name);
		k++;
	}
	return buf.data;
}

/* the last component of a '/'-separated name */
const char *
layout_base_name(const char *name)
{
	const char *slash = strrchr(name, '/');

	return slash ? slash + 1 : name;
}

/* does s end with suffix (ASCII case ignored)? */
bool
layout_has_suffix(const char *s, const char *suffix)
{
	size_t		ls = strlen(s);
	size_t		lx = strlen(suffix);

	return ls >= lx && pg_strcasecmp(s + ls - lx, suffix) == 0;
}

/* how many ASCII digits s starts with */
size_t
layout_digits(const char *s)
{
	size_t		n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* is s all ASCII digits (and not empty)? */
bool
layout_is_number(const char *s)
{
	return *s != '\0' && s[layout_digits(s)] == '\0';
}

/* description from a file name part: '_' reads as a space */
char *
layout_description(const char *s, size_t len)
{
	char	   *d = pnstrdup(s, len);
	char	   *p;

	for (p = d; *p; p++)
		if (*p == '_')
			*p = ' ';
	return d;
}

static int
compare_file_name(const void *a, const void *b)
{
	const char *name = (const char *) a;
	const SourceFile *f = *(SourceFile *const *) b;

	return strcmp(name, f->name);
}

static int
compare_files(const void *a, const void *b)
{
	return strcmp((*(SourceFile *const *) a)->name, (*(SourceFile *const *) b)->name);
}

/* the file of the directory with this relative name, or NULL */
SourceFile *
layout_find_file(LayoutDir *dir, const char *name)
{
	SourceFile **found = bsearch(name, dir->files, dir->nfiles, sizeof(SourceFile *),
								 compare_file_name);

	return found ? *found : NULL;
}

/* does the last component of f's name parse as a script of this layout? */
bool
layout_claims_by_name(LayoutNameParser parse, const SourceFile *f)
{
	MigrationKind kind;
	char	   *version;
	char	   *description;

	return parse(layout_base_name(f->name), &kind, &version, &description);
}

/* one script per file whose name parses */
void
layout_build_by_name(LayoutNameParser parse, List *files, ScriptSet *set)
{
	ListCell   *lc;

	foreach(lc, files)
	{
		SourceFile *f = (SourceFile *) lfirst(lc);
		MigrationKind kind;
		char	   *version;
		char	   *description;

		if (parse(layout_base_name(f->name), &kind, &version, &description))
			layout_add_script(set, f, kind, version, description);
	}
}

/*
 * In a folder-per-migration layout, f is the folder's up script, or its
 * down script when the up script is beside it.
 */
bool
layout_folder_claims(LayoutDir *dir, const SourceFile *f, LayoutFolderParser parse,
					 const char *up_name, const char *down_name)
{
	const char *base = layout_base_name(f->name);
	char	   *folder;
	char	   *version;
	char	   *description;

	if (strcmp(base, up_name) != 0 && strcmp(base, down_name) != 0)
		return false;
	if (!parse(f->name, &folder, &version, &description))
		return false;
	return strcmp(base, up_name) == 0 ||
		layout_find_file(dir, psprintf("%s/%s", folder, up_name)) != NULL;
}

/*
 * The script of a folder-per-migration layout in f, whose folder parse
 * has named: the up script (up_name) is versioned, the other its undo.
 * NULL when f is not in such a folder.
 */
MigrationScript *
layout_add_folder_script(ScriptSet *set, SourceFile *f, LayoutFolderParser parse,
						 const char *up_name, char **folder)
{
	char	   *version;
	char	   *description;

	if (!parse(f->name, folder, &version, &description))
		return NULL;
	return layout_add_script(set, f,
							 strcmp(layout_base_name(f->name), up_name) == 0 ?
							 MIGRATION_VERSIONED : MIGRATION_UNDO,
							 version, description);
}

/* the name of the file called base in the folder of script s */
char *
layout_sibling_name(const MigrationScript *s, const char *base)
{
	const char *own = layout_base_name(s->name);

	return psprintf("%.*s%s", (int) (own - s->name), s->name, base);
}

/* a new script of set read from f */
MigrationScript *
layout_add_script(ScriptSet *set, SourceFile *f, MigrationKind kind,
				  char *version, char *description)
{
	MigrationScript *s = palloc0(sizeof(MigrationScript));

	s->file = f;
	s->name = f->name;
	s->path = f->path;
	s->kind = kind;
	s->version = version;
	s->description = description;
	set->scripts = lappend(set->scripts, s);
	return s;
}

/* what the parsers see of a directory: its files, sorted for lookups */
void
layout_dir_init(LayoutDir *dir, List *files)
{
	ListCell   *lc;
	int			i = 0;

	memset(dir, 0, sizeof(LayoutDir));
	dir->cxt = CurrentMemoryContext;
	dir->nfiles = list_length(files);
	dir->files = palloc(sizeof(SourceFile *) * Max(dir->nfiles, 1));
	foreach(lc, files)
		dir->files[i++] = (SourceFile *) lfirst(lc);
	/* source_list sorts already, but a list may come from elsewhere */
	qsort(dir->files, dir->nfiles, sizeof(SourceFile *), compare_files);
}

/*
 * Does layout claim f?  The answer layout_classify already has for the
 * file it is asking about, else asked now: sql-migrate's claim depends on
 * Flyway's and golang-migrate's, which would otherwise parse every name of
 * a directory twice.
 */
bool
layout_dir_claims(LayoutDir *dir, const Layout *layout, const SourceFile *f)
{
	int			l;

	if (dir->asking == f)
		for (l = 0; l < (int) NUM_LAYOUTS; l++)
			if (all_layouts[l] == layout && (dir->asked & (1U << l)))
				return (dir->claimed & (1U << l)) != 0;
	return layout->claims(dir, f);
}

/* the order of scripts: arg points to the layout's VersionOrder */
static int
compare_scripts(const void *a, const void *b, void *arg)
{
	const MigrationScript *sa = (const MigrationScript *) lfirst((const ListCell *) a);
	const MigrationScript *sb = (const MigrationScript *) lfirst((const ListCell *) b);

	/* versioned and undo by version, repeatable after them by name */
	if ((sa->version == NULL) != (sb->version == NULL))
		return sa->version == NULL ? 1 : -1;
	if (sa->version != NULL)
	{
		int			c = layout_version_cmp(*(VersionOrder *) arg, sa->version, sb->version);

		if (c != 0)
			return c;
		if (sa->kind != sb->kind)
			return sa->kind < sb->kind ? -1 : 1;
	}
	return strcmp(sa->name, sb->name);
}

/* a script with the value of its version's first part, when numbers order it */
typedef struct ScriptSortItem
{
	uint64		first;			/* the first part of the version, as a number */
	bool		has_first;		/* false: no version, too long, or not numeric order */
	MigrationScript *script;
} ScriptSortItem;

/* compare_scripts, deciding by the first part's value when both have one */
static int
compare_sort_items(const void *a, const void *b, void *arg)
{
	const ScriptSortItem *ia = (const ScriptSortItem *) a;
	const ScriptSortItem *ib = (const ScriptSortItem *) b;
	ListCell	ca;
	ListCell	cb;

	if (ia->has_first && ib->has_first && ia->first != ib->first)
		return ia->first < ib->first ? -1 : 1;
	ca.ptr_value = ia->script;
	cb.ptr_value = ib->script;
	return compare_scripts(&ca, &cb, arg);
}

/*
 * Sort set->scripts in version order (compare_scripts).  In numeric order,
 * two versions whose first parts differ compare as those parts' values
 * (normalized parts have no leading zeros, so the longer is the larger),
 * which each script's key holds: sorting 10 000 scripts then compares
 * 64-bit numbers, not strings, in all but the rare tie.
 */
static void
sort_scripts(ScriptSet *set)
{
	int			n = list_length(set->scripts);
	ScriptSortItem *items;
	ListCell   *lc;
	int			i = 0;

	if (n < 2)
		return;
	items = palloc(sizeof(ScriptSortItem) * n);
	foreach(lc, set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);
		ScriptSortItem *it = &items[i++];
		const char *p = s->version;
		int			digits = 0;

		it->script = s;
		it->first = 0;
		it->has_first = false;
		if (set->order != NULL || p == NULL)
			continue;
		for (; *p >= '0' && *p <= '9' && digits <= 18; p++, digits++)
			it->first = it->first * 10 + (*p - '0');
		it->has_first = digits > 0 && digits <= 18 && (*p == '.' || *p == '\0');
	}
	qsort_arg(items, n, sizeof(ScriptSortItem), compare_sort_items, &set->order);
	i = 0;
	foreach(lc, set->scripts)
		lfirst(lc) = items[i++].script;
	pfree(items);
}

static int
compare_names(const ListCell *a, const ListCell *b)
{
	return strcmp(((const NotScript *) lfirst(a))->name, ((const NotScript *) lfirst(b))->name);
}

/*
 * The file to create to undo versioned script s of set, for a hint: the
 * layout's name for it, or the Flyway-style pattern when it has none.
 */
char *
layout_undo_name(const ScriptSet *set, const MigrationScript *s)
{
	char	   *name = NULL;

	if (set && set->def && set->def->undo_name && s)
		name = set->def->undo_name(s);
	return name ? name : pstrdup("U<version>__<description>.sql");
}

/* one NOTICE per file the directory's tool would not run */
void
layout_notice_ignored(const ScriptSet *set)
{
	ListCell   *lc;

	foreach(lc, set->ignored)
	{
		NotScript  *n = (NotScript *) lfirst(lc);

		ereport(NOTICE,
				(errmsg("migrate: ignoring \"%s\", which %s does not run", n->name, set->layout),
				 errdetail("%s.", n->why)));
	}
}

/* "\"a.sql\" is a Flyway file" lines: the first file of each layout in mask */
static char *
describe_files(LayoutDir *dir, const uint32 *masks, uint32 mask)
{
	StringInfoData buf;
	int			l;

	initStringInfo(&buf);
	for (l = 0; l < (int) NUM_LAYOUTS; l++)
	{
		int			i;

		if (!(mask & (1U << l)))
			continue;
		for (i = 0; i < dir->nfiles; i++)
		{
			if (masks[i] & (1U << l))
			{
				appendStringInfo(&buf, "%s\"%s\" is a %s file.",
								 buf.len > 0 ? "\n" : "", dir->files[i]->name,
								 all_layouts[l]->name);
				break;
			}
		}
	}
	return buf.data;
}

/* the names of the layouts in mask, "a and b" */
static char *
layout_names(uint32 mask)
{
	StringInfoData buf;
	int			l;

	initStringInfo(&buf);
	for (l = 0; l < (int) NUM_LAYOUTS; l++)
	{
		if (!(mask & (1U << l)))
			continue;
		mask &= ~(1U << l);
		if (buf.len > 0)
			appendStringInfoString(&buf, mask ? ", " : " and ");
		appendStringInfoString(&buf, all_layouts[l]->name);
	}
	return buf.data;
}

/*
 * The layout of a directory: the single layout that claims every claimed
 * file.  Errors when the files belong to several layouts, or fit several
 * equally.
 */
static const Layout *
detect_layout(LayoutDir *dir, const uint32 *masks)
{
	uint32		all = 0;
	uint32		common = ~0U;
	int			i;
	int			l;
	int			found = -1;

	for (i = 0; i < dir->nfiles; i++)
	{
		if (masks[i] == 0)
			continue;
		all |= masks[i];
		common &= masks[i];
	}
	if (all == 0)
		return &layout_flyway;	/* nothing claimed: the default */

	if (common == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("migration directory mixes the layouts of %s", layout_names(all)),
				 errdetail("%s", describe_files(dir, masks, all)),
				 errhint("Keep the migrations of one tool per directory (a track each), "
						 "or rename the files to one layout.")));

	for (l = 0; l < (int) NUM_LAYOUTS; l++)
	{
		if (!(common & (1U << l)))
			continue;
		if (found >= 0)
		{
			StringInfoData files;

			initStringInfo(&files);
			for (i = 0; i < dir->nfiles && files.len < 400; i++)
				if ((masks[i] & common) == common)
					appendStringInfo(&files, "%s\"%s\"", files.len > 0 ? ", " : "",
									 dir->files[i]->name);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("migration directory is ambiguous: it fits the layouts of %s",
							layout_names(common)),
					 errdetail("These files fit each of them: %s.", files.data),
					 errhint("Keep the markers of one tool in each file.")));
		}
		found = l;
	}
	return all_layouts[found];
}

/*
 * true if a .sql file is meant to be included, not run as a migration:
 * its name, or a directory on its path, starts with '_'
 */
static bool
is_include_name(const char *name)
{
	const char *p = name;

	for (;;)
	{
		if (*p == '_')
			return true;
		p = strchr(p, '/');
		if (p == NULL)
			return false;
		p++;
	}
}

/*
 * Classify the files of a directory (all of them, sorted by name): detect
 * the layout and let its parser turn the files into scripts.  Files whose
 * names do not end in .sql are not scripts unless the layout reads them;
 * .sql files fitting no name of the layout are collected as misnamed,
 * unless they are files to include (is_include_name).
 */
ScriptSet *
layout_classify(List *files)
{
	ScriptSet  *set = palloc0(sizeof(ScriptSet));
	LayoutDir	dir;
	uint32	   *masks;
	const Layout *layout;
	List	   *claimed = NIL;
	MemoryContext claims_cxt;
	MemoryContext scripts_cxt;
	MemoryContext old;
	int			i;

	layout_dir_init(&dir, files);
	masks = palloc0(sizeof(uint32) * Max(dir.nfiles, 1));

	/*
	 * Each layout parses each file's name to answer, and keeps nothing of
	 * it: the parses are freed after each file rather than kept for the
	 * whole run (what a layout caches for the whole directory goes to
	 * dir.cxt).
	 */
	claims_cxt = AllocSetContextCreate(CurrentMemoryContext, "migrate layout claims",
									   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(claims_cxt);
	for (i = 0; i < dir.nfiles; i++)
	{
		int			l;

		dir.asking = dir.files[i];
		dir.asked = dir.claimed = 0;
		for (l = 0; l < (int) NUM_LAYOUTS; l++)
		{
			if (all_layouts[l]->claims(&dir, dir.files[i]))
				dir.claimed |= 1U << l;
			dir.asked |= 1U << l;
		}
		masks[i] = dir.claimed;
		MemoryContextReset(claims_cxt);
	}
	dir.asking = NULL;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(claims_cxt);

	layout = detect_layout(&dir, masks);
	set->layout = layout->name;
	set->naming_hint = layout->naming_hint;
	set->order = layout->order;
	set->def = layout;

	for (i = 0; i < dir.nfiles; i++)
	{
		SourceFile *f = dir.files[i];

		if (masks[i] != 0)
			claimed = lappend(claimed, f);
		else if (layout_has_suffix(f->name, ".sql") && !is_include_name(f->name) &&
				 !(layout->callback && layout->callback(f, set)))
		{
			NotScript  *n = palloc0(sizeof(NotScript));

			n->name = f->name;
			n->why = layout->ignores ? (char *) layout->ignores(&dir, f) : NULL;
			if (n->why)
				set->ignored = lappend(set->ignored, n);
			else
			{
				if (layout->suggest)
					n->meant = layout->suggest(f->name);
				set->misnamed = lappend(set->misnamed, n);
			}
		}
	}
	/*
	 * The scripts, with their versions and descriptions, last as long as
	 * the listing and are never freed one by one: a generation context
	 * keeps each at its size (AllocSet would round a script up to 256
	 * bytes, which over 10 000 files is a megabyte).
	 */
	scripts_cxt = GenerationContextCreate(CurrentMemoryContext, "migrate scripts",
										  ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(scripts_cxt);
	layout->build(&dir, claimed, set);
	MemoryContextSwitchTo(old);

	sort_scripts(set);
	list_sort(set->callbacks, callback_compare);
	list_sort(set->misnamed, compare_names);
	list_sort(set->ignored, compare_names);
	layout_notice_ignored(set);
	return set;
}
