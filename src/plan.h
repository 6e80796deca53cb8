/*-------------------------------------------------------------------------
 *
 * plan.h
 *	  Scripts + history -> the state of every migration and the work to do.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_PLAN_H
#define MIGRATE_PLAN_H

#include "layout.h"
#include "migrate.h"

typedef enum MigrationState
{
	STATE_PENDING,
	STATE_APPLIED,
	STATE_FAILED,
	STATE_CHANGED,
	STATE_MISSING,
	STATE_OUT_OF_ORDER,
	STATE_UNDONE,
	STATE_BASELINE,
	STATE_DIRTY
} MigrationState;

/* one migration: a version (or a repeatable script) */
typedef struct PlanEntry
{
	const char *version;		/* NULL for repeatable */
	const char *description;
	MigrationScript *script;	/* versioned or repeatable file; NULL if gone */
	MigrationScript *undo;		/* its undo file, if any */
	HistoryRow *applied;		/* the row that applied it, if applied */
	HistoryRow *failed;			/* latest failure after that, if any */
	bool		undone;			/* latest success was its undo */
	HistoryRow *undo_row;		/* that undo's row, when undone */
	MigrationState state;
} PlanEntry;

/*
 * Fill in s->checksum when the plan needs it (s is applied, or a
 * repeatable script); row is its last successful history row, or NULL.
 */
struct MigrationPlan;
typedef void (*PlanChecksumFn) (struct MigrationPlan *plan, MigrationScript *s,
								const HistoryRow *row);

/* a history row whose file was read and found unchanged under a new identity */
typedef struct IdentityRefresh
{
	int64		rank;
	FileIdentity identity;
} IdentityRefresh;

typedef struct MigrationPlan
{
	List	   *entries;		/* PlanEntry *, versioned by version, then repeatable */
	List	   *pending;		/* PlanEntry *, what apply runs, in order */
	const char *current;		/* highest applied version, or NULL */
	const char *baseline;		/* version of the latest baseline, or NULL */
	HistoryRow *baseline_row;	/* its row */
	List	   *misnamed;		/* char * */
	const char *naming_hint;	/* how the directory's layout names files */
	List	   *duplicates;		/* char *: one message per duplicate pair */
	PlanChecksumFn checksum_of; /* NULL: every script's checksum is set */
	List	   *refresh;		/* IdentityRefresh *: for run_refresh_identities */
} MigrationPlan;

/* what can be wrong with a directory or a track's history */
typedef enum PlanProblemKind
{
	PROBLEM_MISNAMED,
	PROBLEM_DUPLICATE,
	PROBLEM_DIRTY,
	PROBLEM_CHANGED,
	PROBLEM_OUT_OF_ORDER,
	PROBLEM_MISSING,			/* reported by validate only */
	PROBLEM_FAILED				/* reported by validate only */
} PlanProblemKind;

/* one problem, found by plan_problems */
typedef struct PlanProblem
{
	PlanProblemKind kind;
	PlanEntry  *entry;			/* NULL for misnamed files and duplicates */
	char	   *subject;		/* file name or version, for a message */
	char	   *sentence;		/* one full sentence, for a detail line */
	const char *hint;			/* its own hint (the layout's naming rules), or NULL */
} PlanProblem;

extern MigrationPlan *plan_build(ScriptSet *set, List *history, const char *target,
								 PlanChecksumFn checksum_of);
extern List *plan_problems(MigrationPlan *plan, bool out_of_order, bool all);
extern void plan_raise(List *problems);
extern void plan_check(MigrationPlan *plan, bool out_of_order);
extern void plan_validate(MigrationPlan *plan, const char *track);
extern const char *migration_state_name(MigrationState state);
extern List *plan_scripts(List *entries, bool undo);

#endif							/* MIGRATE_PLAN_H */
