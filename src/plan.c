/*-------------------------------------------------------------------------
 *
 * plan.c
 *	  The state of every migration, and the ordered list of work.
 *
 * migrate.history is a log; a migration's state is derived from its rows
 * and its file:
 *	  applied       its latest successful row applied it, file unchanged
 *	  changed       applied, but the file's checksum differs
 *	  missing       applied, but no file has its version any more
 *	  pending       never applied (or undone), file present
 *	  failed        pending, and its latest attempt failed
 *	  dirty         a non-transactional run failed part-way: blocks runs
 *	  undone        its latest successful row was its undo script
 *	  out_of_order  pending, but older than the newest applied version
 *	  baseline      older than the baseline and never applied itself
 * Repeatable scripts are pending whenever their checksum differs from the
 * last successful run of the same script name, and run after the
 * versioned ones.  apply, status and the dry run share this one plan.
 * Nothing here executes anything.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "plan.h"

const char *
migration_state_name(MigrationState state)
{
	switch (state)
	{
		case STATE_PENDING:
			return "pending";
		case STATE_APPLIED:
			return "applied";
		case STATE_FAILED:
			return "failed";
		case STATE_CHANGED:
			return "changed";
		case STATE_MISSING:
			return "missing";
		case STATE_OUT_OF_ORDER:
			return "out_of_order";
		case STATE_UNDONE:
			return "undone";
		case STATE_BASELINE:
			return "baseline";
		case STATE_DIRTY:
			return "dirty";
	}
	return "unknown";
}

static int
compare_entries(const ListCell *a, const ListCell *b)
{
	const PlanEntry *ea = (const PlanEntry *) lfirst(a);
	const PlanEntry *eb = (const PlanEntry *) lfirst(b);

	return version_cmp(ea->version, eb->version);
}

/* binary search of a version among entries sorted by version */
static PlanEntry *
find_entry(List *entries, const char *version)
{
	int			lo = 0;
	int			hi = list_length(entries) - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		PlanEntry  *e = (PlanEntry *) list_nth(entries, mid);
		int			c = version_cmp(version, e->version);

		if (c == 0)
			return e;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* the versioned entries of the files, duplicates reported */
static List *
entries_from_scripts(ScriptSet *set, MigrationPlan *plan)
{
	List	   *entries = NIL;
	PlanEntry  *last = NULL;
	ListCell   *lc;

	/* scripts are sorted by version, then versioned before undo */
	foreach(lc, set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);

		if (s->kind == MIGRATION_REPEATABLE)
			continue;
		if (last == NULL || version_cmp(last->version, s->version) != 0)
		{
			last = palloc0(sizeof(PlanEntry));
			last->version = s->version;
			entries = lappend(entries, last);
		}
		if (s->kind == MIGRATION_VERSIONED)
		{
			if (last->script)
				plan->duplicates = lappend(plan->duplicates,
										   psprintf("Files \"%s\" and \"%s\" both have version %s.",
													last->script->name, s->name, s->version));
			else
			{
				last->script = s;
				last->description = s->description;
			}
		}
		else
		{
			if (last->undo)
				plan->duplicates = lappend(plan->duplicates,
										   psprintf("Undo files \"%s\" and \"%s\" both have version %s.",
													last->undo->name, s->name, s->version));
			else
				last->undo = s;
		}
	}
	return entries;
}

/* does a history row take part in the replay of versioned migrations? */
static bool
replayed_row(const HistoryRow *row)
{
	return row->version != NULL && strcmp(row->type, "repeatable") != 0 &&
		strcmp(row->type, "baseline") != 0;
}

/*
 * Entries for the versions that only the history knows (their files are
 * gone), sorted by version and without duplicates, so that the replay can
 * binary-search them as it does the files' entries: a directory whose old
 * files were removed after a baseline is not a quadratic case.
 */
