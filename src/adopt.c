/*-------------------------------------------------------------------------
 *
 * adopt.c
 *	  migrate.adopt: taking over the history another tool kept.
 *
 * A team switching to migrate already has a database its old tool
 * migrated, and that tool's history table says what was applied.  adopt
 * reads that table (and never changes it) and records every applied
 * version as a successful row of migrate.history, type versioned, with no
 * checksum (plan.c does not count a row without checksum as changed;
 * migrate.repair records one), so that the next apply runs nothing that
 * the old tool ran.  A version the track already knows is skipped, so
 * adopting twice adds nothing.  What each tool's table says, and how its
 * versions become ours (the versions its layout parser gives the files):
 *
 *	  flyway          flyway_schema_history: successful rows, replayed in
 *	                  installed_rank order (undo and delete rows remove a
 *	                  version, the schema-creation row is skipped); its
 *	                  baseline row becomes a baseline row.  Repeatable
 *	                  scripts are adopted only with dir: when the file's
 *	                  Flyway checksum (CRC-32 of its lines) is the one
 *	                  Flyway recorded, with our checksum of the file.
 *	  node-pg-migrate pgmigrations: one row per applied file, its name
 *	                  <timestamp>_<name>; the timestamp is the version.
 *	  dbmate          schema_migrations (version varchar): one row per
 *	                  applied version.
 *	  golang-migrate  schema_migrations (version bigint, dirty boolean): the
 *	                  one version the database is at.  Needs dir: every
 *	                  migration up to that version is applied.  A dirty
 *	                  version is refused.
 *	  drizzle         drizzle.__drizzle_migrations (id, hash, created_at):
 *	                  created_at is the journal's "when" of the last
 *	                  migration run.  Needs dir: as drizzle decides, every
 *	                  journal entry whose "when" is not later is applied.
 *	  sqitch          sqitch.changes: the deployed changes of the plan's
 *	                  project.  Needs dir: sqitch deploys in plan order,
 *	                  so the deployed changes must be the plan's first
 *	                  ones, and the n-th is version n.
 *	  sql-migrate     gorp_migrations (id, applied_at): one row per applied
 *	                  file, id its file name, which is the version in
 *	                  sql-migrate's layout (rows_sql_migrate).
 * The table is looked up by schema and name, never through search_path
 * (a view named flyway_schema_history earlier on a superuser's path would
 * run its functions with the superuser's rights): in schema => (default:
 * the tool's usual schema, public, or the one in its default name), or as
 * history_table => 'schema.table'.  Only an ordinary or partitioned table
 * is read, and only one that the caller owns or whose owner the caller is
 * a member of, since reading a table can run its owner's code (row
 * security policies, the functions of a column type) with the caller's
 * rights; a superuser may read another role's table by saying
 * trust_table_owner => true.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/acl.h"
#include "utils/pg_crc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "commands.h"
#include "history.h"
#include "layouts.h"
#include "migrate.h"
#include "paths.h"
#include "safety.h"
#include "source.h"

PG_FUNCTION_INFO_V1(migrate_adopt);

typedef enum AdoptTool
{
	TOOL_FLYWAY,
	TOOL_NODE_PG,
	TOOL_GOLANG,
	TOOL_DBMATE,
	TOOL_DRIZZLE,
	TOOL_SQITCH,
	TOOL_SQL_MIGRATE
} AdoptTool;

/* what adopt knows of a tool */
typedef struct ToolInfo
{
	const char *name;			/* as passed to adopt, and its layout's name */
	const char *table;			/* default history table (schema public if unqualified) */
	const char *columns;		/* columns that table must have */
	bool		needs_dir;		/* its table alone does not give our versions */
} ToolInfo;

static const ToolInfo tools[] = {
	[TOOL_FLYWAY] = {"flyway", "flyway_schema_history",
	"installed_rank, version, description, type, script, checksum, installed_by, installed_on, "
	"execution_time, success", false},
	[TOOL_NODE_PG] = {"node-pg-migrate", "pgmigrations", "id, name, run_on", false},
	[TOOL_GOLANG] = {"golang-migrate", "schema_migrations", "version, dirty", true},
	[TOOL_DBMATE] = {"dbmate", "schema_migrations", "version", false},
	[TOOL_DRIZZLE] = {"drizzle", "drizzle.__drizzle_migrations", "id, hash, created_at", true},
	[TOOL_SQITCH] = {"sqitch", "sqitch.changes",
	"change_id, change, project, committed_at, committer_name", true},
	[TOOL_SQL_MIGRATE] = {"sql-migrate", "gorp_migrations", "id, applied_at", false},
};

