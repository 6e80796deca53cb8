/*-------------------------------------------------------------------------
 *
 * staged.c
 *	  The table migrate.staged: migration files handed to the database as
 *	  SQL text, for hosts where no file system can be reached.
 *
 * A bundle is a set of files under one name.  migrate.stage(bundle,
 * filename, sql) stores or replaces one file, migrate.unstage removes one
 * or all.  CALL migrate.apply('bundle') reads a bundle exactly as it reads
 * a directory: a bundle is a source (source.h, source_bundle here) whose
 * files are read through the same reader as files on disk (normalized,
 * checked, checksummed).  The text is loaded once, before the first
 * commit of a run, like a directory listing.
 *
 * A filename is relative and '/'-separated ("sub/V2__x.sql"), and may be
 * any file a layout reads (json, plan files), not only scripts.  Names
 * with a hidden component (".keep") are stored but skipped when listing,
 * as they are in directories.
 *
 * Every query names its schema and operators, so a caller's search_path
 * cannot redirect it.  Reading a bundle runs with the caller's rights (it
 * needs SELECT on migrate.staged); writing it only through stage and
 * unstage, with the extension owner's rights (history.c), since no role
 * but the owner may write the table.
 *
 * A bundle has an owner (migrate.staged.owner, 1.1): the role that staged
 * its first file.  Only the owner, a member of it, or a superuser stages
 * into it or unstages from it, and its scripts run only for a caller the
 * owner is a member of (the owner itself, or a role with no more rights
 * than the owner has; every role, for a superuser's bundle): a superuser's
 * pg_cron job never runs what a less privileged role staged.  A bundle
 * staged before 1.1 has no owner and runs for nobody until a superuser,
 * having read it, sets one.  With the objects of 1.0 (no owner column)
 * bundles behave as in 1.0.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "history.h"
#include "plan.h"
#include "reader.h"
#include "safety.h"
#include "source.h"
#include "staged.h"

PG_FUNCTION_INFO_V1(migrate_stage);
PG_FUNCTION_INFO_V1(migrate_unstage);

/* advisory lock class of a bundle being changed ("mstg") */
#define STAGED_LOCK_CLASSID 0x6d737467

/* plans of the writes, kept for the life of the backend */
static SPIPlanPtr owner_plan = NULL;
static SPIPlanPtr store_plan = NULL;
static SPIPlanPtr store_plan_10 = NULL;	/* the 1.0 objects: no owner */
static SPIPlanPtr unstage_all_plan = NULL;
static SPIPlanPtr unstage_one_plan = NULL;

/* do this database's objects have bundle owners (1.1)? */
static bool
has_owners(void)
{
	return migrate_schema_version() >= 101;
}

/* a bundle name: not empty, no '/', not "." or ".." */
static void
check_bundle_name(const char *bundle)
{
	if (bundle[0] == '\0' || strchr(bundle, '/') != NULL ||
		strcmp(bundle, ".") == 0 || strcmp(bundle, "..") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid staged bundle name \"%s\"", bundle),
				 errdetail("A bundle name is not empty and has no \"/\"; a name with \"/\" is read "
						   "as a directory path."),
				 errhint("Give a directory as an absolute path, or a bundle by its name.")));
}

/* a filename: relative, no empty, "." or ".." components */
static void
check_filename(const char *filename)
{
	const char *p = filename;

	if (*p == '\0' || *p == '/')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid staged file name \"%s\"", filename),
				 errdetail("A staged file name is a relative path such as \"V1__init.sql\" or "
						   "\"sub/V2__more.sql\".")));
	while (*p)
	{
		size_t		n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid staged file name \"%s\"", filename),
					 errdetail("Its path has an empty, \".\" or \"..\" component.")));
		p += n;
		if (*p == '/')
		{
			p++;
			if (*p == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid staged file name \"%s\"", filename),
						 errdetail("It ends with \"/\".")));
		}
	}
}

