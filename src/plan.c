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
 *	  undone        its latest successful row was its undo script (it is
 *	                pending again; older than the newest applied version,
 *	                re-applying it is out of order all the same)
 *	  out_of_order  pending, but older than the newest applied version
 *	  baseline      at or below the baseline and never applied itself (the
 *	                baseline's own version is an entry even without a file)
 * Versions sort in the order of the directory's layout (numerically, but
 * as strings for diesel, by folder name for Prisma, as sql-migrate sorts
 * its files; layout.c).  A history row of a Prisma or diesel migration
 * written before 1.1 holds the version 1.0 gave it; it counts for the file
 * it names when that file's version was then the row's
 * (MigrationScript.legacy_version), so nothing applied runs again.
 * Repeatable scripts are pending whenever their checksum differs from the
 * last successful run of the same script name, and run after the
 * versioned ones.  apply, undo, status, validate and the dry run share
 * this one plan, and plan_problems is the one place that decides what is
 * wrong with it: apply and undo refuse the blocking problems, validate
 * lists them all.  Nothing here executes anything.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "nontx.h"
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
		case STATE_MISNAMED:
			return "misnamed";
		case STATE_IGNORED:
			return "ignored";
	}
	return "unknown";
}

/* compare two versions in the order of the plan's layout */
int
plan_version_cmp(const MigrationPlan *plan, const char *a, const char *b)
{
	return layout_version_cmp(plan->order, a, b);
}

/*
 * A version a user gave (target =>, version =>; see version_arg) must be
 * a version of the directory's layout: a name only where the layout names
 * its migrations (Prisma, sql-migrate, ...), else a number.
 */
void
plan_check_version(const MigrationPlan *plan, const char *version)
{
	if (version && plan->order == NULL && !version_is_numeric(version))
		(void) version_check(version);	/* the error */
}

/* entries by version: arg points to the plan's VersionOrder */
static int
compare_entries(const void *a, const void *b, void *arg)
{
	const PlanEntry *ea = (const PlanEntry *) lfirst((const ListCell *) a);
	const PlanEntry *eb = (const PlanEntry *) lfirst((const ListCell *) b);

	return layout_version_cmp(*(VersionOrder *) arg, ea->version, eb->version);
}

/* sort entries by version */
static void
sort_entries(MigrationPlan *plan, List *entries)
{
	if (entries != NIL)
		qsort_arg(entries->elements, list_length(entries), sizeof(ListCell),
				  compare_entries, &plan->order);
}

/*
 * Binary search of a version among entries sorted by version.  With next
 * (else NULL), the entry at *next is tried first and *next is left after
 * the one found: history rows come mostly in version order, so replaying
 * 10 000 of them costs one comparison each instead of fourteen.
 */