/* one row to record in migrate.history */
typedef struct AdoptRow
{
	char	   *version;		/* NULL for a repeatable script */
	const char *type;			/* versioned, baseline or repeatable */
	char	   *description;
	char	   *script;
	char	   *checksum;		/* ours, only for matched Flyway repeatables */
	char	   *installed_by;	/* NULL: the current user */
	bool		has_installed_on;
	TimestampTz installed_on;
	int64		execution_ms;	/* -1: unknown */
} AdoptRow;

/* one adopt call */
typedef struct Adoption
{
	AdoptTool	tool;
	const char *track;
	const char *dir;			/* as given, or NULL */
	char	   *table;			/* quoted qualified name of the old table */
	Oid			relid;			/* the old table */
	ScriptSet  *set;			/* scripts of dir, when given */
	LayoutDir	layout;			/* the files of dir, when given */
	List	   *rows;			/* AdoptRow * */
	const char *given_table;	/* history_table => , or NULL */
	const char *schema;			/* schema => , or NULL */
	bool		trust_owner;	/* trust_table_owner => */
	int			adopted;		/* rows recorded */
} Adoption;

/* text argument n, or NULL */
static char *
opt_text(FunctionCallInfo fcinfo, int n)
{
	if (PG_NARGS() <= n || PG_ARGISNULL(n))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* the tool named name */
static AdoptTool
find_tool(const char *name)
{
	int			i;

	for (i = 0; i < (int) lengthof(tools); i++)
		if (pg_strcasecmp(name, tools[i].name) == 0)
			return (AdoptTool) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown migration tool \"%s\"", name),
			 errhint("migrate.adopt knows flyway, node-pg-migrate, golang-migrate, dbmate, "
					 "drizzle, sqitch and sql-migrate.")));
	return TOOL_FLYWAY;			/* keep compiler quiet */
}

/* run a read-only query with text parameters; checks the result */
static void
query(const char *sql, int nargs, const char **args)
{
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	int			i;
	int			ret;

	Assert(nargs <= 4);
	for (i = 0; i < nargs; i++)
		values[i] = CStringGetTextDatum(args[i]);
	ret = SPI_execute_with_args(sql, nargs, types, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(ret));
}

/* value of column col of row i as text, or NULL */
static char *
value(uint64 i, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col);
}

/* value of column col of row i as a datum; *isnull set */
static Datum
binvalue(uint64 i, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col, isnull);
}

/* the name of a relkind, for messages */
static const char *
relkind_name(char relkind)
{
	switch (relkind)
	{
		case RELKIND_VIEW:
			return "a view";
		case RELKIND_MATVIEW:
			return "a materialized view";
		case RELKIND_FOREIGN_TABLE:
			return "a foreign table";
		case RELKIND_SEQUENCE:
			return "a sequence";
		default:
			return "not a table";
	}
}

/*
 * Refuse a table the caller should not read with its own rights: one
 * owned by a role the caller is not (a member of), unless a superuser
 * said trust_table_owner => true.
 */
static void
check_table_owner(Adoption *a, Oid owner)
{
	Oid			caller = GetUserId();
	char	   *owner_name;

	if (owner == caller || is_member_of_role_nosuper(caller, owner))
		return;
	if (a->trust_owner && superuser())
		return;
	owner_name = GetUserNameFromId(owner, true);
	if (owner_name == NULL)
		owner_name = psprintf("%u", owner);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s history table %s belongs to role \"%s\"", tools[a->tool].name, a->table,
					owner_name),
			 errdetail("Reading a table can run code its owner wrote (row security policies, the "
					   "functions of its column types) with your rights, so adopt reads only a "
					   "table owned by the calling role or a role it is a member of."),
			 superuser() ?
			 errhint("Check the table, then adopt with trust_table_owner => true, or as its owner "
					 "(SET ROLE %s).", quote_identifier(owner_name)) :
			 errhint("Adopt as its owner (SET ROLE %s), or have a superuser adopt it.",
					 quote_identifier(owner_name))));
}

/*
 * Find the old tool's table by schema and name (never through
 * search_path), check that it is a table migrate may read, and that it has
 * the tool's columns.
 */
