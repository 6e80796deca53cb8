/*-------------------------------------------------------------------------
 *
 * migrate.h
 *	  Types shared by every step of a migration run, and the settings.
 *
 * A migration travels: directory -> allowed? (paths.c) -> listed and read
 * (source.c) -> named and classified (layout.c) -> checksummed
 * (checksum.c) -> compared with the history into a plan (plan.c) ->
 * split (splitter.c) and executed (executor.c; statements that cannot
 * run in a transaction block at top level in a background worker,
 * nontx.c and worker.c) -> recorded (history.c),
 * all under the runner lock (lock.c).  commands.c wires the steps into
 * the SQL-callable entry points apply and status, and owns the run
 * machinery (commands.h) that lifecycle.c shares for undo, validate,
 * repair, baseline and run.  A staged bundle (staged.c) is read by
 * source.c like a directory; safety.c holds the checks every changing
 * call makes first and the lock and statement timeouts of migrations.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "compat.h"

/* settings (migrate.c) */
extern char *migrate_allowed_dirs;
extern int	migrate_lock_wait;
extern int	migrate_history_sql_limit;
extern int	migrate_lock_timeout;
extern int	migrate_lock_retries;
extern bool migrate_protected;
extern bool migrate_track_drift;
extern int	migrate_runs_keep;
extern int	migrate_worker_slot_wait;

/* what a script file is, from its name */
typedef enum MigrationKind
{
	MIGRATION_VERSIONED,
	MIGRATION_UNDO,
	MIGRATION_REPEATABLE
} MigrationKind;

/* hex SHA-256 plus terminator */
#define MIGRATE_CHECKSUM_LEN 65

/*
 * One script found in a directory.  name is the path relative to the
 * directory the user gave (what every message shows); path is the
 * absolute real path it is read from.
 */
typedef struct MigrationScript
{
	struct SourceFile *file;	/* where to read it */
	char	   *name;
	char	   *path;
	MigrationKind kind;
	char	   *version;		/* normalized ("1.2"); NULL for repeatable */
	char	   *description;
	char		checksum[MIGRATE_CHECKSUM_LEN];
	int64		size;			/* bytes after normalization */
} MigrationScript;

/* one row of migrate.history, as far as planning needs it */
typedef struct HistoryRow
{
	int64		rank;
	char	   *version;		/* NULL for repeatable */
	char	   *description;
	char	   *type;			/* versioned, undo, repeatable, baseline */
	char	   *script;
	char	   *checksum;		/* NULL when adopted from another tool */
	TimestampTz installed_on;
	int64		execution_ms;
	bool		success;
	bool		dirty;
	char	   *error;			/* message of a failed run, or NULL */
	int			error_line;		/* its line, 0 if unknown */
} HistoryRow;

/*
 * The SQL objects this library was built for, as migrate_schema_version()
 * reports them (major * 100 + minor); keep in step with migrate.control.
 */
#define MIGRATE_SCHEMA_VERSION 101

/* schema versions of the releases, for migrate_require_schema */
#define MIGRATE_SCHEMA_1_0 100
#define MIGRATE_SCHEMA_1_1 101

extern int	migrate_schema_version(void);
extern void migrate_require_schema(int needed, const char *what);
extern bool migrate_catch_up_allowed_dirs(void);
extern const char *migration_kind_name(MigrationKind kind);
pg_noreturn extern void migrate_rethrow(ErrorData *edata);

#endif							/* MIGRATE_H */