static PlanEntry *
find_entry(MigrationPlan *plan, List *entries, const char *version, int *next)
{
	int			lo = 0;
	int			hi = list_length(entries) - 1;

	if (next && *next >= 0 && *next <= hi)
	{
		PlanEntry  *e = (PlanEntry *) list_nth(entries, *next);

		if (plan_version_cmp(plan, version, e->version) == 0)
		{
			(*next)++;
			return e;
		}
	}
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		PlanEntry  *e = (PlanEntry *) list_nth(entries, mid);
		int			c = plan_version_cmp(plan, version, e->version);

		if (c == 0)
		{
			if (next)
				*next = mid + 1;
			return e;
		}
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
		if (last == NULL || plan_version_cmp(plan, last->version, s->version) != 0)
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
history_only_entries(MigrationPlan *plan, List *entries, List *history)
{
	List	   *extra = NIL;
	List	   *unique = NIL;
	PlanEntry  *last = NULL;
	ListCell   *lc;
	int			next = 0;

	foreach(lc, history)
	{
		HistoryRow *row = (HistoryRow *) lfirst(lc);

		if (replayed_row(row) && find_entry(plan, entries, row->version, &next) == NULL)
		{
			PlanEntry  *e = palloc0(sizeof(PlanEntry));

			e->version = row->version;
			extra = lappend(extra, e);
		}
	}
	sort_entries(plan, extra);
	foreach(lc, extra)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		if (last == NULL || plan_version_cmp(plan, last->version, e->version) != 0)
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
	List	   *extra = history_only_entries(plan, entries, history);
	ListCell   *lc;
	int			next = 0;

	foreach(lc, history)
	{
		HistoryRow *row = (HistoryRow *) lfirst(lc);
		PlanEntry  *e;

		if (row->version == NULL || strcmp(row->type, "repeatable") == 0)
			continue;
		if (strcmp(row->type, "baseline") == 0)
		{
			if (row->success)
			{
				plan->baseline = row->version;
				plan->baseline_row = row;
			}
			continue;
		}

		e = find_entry(plan, entries, row->version, &next);
		if (e == NULL)
		{
			e = find_entry(plan, extra, row->version, NULL);
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
			e->undo_row = row;
			e->failed = NULL;
		}
		else
		{
			e->applied = row;
			e->undone = false;
			e->undo_row = NULL;
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
	sort_entries(plan, entries);
	return entries;
}

/* scripts by name, for legacy_rows */
static int
compare_script_names(const void *a, const void *b)
{
	return strcmp((*(MigrationScript *const *) a)->name, (*(MigrationScript *const *) b)->name);
}

/*
 * History rows that 1.0 wrote with another version for a file than the
 * file has now (prisma, diesel: MigrationScript.legacy_version) take the
 * file's version, so that they count for it.  A row counts only for the
 * file it names, and only if that file's version was then the row's.
 */
static void
legacy_rows(ScriptSet *set, List *history)
{
	MigrationScript **byname;
	int			n = 0;
	ListCell   *lc;

	foreach(lc, set->scripts)
		if (((MigrationScript *) lfirst(lc))->legacy_version)
			n++;
	if (n == 0)
		return;
	byname = palloc(sizeof(MigrationScript *) * n);
	n = 0;
	foreach(lc, set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);

		if (s->legacy_version)
			byname[n++] = s;
	}
	qsort(byname, n, sizeof(MigrationScript *), compare_script_names);

	foreach(lc, history)
	{
		HistoryRow *row = (HistoryRow *) lfirst(lc);
		MigrationScript key;
		MigrationScript *keyp = &key;
		MigrationScript **found;

		if (row->version == NULL || row->script == NULL)
			continue;
		key.name = row->script;
		found = bsearch(&keyp, byname, n, sizeof(MigrationScript *), compare_script_names);
		if (found && strcmp((*found)->legacy_version, row->version) == 0)
			row->version = (*found)->version;
	}
	pfree(byname);
}

/*
 * The checksum of script s, compared with its history row: computed only
 * now, for the scripts whose state depends on it (see load_plan).
 */
static const char *
script_checksum(MigrationPlan *plan, MigrationScript *s, const HistoryRow *row)
{
	if (s->checksum[0] == '\0' && plan->checksum_of)
		plan->checksum_of(plan, s, row);
	return s->checksum;
}

/* the state of a versioned entry, given the highest applied version */
static MigrationState
versioned_state(MigrationPlan *plan, PlanEntry *e, const char *current, const char *baseline)
{
	if (e->failed && e->failed->dirty)
		return STATE_DIRTY;
	if (e->applied)
	{
		if (e->script == NULL)
			return STATE_MISSING;
		/* rows adopted from another tool have no checksum of ours */
		if (e->applied->checksum != NULL &&
			strcmp(e->applied->checksum, script_checksum(plan, e->script, e->applied)) != 0)
			return STATE_CHANGED;
		return STATE_APPLIED;
	}
	if (baseline && !e->undone && plan_version_cmp(plan, e->version, baseline) <= 0)
		return STATE_BASELINE;
	if (e->failed)
		return STATE_FAILED;
	/* undone says more than out_of_order; plan_problems checks both */
	if (e->undone)
		return STATE_UNDONE;
	if (current && plan_version_cmp(plan, e->version, current) < 0)
		return STATE_OUT_OF_ORDER;
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
			strcmp(e->applied->checksum, script_checksum(plan, s, e->applied)) == 0 &&
			e->failed == NULL)
			e->state = STATE_APPLIED;
		else if (e->failed && e->failed->dirty)
			e->state = STATE_DIRTY;
		else
			e->state = e->failed ? STATE_FAILED : STATE_PENDING;
		plan->entries = lappend(plan->entries, e);
		if (e->state != STATE_APPLIED && e->state != STATE_DIRTY)
			plan->pending = lappend(plan->pending, e);
	}
}