static void
find_table(Adoption *a, const char *given)
{
	const ToolInfo *t = &tools[a->tool];
	const char *name = given ? given : t->table;
	const char *args[1];
	List	   *names;
	char	   *schema;
	char	   *relname;
	char	   *cols;
	char	   *col;
	Oid			nsp;
	HeapTuple	tup;
	Form_pg_class form;
	char		relkind;
	Oid			owner;
	char	   *saveptr = NULL;

	names = migrate_qualified_name_list(name);
	if (list_length(names) > 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("history_table \"%s\" is not a table name", name),
				 errhint("Name it as 'schema.table', or give schema => and the table's name.")));
	if (list_length(names) == 2)
	{
		schema = strVal(linitial(names));
		relname = strVal(lsecond(names));
		if (given == NULL && a->schema)
			schema = pstrdup(a->schema);	/* the tool's table in another schema */
	}
	else
	{
		schema = a->schema ? pstrdup(a->schema) : "public";
		relname = strVal(linitial(names));
	}
	a->table = quote_qualified_identifier(schema, relname);

	nsp = get_namespace_oid(schema, true);
	a->relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
	if (!OidIsValid(a->relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("%s history table %s does not exist", t->name, a->table),
				 given || a->schema ? 0 :
				 errdetail("migrate.adopt('%s') reads %s unless told otherwise; it does not search "
						   "search_path.", t->name, a->table),
				 errhint("Name the schema and table %s kept its history in: "
						 "SELECT migrate.adopt('%s', schema => 'app') or "
						 "history_table => 'schema.table'.", t->name, t->name)));

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(a->relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", a->relid);
	form = (Form_pg_class) GETSTRUCT(tup);
	relkind = form->relkind;
	owner = form->relowner;
	ReleaseSysCache(tup);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s history table %s is %s", t->name, a->table, relkind_name(relkind)),
				 errdetail("adopt reads only an ordinary or partitioned table: reading a view or a "
						   "foreign table runs code that someone else wrote."),
				 errhint("Name the table %s kept its history in.", t->name)));
	check_table_owner(a, owner);

	/* the columns the tool's table has */
	args[0] = psprintf("%u", a->relid);
	query("SELECT a.attname::pg_catalog.text FROM pg_catalog.pg_attribute a "
		  "WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid "
		  "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped", 1, args);
	cols = pstrdup(t->columns);
	for (col = strtok_r(cols, ", ", &saveptr); col; col = strtok_r(NULL, ", ", &saveptr))
	{
		uint64		i;
		bool		found = false;

		for (i = 0; i < SPI_processed && !found; i++)
			found = strcmp(value(i, 1), col) == 0;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("table %s is not a %s history table", a->table, t->name),
					 errdetail("It has no column \"%s\"; the table of %s has the columns %s.", col, t->name,
							   t->columns),
					 errhint("Name the right table with history_table => 'schema.table'.")));
	}
	/* dbmate's and golang-migrate's tables share a name */
	if (a->tool == TOOL_DBMATE)
	{
		uint64		i;

		for (i = 0; i < SPI_processed; i++)
			if (strcmp(value(i, 1), "dirty") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_WRONG_OBJECT_TYPE),
						 errmsg("table %s is not a dbmate history table", a->table),
						 errdetail("It has a \"dirty\" column, as golang-migrate's table has."),
						 errhint("Adopt it with SELECT migrate.adopt('golang-migrate', dir => ...).")));
	}
}

/* read the migration directory, which must be in the tool's layout */
static void
read_dir(Adoption *a)
{
	char	   *real_dir;
	List	   *files;

	if (a->dir == NULL)
	{
		if (tools[a->tool].needs_dir)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("adopting %s needs the migration directory", tools[a->tool].name),
					 a->tool == TOOL_GOLANG ?
					 errdetail("golang-migrate records only the version the database is at; "
							   "the files say which migrations that includes.") :
					 a->tool == TOOL_DRIZZLE ?
					 errdetail("Drizzle records when the last migration was generated; "
							   "meta/_journal.json says which migrations that includes.") :
					 errdetail("sqitch records change names; sqitch.plan gives their order, "
							   "which makes their versions."),
					 errhint("SELECT migrate.adopt('%s', dir => '/path/to/migrations').",
							 tools[a->tool].name)));
		return;
	}
	files = source_list(a->dir, &real_dir);
	a->set = layout_classify(files);
	layout_dir_init(&a->layout, files);
	if (strcmp(a->set->layout, tools[a->tool].name) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration directory \"%s\" is not in %s's layout", a->dir,
						tools[a->tool].name),
				 errdetail("Its files are read as the %s layout.", a->set->layout),
				 errhint("Pass the directory %s migrated from.", tools[a->tool].name)));
}

