/*-------------------------------------------------------------------------
 *
 * layout_sqitch.c
 *	  A sqitch project: sqitch.plan and the deploy, revert and verify
 *	  scripts of its changes.
 *
 *	  sqitch.plan              the changes, in deploy order
 *	  deploy/<change>.sql      versioned
 *	  revert/<change>.sql      its undo script
 *	  verify/<change>.sql      not run (see below)
 *
 * sqitch changes have names, not versions.  A change's version is its
 * position in the plan, counted from 1 (the third change is version 3),
 * and its description is its name, so the history and status show the
 * change name next to the number.  The plan grows at its end (sqitch add),
 * so the numbers of deployed changes do not move.  A reworked change (its
 * name again after a tag) reads its earlier deploy and revert scripts from
 * <change>@<tag>.sql, as sqitch does.  Plan lines starting with '-' (a
 * change planned to be reverted) are refused.
 *
 * Verify scripts are not run: sqitch itself runs them only on request
 * (sqitch verify, or deploy --verify), and the ones sqitch generates end
 * in ROLLBACK, which a migration may not contain.  They are recognised,
 * so they are not misnamed.
 *
 * The files are read from the directory holding sqitch.plan (the default
 * top_dir).  A deploy or revert script of a change the plan does not name
 * is misnamed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "adopt.h"
#include "layouts.h"

#define PLAN_NAME "sqitch.plan"

typedef struct SqitchPlanState
{
	SourceFile *file;			/* NULL if the directory has no plan */
	SqitchPlan *plan;
	SqitchChange **by_script;	/* the changes sorted by script name, for lookups */
	int			nchanges;
} SqitchPlanState;

/* qsort order of changes: by name, then by position */
static int
compare_change_name(const void *a, const void *b)
{
	const SqitchChange *ca = *(SqitchChange *const *) a;
	const SqitchChange *cb = *(SqitchChange *const *) b;
	int			r = strcmp(ca->name, cb->name);

	return r != 0 ? r : ca->position - cb->position;
}

/* qsort and bsearch order of changes: by script name */
static int
compare_change_script(const void *a, const void *b)
{
	return strcmp((*(SqitchChange *const *) a)->script, (*(SqitchChange *const *) b)->script);
}

/* the changes of a plan as an array */
static SqitchChange **
change_array(SqitchPlan *plan)
{
	SqitchChange **arr = palloc(sizeof(SqitchChange *) * Max(list_length(plan->changes), 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, plan->changes)
		arr[i++] = (SqitchChange *) lfirst(lc);
	return arr;
}

static inline bool
plan_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static void
plan_invalid(int lineno, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("sqitch plan \"%s\" is not valid", PLAN_NAME),
			 errdetail("Line %d: %s.", lineno, what),
			 errhint("Check the plan with sqitch plan.")));
}

