/*-------------------------------------------------------------------------
 *
 * migrate.c
 *	  Module entry: the library's magic block and the migrate.* settings.
 *
 * No logic of the migration steps lives here; see migrate.h for where
 * each step is.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "compat.h"
#include "lint.h"
#include "migrate.h"

MIGRATE_MODULE_MAGIC;

extern PGDLLEXPORT void _PG_init(void);

char	   *migrate_allowed_dirs = NULL;
int			migrate_lock_wait = 60000;
int			migrate_history_sql_limit = 1024 * 1024;
int			migrate_lock_timeout = 5000;
int			migrate_lock_retries = 3;
bool		migrate_protected = false;
int			migrate_verify_checksums = VERIFY_CHANGED;

static const struct config_enum_entry verify_checksums_options[] = {
	{"changed", VERIFY_CHANGED, false},
	{"always", VERIFY_ALWAYS, false},
	{NULL, 0, false}
};
bool		migrate_track_drift = true;
int			migrate_runs_keep = 1000;
int			migrate_worker_slot_wait = 5000;

/* every entry of migrate.allowed_dirs must be an absolute path, and not "/" */
static bool
check_allowed_dirs(char **newval, void **extra, GucSource source)
{
	char	   *rawstring;
	List	   *elemlist;
	ListCell   *lc;
	bool		ok = true;

	rawstring = pstrdup(*newval);
	if (!SplitDirectoriesString(rawstring, ',', &elemlist))
	{
		GUC_check_errdetail("List syntax is invalid.");
		pfree(rawstring);
		list_free_deep(elemlist);
		return false;
	}

	foreach(lc, elemlist)
	{
		char	   *dir = (char *) lfirst(lc);

		if (!is_absolute_path(dir))
		{
			GUC_check_errdetail("Directory \"%s\" is not an absolute path.", dir);
			ok = false;
			break;
		}
		/* "/" would allow every file; an entry resolving to it is refused at use (paths.c) */
		canonicalize_path(dir);
		if (strcmp(dir, "/") == 0)
		{
			GUC_check_errdetail("\"/\" would allow every file of the server.");
			ok = false;
			break;
		}
	}

	pfree(rawstring);
	list_free_deep(elemlist);
	return ok;
}

/* how long a refused path waits for a reload that the files call for */
#define RELOAD_WAIT_MS 10000

/*
 * migrate.allowed_dirs as the configuration files set it now (what the
 * next reload gives), or NULL if they do not set it or cannot be read.
 * The files are read as the server reads them: postgresql.conf with its
 * includes, then postgresql.auto.conf (ALTER SYSTEM) in the data
 * directory; the last setting wins.
 */
static char *
allowed_dirs_in_files(void)
{
	ConfigVariable *head = NULL;
	ConfigVariable *tail = NULL;
	ConfigVariable *item;
	char	   *value = NULL;

	/* depth 0: the start of the include chain (CONF_FILE_START_DEPTH) */
	if (ConfigFileName == NULL ||
		!ParseConfigFile(ConfigFileName, true, NULL, 0, 0, DEBUG2, &head, &tail) ||
		!ParseConfigFile(PG_AUTOCONF_FILENAME, false, NULL, 0, 0, DEBUG2, &head, &tail))
	{
		FreeConfigVariables(head);
		return NULL;
	}
	for (item = head; item; item = item->next)
	{
		if (!item->ignore && pg_strcasecmp(item->name, "migrate.allowed_dirs") == 0)
			value = item->value;
	}
	value = value ? pstrdup(value) : NULL;
	FreeConfigVariables(head);
	return value;
}

/*
 * A path was refused: was the allow-list this session has out of date?
 * pg_reload_conf() only signals the postmaster, which signals every
 * backend, and a backend reloads between statements; so right after
 *     ALTER SYSTEM SET migrate.allowed_dirs = '...'; SELECT pg_reload_conf();
 * the next statement of the same session may still run with the old list.
 * When the configuration files hold another value than this session's,
 * wait (up to RELOAD_WAIT_MS) for the reload signal, then reload here, as
 * the session would have done before this statement (PostgreSQL reloads a
 * session's configuration between statements, also inside a transaction
 * block; the GUC machinery keeps SET and SET LOCAL values over a reload).
 * Nothing is read from a file the server would not read at a reload, and
 * a value SET in the session stays: then there is nothing to wait for.
 * (A value from ALTER ROLE or ALTER DATABASE ... SET is not told apart
 * from the files' here: if the files differ, the refusal comes after the
 * wait.)  Returns true if migrate.allowed_dirs changed: the caller checks
 * the path again.
 */