/* the versioned script of version in dir, or NULL */
static MigrationScript *
script_of(Adoption *a, const char *version)
{
	ListCell   *lc;

	if (a->set == NULL || version == NULL)
		return NULL;
	foreach(lc, a->set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);

		if (s->kind == MIGRATION_VERSIONED && version_cmp(s->version, version) == 0)
			return s;
	}
	return NULL;
}

/* a new row; description and script from dir when the table lacks them */
static AdoptRow *
new_row(Adoption *a, char *version, const char *type, char *description, char *script)
{
	AdoptRow   *r = palloc0(sizeof(AdoptRow));
	MigrationScript *s = script_of(a, version);

	r->version = version;
	r->type = type;
	r->description = description ? description : (s ? s->description : "");
	r->script = script ? script : (s ? s->name : NULL);
	r->execution_ms = -1;
	a->rows = lappend(a->rows, r);
	return r;
}

/* a version from the old table, normalized, or an error naming it */
static char *
adopted_version(Adoption *a, const char *raw, size_t len)
{
	char	   *v = version_normalize(raw, len);

	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s history table %s has a version migrate cannot read: \"%.*s\"",
						tools[a->tool].name, a->table, (int) len, raw),
				 errhint("A version is digits separated by \".\" or \"_\".")));
	return v;
}

/* the timestamp in column col of row i, if not NULL */
static void
set_installed_on(AdoptRow *r, uint64 i, int col)
{
	bool		isnull;
	Datum		d = binvalue(i, col, &isnull);

	r->has_installed_on = !isnull;
	if (!isnull)
		r->installed_on = DatumGetTimestampTz(d);
}

/*
 * Flyway's checksum of a script: CRC-32 over its lines without their
 * terminators (Flyway reads lines, so CR, LF and CRLF all end one), BOM
 * dropped, as a signed 32-bit integer.
 */
static int32
flyway_checksum(const SourceFile *f)
{
	ScriptReader *r = source_open(f);
	char	   *buf = palloc(SOURCE_CHUNK + 1);
	pg_crc32	crc;
	size_t		n;

	INIT_TRADITIONAL_CRC32(crc);
	while ((n = source_read(r, buf)) > 0)
	{
		size_t		i = 0;

		buf[n] = '\0';			/* the reader refuses NUL bytes in scripts */
		while (i < n)
		{
			size_t		run = strcspn(buf + i, "\r\n");

			COMP_TRADITIONAL_CRC32(crc, buf + i, run);
			i += run;
			while (i < n && (buf[i] == '\r' || buf[i] == '\n'))
				i++;
		}
	}
	FIN_TRADITIONAL_CRC32(crc);
	source_close(r, NULL);
	pfree(buf);
	return (int32) crc;
}

/* a Flyway repeatable row: adopted when the file is what Flyway last ran */
static void
adopt_flyway_repeatable(Adoption *a, const char *script, bool checksum_null, int32 checksum,
						uint64 i)
{
	ListCell   *lc;

	foreach(lc, a->set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);
		AdoptRow   *r;

		if (s->kind != MIGRATION_REPEATABLE ||
			(strcmp(s->name, script) != 0 &&
			 strcmp(layout_base_name(s->name), layout_base_name(script)) != 0))
			continue;
		if (checksum_null || flyway_checksum(s->file) != checksum)
			return;				/* changed since: apply runs it, as Flyway would */
		r = new_row(a, NULL, "repeatable", pstrdup(s->description), s->name);
		r->checksum = palloc(MIGRATE_CHECKSUM_LEN);
		source_checksum(s->file, r->checksum, &s->size);
		r->installed_by = value(i, 7);
		set_installed_on(r, i, 8);
		return;
	}
}