/* parse the text of sqitch.plan */
static SqitchPlan *
plan_parse(char *text)
{
	SqitchPlan *plan = palloc0(sizeof(SqitchPlan));
	List	   *tag_after = NIL;	/* char *: first tag after each change, or NULL */
	char	   *line = text;
	int			lineno = 0;
	int			i;

	while (line && *line)
	{
		char	   *next = strchr(line, '\n');
		char	   *p = line;
		size_t		n;

		CHECK_FOR_INTERRUPTS();
		lineno++;
		if (next)
			*next++ = '\0';
		line = next;

		while (plan_space(*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if (*p == '%')
		{
			if (strncmp(p, "%project=", 9) == 0)
			{
				n = strcspn(p + 9, " \t\r#");
				plan->project = pnstrdup(p + 9, n);
			}
			continue;
		}
		if (*p == '@')
		{
			/* a tag: the name reworked scripts of the changes before it use */
			n = strcspn(p + 1, " \t\r#");
			if (n == 0)
				plan_invalid(lineno, "a tag has no name");
			for (i = list_length(tag_after) - 1; i >= 0 && list_nth(tag_after, i) == NULL; i--)
				list_nth_cell(tag_after, i)->ptr_value = pnstrdup(p + 1, n);
			continue;
		}
		if (*p == '-')
			plan_invalid(lineno, "changes planned to be reverted (\"-change\") are not supported");
		if (*p == '+')
			p++;
		n = strcspn(p, " \t\r[#");
		if (n == 0)
			plan_invalid(lineno, "a change has no name");
		{
			SqitchChange *c = palloc0(sizeof(SqitchChange));

			c->position = list_length(plan->changes) + 1;
			c->name = pnstrdup(p, n);
			c->script = c->name;
			plan->changes = lappend(plan->changes, c);
			tag_after = lappend(tag_after, NULL);
		}
	}

	/*
	 * A change reworked later reads its scripts from <change>@<tag>.sql.
	 * Sorted by name, then position, so every planning of a name but its
	 * last is followed by one of the same name: n log n, not n squared
	 * (a plan of many thousand changes must not ignore cancel for minutes).
	 */
	{
		int			n = list_length(plan->changes);
		SqitchChange **byname = change_array(plan);

		qsort(byname, n, sizeof(SqitchChange *), compare_change_name);
		for (i = 0; i + 1 < n; i++)
		{
			SqitchChange *c = byname[i];
			char	   *tag;

			CHECK_FOR_INTERRUPTS();
			if (strcmp(byname[i + 1]->name, c->name) != 0)
				continue;
			tag = (char *) list_nth(tag_after, c->position - 1);
			if (tag == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("sqitch plan \"%s\" is not valid", PLAN_NAME),
						 errdetail("Change \"%s\" is planned twice with no tag between.", c->name),
						 errhint("sqitch rework needs a tag after the change it reworks.")));
			c->script = psprintf("%s@%s", c->name, tag);
		}
		pfree(byname);
	}
	return plan;
}

/* the plan of the directory, read once */
static SqitchPlanState *
plan_load(LayoutDir *dir)
{
	SqitchPlanState  *ps = (SqitchPlanState *) dir->sqitch;

	if (ps == NULL)
	{
		/* kept for the directory, whatever context claims() runs in */
		MemoryContext old = MemoryContextSwitchTo(dir->cxt);

		ps = palloc0(sizeof(SqitchPlanState));
		ps->file = layout_find_file(dir, PLAN_NAME);
		if (ps->file)
		{
			size_t		len;

			ps->plan = plan_parse(reader_read_all(ps->file, &len, NULL));
			ps->nchanges = list_length(ps->plan->changes);
			ps->by_script = change_array(ps->plan);
			qsort(ps->by_script, ps->nchanges, sizeof(SqitchChange *), compare_change_script);
		}
		dir->sqitch = ps;
		MemoryContextSwitchTo(old);
	}
	return ps;
}

/* the plan (NULL without sqitch.plan); also for migrate.adopt */
SqitchPlan *
sqitch_plan(LayoutDir *dir)
{
	return plan_load(dir)->plan;
}

/* the change whose script is <script>.sql, or NULL (binary search) */
static SqitchChange *
plan_change(SqitchPlanState *ps, const char *file, size_t dirlen)
{
	const char *script = file + dirlen;
	size_t		len = strlen(script);
	SqitchChange key;
	SqitchChange *keyp = &key;
	SqitchChange **found;

	if (!layout_has_suffix(script, ".sql"))
		return NULL;
	key.script = pnstrdup(script, len - 4);
	found = bsearch(&keyp, ps->by_script, ps->nchanges, sizeof(SqitchChange *),
					compare_change_script);
	pfree(key.script);
	return found ? *found : NULL;
}

static bool
sqitch_claims(LayoutDir *dir, const SourceFile *f)
{
	SqitchPlanState  *ps;

	if (strcmp(f->name, PLAN_NAME) == 0)
		return true;
	if (strncmp(f->name, "deploy/", 7) != 0 && strncmp(f->name, "revert/", 7) != 0 &&
		strncmp(f->name, "verify/", 7) != 0)
		return false;
	ps = plan_load(dir);
	if (ps->plan == NULL || !layout_has_suffix(f->name, ".sql"))
		return false;
	/* verify scripts are known but never run; the others must be planned */
	return strncmp(f->name, "verify/", 7) == 0 || plan_change(ps, f->name, 7) != NULL;
}

static void
sqitch_build(LayoutDir *dir, List *files, ScriptSet *set)
{
	SqitchPlan *plan = sqitch_plan(dir);
	ListCell   *lc;

	if (plan == NULL)
		return;
	foreach(lc, plan->changes)
	{
		SqitchChange *c = (SqitchChange *) lfirst(lc);
		char	   *version = psprintf("%d", c->position);
		SourceFile *deploy = layout_find_file(dir, psprintf("deploy/%s.sql", c->script));
		SourceFile *revert = layout_find_file(dir, psprintf("revert/%s.sql", c->script));

		CHECK_FOR_INTERRUPTS();
		if (deploy == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FILE),
					 errmsg("sqitch change \"%s\" has no deploy script", c->name),
					 errdetail("%s plans it as change %d, but deploy/%s.sql does not exist.",
							   PLAN_NAME, c->position, c->script),
					 errhint("Restore the script, or remove the change from the plan.")));
		layout_add_script(set, deploy, MIGRATION_VERSIONED, version, pstrdup(c->name));
		if (revert)
			layout_add_script(set, revert, MIGRATION_UNDO, version, pstrdup(c->name));
	}
}