bool
migrate_catch_up_allowed_dirs(void)
{
	char	   *before = pstrdup(migrate_allowed_dirs ? migrate_allowed_dirs : "");
	char	   *in_files;
	TimestampTz start;
	bool		changed;

	/*
	 * A value SET in this session (or for a function) is not the files'.
	 * Only a superuser can SET it, and only a superuser may read its reset
	 * value (the setting is GUC_SUPERUSER_ONLY).
	 */
	if (superuser())
	{
		const char *reset = GetConfigOptionResetString("migrate.allowed_dirs");

		if (strcmp(before, reset ? reset : "") != 0)
			return false;
	}
	in_files = allowed_dirs_in_files();
	if (in_files == NULL || strcmp(in_files, before) == 0)
		return false;
	start = GetCurrentTimestamp();
	while (!ConfigReloadPending &&
		   !TimestampDifferenceExceeds(start, GetCurrentTimestamp(), RELOAD_WAIT_MS))
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	if (!ConfigReloadPending)
		return false;
	ConfigReloadPending = false;
	ProcessConfigFile(PGC_SIGHUP);
	changed = strcmp(before, migrate_allowed_dirs ? migrate_allowed_dirs : "") != 0;
	pfree(before);
	return changed;
}

/*
 * Is an error about something else than what was being done: a cancel, a
 * shutdown, no memory or disk?  Such an error is never swallowed, turned
 * into a finding or recorded as the migration's own failure.
 */
bool
migrate_error_is_interruption(const ErrorData *edata)
{
	int			category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);

	return category == ERRCODE_OPERATOR_INTERVENTION ||
		category == ERRCODE_INSUFFICIENT_RESOURCES;
}

/*
 * In a PG_CATCH that may swallow the error (lint, a look ahead whose
 * verdict the pass can give instead): the error, copied into cxt and
 * flushed; an interruption is re-thrown instead.
 */
ErrorData *
migrate_catch_recoverable(MemoryContext cxt)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	if (migrate_error_is_interruption(edata))
		PG_RE_THROW();
	FlushErrorState();
	return edata;
}

/*
 * In the PG_CATCH of an internal subtransaction begun while cxt and owner
 * were current: the error, copied into cxt and flushed, with the
 * subtransaction rolled back and cxt and owner current again.
 */
ErrorData *
migrate_subxact_abort(MemoryContext cxt, ResourceOwner owner)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return edata;
}

/*
 * ReThrowError for an error copied (CopyErrorData) into one of our memory
 * contexts.  ReThrowError copies the message strings into ErrorContext but
 * keeps filename, funcname, domain, context_domain and message_id as they
 * are, and CopyErrorData has copied those into the caller's context too: a
 * run context deleted while the error unwinds would leave them dangling
 * when the error is finally reported.  So they move to ErrorContext first,
 * which lives until the report is sent.
 */
void
migrate_rethrow(ErrorData *edata)
{
	if (edata->filename)
		edata->filename = MemoryContextStrdup(ErrorContext, edata->filename);
	if (edata->funcname)
		edata->funcname = MemoryContextStrdup(ErrorContext, edata->funcname);
	if (edata->domain)
		edata->domain = MemoryContextStrdup(ErrorContext, edata->domain);
	if (edata->context_domain)
		edata->context_domain = MemoryContextStrdup(ErrorContext, edata->context_domain);
	if (edata->message_id)
		edata->message_id = MemoryContextStrdup(ErrorContext, edata->message_id);
	ReThrowError(edata);
}

/* name of a script kind, as stored in migrate.history.type */
const char *
migration_kind_name(MigrationKind kind)
{
	switch (kind)
	{
		case MIGRATION_VERSIONED:
			return "versioned";
		case MIGRATION_UNDO:
			return "undo";
		case MIGRATION_REPEATABLE:
			return "repeatable";
	}
	return "unknown";
}

/*
 * migrate.protected, which no client may switch off.
 *
 * Until this library is loaded a value of migrate.protected is kept in a
 * placeholder, which keeps only the value of the highest-priority source
 * (guc.c: a client's startup option, PGOPTIONS=-c migrate.protected=off,
 * outranks ALTER DATABASE, ALTER ROLE and postgresql.conf) together with
 * the role that set it.  define_custom_variable then applies that value
 * again with that role's rights: a non-superuser's value is refused with a
 * warning, and the setting falls back to its default, off; the lower
 * values it had hidden (the superuser's ALTER DATABASE ... SET
 * migrate.protected = on) are gone.  So when the placeholder had a reset
 * value and the real setting kept none, what the configuration said is
 * unknown, and the session counts as protected: the setting is put on at
 * the override level, which a superuser's SET in the session still
 * outranks.  Values SET in the session before loading are not affected:
 * a refused one falls back to the reset value, which is kept.
 */