/* flyway_schema_history, replayed */
static void
rows_flyway(Adoption *a)
{
	List	   *applied = NIL;	/* AdoptRow * by version, as replayed */
	AdoptRow   *baseline = NULL;
	List	   *repeatable = NIL;	/* uint64 row numbers: the latest per script */
	ListCell   *lc;
	uint64		i;
	int			skipped = 0;

	query(psprintf("SELECT installed_rank, version, description, type, script, checksum, "
				   "installed_by, installed_on::pg_catalog.timestamptz, execution_time "
				   "FROM %s WHERE success ORDER BY installed_rank", a->table), 0, NULL);

	for (i = 0; i < SPI_processed; i++)
	{
		char	   *raw = value(i, 2);
		char	   *type = value(i, 4) ? value(i, 4) : "";
		char	   *version;
		ListCell   *prev = NULL;
		AdoptRow   *r;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		if (raw == NULL)
		{
			/* a repeatable script: keep only its latest run */
			char	   *script = value(i, 5);

			if (script == NULL)
				continue;
			foreach(lc, repeatable)
				if (strcmp(value(lfirst_int(lc), 5), script) == 0)
					prev = lc;
			if (prev)
				lfirst_int(prev) = (int) i;
			else
				repeatable = lappend_int(repeatable, (int) i);
			continue;
		}
		if (strcmp(type, "SCHEMA") == 0)
			continue;			/* "<< Flyway Schema Creation >>" */

		version = adopted_version(a, raw, strlen(raw));
		if (strcmp(type, "BASELINE") == 0)
		{
			baseline = palloc0(sizeof(AdoptRow));
			baseline->version = version;
			baseline->type = "baseline";
			baseline->description = value(i, 3);
			baseline->installed_by = value(i, 7);
			baseline->execution_ms = -1;
			set_installed_on(baseline, i, 8);
			continue;
		}

		foreach(lc, applied)
			if (version_cmp(((AdoptRow *) lfirst(lc))->version, version) == 0)
				prev = lc;
		if (strncmp(type, "UNDO_", 5) == 0 || strcmp(type, "DELETE") == 0)
		{
			/* undone, or marked deleted by flyway repair */
			if (prev)
				applied = list_delete_ptr(applied, lfirst(prev));
			continue;
		}
		if (prev)
			continue;

		r = palloc0(sizeof(AdoptRow));
		r->version = version;
		r->type = "versioned";
		r->description = value(i, 3);
		r->script = value(i, 5);
		r->installed_by = value(i, 7);
		set_installed_on(r, i, 8);
		r->execution_ms = DatumGetInt32(binvalue(i, 9, &isnull));
		if (isnull)
			r->execution_ms = -1;
		applied = lappend(applied, r);
	}

	if (baseline)
		a->rows = lappend(a->rows, baseline);
	a->rows = list_concat(a->rows, applied);

	/* repeatables: only with the files, to compare Flyway's checksums */
	foreach(lc, repeatable)
	{
		uint64		row = (uint64) lfirst_int(lc);
		bool		isnull;
		int32		checksum = DatumGetInt32(binvalue(row, 6, &isnull));

		if (a->set == NULL)
			skipped++;
		else
			adopt_flyway_repeatable(a, value(row, 5), isnull, checksum, row);
	}
	if (skipped > 0)
		ereport(NOTICE,
				(errmsg("%d repeatable migration(s) of Flyway not adopted", skipped),
				 errdetail("Without dir, their files cannot be compared with the checksums Flyway recorded."),
				 errhint("Adopt with dir => '...', or let the next apply run them once.")));
}

/* pgmigrations: one row per applied file, named <timestamp>_<name> */
static void
rows_node_pg(Adoption *a)
{
	uint64		i;

	query(psprintf("SELECT name, run_on::pg_catalog.timestamptz FROM %s ORDER BY run_on, id",
				   a->table), 0, NULL);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = value(i, 1);
		size_t		digits = name ? layout_digits(name) : 0;
		AdoptRow   *r;

		CHECK_FOR_INTERRUPTS();
		if (digits == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("node-pg-migrate history table %s has a migration without a timestamp: \"%s\"",
							a->table, name ? name : ""),
					 errhint("node-pg-migrate names migrations <timestamp>_<name>.")));
		r = new_row(a, adopted_version(a, name, digits), "versioned",
					NULL, NULL);
		if (r->script == NULL)
		{
			r->script = name;
			r->description = layout_description(name + digits + (name[digits] == '_'),
												 strlen(name + digits + (name[digits] == '_')));
		}
		set_installed_on(r, i, 2);
	}
}

