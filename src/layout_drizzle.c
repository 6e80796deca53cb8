/*-------------------------------------------------------------------------
 *
 * layout_drizzle.c
 *	  Drizzle Kit's output folder.
 *
 *	  0000_brave_wolf.sql        versioned (statements separated by
 *	  0001_tidy_kestrel.sql      "--> statement-breakpoint" lines)
 *	  meta/_journal.json         the order: {"entries": [{"idx": 0,
 *	  meta/0000_snapshot.json    "when": 1706702400000, "tag": "0000_brave_wolf"}]}
 *
 * With meta/_journal.json, the migrations are the files its entries name
 * (<tag>.sql at the top of the folder), in the journal's order, and the
 * version of each is its position in the journal, counted from 0: the
 * number Drizzle Kit puts in front of the name (0000_... is version 0).
 * A .sql file the journal does not list is never run by Drizzle: it is
 * ignored, with a NOTICE; an entry without its file is an error.  Without
 * a journal, the files NNNN_<name>.sql at the top are Drizzle's and their
 * number is the version.  Drizzle splits a file at every
 * "--> statement-breakpoint" and runs the pieces one by one, so the
 * splitter ends a statement there even without a ';' before it
 * (SPLIT_BREAKPOINTS).  Drizzle writes no down migrations.
 *
 * The journal is small JSON, parsed with the server's jsonb input
 * function (no database access).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "adopt.h"
#include "layouts.h"
#include "splitter.h"

#define JOURNAL_NAME "meta/_journal.json"

typedef struct DrizzleJournal
{
	SourceFile *file;			/* NULL if the folder has none */
	List	   *entries;		/* DrizzleEntry * */
} DrizzleJournal;

static void
journal_error_callback(void *arg)
{
	errcontext("Drizzle journal \"%s\"", (const char *) arg);
}

/* member key of a jsonb object, or NULL */
static JsonbValue *
journal_member(JsonbContainer *obj, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(obj, JB_FOBJECT, &k);
}

static void
journal_invalid(const char *what, int i)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("Drizzle journal \"%s\" is not valid", JOURNAL_NAME),
			 i >= 0 ? errdetail("Entry %d has no %s.", i, what) : errdetail("It has no %s.", what),
			 errhint("Regenerate it with drizzle-kit generate.")));
}

/* parse the journal's text into DrizzleEntry structs */
static List *
journal_parse(char *text)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
	JsonbValue *entries;
	List	   *result = NIL;
	int			n;
	int			i;

	if (!JB_ROOT_IS_OBJECT(jb))
		journal_invalid("\"entries\" array", -1);
	entries = journal_member(&jb->root, "entries");
	if (entries == NULL || entries->type != jbvBinary ||
		!JsonContainerIsArray(entries->val.binary.data))
		journal_invalid("\"entries\" array", -1);

	n = JsonContainerSize(entries->val.binary.data);
	for (i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(entries->val.binary.data, i);
		JsonbValue *tag;
		JsonbValue *when;
		DrizzleEntry *de;

		if (e == NULL || e->type != jbvBinary || !JsonContainerIsObject(e->val.binary.data))
			journal_invalid("object", i);
		tag = journal_member(e->val.binary.data, "tag");
		when = journal_member(e->val.binary.data, "when");
		if (tag == NULL || tag->type != jbvString || tag->val.string.len == 0)
			journal_invalid("\"tag\"", i);
		if (when == NULL || when->type != jbvNumeric)
			journal_invalid("\"when\"", i);

		de = palloc0(sizeof(DrizzleEntry));
		de->idx = i;
		de->tag = pnstrdup(tag->val.string.val, tag->val.string.len);
		de->when = DatumGetInt64(DirectFunctionCall1(numeric_int8,
													 NumericGetDatum(when->val.numeric)));
		if (strchr(de->tag, '/') != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("Drizzle journal \"%s\" is not valid", JOURNAL_NAME),
					 errdetail("Entry %d names \"%s\", which is not a file of the folder.", i, de->tag)));
		result = lappend(result, de);
	}
	return result;
}

/* the journal of the folder, read once; NULL when it has none */
static DrizzleJournal *
journal_load(LayoutDir *dir)
{
	DrizzleJournal *j = (DrizzleJournal *) dir->drizzle;

	if (j == NULL)
	{
		/* kept for the directory, whatever context claims() runs in */
		MemoryContext old = MemoryContextSwitchTo(dir->cxt);

		j = palloc0(sizeof(DrizzleJournal));
		j->file = layout_find_file(dir, JOURNAL_NAME);
		if (j->file)
		{
			ErrorContextCallback cb;
			size_t		len;
			char	   *text = reader_read_all(j->file, &len, NULL);

			cb.callback = journal_error_callback;
			cb.arg = j->file->name;
			cb.previous = error_context_stack;
			error_context_stack = &cb;
			j->entries = journal_parse(text);
			error_context_stack = cb.previous;
		}
		dir->drizzle = j;
		MemoryContextSwitchTo(old);
	}
	return j;
}

