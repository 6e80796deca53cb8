/*-------------------------------------------------------------------------
 *
 * staged.c
 *	  The table migrate.staged: migration files handed to the database as
 *	  SQL text, for hosts where no file system can be reached.
 *
 * A bundle is a set of files under one name.  migrate.stage(bundle,
 * filename, sql) stores or replaces one file, migrate.unstage removes one
 * or all.  CALL migrate.apply('bundle') reads a bundle exactly as it reads
 * a directory: source.c asks here for the bundle's files and reads their
 * text through the same reader as files on disk (normalized, checked,
 * checksummed).  The text is loaded once, before the first commit of a
 * run, like a directory listing.
 *
 * A filename is relative and '/'-separated ("sub/V2__x.sql"), and may be
 * any file a layout reads (json, plan files), not only scripts.  Names
 * with a hidden component (".keep") are stored but skipped when listing,
 * as they are in directories.
 *
 * Every query names its schema and operators, so a caller's search_path
 * cannot redirect it, and runs with the caller's rights: applying a bundle
 * needs SELECT on migrate.staged, staging INSERT, UPDATE and DELETE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "safety.h"
#include "source.h"
#include "staged.h"

PG_FUNCTION_INFO_V1(migrate_stage);
PG_FUNCTION_INFO_V1(migrate_unstage);

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
make_file(const char *bundle, const char *filename, Datum sql)
{
	SourceFile *f = palloc0(sizeof(SourceFile));
	text	   *t = DatumGetTextPP(sql);
	size_t		len = VARSIZE_ANY_EXHDR(t);
	char	   *buf = palloc(len + 1);

	memcpy(buf, VARDATA_ANY(t), len);
	buf[len] = '\0';
	f->name = pstrdup(filename);
	f->path = psprintf("%s/%s", bundle, filename);
	f->text = buf;
	f->text_len = len;
	return f;
}

/*
 * The files of a bundle (hidden ones left out), copied into the current
 * memory context.  The caller must be SPI-connected.  A bundle with no
 * file at all is an error: most likely a mistyped name.
 */
List *
staged_list_bundle(const char *bundle)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	List	   *files = NIL;
	uint64		i;
	int			ret;

	check_bundle_name(bundle);
	args[0] = CStringGetTextDatum(bundle);
	ret = SPI_execute_with_args("SELECT filename, sql FROM migrate.staged "
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

		if (isnull || is_hidden(filename))
			continue;
		files = lappend(files, make_file(bundle, filename, sql));
	}
	SPI_freetuptable(SPI_tuptable);
	return files;
}

/*
 * A staged file by its path "<bundle>/<filename>", as an \i or \ir inside a
 * staged script names it ("." and ".." resolved inside the bundle).  The
 * caller must be SPI-connected.
 */
SourceFile *
staged_file_by_path(const char *path)
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
	ret = SPI_execute_with_args("SELECT sql FROM migrate.staged "
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
	f = make_file(bundle, name.data, sql);
	SPI_freetuptable(SPI_tuptable);
	return f;
}

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
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[4];
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
	f = make_file(bundle, filename, sql);
	source_checksum(f, checksum, &size);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	args[0] = CStringGetTextDatum(bundle);
	args[1] = CStringGetTextDatum(filename);
	args[2] = sql;
	args[3] = CStringGetTextDatum(checksum);
	ret = SPI_execute_with_args("INSERT INTO migrate.staged AS s "
								"(bundle, filename, sql, checksum) VALUES ($1, $2, $3, $4) "
								"ON CONFLICT (bundle, filename) DO UPDATE "
								"SET sql = EXCLUDED.sql, checksum = EXCLUDED.checksum, "
								"staged_at = EXCLUDED.staged_at, staged_by = EXCLUDED.staged_by",
								4, argtypes, args, NULL, false, 0);
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
	args[0] = CStringGetTextDatum(bundle);
	if (PG_ARGISNULL(1))
		ret = SPI_execute_with_args("DELETE FROM migrate.staged "
									"WHERE bundle OPERATOR(pg_catalog.=) $1",
									1, argtypes, args, NULL, false, 0);
	else
	{
		args[1] = PG_GETARG_DATUM(1);
		ret = SPI_execute_with_args("DELETE FROM migrate.staged "
									"WHERE bundle OPERATOR(pg_catalog.=) $1 "
									"AND filename OPERATOR(pg_catalog.=) $2",
									2, argtypes, args, NULL, false, 0);
	}
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not delete from migrate.staged: %s", SPI_result_code_string(ret));
	n = SPI_processed;
	SPI_finish();

	PG_RETURN_INT32((int32) n);
}
