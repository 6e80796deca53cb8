/*-------------------------------------------------------------------------
 *
 * paths.c
 *	  The allow-list: which server paths migrate may read.
 *
 * A path is accepted only when its real path (symlinks and ".." resolved
 * by realpath()) is one of the directories in migrate.allowed_dirs, also
 * resolved, or lies below one.  Paths are refused outright when they are
 * relative or contain a ".." component, so that what the user typed and
 * what is read never disagree; so is a real path with a hidden component
 * (".env", ".git/config") below its allowed directory.  Every refusal is
 * insufficient_privilege, whoever the caller is; the superuser grants
 * access by setting the list, not by being the caller.  Only a superuser
 * is shown where a refused path resolves to: to anyone else that would
 * tell where the data directory is, and whether a file exists elsewhere.
 *
 * The list is resolved at each call, so an entry that runs through a
 * symbolic link follows the link as it is then.  An entry that is, or
 * resolves to, "/" is refused: it would allow every file of the server.
 * Whoever can write an allowed directory, or a directory above it,
 * decides what runs; the first use of each allowed directory in a backend
 * warns when anyone but root and the server's OS user can.
 *
 * This file decides; it opens and reads nothing (safeopen.c opens exactly
 * the real path decided here, source.c reads).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "migrate.h"
#include "paths.h"
#include "safeopen.h"

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

/* the name of an OS user, or its number */
static const char *
user_name(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw ? pstrdup(pw->pw_name) : psprintf("%u", (unsigned) uid);
}

/* may only root and the server's OS user act as this owner? */
static bool
owner_trusted(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* are root and the server's OS user the only members of this group? */
static bool
group_trusted(gid_t gid)
{
	struct group *gr;
	const char *me = user_name(geteuid());
	char	  **m;

	/* anyone else whose primary group it is cannot be seen here: trust only these two */
	if (gid != 0 && gid != getegid())
		return false;
	gr = getgrgid(gid);
	if (gr == NULL)
		return false;
	for (m = gr->gr_mem; *m; m++)
		if (strcmp(*m, "root") != 0 && strcmp(*m, me) != 0)
			return false;
	return true;
}

/*
 * Who else than root and the server's OS user can change what the path
 * leads to?  Looks at every directory from "/" down to path (lstat, so a
 * symbolic link on the way is judged by the directory holding it).
 * Returns a sentence naming the first such directory, or NULL.
 */
static char *
writable_by_others(const char *path)
{
	char	   *prefix = pstrdup(path);
	size_t		len = strlen(path);
	size_t		i;
	struct stat st;
	struct stat child;
	bool		have_child = false;

	/* from the directory itself up to "/", each judged with its child */
	for (i = len; i > 0; i--)
	{
		if (i != len && path[i] != '/')
			continue;
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		if (lstat(prefix, &st) != 0)
			return NULL;		/* it cannot be read: the call itself will say so */
		if (!S_ISLNK(st.st_mode))
		{
			bool		sticky_ok = have_child && (st.st_mode & S_ISVTX) &&
				owner_trusted(child.st_uid);

			if (!owner_trusted(st.st_uid))
				return psprintf("\"%s\" is owned by the OS user \"%s\".", prefix,
								user_name(st.st_uid));
			if ((st.st_mode & S_IWOTH) && !sticky_ok)
				return psprintf("\"%s\" is writable by every OS user.", prefix);
			if ((st.st_mode & S_IWGRP) && !sticky_ok && !group_trusted(st.st_gid))
				return psprintf("\"%s\" is writable by its group.", prefix);
		}
		child = st;
		have_child = true;
	}
	if (lstat("/", &st) == 0 && (st.st_mode & (S_IWOTH | S_IWGRP)))
		return pstrdup("\"/\" is writable by others than root.");
	return NULL;
}

/*
 * Warn, once per backend and allowed directory, when an OS user other than
 * root and the server's can change the directory or a directory above it
 * (as written, and as resolved): that user decides what migrations run.
 * A superuser caller sees the warning; for anyone else it goes to the
 * server log only, as it names the directories.
 */
static void
warn_if_writable(const char *written, const char *resolved)
{
	static List *checked = NIL;
	ListCell   *lc;
	char	   *why;
	MemoryContext old;

	foreach(lc, checked)
	{
		if (strcmp((char *) lfirst(lc), resolved) == 0)
			return;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	checked = lappend(checked, pstrdup(resolved));
	MemoryContextSwitchTo(old);

	why = writable_by_others(written);
	if (why == NULL)
		why = writable_by_others(resolved);
	if (why == NULL)
		return;
	ereport(superuser() ? WARNING : LOG_SERVER_ONLY,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("allowed directory \"%s\" can be changed by OS users other than root and \"%s\"",
					written, user_name(geteuid())),
			 errdetail("%s", why),
			 errhint("Whoever can write there decides which migrations run. Keep each directory in "
					 "migrate.allowed_dirs, and every directory above it, owned by root or the "
					 "server's OS user and writable by no one else.")));
}

/*
 * The allowed directories, each as written or as resolved now (an entry
 * that does not exist is left out then).  Every caller loads the list
 * here, so that a reloaded migrate.allowed_dirs is seen at the next call.
 */
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
		char		buf[PATH_MAX];
		const char *real = NULL;

		/* a listed directory that does not exist allows nothing */
		if (realpath(dir, buf) != NULL)
			real = buf;

		/* "/" allows every file of the server, whatever link leads there */
		if (strcmp(dir, "/") == 0 || (real && strcmp(real, "/") == 0))
		{
			bool		su = superuser();

			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("migrate.allowed_dirs allows the whole file system"),
					 su ?
					 errdetail("The entry \"%s\" resolves to \"/\".", dir) :
					 errdetail("One of its entries resolves to \"/\"."),
					 errhint("A superuser must list only the directories that hold migration files, "
							 "through paths that no one but root can re-point.")));
		}

		if (!resolved)
			result = lappend(result, pstrdup(dir));
		else if (real)
		{
			warn_if_writable(dir, real);
			result = lappend(result, pstrdup(real));
		}
	}
	return result;
}