/* the journal's entries (NIL without a journal); also for migrate.adopt */
List *
drizzle_journal(LayoutDir *dir)
{
	return journal_load(dir)->entries;
}

/* the journal entry whose file is name, or NULL */
static DrizzleEntry *
journal_entry(DrizzleJournal *j, const char *name)
{
	ListCell   *lc;
	size_t		len = strlen(name);

	if (len < 4)
		return NULL;
	foreach(lc, j->entries)
	{
		DrizzleEntry *e = (DrizzleEntry *) lfirst(lc);

		if (strlen(e->tag) == len - 4 && strncmp(e->tag, name, len - 4) == 0 &&
			layout_has_suffix(name, ".sql"))
			return e;
	}
	return NULL;
}

/* NNNN_<name>.sql at the top, with no dbmate or node-pg-migrate markers */
static bool
plain_drizzle_name(LayoutDir *dir, const SourceFile *f)
{
	return strchr(f->name, '/') == NULL && layout_digits(f->name) == 4 &&
		sections_numbered_name(f->name) && !sections_any_marker(dir, f);
}

static bool
drizzle_claims(LayoutDir *dir, const SourceFile *f)
{
	DrizzleJournal *j;

	if (strcmp(f->name, JOURNAL_NAME) == 0)
		return true;
	if (strchr(f->name, '/') != NULL || !layout_has_suffix(f->name, ".sql"))
		return false;
	j = journal_load(dir);
	if (j->file)
		return journal_entry(j, f->name) != NULL;
	return plain_drizzle_name(dir, f);
}

/* "brave wolf" from "0000_brave_wolf" */
static char *
tag_description(const char *tag)
{
	size_t		digits = layout_digits(tag);

	if (digits > 0 && tag[digits] == '_')
		tag += digits + 1;
	return layout_description(tag, strlen(tag));
}

static void
drizzle_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	DrizzleJournal *j = journal_load(dir);
	ListCell   *lc;

	if (j->file)
	{
		foreach(lc, j->entries)
		{
			DrizzleEntry *e = (DrizzleEntry *) lfirst(lc);
			char	   *name = psprintf("%s.sql", e->tag);
			SourceFile *f = layout_find_file(dir, name);

			if (f == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_FILE),
						 errmsg("Drizzle migration \"%s\" is missing", name),
						 errdetail("Entry %d of %s names it.", e->idx, JOURNAL_NAME),
						 errhint("Restore the file, or regenerate the journal with drizzle-kit.")));
			f->split = SPLIT_BREAKPOINTS;
			layout_add_script(set, f, MIGRATION_VERSIONED,
							  psprintf("%d", e->idx), tag_description(e->tag));
		}
		return;
	}

	foreach(lc, files)
	{
		SourceFile *f = (SourceFile *) lfirst(lc);

		if (!plain_drizzle_name(dir, f))
			continue;
		f->split = SPLIT_BREAKPOINTS;
		layout_add_script(set, f, MIGRATION_VERSIONED,
						  version_normalize(f->name, 4),
						  layout_description(f->name + 5, strlen(f->name) - 5 - 4));
	}
}

/* with a journal, Drizzle runs what it lists and nothing else */
static const char *
drizzle_ignores(LayoutDir *dir, const SourceFile *f)
{
	if (journal_load(dir)->file == NULL)
		return NULL;
	return "Drizzle runs only the migrations that meta/_journal.json lists";
}

/* migrate.adopt: the tool's history table (adopt.c) */
/* drizzle's __drizzle_migrations: applied up to the last created_at */
static void
rows_drizzle(Adoption *a)
{
	List	   *journal = drizzle_journal(&a->layout);
	int64		last;
	bool		isnull;
	ListCell   *lc;

	adopt_query(psprintf("SELECT pg_catalog.max(created_at)::pg_catalog.int8 FROM %s", a->table),
		  0, NULL);
	last = DatumGetInt64(adopt_binvalue(0, 1, &isnull));
	if (isnull)
		return;
	foreach(lc, journal)
	{
		DrizzleEntry *e = (DrizzleEntry *) lfirst(lc);

		if (e->when <= last)
			adopt_new_row(a, psprintf("%d", e->idx), "versioned", NULL, NULL);
	}
}

const LayoutAdopt adopt_drizzle = {
	.table = "drizzle.__drizzle_migrations",
	.columns = "id, hash, created_at",
	.needs_dir = "Drizzle records when the last migration was generated; "
	"meta/_journal.json says which migrations that includes.",
	.rows = rows_drizzle
};

const Layout layout_drizzle = {
	.name = "drizzle",
	.claims = drizzle_claims,
	.build = drizzle_build,
	.naming_hint = "Drizzle migrations are the files meta/_journal.json lists (<tag>.sql, "
	"such as 0000_brave_wolf.sql); generate them with drizzle-kit generate.",
	.ignores = drizzle_ignores,
	.adopt = &adopt_drizzle
};
