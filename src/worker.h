/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  Running a migration's statements at top level in a background worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_WORKER_H
#define MIGRATE_WORKER_H

#include "splitter.h"

/* one background worker running one migration file, seen from the caller */
typedef struct WorkerSession WorkerSession;

/* what a worker committed before it stopped, for the dirty message */
typedef struct WorkerProgress
{
	int			statements;		/* statements that completed */
	int			committed_line; /* line of the last committed one, or 0 */
	const char *committed_file; /* file it is in (a migration or an include) */
	const char *committed_text; /* its first characters */
} WorkerProgress;

extern WorkerSession *worker_start(const char *script, MemoryContext cxt);
extern void worker_run(WorkerSession *ws, const Statement *st, const char *file);
extern void worker_finish(WorkerSession *ws, int *error_line);
extern void worker_stop(WorkerSession *ws);
extern WorkerProgress worker_progress(const WorkerSession *ws);

#endif							/* MIGRATE_WORKER_H */