/*
 * The resolved allowed directory that a real path lies in or below, or
 * NULL if none.
 */
const char *
path_allowed_root(const char *real)
{
	ListCell   *lc;

	foreach(lc, allowed_dirs(true))
	{
		if (path_is_below(real, (char *) lfirst(lc)))
			return (const char *) lfirst(lc);
	}
	return NULL;
}

/* true if a resolved path lies in or below an allowed directory */
bool
path_is_allowed(const char *real)
{
	return path_allowed_root(real) != NULL;
}

/*
 * true if a component of real below root (its allowed directory) is hidden:
 * ".env", ".git/config".  The allowed directory itself is the superuser's
 * choice and not looked at.
 */
bool
path_is_hidden(const char *real, const char *root)
{
	const char *p = real + strlen(root);

	for (; *p; p++)
		if (p[0] == '.' && p[-1] == '/')
			return true;
	return false;
}

/*
 * The allowed directory, as written or as resolved, that the path as
 * written lies below; NULL if none.
 */
static const char *
textual_root(const char *canonical)
{
	ListCell   *lc;

	foreach(lc, allowed_dirs(false))
	{
		if (path_is_below(canonical, (char *) lfirst(lc)))
			return (const char *) lfirst(lc);
	}
	foreach(lc, allowed_dirs(true))
	{
		if (path_is_below(canonical, (char *) lfirst(lc)))
			return (const char *) lfirst(lc);
	}
	return NULL;
}

/* true if the path as written lies below an allowed directory, as written or resolved */
static bool
path_is_textually_allowed(const char *canonical)
{
	return textual_root(canonical) != NULL;
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

/* true if name (a path) ends in .sql, in any case */
static bool
has_sql_suffix(const char *name)
{
	size_t		len = strlen(name);

	return len >= 4 && pg_strcasecmp(name + len - 4, ".sql") == 0;
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
	const char *root;
	bool		show_real;

	/* hidden as written: refused before it is looked up, whether it exists or not */
	root = textual_root(canonical);
	if (root != NULL && path_is_hidden(canonical, root))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" is hidden", what, path),
				 errdetail("Files and directories whose names start with \".\" are never read."),
				 errhint("Give a path with no component starting with \".\".")));

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
				 errmsg("could not access %s \"%s\": %m", what, path),
				 errhint_file_access(save_errno)));
	}

	/* where a path leads is the superuser's business only */
	show_real = strcmp(buf, canonical) != 0 && superuser();
	root = path_allowed_root(buf);
	/* a just-reloaded migrate.allowed_dirs this session has not seen yet */
	if (root == NULL && migrate_catch_up_allowed_dirs())
		return path_resolve(path, what);
	if (root == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" is not in an allowed directory", what, path),
				 show_real ? errdetail("It resolves to \"%s\".", buf) : 0,
				 errhint("A superuser can add its directory to migrate.allowed_dirs.")));
	if (path_is_hidden(buf, root))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" is hidden", what, path),
				 show_real ?
				 errdetail("It resolves to \"%s\"; files and directories whose names start with \".\" are never read.", buf) :
				 errdetail("Files and directories whose names start with \".\" are never read."),
				 errhint("Give a path with no component starting with \".\".")));

	return pstrdup(buf);
}

/* check a migration directory; returns its real path */
char *
path_check_dir(const char *path)
{
	char	   *real = path_resolve(path, "migration directory");
	struct stat st;

	if (stat(real, &st) != 0)
	{
		int			save_errno = errno;

		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat migration directory \"%s\": %m", path),
				 errhint_file_access(save_errno)));
	}
	if (!S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a directory", path),
				 errhint("Give the directory that holds the migration files.")));
	return real;
}

/* refuse a file migrate.run or \i may not read by its name: only .sql files */
static void
check_sql_name(const char *path, const char *name)
{
	if (!has_sql_suffix(name))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration file \"%s\" is not a .sql file", path),
				 errdetail("migrate.run, \\i and \\ir read only files whose names end in .sql."),
				 errhint("Give the file a name ending in .sql. To keep a file you include from being "
						 "taken for a migration, start its name, or the name of its directory, with \"_\".")));
}

/*
 * Check one file that migrate.run or \i names: allowed, not hidden, a .sql
 * file, and a regular file.  Returns its real path and fills *st, which
 * the reader compares with the file it opens.
 */
char *
path_check_file(const char *path, struct stat *st)
{
	char	   *real;

	/*
	 * Inside the allowed tree as written, the name alone decides, before
	 * anything is looked up; elsewhere the allow-list speaks first.
	 */
	if (path_is_textually_allowed(path_canonical(path)))
		check_sql_name(path, path);
	real = path_resolve(path, "migration file");
	check_sql_name(path, path);
	/* a link named x.sql may lead to any file: its target must be one too */
	check_sql_name(path, real);

	if (stat(real, st) != 0)
	{
		int			save_errno = errno;

		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat migration file \"%s\": %m", path),
				 errhint_file_access(save_errno)));
	}
	if (!S_ISREG(st->st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration file \"%s\" is not a regular file", path)));
	return real;
}