static List *
history_only_entries(List *entries, List *history)
{
	List	   *extra = NIL;
	List	   *unique = NIL;
	PlanEntry  *last = NULL;
	ListCell   *lc;

	foreach(lc, history)
	{
		HistoryRow *row = (HistoryRow *) lfirst(lc);

		if (replayed_row(row) && find_entry(entries, row->version) == NULL)
		{
			PlanEntry  *e = palloc0(sizeof(PlanEntry));

			e->version = row->version;
			extra = lappend(extra, e);
		}
	}
	list_sort(extra, compare_entries);
	foreach(lc, extra)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		if (last == NULL || version_cmp(last->version, e->version) != 0)
		{
			unique = lappend(unique, e);
			last = e;
		}
	}
	list_free(extra);
	return unique;
}

/* replay the history of versioned migrations onto the entries */
static List *
replay_history(List *entries, List *history, MigrationPlan *plan)
{
	List	   *extra = history_only_entries(entries, history);
	ListCell   *lc;

	foreach(lc, history)
	{
		HistoryRow *row = (HistoryRow *) lfirst(lc);
		PlanEntry  *e;

		if (row->version == NULL || strcmp(row->type, "repeatable") == 0)
			continue;
		if (strcmp(row->type, "baseline") == 0)
		{
			if (row->success)
				plan->baseline = row->version;
			continue;
		}

		e = find_entry(entries, row->version);
		if (e == NULL)
		{
			e = find_entry(extra, row->version);
			if (e == NULL)
				elog(ERROR, "version %s of the history was not collected", row->version);
			/* named by its first row, as the files' entries are by their file */
			if (e->description == NULL)
				e->description = row->description;
		}

		if (!row->success)
			e->failed = row;
		else if (strcmp(row->type, "undo") == 0)
		{
			e->applied = NULL;
			e->undone = true;
			e->failed = NULL;
		}
		else
		{
			e->applied = row;
			e->undone = false;
			e->failed = NULL;
			if (e->description == NULL)
				e->description = row->description;
		}
	}

	/* history-only versions matter only if they are applied (missing files) */
	foreach(lc, extra)
	{
		PlanEntry  *x = (PlanEntry *) lfirst(lc);

		if (x->applied)
			entries = lappend(entries, x);
	}
	list_sort(entries, compare_entries);
	return entries;
}

/* the state of a versioned entry, given the highest applied version */
static MigrationState
versioned_state(PlanEntry *e, const char *current, const char *baseline)
{
	if (e->failed && e->failed->dirty)
		return STATE_DIRTY;
	if (e->applied)
	{
		if (e->script == NULL)
			return STATE_MISSING;
		/* rows adopted from another tool have no checksum of ours */
		if (e->applied->checksum != NULL &&
			strcmp(e->applied->checksum, e->script->checksum) != 0)
			return STATE_CHANGED;
		return STATE_APPLIED;
	}
	if (baseline && !e->undone && version_cmp(e->version, baseline) <= 0)
		return STATE_BASELINE;
	if (e->failed)
		return STATE_FAILED;
	if (current && version_cmp(e->version, current) < 0)
		return STATE_OUT_OF_ORDER;
	if (e->undone)
		return STATE_UNDONE;
	return STATE_PENDING;
}

/* repeatable scripts: pending when never run or changed since */
static void
plan_repeatables(MigrationPlan *plan, ScriptSet *set, List *history)
{
	ListCell   *lc;

	foreach(lc, set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);
		PlanEntry  *e;
		ListCell   *lc2;

		if (s->kind != MIGRATION_REPEATABLE)
			continue;
		e = palloc0(sizeof(PlanEntry));
		e->script = s;
		e->description = s->description;
		foreach(lc2, history)
		{
			HistoryRow *row = (HistoryRow *) lfirst(lc2);

			if (strcmp(row->type, "repeatable") != 0 || row->script == NULL ||
				strcmp(row->script, s->name) != 0)
				continue;
			if (row->success)
			{
				e->applied = row;
				e->failed = NULL;
			}
			else
				e->failed = row;
		}
		if (e->applied && e->applied->checksum &&
			strcmp(e->applied->checksum, s->checksum) == 0 && e->failed == NULL)
			e->state = STATE_APPLIED;
		else
			e->state = e->failed ? STATE_FAILED : STATE_PENDING;
		plan->entries = lappend(plan->entries, e);
		if (e->state != STATE_APPLIED)
			plan->pending = lappend(plan->pending, e);
	}
}