/* does any component of filename start with '.'? */
static bool
is_hidden(const char *filename)
{
	const char *p = filename;

	for (;;)
	{
		if (*p == '.')
			return true;
		p = strchr(p, '/');
		if (p == NULL)
			return false;
		p++;
	}
}

/* a SourceFile for a staged file, its text copied into the current context */
static SourceFile *
make_file(const char *bundle, const char *filename, Datum sql, Oid owner)
{
	SourceFile *f = palloc0(sizeof(SourceFile));
	text	   *t = DatumGetTextPP(sql);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	char	   *buf = palloc(len + 1);

	memcpy(buf, VARDATA_ANY(t), len);
	buf[len] = '\0';
	f->kind = &source_bundle;
	f->name = pstrdup(filename);
	f->path = psprintf("%s/%s", bundle, filename);
	f->text = buf;
	f->text_len = len;
	f->owner = owner;
	return f;
}

/* the owner in column col of SPI row i (InvalidOid if NULL or none) */
static Oid
row_owner(uint64 i, int col)
{
	bool		isnull;
	Datum		d;

	if (col > SPI_tuptable->tupdesc->natts)
		return InvalidOid;
	d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, col, &isnull);
	return isnull ? InvalidOid : DatumGetObjectId(d);
}

/* the name of a role, or a description of a missing one */
static char *
role_name(Oid role)
{
	char	   *name = OidIsValid(role) ? GetUserNameFromId(role, true) : NULL;

	return name ? name : psprintf("(dropped role %u)", role);
}

/*
 * May the calling role run the scripts of a staged file?  Only when the
 * bundle's owner is the caller or a member of it (a superuser is a member
 * of every role): SQL a less privileged role wrote must not run with more
 * rights than that role has.  Files on disk, and bundles of the 1.0
 * objects (no owners), are not checked here.
 */
void
staged_check_run(const SourceFile *file)
{
	const char *slash;
	char	   *bundle;
	Oid			caller = GetUserId();

	if (file == NULL || file->text == NULL || !has_owners())
		return;
	if (OidIsValid(file->owner) && is_member_of_role(file->owner, caller))
		return;

	slash = strchr(file->path, '/');
	bundle = slash ? pnstrdup(file->path, slash - file->path) : pstrdup(file->path);
	if (!OidIsValid(file->owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("staged bundle \"%s\" has no owner", bundle),
				 errdetail("It was staged before migrate 1.1, when any role that could write "
						   "migrate.staged could change it; its scripts run for nobody."),
				 errhint("Read its files, then, as a superuser: UPDATE migrate.staged SET owner = "
						 "'<role>' WHERE bundle = %s; or stage it again under another name.",
						 quote_literal_cstr(bundle))));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("staged bundle \"%s\" belongs to role \"%s\"", bundle, role_name(file->owner)),
			 errdetail("Running its scripts as role \"%s\" would run SQL that role \"%s\" wrote "
					   "with rights \"%s\" does not have.",
					   GetUserNameFromId(caller, false), role_name(file->owner),
					   role_name(file->owner)),
			 errhint("Apply it as its owner (SET ROLE %s), or read its files and make it yours: "
					 "as a superuser, UPDATE migrate.staged SET owner = %s WHERE bundle = %s.",
					 quote_identifier(role_name(file->owner)),
					 quote_literal_cstr(GetUserNameFromId(caller, false)),
					 quote_literal_cstr(bundle))));
}

/*
 * Before a run executes anything: may the caller run the scripts of these
 * plan entries (their undo scripts when undo)?  So a refused bundle leaves
 * no history row.
 */
void
staged_check_plan(List *entries, bool undo)
{
	ListCell   *lc;

	foreach(lc, entries)
	{
		PlanEntry  *e = (PlanEntry *) lfirst(lc);
		MigrationScript *s = undo ? e->undo : e->script;

		if (s)
			staged_check_run(s->file);
	}
}

