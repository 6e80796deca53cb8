/*-------------------------------------------------------------------------
 *
 * source_dir.c
 *	  A migration directory as a source: listing its files, and handing
 *	  out their bytes.
 *
 * Listing walks the directory recursively, in name order, and checks every
 * entry against the allow-list (paths.c): a symlink may point anywhere
 * inside the allowed tree but not out of it, and a script that is not a
 * regular file is refused.  Hidden entries (".git", ".env") are skipped,
 * and a name that is not valid in the server encoding is refused before
 * anything runs.
 *
 * Directories and files are opened only through safeopen.c (no symbolic
 * link followed on the way, no FIFO waited for), which the transaction
 * closes if an error escapes, and each is opened and closed within one
 * transaction (a commit closes them too).  A file is read up to the size
 * it had when opened, and must be the very file that was listed (device
 * and inode).
 *
 * This file knows nothing of layouts or SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "paths.h"
#include "safeopen.h"
#include "source.h"

/* directories nested deeper than this are refused (symlink loops) */
#define SOURCE_MAX_DEPTH 32

/* true for names a migration could be: every name ending in .sql */
static bool
is_sql_name(const char *name)
{
	size_t		len = strlen(name);

	return len >= 4 && pg_strcasecmp(name + len - 4, ".sql") == 0;
}

/*
 * Refuse an entry name that is not valid in the server encoding: it would
 * be stored in the history as invalid text, which pg_dump and restore
 * then lose (with the whole table).  Names the directory as shown and the
 * bytes, escaped.
 */
static void
check_name_encoding(const char *shown_dir, const char *name)
{
	int			len = strlen(name);
	StringInfoData esc;
	const unsigned char *p;

	if (pg_verifymbstr(name, len, true))
		return;
	initStringInfo(&esc);
	for (p = (const unsigned char *) name; *p; p++)
	{
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			appendStringInfo(&esc, "\\x%02x", *p);
		else
			appendStringInfoChar(&esc, (char) *p);
	}
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("a file name in migration directory \"%s\" is not valid in encoding \"%s\"",
					shown_dir, GetDatabaseEncodingName()),
			 errdetail("The name is \"%s\" (bytes that are not printable ASCII shown as \\xNN).",
					   esc.data),
			 errhint("Rename the file in the server encoding: migrate records file names as text.")));
}

/*
 * Start buf as "base/" (base NULL: empty); the names of a directory's
 * entries are then put after it in turn, with set_entry.
 */
static int
start_entries(StringInfo buf, const char *base)
{
	initStringInfo(buf);
	if (base != NULL)
	{
		appendStringInfoString(buf, base);
		appendStringInfoChar(buf, '/');
	}
	return buf->len;
}

/* buf as started, then name */
static const char *
set_entry(StringInfo buf, int base_len, const char *name)
{
	buf->len = base_len;
	buf->data[base_len] = '\0';
	appendStringInfoString(buf, name);
	return buf->data;
}

/*
 * A listed file, with its name and path in the same chunk.  A listing of
 * 10 000 files lives as long as the run, and a no-op does little else than
 * list: so every file is one chunk of a generation context (no rounding up
 * to a power of two), and its name is the tail of its path when the path
 * ends with it (no link on the way), as it mostly does.
 */
static SourceFile *
new_listed_file(MemoryContext cxt, const char *name, size_t name_len, const char *path)
{
	size_t		path_len = strlen(path);
	bool		tail = path_len > name_len &&
		path[path_len - name_len - 1] == '/' &&
		memcmp(path + path_len - name_len, name, name_len) == 0;
	SourceFile *f = MemoryContextAllocZero(cxt, MAXALIGN(sizeof(SourceFile)) + path_len + 1 +
										   (tail ? 0 : name_len + 1));
	char	   *p = (char *) f + MAXALIGN(sizeof(SourceFile));

	f->kind = &source_directory;
	f->path = memcpy(p, path, path_len + 1);
	f->name = tail ? f->path + path_len - name_len : memcpy(p + path_len + 1, name, name_len + 1);
	return f;
}