/* revert/<change>.sql for deploy/<change>.sql */
static char *
sqitch_undo_name(const MigrationScript *s)
{
	const char *deploy = strstr(s->name, "deploy/");

	if (deploy == NULL)
		return NULL;
	return psprintf("%.*srevert/%s", (int) (deploy - s->name), s->name,
					deploy + strlen("deploy/"));
}

/* migrate.adopt: the tool's history table (adopt.c) */
/* sqitch.changes: the plan's first changes, deployed in its order */
static void
rows_sqitch(Adoption *a)
{
	SqitchPlan *plan = sqitch_plan(&a->layout);
	const char *args[1];
	uint64		i;

	if (plan->project == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("sqitch plan of \"%s\" names no project", a->dir),
				 errhint("Add a %%project=<name> line to sqitch.plan.")));
	args[0] = plan->project;
	adopt_query(psprintf("SELECT change, committed_at, committer_name FROM %s "
				   "WHERE project OPERATOR(pg_catalog.=) $1 "
				   "ORDER BY committed_at, change_id", a->table), 1, args);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = adopt_value(i, 1);
		SqitchChange *c = i < (uint64) list_length(plan->changes) ?
			(SqitchChange *) list_nth(plan->changes, (int) i) : NULL;
		AdoptRow   *r;

		CHECK_FOR_INTERRUPTS();
		if (name == NULL)
			name = "";
		if (c == NULL || strcmp(c->name, name) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("sqitch.changes does not follow the plan of \"%s\"", a->dir),
					 c ? errdetail("Deployed change %d is \"%s\", but change %d of sqitch.plan is \"%s\".",
								   (int) i + 1, name, (int) i + 1, c->name) :
					 errdetail("Change \"%s\" is deployed, but sqitch.plan has only %d changes.",
							   name, list_length(plan->changes)),
					 errhint("Adopt with the sqitch.plan that deployed the database.")));
		r = adopt_new_row(a, psprintf("%d", c->position), "versioned", pstrdup(c->name), NULL);
		adopt_set_installed_on(r, i, 2);
		r->installed_by = adopt_value(i, 3);
	}
}

const LayoutAdopt adopt_sqitch = {
	.table = "sqitch.changes",
	.columns = "change_id, change, project, committed_at, committer_name",
	.needs_dir = "sqitch records change names; sqitch.plan gives their order, "
	"which makes their versions.",
	.rows = rows_sqitch
};

const Layout layout_sqitch = {
	.name = "sqitch",
	.claims = sqitch_claims,
	.build = sqitch_build,
	.naming_hint = "In a sqitch project every change of sqitch.plan has deploy/<change>.sql "
	"and revert/<change>.sql, and no other scripts are read; add changes with sqitch add.",
	.undo_name = sqitch_undo_name,
	.adopt = &adopt_sqitch
};