/*
 * Lock the bundle against concurrent stage and unstage calls until the end
 * of the transaction, and check that the calling role may change it: its
 * owner, a member of it, or a superuser.  Returns the owner (InvalidOid
 * when the bundle is new, or was staged before 1.1).  *exists tells
 * whether the bundle has a file.
 */
static Oid
lock_bundle_for_change(const char *bundle, bool *exists)
{
	LOCKTAG		tag;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	Oid			owner;
	int			ret;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, STAGED_LOCK_CLASSID,
						 hash_bytes((const unsigned char *) bundle, strlen(bundle)), 2);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);

	args[0] = CStringGetTextDatum(bundle);
	ret = as_owner_execute("staged", &owner_plan,
						   "SELECT owner::pg_catalog.oid FROM migrate.staged "
						   "WHERE bundle OPERATOR(pg_catalog.=) $1 "
						   "ORDER BY owner::pg_catalog.oid USING OPERATOR(pg_catalog.<) NULLS FIRST "
						   "LIMIT 1",
						   1, argtypes, args, NULL);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read migrate.staged: %s", SPI_result_code_string(ret));
	*exists = SPI_processed > 0;
	owner = *exists ? row_owner(0, 1) : InvalidOid;
	SPI_freetuptable(SPI_tuptable);

	if (*exists && !superuser() &&
		(!OidIsValid(owner) || !is_member_of_role(GetUserId(), owner)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 OidIsValid(owner) ?
				 errmsg("staged bundle \"%s\" belongs to role \"%s\"", bundle, role_name(owner)) :
				 errmsg("staged bundle \"%s\" has no owner", bundle),
				 errdetail("Only the owner of a bundle, a member of it, or a superuser may change it."),
				 errhint("Stage your files under another bundle name.")));
	return owner;
}

/*
 * The files of a bundle (hidden ones left out), copied into the current
 * memory context.  The caller must be SPI-connected.  A bundle with no
 * file at all is an error: most likely a mistyped name.
 */
static List *
bundle_list(const char *bundle, char **base)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	List	   *files = NIL;
	uint64		i;
	int			ret;

	check_bundle_name(bundle);
	*base = pstrdup(bundle);
	args[0] = CStringGetTextDatum(bundle);
	ret = SPI_execute_with_args(has_owners() ?
								"SELECT filename, sql, checksum, owner::pg_catalog.oid "
								"FROM migrate.staged WHERE bundle OPERATOR(pg_catalog.=) $1" :
								"SELECT filename, sql, checksum FROM migrate.staged "
								"WHERE bundle OPERATOR(pg_catalog.=) $1",
								1, argtypes, args, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read migrate.staged: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("staged bundle \"%s\" does not exist", bundle),
				 errdetail("No file is staged under that name, and a name without \"/\" is "
						   "read as a staged bundle, not a directory."),
				 errhint("Stage its files with SELECT migrate.stage('%s', filename, sql), or give "
						 "a directory as an absolute path.", bundle)));

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *filename = SPI_getvalue(tup, desc, 1);
		bool		isnull;
		Datum		sql = SPI_getbinval(tup, desc, 2, &isnull);
		SourceFile *f;
		char	   *checksum;

		if (isnull || is_hidden(filename))
			continue;
		f = make_file(bundle, filename, sql, row_owner(i, 4));
		/*
		 * What stage recorded is what a run reads: no need to hash it
		 * again.  Only since 1.1, where nothing but stage writes the table.
		 */
		checksum = has_owners() ? SPI_getvalue(tup, desc, 3) : NULL;
		if (checksum && strlen(checksum) == MIGRATE_CHECKSUM_LEN - 1)
			f->stored_checksum = checksum;
		files = lappend(files, f);
	}
	SPI_freetuptable(SPI_tuptable);
	return files;
}