/*
 * List dir (a real path below an allowed directory) into *files, and its
 * subdirectories.  shown is the directory as messages name it (the path
 * the caller gave, and the names below it), prefix its name relative to
 * the migration directory (NULL at the top).  The directory is opened
 * through safeopen.c, so a link put on its path meanwhile is refused, not
 * followed; entries are looked at through the open directory.  The files
 * are allocated in files_cxt.
 */
static void
list_dir_recurse(const char *dir, const char *shown, const char *prefix, int depth,
				 MemoryContext files_cxt, List **files)
{
	DIR		   *d;
	struct dirent *de;
	StringInfoData full_buf;	/* dir/<entry> */
	StringInfoData rel_buf;		/* prefix/<entry>, or <entry> */
	int			full_base;
	int			rel_base;

	if (depth > SOURCE_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("migration directory \"%s\" is nested too deeply", shown),
				 errdetail("Directories are read at most %d levels deep.", SOURCE_MAX_DEPTH)));

	full_base = start_entries(&full_buf, dir);
	rel_base = start_entries(&rel_buf, prefix);
	d = safe_open_dir(dir, shown);
	while ((de = safe_read_dir(d, shown)) != NULL)
	{
		const char *full;
		const char *rel;
		const char *path;		/* the entry's real path */
		char		real[PATH_MAX];
		struct stat st;
		bool		is_link = false;

		CHECK_FOR_INTERRUPTS();

		/* hidden entries (.git, .env) are never read */
		if (de->d_name[0] == '.')
			continue;
		check_name_encoding(shown, de->d_name);

		/* built in place: no allocation per entry but its SourceFile */
		path = full = set_entry(&full_buf, full_base, de->d_name);
		rel = set_entry(&rel_buf, rel_base, de->d_name);

		/*
		 * Every entry is looked at through the open directory, without
		 * following a link (one fstatat, no walk from "/"): its identity
		 * lets a run trust the checksum recorded when it was applied.
		 */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		{
			int			save_errno = errno;

			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", rel),
					 errhint_file_access(save_errno)));
		}

		if (S_ISLNK(st.st_mode))
		{
			const char *root;
			bool		show_real = superuser();

			is_link = true;

			if (realpath(full, real) == NULL)
			{
				int			save_errno = errno;

				/* a dangling link is no script; ignore it unless it looks like one */
				if (is_sql_name(de->d_name))
					ereport(ERROR,
							(errcode_for_file_access(),
							 errmsg("could not resolve symbolic link \"%s\": %m", rel),
							 errhint_file_access(save_errno)));
				continue;
			}
			root = path_allowed_root(real);
			if (root == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("migration file \"%s\" links outside the allowed directories", rel),
						 show_real ? errdetail("It resolves to \"%s\".", real) : 0,
						 errhint("A superuser can add that directory to migrate.allowed_dirs.")));
			if (path_is_hidden(real, root))
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("migration file \"%s\" links to a hidden file", rel),
						 show_real ?
						 errdetail("It resolves to \"%s\"; files and directories whose names start with \".\" are never read.", real) :
						 errdetail("Files and directories whose names start with \".\" are never read."),
						 errhint("Remove the link, or point it at a file whose path has no component starting with \".\".")));
			if (stat(real, &st) != 0)
			{
				int			save_errno = errno;

				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not stat file \"%s\": %m", rel),
						 errhint_file_access(save_errno)));
			}
			path = real;
		}

		if (S_ISDIR(st.st_mode))
			list_dir_recurse(pstrdup(path), psprintf("%s/%s", shown, de->d_name), pstrdup(rel),
							 depth + 1, files_cxt, files);
		else if (S_ISREG(st.st_mode))
		{
			SourceFile *f = new_listed_file(files_cxt, rel, rel_buf.len, path);

			f->dev = st.st_dev;
			f->ino = st.st_ino;
			/* a file reached through a link is hashed on every run */
			if (!is_link)
				source_identity(&f->listed, &st);
			*files = lappend(*files, f);
		}
		else if (is_sql_name(de->d_name))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("migration file \"%s\" is not a regular file", rel),
					 errhint("Migration scripts must be regular files.")));
	}
	safe_close_dir(d);
	pfree(full_buf.data);
	pfree(rel_buf.data);
}

