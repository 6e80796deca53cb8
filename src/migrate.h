/*-------------------------------------------------------------------------
 *
 * migrate.h
 *	  Types shared by every step of a migration run, and the settings.
 *
 * A migration travels, one file per step:
 *	  allowed?             paths.c (the allow-list), safeopen.c (every open)
 *	  listed               source.c (directory or bundle?), source_dir.c (a
 *	                       directory), staged.c (a staged bundle)
 *	  named, classified    layout.c, layout_<tool>.c (sections:
 *	                       layout_sections.c)
 *	  read                 reader.c (chunks: BOM, CRLF, encoding, checksum,
 *	                       sections), checksum.c, placeholders.c (Flyway's
 *	                       ${name}, replaced in the stream)
 *	  planned              plan.c (scripts + history -> states, the work)
 *	  split                splitter.c
 *	  executed             executor.c (SPI; \i; errors at file and line),
 *	                       copy.c (COPY ... FROM STDIN), nontx.c and
 *	                       worker.c (statements that need top level),
 *	                       txblocks.c (a file's BEGIN ... COMMIT blocks)
 *	  recorded             history.c (every write to our tables)
 * Around them: migration.c carries out one migration end to end (its
 * transaction or subtransaction, settings, retries, worker, history row);
 * run.c is one call's work on a track under its runner lock (lock.c), and
 * load_plan; callbacks.c runs Flyway's callback scripts at their events; safety.c holds the checks every changing call makes first
 * and the lock and statement timeouts of migrations; drift.c records
 * schema changes made outside migrate calls, progress.c what a running
 * call is doing.  The SQL-callable entry points are thin: commands.c (apply, status), lifecycle.c (undo,
 * validate, repair, baseline, run), staged.c (stage, unstage), adopt.c
 * (each tool's import beside its layout), lint.c, scripts.c,
 * statements.c; their arguments and result sets: args.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_H
#define MIGRATE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"
#include "utils/resowner.h"

#include "compat.h"

/* settings (migrate.c) */
extern char *migrate_allowed_dirs;
extern int	migrate_lock_wait;
extern int	migrate_history_sql_limit;
extern int	migrate_lock_timeout;
extern int	migrate_lock_retries;
extern bool migrate_protected;
extern int	migrate_verify_checksums;

/* migrate.verify_checksums */
typedef enum VerifyChecksums
{
	VERIFY_CHANGED,				/* re-hash files whose identity changed */
	VERIFY_ALWAYS				/* re-hash every file */
} VerifyChecksums;
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
	char	   *version;		/* normalized ("1.2"), or the layout's name for
								 * it (prisma, sql-migrate); NULL for
								 * repeatable */
	char	   *description;
	char		checksum[MIGRATE_CHECKSUM_LEN];
	int64		size;			/* bytes after normalization */
	const char *legacy_version; /* the version 1.0 recorded for this file, if
								 * another (plan.c matches history rows by it) */
	const char *nontx_marker;	/* the layout's own word that it runs outside a
								 * transaction (diesel's metadata.toml), or NULL */
} MigrationScript;

/*
 * A file's identity as git's index keeps it: if none of these changed, the
 * file's content did not either (see README, "A no-op that reads nothing":
 * ctime is set by the kernel on every change and no user but root can set
 * it back).  settled: its ctime was at least MIGRATE_SETTLE_NS older than
 * the moment it was taken, so no later write can share that ctime; only a
 * settled identity is recorded or trusted.
 */
typedef struct FileIdentity
{
	bool		known;
	bool		settled;
	int64		dev;
	int64		ino;
	int64		size;
	int64		mtime_ns;
	int64		ctime_ns;
} FileIdentity;

/* how much older than "now" a ctime must be for its identity to be settled */
#define MIGRATE_SETTLE_NS INT64CONST(1000000000)

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
	FileIdentity identity;		/* of the file it ran (1.1), if recorded */
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
extern bool migrate_error_is_interruption(const ErrorData *edata);
extern ErrorData *migrate_catch_recoverable(MemoryContext cxt);
extern ErrorData *migrate_subxact_abort(MemoryContext cxt, ResourceOwner owner);
extern struct RelationData *migrate_table_index(struct RelationData *rel, const char *name,
												AttrNumber first);

#endif							/* MIGRATE_H */