/*
 * A staged file by its path "<bundle>/<filename>", as an \i or \ir inside a
 * staged script names it ("." and ".." resolved inside the bundle).  The
 * caller must be SPI-connected.
 */
static SourceFile *
bundle_lookup(const char *path)
{
	const char *slash = strchr(path, '/');
	char	   *bundle;
	StringInfoData name;
	const char *p;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	SourceFile *f;
	bool		isnull;
	Datum		sql;
	int			ret;

	if (slash == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is neither an absolute path nor a staged file", path),
				 errhint("Name a file as an absolute path, or a staged file as "
						 "\"<bundle>/<filename>\".")));
	bundle = pnstrdup(path, slash - path);
	check_bundle_name(bundle);

	/* resolve "." and ".." components, never above the bundle */
	initStringInfo(&name);
	p = slash + 1;
	while (*p)
	{
		size_t		n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.'))
			 /* skip */ ;
		else if (n == 2 && p[0] == '.' && p[1] == '.')
		{
			char	   *up = strrchr(name.data, '/');

			if (name.len == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("staged file \"%s\" lies outside its bundle", path),
						 errhint("An included staged file must be in the same bundle.")));
			name.len = up ? up - name.data : 0;
			name.data[name.len] = '\0';
		}
		else
		{
			if (name.len > 0)
				appendStringInfoChar(&name, '/');
			appendBinaryStringInfo(&name, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (name.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" names no staged file", path)));

	args[0] = CStringGetTextDatum(bundle);
	args[1] = CStringGetTextDatum(name.data);
	ret = SPI_execute_with_args(has_owners() ?
								"SELECT sql, owner::pg_catalog.oid FROM migrate.staged "
								"WHERE bundle OPERATOR(pg_catalog.=) $1 "
								"AND filename OPERATOR(pg_catalog.=) $2" :
								"SELECT sql FROM migrate.staged "
								"WHERE bundle OPERATOR(pg_catalog.=) $1 "
								"AND filename OPERATOR(pg_catalog.=) $2",
								2, argtypes, args, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read migrate.staged: %s", SPI_result_code_string(ret));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FILE),
				 errmsg("staged file \"%s\" does not exist in bundle \"%s\"", name.data, bundle),
				 errhint("Stage it with SELECT migrate.stage('%s', '%s', sql).", bundle, name.data)));
	sql = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "staged file \"%s\" has no text", path);
	f = make_file(bundle, name.data, sql, row_owner(0, 2));
	SPI_freetuptable(SPI_tuptable);
	return f;
}

/* start reading a staged file's stored text */
static void
bundle_open(SourceHandle *h, const SourceFile *f)
{
	h->file = f;
	h->fd = -1;
	h->off = 0;
	h->left = f->text_len;
}

/* the next piece of the stored text */
static size_t
bundle_read(SourceHandle *h, char *buf, size_t len)
{
	size_t		n = Min(len, (size_t) h->left);

	memcpy(buf, h->file->text + h->off, n);
	h->off += n;
	h->left -= n;
	return n;
}

/* nothing to close: the text lives in the run's memory */
static void
bundle_close(SourceHandle *h)
{
}

const SourceKind source_bundle = {
	.name = "staged bundle",
	.list = bundle_list,
	.lookup = bundle_lookup,
	.open = bundle_open,
	.read = bundle_read,
	.close = bundle_close,
	.check_readable = NULL		/* its text is in memory already */
};

