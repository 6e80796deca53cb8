/*-------------------------------------------------------------------------
 *
 * paths.c
 *	  The allow-list: which server paths migrate may read.
 *
 * A path is accepted only when its real path (symlinks and ".." resolved
 * by realpath()) is one of the directories in migrate.allowed_dirs, also
 * resolved, or lies below one.  Paths are refused outright when they are
 * relative or contain a ".." component, so that what the user typed and
 * what is read never disagree.  Every refusal is insufficient_privilege,
 * whoever the caller is; the superuser grants access by setting the list,
 * not by being the caller.
 *
 * This file decides; it reads no file contents (source.c does).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utils/varlena.h"

#include "migrate.h"
#include "paths.h"

/* true if path is dir itself or lies below it (both canonical) */
static bool
path_is_below(const char *path, const char *dir)
{
	size_t		len = strlen(dir);

	if (strncmp(path, dir, len) != 0)
		return false;
	/* "/" as an allowed directory: everything is below it */
	if (len > 0 && dir[len - 1] == '/')
		return true;
	return path[len] == '\0' || path[len] == '/';
}

/* the allowed directories, each as written and as resolved */
static List *
allowed_dirs(bool resolved)
{
	char	   *rawstring;
	List	   *elemlist;
	List	   *result = NIL;
	ListCell   *lc;

	if (migrate_allowed_dirs == NULL || migrate_allowed_dirs[0] == '\0')
		(void) migrate_catch_up_allowed_dirs(); /* a reload on its way? */
	if (migrate_allowed_dirs == NULL || migrate_allowed_dirs[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("no directory is allowed for migration files"),
				 errdetail("migrate.allowed_dirs is empty."),
				 errhint("A superuser must list the directories in migrate.allowed_dirs, "
						 "for example: ALTER SYSTEM SET migrate.allowed_dirs = '/srv/app/migrations'; "
						 "SELECT pg_reload_conf();")));

	rawstring = pstrdup(migrate_allowed_dirs);
	if (!SplitDirectoriesString(rawstring, ',', &elemlist))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid list syntax in migrate.allowed_dirs")));

	foreach(lc, elemlist)
	{
		char	   *dir = (char *) lfirst(lc);

		if (resolved)
		{
			char		buf[PATH_MAX];

			/* a listed directory that does not exist allows nothing */
			if (realpath(dir, buf) != NULL)
				result = lappend(result, pstrdup(buf));
		}
		else
			result = lappend(result, pstrdup(dir));
	}
	return result;
}

/* true if a resolved path lies in or below an allowed directory */
bool
path_is_allowed(const char *real)
{
	ListCell   *lc;

	foreach(lc, allowed_dirs(true))
	{
		if (path_is_below(real, (char *) lfirst(lc)))
			return true;
	}
	return false;
}

/* true if the path as written lies below an allowed directory, as written or resolved */
static bool
path_is_textually_allowed(const char *canonical)
{
	ListCell   *lc;

	foreach(lc, allowed_dirs(false))
	{
		if (path_is_below(canonical, (char *) lfirst(lc)))
			return true;
	}
	foreach(lc, allowed_dirs(true))
	{
		if (path_is_below(canonical, (char *) lfirst(lc)))
			return true;
	}
	return false;
}

/* refuse relative paths and ".." before anything touches the file system */
static char *
path_canonical(const char *path)
{
	char	   *canonical;

	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration path \"%s\" is not absolute", path),
				 errhint("Give the full path of a directory listed in migrate.allowed_dirs.")));

	if (path_contains_parent_reference(path) ||
		strstr(path, "/../") != NULL ||
		strcmp(path, "..") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration path \"%s\" must not contain \"..\"", path)));

	canonical = pstrdup(path);
	canonicalize_path(canonical);
	if (path_contains_parent_reference(canonical))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration path \"%s\" must not contain \"..\"", path)));
	return canonical;
}

/*
 * Resolve path and check it against the allow-list.  Returns the real path.
 * A path that does not exist is reported as missing only when it would be
 * allowed, so the error never tells a caller what exists elsewhere.
 */
static char *
path_resolve(const char *path, const char *what)
{
	char	   *canonical = path_canonical(path);
	char		buf[PATH_MAX];

	if (realpath(canonical, buf) == NULL)
	{
		int			save_errno = errno;

		/* pg_reload_conf() is asynchronous: a new list may be on its way */
		if (!path_is_textually_allowed(canonical) && migrate_catch_up_allowed_dirs())
			return path_resolve(path, what);
		if (!path_is_textually_allowed(canonical))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("%s \"%s\" is not in an allowed directory", what, path),
					 errhint("A superuser can add its directory to migrate.allowed_dirs.")));
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access %s \"%s\": %m", what, path)));
	}

	if (!path_is_allowed(buf) && migrate_catch_up_allowed_dirs())
		return path_resolve(path, what);
	if (!path_is_allowed(buf))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" is not in an allowed directory", what, path),
				 strcmp(buf, canonical) != 0 ?
				 errdetail("It resolves to \"%s\".", buf) : 0,
				 errhint("A superuser can add its directory to migrate.allowed_dirs.")));

	return pstrdup(buf);
}

/* check a migration directory; returns its real path */
char *
path_check_dir(const char *path)
{
	char	   *real = path_resolve(path, "migration directory");
	struct stat st;

	if (stat(real, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat migration directory \"%s\": %m", path)));
	if (!S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a directory", path),
				 errhint("Give the directory that holds the migration files.")));
	return real;
}

/*
 * Check one file: allowed and a regular file.  Returns its real path and
 * fills *st, which the reader compares with the file it opened.
 */
char *
path_check_file(const char *path, struct stat *st)
{
	char	   *real = path_resolve(path, "migration file");

	if (stat(real, st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat migration file \"%s\": %m", path)));
	if (!S_ISREG(st->st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration file \"%s\" is not a regular file", path)));
	return real;
}
