/*-------------------------------------------------------------------------
 *
 * dirstate.h
 *	  The no-op's shortcut: a directory and a history as the last run left
 *	  them (dirstate.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_DIRSTATE_H
#define MIGRATE_DIRSTATE_H

#include "common/sha2.h"
#include "nodes/pg_list.h"

typedef struct DirState
{
	bool		recordable;		/* every file's identity known and settled */
	uint8		listing[PG_SHA256_DIGEST_LENGTH];	/* the listing's part */
} DirState;

extern void dirstate_begin(DirState *ds, const char *track, const char *real_dir, List *files);
extern char *dirstate_digest(const DirState *ds);
extern bool dirstate_unchanged(const DirState *ds, const char *track, char **version);

#endif							/* MIGRATE_DIRSTATE_H */