static void
define_protected(void)
{
	struct config_generic *g = migrate_find_guc("migrate.protected");
	bool		had_reset = g != NULL && g->reset_source != PGC_S_DEFAULT;

	DefineCustomBoolVariable("migrate.protected",
							 "Refuse changing migrate calls that do not confirm the database name.",
							 "Usually set with ALTER DATABASE ... SET migrate.protected = on; "
							 "every changing call must then be given confirm => '<database name>'.",
							 &migrate_protected,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	g = migrate_find_guc("migrate.protected");
	if (had_reset && g != NULL && g->reset_source == PGC_S_DEFAULT)
	{
		(void) set_config_option("migrate.protected", "on", PGC_SUSET, PGC_S_OVERRIDE,
								 GUC_ACTION_SET, true, WARNING, false);
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migrate.protected is on for this session"),
				 errdetail("The connection set migrate.protected, which only a superuser may set, "
						   "before the migrate library was loaded; the value it replaced is lost, "
						   "so the database counts as protected."),
				 errhint("Connect without migrate.protected in PGOPTIONS or the connection's "
						 "options, or pass confirm => '<database name>'.")));
	}
}

static void warn_unknown_settings(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("migrate.allowed_dirs",
							   "Directories that migration files may be read from.",
							   "A comma-separated list of absolute paths. A file is "
							   "readable only when its real path lies in or below one "
							   "of them. Empty means no file may be read.",
							   &migrate_allowed_dirs,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT | GUC_SUPERUSER_ONLY,
							   check_allowed_dirs, NULL, NULL);

	DefineCustomIntVariable("migrate.lock_wait",
							"How long a runner waits for another runner on the same track.",
							"After this time migrate.apply fails with lock_not_available. "
							"0 fails at once.",
							&migrate_lock_wait,
							60000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("migrate.history_sql_limit",
							"Largest script whose SQL text is kept in migrate.history.",
							"Larger scripts are recorded with their checksum only.",
							&migrate_history_sql_limit,
							1024 * 1024, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("migrate.lock_timeout",
							"lock_timeout every migration runs with.",
							"A migration that waits longer than this for a lock is rolled "
							"back and retried (migrate.lock_retries) instead of queueing "
							"other sessions behind it. 0 leaves lock_timeout as it is.",
							&migrate_lock_timeout,
							5000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("migrate.lock_retries",
							"How many times a migration that timed out on a lock is retried.",
							"Each retry waits longer than the one before.",
							&migrate_lock_retries,
							3, 0, 1000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	define_protected();

	/* the no-op that reads nothing (run.c) */
	DefineCustomEnumVariable("migrate.verify_checksums",
							 "Which applied files apply, undo and status read again to compare "
							 "with their recorded checksums.",
							 "changed reads only the files whose identity (device, inode, size, "
							 "mtime, ctime) differs from the one recorded when they were "
							 "applied; always reads every file.  validate always reads every file.",
							 &migrate_verify_checksums, VERIFY_CHANGED, verify_checksums_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	/* the linter (lint.c) */
	DefineCustomEnumVariable("migrate.lint",
							 "What apply does with the lint findings of the pending migrations.",
							 "warn prints them and applies; error stops before anything runs "
							 "when one is an error; off does not lint.",
							 &migrate_lint_mode, LINT_MODE_WARN, lint_mode_options,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("migrate.lint_large_table",
							"Size from which a lock or rewrite of an existing table is a lint error.",
							"Below it the finding is info.",
							&migrate_lint_large_table,
							10 * 1024, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("migrate.track_drift",
							 "Record DDL run outside migrate calls in migrate.drift.",
							 "Off: the event trigger records nothing (the schema fingerprint "
							 "still finds the changes at validate).",
							 &migrate_track_drift,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* fleets (runs.c, worker.c) */
	DefineCustomIntVariable("migrate.runs_keep",
							"How many rows of migrate.runs each track keeps.",
							"Every apply, undo, repair, baseline and adopt call adds a row; older "
							"rows of the track are removed. 0 records no runs.",
							&migrate_runs_keep,
							1000, 0, INT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("migrate.worker_slot_wait",
							"How long a migration waits for a free background worker slot.",
							"A migration that must run outside a transaction needs a "
							"background worker; when every slot of max_worker_processes is "
							"taken it waits this long for one, then fails. 0 fails at once.",
							&migrate_worker_slot_wait,
							5000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	/*
	 * Not MarkGUCPrefixReserved("migrate"): that would refuse (and remove)
	 * migrate.placeholders.<name>, the settings that hold Flyway placeholder
	 * values (placeholders.c), whose names only the user knows.  A misspelt
	 * migrate.* setting set before the library loaded is warned about, as
	 * EmitWarningsOnPlaceholders did.
	 */
	warn_unknown_settings();
}

/*
 * A WARNING for each migrate.* placeholder setting that is neither one of
 * ours nor a migrate.placeholders.<name> value.
 */
static void
warn_unknown_settings(void)
{
	int			n;
	struct config_generic **vars = migrate_guc_variables(&n);
	int			i;

	for (i = 0; i < n; i++)
	{
		const char *name = vars[i]->name;

		if ((vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) &&
			pg_strncasecmp(name, "migrate.", 8) == 0 &&
			pg_strncasecmp(name, "migrate.placeholders.", 21) != 0)
			ereport(WARNING,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("unrecognized configuration parameter \"%s\"", name),
					 errdetail("migrate has no such setting; the only migrate.* settings it does "
							   "not define are migrate.placeholders.<name>."),
					 errhint("Check the spelling against the settings in migrate's README.")));
	}
}

/*
 * The version of the extension's SQL objects in this database, as
 * major * 100 + minor (101 for '1.1'), or 0 when it is not installed.
 *
 * Between a package upgrade and ALTER EXTENSION migrate UPDATE the library
 * is newer than the objects.  Every call that the older version has keeps
 * working then, without what the newer objects add (a caller checks this
 * before touching a table or column that a later version introduced); the
 * calls only the newer version declares cannot be reached.  Read from
 * pg_extension each time it is asked, so an UPDATE in the same session is
 * seen at once: one index lookup per call.
 */
/*
 * The index NAME beside the extension's table rel, opened, when it is a
 * valid btree on rel whose first column is column first; else NULL.  The
 * direct reads of migrate.history and migrate.runs use an index only when
 * it is the one the extension's scripts created.
 */
Relation
migrate_table_index(Relation rel, const char *name, AttrNumber first)
{
	Oid			indexid = get_relname_relid(name, RelationGetNamespace(rel));
	Relation	idx;

	if (!OidIsValid(indexid))
		return NULL;
	idx = index_open(indexid, AccessShareLock);
	if (idx->rd_index->indrelid != RelationGetRelid(rel) || !idx->rd_index->indisvalid ||
		!idx->rd_index->indisready || idx->rd_rel->relam != BTREE_AM_OID ||
		idx->rd_index->indnkeyatts < 1 || idx->rd_index->indkey.values[0] != first)
	{
		index_close(idx, AccessShareLock);
		return NULL;
	}
	return idx;
}

int
migrate_schema_version(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int			version = 0;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("migrate"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
		{
			char	   *s = TextDatumGetCString(d);
			int			major = 0,
						minor = 0;

			if (sscanf(s, "%d.%d", &major, &minor) >= 1)
				version = major * 100 + minor;
			pfree(s);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return version;
}

/*
 * Refuse a call that the extension's objects in this database cannot serve.
 *
 * needed is the oldest schema version the caller works with
 * (MIGRATE_SCHEMA_1_0 when the objects of 1.0 suffice); what names the
 * call or object for the message.  Objects older than that need ALTER
 * EXTENSION migrate UPDATE.  Objects newer than this library belong to a
 * later release whose library this server does not have (a package
 * downgrade, or a standby or pg_upgrade target with an older package): what
 * they mean is unknown here, so nothing is read or written through them.
 */
void
migrate_require_schema(int needed, const char *what)
{
	int			have = migrate_schema_version();

	/* not installed: nothing of ours can have called */
	if (have == 0)
		return;
	if (have > MIGRATE_SCHEMA_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the migrate extension in this database is version %d.%d, newer than its library (%d.%d)",
						have / 100, have % 100,
						MIGRATE_SCHEMA_VERSION / 100, MIGRATE_SCHEMA_VERSION % 100),
				 errdetail("%s is not used through objects of a release this library does not know.", what),
				 errhint("Install migrate %d.%d or later on this server (its package, or make install), then start a new session.",
						 have / 100, have % 100)));
	if (have < needed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs version %d.%d of the migrate extension, but this database has %d.%d",
						what, needed / 100, needed % 100, have / 100, have % 100),
				 errhint("Run ALTER EXTENSION migrate UPDATE in this database.")));
}