/*
 * Build the plan of a track.  target, if not NULL, is the highest version
 * apply may run (normalized).  checksum_of, if not NULL, computes the
 * checksums the states need, when they are needed; the others stay empty.
 */
MigrationPlan *
plan_build(ScriptSet *set, List *history, const char *target, PlanChecksumFn checksum_of)
{
	MigrationPlan	   *plan = palloc0(sizeof(MigrationPlan));
	List	   *entries;
	ListCell   *lc;

	plan->checksum_of = checksum_of;
	plan->misnamed = set->misnamed;
	plan->ignored = set->ignored;
	plan->naming_hint = set->naming_hint;
	plan->order = set->order;
	plan->set = set;
	plan_check_version(plan, target);
	legacy_rows(set, history);
	entries = entries_from_scripts(set, plan);
	entries = replay_history(entries, history, plan);

	foreach(lc, entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		if (e->applied && (plan->current == NULL ||
						   plan_version_cmp(plan, e->version, plan->current) > 0))
			plan->current = e->version;
	}
	if (plan->baseline && (plan->current == NULL ||
						   plan_version_cmp(plan, plan->baseline, plan->current) > 0))
		plan->current = plan->baseline;

	/* the baseline shows as a migration of its own when no file has its version */
	if (plan->baseline && find_entry(plan, entries, plan->baseline, NULL) == NULL)
	{
		PlanEntry  *b = palloc0(sizeof(PlanEntry));

		b->version = plan->baseline;
		b->description = plan->baseline_row->description;
		entries = lappend(entries, b);
		sort_entries(plan, entries);
	}

	foreach(lc, entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		/* an undo file alone is no migration */
		if (e->script == NULL && e->applied == NULL &&
			!(plan->baseline && plan_version_cmp(plan, e->version, plan->baseline) == 0))
			continue;
		e->state = versioned_state(plan, e, plan->current, plan->baseline);
		plan->entries = lappend(plan->entries, e);
		if (e->script && e->applied == NULL && e->state != STATE_BASELINE &&
			e->state != STATE_DIRTY &&
			(target == NULL || plan_version_cmp(plan, e->version, target) <= 0))
			plan->pending = lappend(plan->pending, e);
	}

	/* repeatables run after all versioned migrations, and not up to a target */
	if (target == NULL)
		plan_repeatables(plan, set, history);
	return plan;
}

/*
 * The rows of migrate.status (version, description, type, script,
 * checksum, state, installed_on, execution_ms) for the .sql files that are
 * no migration: misnamed ones, with the name they probably meant as their
 * description, then ignored ones, with why their tool does not run them.
 */
void
plan_status_files(const MigrationPlan *plan, Tuplestorestate *ts, TupleDesc desc)
{
	List	   *lists[2] = {plan->misnamed, plan->ignored};
	int			i;

	for (i = 0; i < 2; i++)
	{
		ListCell   *lc;

		foreach(lc, lists[i])
		{
			NotScript  *n = (NotScript *) lfirst(lc);
			Datum		values[8];
			bool		nulls[8];
			const char *description = "";

			memset(values, 0, sizeof(values));
			memset(nulls, true, sizeof(nulls));
			if (i == 0 && n->meant)
				description = psprintf("probably meant %s", n->meant);
			else if (i == 1)
				description = n->why;
			values[1] = CStringGetTextDatum(description);
			nulls[1] = false;
			values[3] = CStringGetTextDatum(n->name);
			nulls[3] = false;
			values[5] = CStringGetTextDatum(migration_state_name(i == 0 ? STATE_MISNAMED :
																 STATE_IGNORED));
			nulls[5] = false;
			tuplestore_putvalues(ts, desc, values, nulls);
		}
	}
}

/* a new problem */
static PlanProblem *
problem(PlanProblemKind kind, PlanEntry *e, char *subject, char *sentence)
{
	PlanProblem *p = palloc0(sizeof(PlanProblem));

	p->kind = kind;
	p->entry = e;
	p->subject = subject;
	p->sentence = sentence;
	return p;
}