/* a required text argument */
static char *
required_text(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * SELECT migrate.stage(bundle, filename, sql): store or replace one file of
 * a bundle; returns its checksum, the one apply will record.
 */
Datum
migrate_stage(PG_FUNCTION_ARGS)
{
	char	   *bundle = required_text(fcinfo, 0, "bundle");
	char	   *filename = required_text(fcinfo, 1, "filename");
	Datum		sql;
	SourceFile *f;
	char		checksum[MIGRATE_CHECKSUM_LEN];
	int64		size;
	Oid			argtypes[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, OIDOID};
	Datum		args[6];
	char		nulls[7] = "      ";
	int			ret;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("sql must not be null")));
	sql = PG_GETARG_DATUM(2);
	migrate_check_writable("migrate.stage");
	check_bundle_name(bundle);
	check_filename(filename);

	/* the checksum of exactly what a run will read */
	f = make_file(bundle, filename, sql, InvalidOid);
	reader_checksum(f, checksum, &size, NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = CStringGetTextDatum(bundle);
	args[1] = CStringGetTextDatum(filename);
	args[2] = sql;
	args[3] = CStringGetTextDatum(checksum);
	/* staged_by is the caller: the write below runs as the extension's owner */
	args[4] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	if (has_owners())
	{
		bool		exists;
		Oid			owner = lock_bundle_for_change(bundle, &exists);

		/* a new bundle is the caller's; an existing one keeps its owner */
		args[5] = ObjectIdGetDatum(exists ? owner : GetUserId());
		if (exists && !OidIsValid(owner))
			nulls[5] = 'n';
		ret = as_owner_execute("staged", &store_plan,
							   "INSERT INTO migrate.staged AS s "
							   "(bundle, filename, sql, checksum, staged_at, staged_by, owner) "
							   "VALUES ($1, $2, $3, $4, pg_catalog.clock_timestamp(), $5, "
							   "$6::pg_catalog.regrole) "
							   "ON CONFLICT (bundle, filename) DO UPDATE "
							   "SET sql = EXCLUDED.sql, checksum = EXCLUDED.checksum, "
							   "staged_at = EXCLUDED.staged_at, staged_by = EXCLUDED.staged_by",
							   6, argtypes, args, nulls);
	}
	else
		ret = as_owner_execute("staged", &store_plan_10,
							   "INSERT INTO migrate.staged AS s "
							   "(bundle, filename, sql, checksum, staged_at, staged_by) "
							   "VALUES ($1, $2, $3, $4, pg_catalog.clock_timestamp(), $5) "
							   "ON CONFLICT (bundle, filename) DO UPDATE "
							   "SET sql = EXCLUDED.sql, checksum = EXCLUDED.checksum, "
							   "staged_at = EXCLUDED.staged_at, staged_by = EXCLUDED.staged_by",
							   5, argtypes, args, nulls);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "could not store in migrate.staged: %s", SPI_result_code_string(ret));
	SPI_finish();

	PG_RETURN_TEXT_P(cstring_to_text(checksum));
}

/*
 * SELECT migrate.unstage(bundle, filename): remove one file of a bundle, or
 * the whole bundle when filename is NULL; returns how many were removed.
 */
Datum
migrate_unstage(PG_FUNCTION_ARGS)
{
	char	   *bundle = required_text(fcinfo, 0, "bundle");
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	int			ret;
	uint64		n;

	migrate_check_writable("migrate.unstage");
	check_bundle_name(bundle);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (has_owners())
	{
		bool		exists;

		(void) lock_bundle_for_change(bundle, &exists);
	}
	args[0] = CStringGetTextDatum(bundle);
	if (PG_ARGISNULL(1))
		ret = as_owner_execute("staged", &unstage_all_plan,
							   "DELETE FROM migrate.staged "
							   "WHERE bundle OPERATOR(pg_catalog.=) $1",
							   1, argtypes, args, NULL);
	else
	{
		args[1] = PG_GETARG_DATUM(1);
		ret = as_owner_execute("staged", &unstage_one_plan,
							   "DELETE FROM migrate.staged "
							   "WHERE bundle OPERATOR(pg_catalog.=) $1 "
							   "AND filename OPERATOR(pg_catalog.=) $2",
							   2, argtypes, args, NULL);
	}
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not delete from migrate.staged: %s", SPI_result_code_string(ret));
	n = SPI_processed;
	SPI_finish();

	PG_RETURN_INT32((int32) n);
}
