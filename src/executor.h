/*-------------------------------------------------------------------------
 *
 * executor.h
 *	  Running the statements of one script.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_EXECUTOR_H
#define MIGRATE_EXECUTOR_H

#include "lib/stringinfo.h"

#include "migrate.h"

/* one execution of a script: what it needs and what it leaves */
typedef struct ScriptRun
{
	const MigrationScript *script;
	const char *base_dir;		/* the migration directory (for \i) */
	const char *what;			/* names it in error contexts; NULL: "migration" */
	struct WorkerSession *worker;	/* if set, statements run there, at top level */
	StringInfo	sql;			/* out: the text run, or NULL when too large */
	char		checksum[MIGRATE_CHECKSUM_LEN]; /* out: of what was run */
	int			error_line;		/* out: line of the failing statement */
	int			statements;		/* out: statements executed */
} ScriptRun;

extern void execute_script(ScriptRun *run);

#endif							/* MIGRATE_EXECUTOR_H */