/* dbmate's schema_migrations: one row per applied version */
static void
rows_dbmate(Adoption *a)
{
	uint64		i;

	query(psprintf("SELECT version::pg_catalog.text FROM %s", a->table), 0, NULL);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *raw = value(i, 1);

		CHECK_FOR_INTERRUPTS();
		if (raw == NULL)
			continue;
		new_row(a, adopted_version(a, raw, strlen(raw)), "versioned", NULL, NULL);
	}
}

/* golang-migrate's schema_migrations: the version the database is at */
static void
rows_golang(Adoption *a)
{
	char	   *at;
	bool		isnull;
	ListCell   *lc;

	query(psprintf("SELECT version::pg_catalog.text, dirty FROM %s "
				   "ORDER BY version DESC LIMIT 1", a->table), 0, NULL);
	if (SPI_processed == 0 || value(0, 1) == NULL)
		return;					/* nothing applied yet */
	at = adopted_version(a, value(0, 1), strlen(value(0, 1)));
	if (DatumGetBool(binvalue(0, 2, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("golang-migrate left version %s dirty", at),
				 errdetail("Migration %s failed part-way under golang-migrate, so %s does not say "
						   "what is applied.", at, a->table),
				 errhint("Repair the database, run \"migrate force %s\" (or the version before "
						 "it), then adopt.", at)));
	if (script_of(a, at) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("golang-migrate's version %s has no migration in \"%s\"", at, a->dir),
				 errhint("Pass the directory golang-migrate ran from.")));
	foreach(lc, a->set->scripts)
	{
		MigrationScript *s = (MigrationScript *) lfirst(lc);

		if (s->kind == MIGRATION_VERSIONED && version_cmp(s->version, at) <= 0)
			new_row(a, (char *) s->version, "versioned", NULL, NULL);
	}
}

/* drizzle's __drizzle_migrations: applied up to the last created_at */
static void
rows_drizzle(Adoption *a)
{
	List	   *journal = drizzle_journal(&a->layout);
	int64		last;
	bool		isnull;
	ListCell   *lc;

	query(psprintf("SELECT pg_catalog.max(created_at)::pg_catalog.int8 FROM %s", a->table),
		  0, NULL);
	last = DatumGetInt64(binvalue(0, 1, &isnull));
	if (isnull)
		return;
	foreach(lc, journal)
	{
		DrizzleEntry *e = (DrizzleEntry *) lfirst(lc);

		if (e->when <= last)
			new_row(a, psprintf("%d", e->idx), "versioned", NULL, NULL);
	}
}

/* sqitch.changes: the plan's first changes, deployed in its order */
static void
rows_sqitch(Adoption *a)
{
	SqitchPlan *plan = sqitch_plan(&a->layout);
	const char *args[1];
	uint64		i;

	if (plan->project == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("sqitch plan of \"%s\" names no project", a->dir),
				 errhint("Add a %%project=<name> line to sqitch.plan.")));
	args[0] = plan->project;
	query(psprintf("SELECT change, committed_at, committer_name FROM %s "
				   "WHERE project OPERATOR(pg_catalog.=) $1 "
				   "ORDER BY committed_at, change_id", a->table), 1, args);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *name = value(i, 1);
		SqitchChange *c = i < (uint64) list_length(plan->changes) ?
			(SqitchChange *) list_nth(plan->changes, (int) i) : NULL;
		AdoptRow   *r;

		CHECK_FOR_INTERRUPTS();
		if (name == NULL)
			name = "";
		if (c == NULL || strcmp(c->name, name) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("sqitch.changes does not follow the plan of \"%s\"", a->dir),
					 c ? errdetail("Deployed change %d is \"%s\", but change %d of sqitch.plan is \"%s\".",
								   (int) i + 1, name, (int) i + 1, c->name) :
					 errdetail("Change \"%s\" is deployed, but sqitch.plan has only %d changes.",
							   name, list_length(plan->changes)),
					 errhint("Adopt with the sqitch.plan that deployed the database.")));
		r = new_row(a, psprintf("%d", c->position), "versioned", pstrdup(c->name), NULL);
		set_installed_on(r, i, 2);
		r->installed_by = value(i, 3);
	}
}

/*
 * sql-migrate's gorp_migrations: one row per applied file, id its name
 * (what sql-migrate's layout takes as the version), in the order applied.
 * A checksum column that forks of sql-migrate add is not ours: not read.
 */