/* the file an entry's messages name: its script, or its last history row's */
static const char *
entry_name(PlanEntry *e)
{
	if (e->script)
		return e->script->name;
	if (e->applied && e->applied->script)
		return e->applied->script;
	return psprintf("version %s", e->version);
}

/* " at line N: message" of a failed row, for a sentence */
static char *
failure_text(HistoryRow *row)
{
	StringInfoData buf;
	size_t		len;

	initStringInfo(&buf);
	if (row->error_line > 0)
		appendStringInfo(&buf, " at line %d", row->error_line);
	if (row->error)
	{
		appendStringInfo(&buf, ": %s", row->error);
		len = strlen(row->error);
		if (len > 0 && row->error[len - 1] != '.')
			appendStringInfoChar(&buf, '.');
	}
	else
		appendStringInfoChar(&buf, '.');
	return buf.data;
}

/*
 * The sentence of a dirty migration.  The failure row of a run that
 * stopped part-way holds nontx_describe_failure's summary, which says the
 * error, its line and that the run was outside a transaction: the sentence
 * adds only which run it was.  Rows without that summary (written by hand,
 * or before it existed) get the line and the circumstances here.
 */
static char *
dirty_sentence(PlanEntry *e, const char *name)
{
	HistoryRow *row = e->failed;
	bool		undo = strcmp(row->type, "undo") == 0;
	const char *script = row->script ? row->script : name;

	if (row->error && strstr(row->error, "It ran outside a transaction") != NULL)
		return undo ?
			psprintf("The undo of migration \"%s\" (%s) stopped part-way: %s", name, script,
					 row->error) :
			psprintf("Migration \"%s\" stopped part-way: %s", script, row->error);
	return undo ?
		psprintf("The undo of migration \"%s\" (%s) ran outside a transaction and stopped "
				 "part-way%s", name, script, failure_text(row)) :
		psprintf("Migration \"%s\" ran outside a transaction and stopped part-way%s",
				 script, failure_text(row));
}

/* is a pending entry older than the newest applied version? */
static bool
is_out_of_order(MigrationPlan *plan, PlanEntry *e)
{
	return e->version != NULL && plan->current != NULL &&
		(e->state == STATE_OUT_OF_ORDER || e->state == STATE_UNDONE ||
		 e->state == STATE_FAILED) &&
		plan_version_cmp(plan, e->version, plan->current) < 0;
}

/*
 * Everything wrong with a plan, in the order a reader fixes it: misnamed
 * files, duplicate versions, then per migration in version order dirty,
 * changed, out of order (unless out_of_order allows it).  With all (what
 * validate reports) also missing files and failed runs, which do not stop
 * apply: a failed migration is simply retried, and a missing file's
 * migration stays applied.
 */
