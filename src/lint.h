/*-------------------------------------------------------------------------
 *
 * lint.h
 *	  The migration linter, as apply and the SQL functions use it.
 *
 * apply lints the pending migrations before it runs any of them
 * (lint_before_run), prints or enforces the findings (lint_report_script
 * for the dry run, lint_enforce), and records the findings a migration
 * silenced with its history row (lint_record_ignored).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LINT_H
#define MIGRATE_LINT_H

#include "utils/guc.h"

#include "migrate.h"
#include "plan.h"

/* migrate.lint */
typedef enum LintMode
{
	LINT_MODE_OFF,
	LINT_MODE_WARN,
	LINT_MODE_ERROR
} LintMode;

extern int	migrate_lint_mode;
extern int	migrate_lint_large_table;	/* kB */
extern const struct config_enum_entry lint_mode_options[];

/* the findings of a run's pending migrations */
typedef struct LintRun LintRun;

struct Placeholders;			/* placeholders.h */
extern LintRun *lint_before_run(MigrationPlan *plan, bool dry_run,
								const struct Placeholders *ph);
extern void lint_report_script(LintRun *lr, const MigrationScript *s);
extern void lint_enforce(LintRun *lr, bool print);
extern void lint_record_ignored(LintRun *lr, const char *track, const MigrationScript *s);

/*
 * migrate.lint = warn: each migration linted while it runs, fed by the
 * executor's one pass over its file (lint_before_run only sets the run up).
 */
struct Statement;
extern LintRun *lint_stream_of(LintRun *lr);
extern bool lint_wants(LintRun *lr, const struct Statement *st);
extern void lint_stream_begin(LintRun *lr, const MigrationScript *s);
extern void lint_stream_line(LintRun *lr, int lineno, const char *line, size_t len);
extern void lint_stream_statement(LintRun *lr, const struct Statement *st, List *parsed,
								  bool wanted);
extern void lint_stream_end(LintRun *lr, const MigrationScript *s);

/*
 * The streaming interface, for a reader that runs each pending file once
 * (lint_before_run's pass is lint_read_script in lint.c, built on these):
 * one state per run; per script, begin, every line (for the directives,
 * each before the statements that start after it), every statement as
 * the splitter hands it out, end (returns the script's findings, a List
 * of LintFinding, see lint_int.h).
 */
struct LintState;
extern struct LintState *lint_run_create(void);
extern void lint_file_begin(struct LintState *ls, const char *name);
extern void lint_file_line(struct LintState *ls, int lineno, const char *line, size_t len);
extern void lint_file_statement(struct LintState *ls, const struct Statement *st);
extern List *lint_file_end(struct LintState *ls);

#endif							/* MIGRATE_LINT_H */