static void
rows_sql_migrate(Adoption *a)
{
	uint64		i;

	query(psprintf("SELECT id::pg_catalog.text, applied_at::pg_catalog.timestamptz FROM %s "
				   "ORDER BY applied_at, id", a->table), 0, NULL);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *id = value(i, 1);
		AdoptRow   *r;

		CHECK_FOR_INTERRUPTS();
		if (id == NULL || *id == '\0' || strchr(id, '/') != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("sql-migrate history table %s has an id that is no file name: \"%s\"",
							a->table, id ? id : ""),
					 errhint("sql-migrate records the name of each migration file it applied.")));
		r = new_row(a, id, "versioned", NULL, NULL);
		if (r->script == NULL)
		{
			r->script = id;
			r->description = layout_sql_migrate_description(id);
		}
		set_installed_on(r, i, 2);
	}
}

/* has the track a row for this version (or this repeatable script)? */
static bool
known(List *history, AdoptRow *r)
{
	ListCell   *lc;

	foreach(lc, history)
	{
		HistoryRow *h = (HistoryRow *) lfirst(lc);

		if (r->version == NULL)
		{
			if (h->version == NULL && strcmp(h->type, "repeatable") == 0 &&
				h->script && strcmp(h->script, r->script) == 0)
				return true;
		}
		else if (h->version && version_cmp(h->version, r->version) == 0)
			return true;
	}
	return false;
}

/*
 * Append one adopted row to migrate.history (history.c writes it with the
 * extension's rights).  installed_by is the old tool's when it kept one,
 * else the calling role.
 */
static void
record(const char *track, AdoptRow *r)
{
	HistoryEntry he;

	memset(&he, 0, sizeof(he));
	he.track = track;
	he.version = r->version;
	he.description = r->description ? r->description : "";
	he.type = r->type;
	he.script = r->script;
	he.checksum = r->checksum;
	he.installed_by = r->installed_by;
	he.has_installed_on = r->has_installed_on;
	he.installed_on = r->installed_on;
	he.execution_ms = r->execution_ms;
	he.success = true;
	history_record(&he);
}

/* the work of adopt, under the runner lock of the track */
static void
adopt_body(ApplyRun *ar, void *arg)
{
	Adoption   *a = (Adoption *) arg;
	List	   *history;
	ListCell   *lc;

	find_table(a, a->given_table);
	read_dir(a);
	switch (a->tool)
	{
		case TOOL_FLYWAY:
			rows_flyway(a);
			break;
		case TOOL_NODE_PG:
			rows_node_pg(a);
			break;
		case TOOL_GOLANG:
			rows_golang(a);
			break;
		case TOOL_DBMATE:
			rows_dbmate(a);
			break;
		case TOOL_DRIZZLE:
			rows_drizzle(a);
			break;
		case TOOL_SQITCH:
			rows_sqitch(a);
			break;
		case TOOL_SQL_MIGRATE:
			rows_sql_migrate(a);
			break;
	}

	history = history_load(a->track, CurrentMemoryContext);
	foreach(lc, a->rows)
	{
		AdoptRow   *r = (AdoptRow *) lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		if (known(history, r))
			continue;
		record(a->track, r);
		a->adopted++;
	}
	ereport(NOTICE,
			(errmsg("migrate: adopted %d migration(s) of %s from %s on track \"%s\"",
					a->adopted, tools[a->tool].name, a->table, a->track)));
}

/*
 * SELECT migrate.adopt(tool, track, dir, history_table, confirm, schema,
 * trust_table_owner): the number of migrations adopted.
 */
Datum
migrate_adopt(PG_FUNCTION_ARGS)
{
	Adoption	a;
	ApplyRun	ar;
	char	   *tool = required_arg(fcinfo, 0, "tool");

	memset(&a, 0, sizeof(a));
	a.track = required_arg(fcinfo, 1, "track");
	a.tool = find_tool(tool);
	a.dir = opt_text(fcinfo, 2);
	a.given_table = opt_text(fcinfo, 3);
	/* 1.1: schema and trust_table_owner (the 1.0 declaration has neither) */
	a.schema = opt_text(fcinfo, 5);
	a.trust_owner = PG_NARGS() > 6 && !PG_ARGISNULL(6) && PG_GETARG_BOOL(6);

	migrate_check_changing_call(fcinfo, opt_text(fcinfo, 4));
	run_init(fcinfo, &ar, NULL, a.track);
	run_locked(&ar, adopt_body, &a);
	PG_RETURN_INT32(a.adopted);
}