List *
plan_problems(MigrationPlan *plan, bool out_of_order, bool all)
{
	List	   *problems = NIL;
	ListCell   *lc;

	foreach(lc, plan->misnamed)
	{
		NotScript  *n = (NotScript *) lfirst(lc);
		PlanProblem *p;

		if (n->meant)
			p = problem(PROBLEM_MISNAMED, NULL, n->name,
						psprintf("File \"%s\" is misnamed: it fits no migration name pattern; "
								 "it was probably meant to be \"%s\".", n->name, n->meant));
		else
			p = problem(PROBLEM_MISNAMED, NULL, n->name,
						psprintf("File \"%s\" is misnamed: it fits no migration name pattern.",
								 n->name));

		/* the name it probably meant, and the naming rules of the layout */
		p->hint = n->meant && list_length(plan->misnamed) == 1 ?
			psprintf("Rename it to %s. %s", n->meant, plan->naming_hint) : plan->naming_hint;
		problems = lappend(problems, p);
	}
	foreach(lc, plan->duplicates)
		problems = lappend(problems,
						   problem(PROBLEM_DUPLICATE, NULL, NULL, (char *) lfirst(lc)));

	foreach(lc, plan->entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);
		const char *name = entry_name(e);

		switch (e->state)
		{
			case STATE_DIRTY:
				{
					PlanProblem *p = problem(PROBLEM_DIRTY, e, pstrdup(name), dirty_sentence(e, name));

					p->hint = nontx_repair_hint(strcmp(e->failed->type, "undo") == 0);
					problems = lappend(problems, p);
				}
				break;
			case STATE_CHANGED:
				problems = lappend(problems,
								   problem(PROBLEM_CHANGED, e, pstrdup(name),
										   psprintf("Migration \"%s\" has changed since it was applied: checksum recorded %s, file now %s.",
													name, e->applied->checksum, e->script->checksum)));
				break;
			case STATE_MISSING:
				if (all)
					problems = lappend(problems,
									   problem(PROBLEM_MISSING, e, pstrdup(name),
											   psprintf("Migration \"%s\" (version %s) is applied, but its file is missing.",
														name, e->version)));
				break;
			default:
				break;
		}

		/* a failed run that is not the current state: a failed undo */
		if (all && e->failed && e->state != STATE_DIRTY)
		{
			if (strcmp(e->failed->type, "undo") == 0)
				problems = lappend(problems,
								   problem(PROBLEM_FAILED, e, pstrdup(name),
										   psprintf("The undo of migration \"%s\" (%s) failed%s",
													name, e->failed->script ? e->failed->script : "no script",
													failure_text(e->failed))));
			else
				problems = lappend(problems,
								   problem(PROBLEM_FAILED, e, pstrdup(name),
										   psprintf("Migration \"%s\" failed%s",
													e->failed->script ? e->failed->script : name,
													failure_text(e->failed))));
		}
	}

	if (!out_of_order)
	{
		foreach(lc, plan->pending)
		{
			PlanEntry  *e = (PlanEntry *) lfirst(lc);

			if (is_out_of_order(plan, e))
				problems = lappend(problems,
								   problem(PROBLEM_OUT_OF_ORDER, e, pstrdup(entry_name(e)),
										   psprintf("Migration \"%s\" is out of order: version %s is pending, but version %s is already applied.",
													entry_name(e), e->version, plan->current)));
		}
	}
	return problems;
}

/* the error code of a kind of problem */
static int
problem_errcode(PlanProblemKind kind)
{
	switch (kind)
	{
		case PROBLEM_MISNAMED:
			return ERRCODE_INVALID_NAME;
		case PROBLEM_DUPLICATE:
			return ERRCODE_DUPLICATE_OBJECT;
		default:
			return ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
	}
}

/* what to do about a kind of problem, one sentence or two */
static const char *
problem_hint(PlanProblemKind kind)
{
	switch (kind)
	{
		case PROBLEM_MISNAMED:
			return "Name versioned migrations V<version>__<description>.sql, undo scripts "
				"U<version>__<description>.sql and repeatable ones R__<description>.sql; "
				"a misnamed file is never skipped.";
		case PROBLEM_DUPLICATE:
			return "Give each migration its own version.";
		case PROBLEM_DIRTY:
			return NONTX_REPAIR_HINT;
		case PROBLEM_CHANGED:
			return "Restore the file as it was applied, or accept the change with "
				"SELECT migrate.repair(...).";
		case PROBLEM_OUT_OF_ORDER:
			return "Pass out_of_order => true to apply it anyway.";
		case PROBLEM_MISSING:
			return "Restore the missing file; a migration whose file is gone cannot be checked.";
		case PROBLEM_FAILED:
			return "Fix the failed migration and apply again, or remove the failure with "
				"SELECT migrate.repair(...).";
	}
	return "";
}

/*
 * The hint of a missing undo script (undo refuses): the file to create
 * for each entry, in the layout's names.
 */
char *
plan_undo_hint(const MigrationPlan *plan, List *entries, bool target)
{
	StringInfoData buf;
	ListCell   *lc;
	int			i = 0;
	int			n = list_length(entries);

	initStringInfo(&buf);
	appendStringInfo(&buf, "Create the missing undo script%s: ", n == 1 ? "" : "s");
	foreach(lc, entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);

		if (i > 0)
			appendStringInfoString(&buf, i == n - 1 ? " and " : ", ");
		appendStringInfoString(&buf, layout_undo_name(plan->set, e->script));
		i++;
	}
	if (target)
		appendStringInfoString(&buf, "; or undo to a higher target");
	appendStringInfoChar(&buf, '.');
	return buf.data;
}

