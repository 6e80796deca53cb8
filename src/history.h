/*-------------------------------------------------------------------------
 *
 * history.h
 *	  The migrate.history table: reading a track's rows, recording a run.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_HISTORY_H
#define MIGRATE_HISTORY_H

#include "executor/spi.h"

#include "migrate.h"

/* what one execution of a script left, for history_record */
typedef struct HistoryEntry
{
	const char *track;
	const char *version;
	const char *description;
	const char *type;
	const char *script;
	const char *checksum;
	int64		execution_ms;
	bool		success;
	bool		dirty;
	const char *error;			/* message, when failed */
	const char *sqlstate;
	int			error_line;		/* 0 if unknown */
	const char *sql;			/* the text run, NULL if too large */
	const char *installed_by;	/* NULL: the calling role (adopt keeps the old tool's) */
	bool		has_installed_on;	/* else now */
	TimestampTz installed_on;
	const FileIdentity *identity;	/* of the file that ran, or NULL (1.1) */
} HistoryEntry;

extern List *history_load(const char *track, MemoryContext cxt);
extern void history_record(const HistoryEntry *e);
extern void history_delete_failed(const char *track);
extern void history_set_checksum(int64 rank, const char *checksum);
extern void history_set_identity(int64 rank, const FileIdentity *id);
extern Oid	migrate_extension_owner(bool missing_ok);
extern int	as_owner_execute(const char *table, SPIPlanPtr *plan, const char *sql,
							 int nargs, Oid *argtypes, Datum *args, const char *nulls);

#endif							/* MIGRATE_HISTORY_H */