/*
 * Build the plan of a track.  target, if not NULL, is the highest version
 * apply may run (normalized).
 */
MigrationPlan *
plan_build(ScriptSet *set, List *history, const char *target)
{
	MigrationPlan	   *plan = palloc0(sizeof(MigrationPlan));
	List	   *entries;
	ListCell   *lc;

	plan->misnamed = set->misnamed;
	entries = entries_from_scripts(set, plan);
	entries = replay_history(entries, history, plan);

	foreach(lc, entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		if (e->applied && (plan->current == NULL || version_cmp(e->version, plan->current) > 0))
			plan->current = e->version;
	}
	if (plan->baseline && (plan->current == NULL || version_cmp(plan->baseline, plan->current) > 0))
		plan->current = plan->baseline;

	foreach(lc, entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		/* an undo file alone is no migration */
		if (e->script == NULL && e->applied == NULL)
			continue;
		e->state = versioned_state(e, plan->current, plan->baseline);
		plan->entries = lappend(plan->entries, e);
		if (e->script && e->applied == NULL && e->state != STATE_BASELINE &&
			e->state != STATE_DIRTY &&
			(target == NULL || version_cmp(e->version, target) <= 0))
			plan->pending = lappend(plan->pending, e);
	}

	/* repeatables run after all versioned migrations, and not up to a target */
	if (target == NULL)
		plan_repeatables(plan, set, history);
	return plan;
}

/* one line per item, for an errdetail */
static char *
join_lines(List *items, const char *prefix)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, items)
	{
		if (buf.len > 0)
			appendStringInfoChar(&buf, '\n');
		appendStringInfo(&buf, "%s%s", prefix, (char *) lfirst(lc));
	}
	return buf.data;
}

/*
 * Refuse to run anything when the directory or the history is not sound:
 * misnamed files, duplicate versions, dirty or changed migrations, and
 * out-of-order pending versions (unless allowed).
 */
void
plan_check(MigrationPlan *plan, bool out_of_order)
{
	ListCell   *lc;

	if (plan->misnamed != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 list_length(plan->misnamed) == 1 ?
				 errmsg("migration file \"%s\" is misnamed", (char *) linitial(plan->misnamed)) :
				 errmsg("%d migration files are misnamed", list_length(plan->misnamed)),
				 errdetail("Misnamed files:\n%s", join_lines(plan->misnamed, "  ")),
				 errhint("Name versioned migrations V<version>__<description>.sql, undo scripts "
						 "U<version>__<description>.sql and repeatable ones R__<description>.sql; "
						 "a misnamed file is never skipped.")));

	if (plan->duplicates != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("duplicate migration versions"),
				 errdetail("%s", join_lines(plan->duplicates, "")),
				 errhint("Give each migration its own version.")));

	foreach(lc, plan->entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		if (e->state == STATE_DIRTY)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("migration %s is dirty", e->failed->script ? e->failed->script : e->version),
					 errdetail("It runs outside a transaction and failed part-way: %s", e->failed->script),
					 errhint("Repair the database by hand, then run SELECT migrate.repair(...).")));
		if (e->state == STATE_CHANGED)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("migration file \"%s\" has changed since it was applied", e->script->name),
					 errdetail("Checksum recorded %s, file now %s.",
							   e->applied->checksum, e->script->checksum),
					 errhint("Restore the file as it was applied, or accept the change with "
							 "SELECT migrate.repair(...).")));
	}

	if (!out_of_order)
	{
		foreach(lc, plan->pending)
		{
			PlanEntry  *e = (PlanEntry *) lfirst(lc);

			if (e->state == STATE_OUT_OF_ORDER)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("migration \"%s\" is out of order", e->script->name),
						 errdetail("Version %s is pending, but version %s is already applied.",
								   e->version, plan->current),
						 errhint("Pass out_of_order => true to apply it anyway.")));
		}
	}
}