/* the hints of every kind among problems, each once */
static char *
problems_hint(List *problems)
{
	StringInfoData buf;
	bool		seen[PROBLEM_FAILED + 1];
	ListCell   *lc;

	memset(seen, 0, sizeof(seen));
	initStringInfo(&buf);
	foreach(lc, problems)
	{
		PlanProblem *p = (PlanProblem *) lfirst(lc);

		if (seen[p->kind])
			continue;
		seen[p->kind] = true;
		if (buf.len > 0)
			appendStringInfoChar(&buf, '\n');
		appendStringInfoString(&buf, p->hint ? p->hint : problem_hint(p->kind));
	}
	return buf.data;
}

/* every problem's sentence, one per line */
static char *
problems_detail(List *problems)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, problems)
	{
		if (buf.len > 0)
			appendStringInfoChar(&buf, '\n');
		appendStringInfoString(&buf, ((PlanProblem *) lfirst(lc))->sentence);
	}
	return buf.data;
}

/* how many problems have the kind of the first one */
static int
count_first_kind(List *problems)
{
	PlanProblemKind kind = ((PlanProblem *) linitial(problems))->kind;
	ListCell   *lc;
	int			n = 0;

	foreach(lc, problems)
		if (((PlanProblem *) lfirst(lc))->kind == kind)
			n++;
	return n;
}

/*
 * Refuse to run: one error whose message names the first problem (or how
 * many of its kind there are) and whose detail lists every problem, one
 * per line.  Nothing when problems is empty.
 */
void
plan_raise(List *problems)
{
	PlanProblem *first;
	int			n;
	char	   *msg = NULL;

	if (problems == NIL)
		return;
	first = (PlanProblem *) linitial(problems);
	n = count_first_kind(problems);

	switch (first->kind)
	{
		case PROBLEM_MISNAMED:
			msg = n == 1 ? psprintf("migration file \"%s\" is misnamed", first->subject) :
				psprintf("%d migration files are misnamed", n);
			break;
		case PROBLEM_DUPLICATE:
			msg = pstrdup("duplicate migration versions");
			break;
		case PROBLEM_DIRTY:
			msg = psprintf("migration \"%s\" is dirty", first->subject);
			break;
		case PROBLEM_CHANGED:
			msg = n == 1 ? psprintf("migration file \"%s\" has changed since it was applied", first->subject) :
				psprintf("%d migration files have changed since they were applied", n);
			break;
		case PROBLEM_OUT_OF_ORDER:
			msg = n == 1 ? psprintf("migration \"%s\" is out of order", first->subject) :
				psprintf("%d migrations are out of order", n);
			break;
		case PROBLEM_MISSING:
			msg = psprintf("migration \"%s\" is missing", first->subject);
			break;
		case PROBLEM_FAILED:
			msg = psprintf("migration \"%s\" failed", first->subject);
			break;
	}

	ereport(ERROR,
			(errcode(problem_errcode(first->kind)),
			 errmsg("%s", msg),
			 errdetail_internal("%s", problems_detail(problems)),
			 errhint("%s", problems_hint(problems))));
}

/*
 * What apply refuses before running anything: misnamed files, duplicate
 * versions, dirty or changed migrations, and out-of-order pending
 * versions (unless allowed).
 */
void
plan_check(MigrationPlan *plan, bool out_of_order)
{
	plan_raise(plan_problems(plan, out_of_order, false));
}

/*
 * migrate.validate: one error listing every problem of the plan, missing
 * files and failed runs included; nothing when it is clean.
 */
void
plan_validate(MigrationPlan *plan, const char *track)
{
	List	   *problems = plan_problems(plan, false, true);
	int			n = list_length(problems);

	if (n == 0)
		return;
	ereport(ERROR,
			(errcode(problem_errcode(((PlanProblem *) linitial(problems))->kind)),
			 errmsg_plural("validation found %d problem on track \"%s\"",
						   "validation found %d problems on track \"%s\"",
						   n, n, track),
			 errdetail_internal("%s", problems_detail(problems)),
			 errhint("%s", problems_hint(problems))));
}

/* the scripts of plan entries (their undo scripts when undo), in order */
List *
plan_scripts(List *entries, bool undo)
{
	List	   *scripts = NIL;
	ListCell   *lc;

	foreach(lc, entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);
		MigrationScript *s = undo ? e->undo : e->script;

		if (s)
			scripts = lappend(scripts, s);
	}
	return scripts;
}
