/*-------------------------------------------------------------------------
 *
 * executor.h
 *	  Running the statements of one script, in one pass over its file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_EXECUTOR_H
#define MIGRATE_EXECUTOR_H

#include "lib/stringinfo.h"

#include "migrate.h"

/*
 * One execution of a script: what it needs and what it leaves.  The file
 * is read once (execute_open, execute_script, execute_close): checksum,
 * text for the history, lint and the top-level detection all ride on the
 * chunks the statements are split from.
 */
typedef struct ScriptExec
{
	const MigrationScript *script;
	const char *base_dir;		/* the migration directory (for \i) */
	const char *what;			/* names it in error contexts; NULL: "migration" */
	struct WorkerSession *worker;	/* if set, statements run there, at top level */
	bool		detect_nontx;	/* stop before a statement that needs top level */
	bool		scan_only;		/* only execute_scan_rest will read it (a dry run):
								 * no check that the caller may run it */
	struct LintRun *lint;		/* lint each statement as it goes (lint.h), or NULL */
	const struct Placeholders *placeholders;	/* Flyway placeholders to replace
												 * (placeholders.h), or NULL */
	StringInfo	sql;			/* out: the text run, or NULL when too large */
	char		checksum[MIGRATE_CHECKSUM_LEN]; /* out: of what was run */
	FileIdentity identity;		/* out: of the file when it was opened */
	int			error_line;		/* out: line of the failing statement */
	int			statements;		/* out: statements executed */
	const char *nontx_why;		/* out: why it stopped: the file must run outside a
								 * transaction ("CREATE INDEX CONCURRENTLY at line 3") */
	struct ExecPass *pass;		/* the pass over the file, while open */
} ScriptExec;

extern void execute_open(ScriptExec *exec);
extern void execute_script(ScriptExec *exec);
extern const char *execute_scan_rest(ScriptExec *exec);
extern void execute_close(ScriptExec *exec);

#endif							/* MIGRATE_EXECUTOR_H */
