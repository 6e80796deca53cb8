/*-------------------------------------------------------------------------
 *
 * staged.h
 *	  Staged scripts: migration files kept as SQL text in migrate.staged.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_STAGED_H
#define MIGRATE_STAGED_H

#include "source.h"

extern void staged_check_run(const SourceFile *file);
extern void staged_check_plan(List *entries, bool undo);

#endif							/* MIGRATE_STAGED_H */