/*
 * Every regular file below the directory dir (checked against the
 * allow-list here), in no particular order; *base is its real path.
 */
static List *
dir_list(const char *dir, char **base)
{
	List	   *files = NIL;
	MemoryContext files_cxt;

	*base = path_check_dir(dir);
	files_cxt = GenerationContextCreate(CurrentMemoryContext, "migrate listing",
										ALLOCSET_DEFAULT_SIZES);
	list_dir_recurse(*base, dir, NULL, 0, files_cxt, &files);
	return files;
}

/* one file given by its absolute path, checked against the allow-list */
static SourceFile *
dir_lookup(const char *path)
{
	SourceFile *f = palloc0(sizeof(SourceFile));
	struct stat st;

	f->kind = &source_directory;
	f->path = path_check_file(path, &st);
	f->name = pstrdup(path);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return f;
}

/*
 * Open a listed file for reading.  Its identity must be what was checked
 * when it was listed: device and inode.
 */
static void
dir_open(SourceHandle *h, const SourceFile *file)
{
	struct stat st;

	h->file = file;
	h->off = 0;
	/* walked from "/" without following a link: see safeopen.c */
	h->fd = safe_open_file(file->path, file->name, &st);
	source_identity(&h->opened, &st);
	if (st.st_dev != file->dev || st.st_ino != file->ino)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration file \"%s\" was replaced while it was being read", file->name),
				 errhint("Run the command again once the directory is no longer changing.")));

	/*
	 * The file is read up to the size it has now, which also spares the
	 * read that would only report its end.  A file that changes meanwhile
	 * no longer matches its checksum, and that is caught.
	 */
	h->left = st.st_size;
}

/* the next raw bytes of an open file */
static size_t
dir_read(SourceHandle *h, char *buf, size_t len)
{
	for (;;)
	{
		ssize_t		got;

		if (h->left <= 0)
			return 0;
		got = read(h->fd, buf, Min(len, (size_t) h->left));
		if (got < 0)
		{
			if (errno == EINTR)
			{
				CHECK_FOR_INTERRUPTS();
				continue;
			}
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read migration file \"%s\": %m", h->file->name)));
		}
		if (got == 0)
			h->left = 0;
		h->left -= got;
		return (size_t) got;
	}
}

/* close an open file */
static void
dir_close(SourceHandle *h)
{
	if (h->fd >= 0 && !safe_close_file(h->fd))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close migration file \"%s\": %m", h->file->name)));
	h->fd = -1;
}

/*
 * Before a run executes anything: can the server read this pending file?
 * A file is read only when it runs, so without this a file the server
 * cannot read would stop the run part-way, after the migrations before it.
 * access() resolves the path as the kernel does, which is enough for a
 * check: the file is still opened through safeopen.c when it runs.
 */
static void
dir_check_readable(const SourceFile *f)
{
	if (faccessat(AT_FDCWD, f->path, R_OK, AT_EACCESS) != 0)
	{
		int			save_errno = errno;

		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open migration file \"%s\": %m", f->name),
				 errhint_file_access(save_errno)));
	}
}

const SourceKind source_directory = {
	.name = "directory",
	.list = dir_list,
	.lookup = dir_lookup,
	.open = dir_open,
	.read = dir_read,
	.close = dir_close,
	.check_readable = dir_check_readable
};
