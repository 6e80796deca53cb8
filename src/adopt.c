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
 * adopting twice adds nothing.  Each tool's import lives beside its layout
 * (layout_<tool>.c, reached through the Layout table's adopt member, see
 * adopt.h); what each tool's table says, and how its versions become ours
 * (the versions its layout parser gives the files):
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

#include "args.h"
#include "run.h"
#include "adopt.h"
#include "history.h"
#include "layouts.h"
#include "migrate.h"
#include "paths.h"
#include "safety.h"
#include "reader.h"
#include "source.h"

PG_FUNCTION_INFO_V1(migrate_adopt);

/* text argument n, or NULL */
static char *
opt_text(FunctionCallInfo fcinfo, int n)
{
	if (PG_NARGS() <= n || PG_ARGISNULL(n))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* the tool named name: a layout that can adopt */
static const Layout *
find_tool(const char *name)
{
	const Layout *l = layout_find(name);

	if (l == NULL || l->adopt == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown migration tool \"%s\"", name),
				 errhint("migrate.adopt knows %s.", layout_adopt_names())));
	return l;
}

/* run a read-only query with text parameters; checks the result */
void
adopt_query(const char *sql, int nargs, const char **args)
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
char *
adopt_value(uint64 i, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col);
}

/* value of column col of row i as a datum; *isnull set */
Datum
adopt_binvalue(uint64 i, int col, bool *isnull)
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
			 errmsg("%s history table %s belongs to role \"%s\"", a->tool->name, a->table,
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
	const LayoutAdopt *t = a->tool->adopt;
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
				 errmsg("%s history table %s does not exist", a->tool->name, a->table),
				 given || a->schema ? 0 :
				 errdetail("migrate.adopt('%s') reads %s unless told otherwise; it does not search "
						   "search_path.", a->tool->name, a->table),
				 errhint("Name the schema and table %s kept its history in: "
						 "SELECT migrate.adopt('%s', schema => 'app') or "
						 "history_table => 'schema.table'.", a->tool->name, a->tool->name)));

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
				 errmsg("%s history table %s is %s", a->tool->name, a->table, relkind_name(relkind)),
				 errdetail("adopt reads only an ordinary or partitioned table: reading a view or a "
						   "foreign table runs code that someone else wrote."),
				 errhint("Name the table %s kept its history in.", a->tool->name)));
	check_table_owner(a, owner);

	/* the columns the tool's table has */
	args[0] = psprintf("%u", a->relid);
	adopt_query("SELECT a.attname::pg_catalog.text FROM pg_catalog.pg_attribute a "
		  "WHERE a.attrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid "
		  "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped", 1, args);
	cols = pstrdup(t->columns);
	for (col = strtok_r(cols, ", ", &saveptr); col; col = strtok_r(NULL, ", ", &saveptr))
	{
		uint64		i;
		bool		found = false;

		for (i = 0; i < SPI_processed && !found; i++)
			found = strcmp(adopt_value(i, 1), col) == 0;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("table %s is not a %s history table", a->table, a->tool->name),
					 errdetail("It has no column \"%s\"; the table of %s has the columns %s.", col, a->tool->name,
							   t->columns),
					 errhint("Name the right table with history_table => 'schema.table'.")));
	}
	/* a tool whose table looks like another's tells them apart */
	if (t->check_columns)
		t->check_columns(a);
}

/* read the migration directory, which must be in the tool's layout */
static void
read_dir(Adoption *a)
{
	char	   *real_dir;
	List	   *files;

	if (a->dir == NULL)
	{
		if (a->tool->adopt->needs_dir != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("adopting %s needs the migration directory", a->tool->name),
					 errdetail("%s", a->tool->adopt->needs_dir),
					 errhint("SELECT migrate.adopt('%s', dir => '/path/to/migrations').",
							 a->tool->name)));
		return;
	}
	files = source_list(a->dir, &real_dir);
	a->set = layout_classify(files);
	layout_dir_init(&a->layout, files);
	if (strcmp(a->set->layout, a->tool->name) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migration directory \"%s\" is not in %s's layout", a->dir,
						a->tool->name),
				 errdetail("Its files are read as the %s layout.", a->set->layout),
				 errhint("Pass the directory %s migrated from.", a->tool->name)));
}

/* the versioned script of version in dir, or NULL */
MigrationScript *
adopt_script_of(Adoption *a, const char *version)
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
AdoptRow *
adopt_new_row(Adoption *a, char *version, const char *type, char *description, char *script)
{
	AdoptRow   *r = palloc0(sizeof(AdoptRow));
	MigrationScript *s = adopt_script_of(a, version);

	r->version = version;
	r->type = type;
	r->description = description ? description : (s ? s->description : "");
	r->script = script ? script : (s ? s->name : NULL);
	r->execution_ms = -1;
	a->rows = lappend(a->rows, r);
	return r;
}

/* a version from the old table, normalized, or an error naming it */
char *
adopt_version(Adoption *a, const char *raw, size_t len)
{
	char	   *v = version_normalize(raw, len);

	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s history table %s has a version migrate cannot read: \"%.*s\"",
						a->tool->name, a->table, (int) len, raw),
				 errhint("A version is digits separated by \".\" or \"_\".")));
	return v;
}

/* the timestamp in column col of row i, if not NULL */
void
adopt_set_installed_on(AdoptRow *r, uint64 i, int col)
{
	bool		isnull;
	Datum		d = adopt_binvalue(i, col, &isnull);

	r->has_installed_on = !isnull;
	if (!isnull)
		r->installed_on = DatumGetTimestampTz(d);
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
adopt_body(TrackRun *run, void *arg)
{
	Adoption   *a = (Adoption *) arg;
	List	   *history;
	ListCell   *lc;

	find_table(a, a->given_table);
	read_dir(a);
	a->tool->adopt->rows(a);

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
					a->adopted, a->tool->name, a->table, a->track)));
}

/*
 * SELECT migrate.adopt(tool, track, dir, history_table, confirm, schema,
 * trust_table_owner): the number of migrations adopted.
 */
Datum
migrate_adopt(PG_FUNCTION_ARGS)
{
	Adoption	a;
	TrackRun	run;
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
	run_init(fcinfo, &run, NULL, a.track);
	run_locked(&run, adopt_body, &a);
	PG_RETURN_INT32(a.adopted);
}
