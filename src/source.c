/*-------------------------------------------------------------------------
 *
 * source.c
 *	  Listing the files of a migration directory and reading them.
 *
 * Listing walks the directory recursively, in name order, and checks every
 * entry against the allow-list (paths.c): a symlink may point anywhere
 * inside the allowed tree but not out of it, and a script that is not a
 * regular file is refused.  Hidden entries (".git", ".keep") are skipped.
 *
 * Reading delivers a script's text in chunks of SOURCE_CHUNK bytes,
 * normalized (BOM dropped, CRLF as LF) and validated against the server
 * encoding, while its checksum is computed; so a file of any size is read
 * in bounded memory.  Files are opened with OpenTransientFile, which the
 * transaction closes if an error escapes, and each is opened and closed
 * within one transaction (a commit closes them too).
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

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "checksum.h"
#include "compat.h"
#include "paths.h"
#include "source.h"

/* does readdir() tell the type of an entry? (as in core's file_utils.c) */
#if defined(DT_UNKNOWN) && defined(DT_REG) && defined(DT_DIR) && defined(DT_LNK)
#define SOURCE_HAVE_D_TYPE 1
#endif

/* directories nested deeper than this are refused (symlink loops) */
#define SOURCE_MAX_DEPTH 32

struct ScriptReader
{
	const SourceFile *file;
	int			fd;
	char		raw[SOURCE_CHUNK];
	size_t		carry;			/* bytes held over at the start of raw */
	bool		eof;
	bool		first;			/* nothing read yet: look for a BOM */
	bool		pending_cr;
	off_t		unread;			/* bytes left by the size fstat reported */
	int			line;			/* lines delivered so far, for errors */
	ScriptDigest digest;
};

static int
compare_source_files(const ListCell *a, const ListCell *b)
{
	const SourceFile *fa = (const SourceFile *) lfirst(a);
	const SourceFile *fb = (const SourceFile *) lfirst(b);

	return strcmp(fa->name, fb->name);
}

/* true for names a migration could be: every name ending in .sql */
static bool
is_sql_name(const char *name)
{
	size_t		len = strlen(name);

	return len >= 4 && pg_strcasecmp(name + len - 4, ".sql") == 0;
}

static void
list_dir_recurse(const char *dir, const char *prefix, int depth, List **files)
{
	DIR		   *d;
	struct dirent *de;

	if (depth > SOURCE_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("migration directory \"%s\" is nested too deeply", dir),
				 errdetail("Directories are read at most %d levels deep.", SOURCE_MAX_DEPTH)));

	d = AllocateDir(dir);
	while ((de = ReadDir(d, dir)) != NULL)
	{
		char	   *full;
		char	   *rel;
		struct stat st;

		CHECK_FOR_INTERRUPTS();

		if (de->d_name[0] == '.')
			continue;

		full = psprintf("%s/%s", dir, de->d_name);
		rel = prefix ? psprintf("%s/%s", prefix, de->d_name) : pstrdup(de->d_name);

#ifdef SOURCE_HAVE_D_TYPE

		/*
		 * A regular file right in the directory that was checked: the
		 * directory entry says what it is, and it is identified when it is
		 * first opened (with O_NOFOLLOW, so a symbolic link put in its place
		 * meanwhile is refused) rather than by an lstat() here, which every
		 * run would pay for every file.  Below a subdirectory, a component
		 * of the path could be swapped for a link between listing and
		 * opening, so files there are identified now.
		 */
		if (depth == 0 && de->d_type == DT_REG)
		{
			SourceFile *f = palloc0(sizeof(SourceFile));

			f->name = rel;
			f->path = full;
			*files = lappend(*files, f);
			continue;
		}
#endif

		if (lstat(full, &st) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", full)));

		if (S_ISLNK(st.st_mode))
		{
			char		real[PATH_MAX];

			if (realpath(full, real) == NULL)
			{
				/* a dangling link is no script; ignore it unless it looks like one */
				if (is_sql_name(de->d_name))
					ereport(ERROR,
							(errcode_for_file_access(),
							 errmsg("could not resolve symbolic link \"%s\": %m", full)));
				continue;
			}
			if (!path_is_allowed(real))
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("migration file \"%s\" links outside the allowed directories", rel),
						 errdetail("It resolves to \"%s\".", real),
						 errhint("A superuser can add that directory to migrate.allowed_dirs.")));
			if (stat(real, &st) != 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not stat file \"%s\": %m", real)));
			full = pstrdup(real);
		}

		if (S_ISDIR(st.st_mode))
			list_dir_recurse(full, rel, depth + 1, files);
		else if (S_ISREG(st.st_mode))
		{
			SourceFile *f = palloc0(sizeof(SourceFile));

			f->name = rel;
			f->path = full;
			f->dev = st.st_dev;
			f->ino = st.st_ino;
			*files = lappend(*files, f);
		}
		else if (is_sql_name(de->d_name))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("migration file \"%s\" is not a regular file", rel),
					 errhint("Migration scripts must be regular files.")));
	}
	FreeDir(d);
}

/*
 * Every regular file below dir (already checked by path_check_dir), sorted
 * by relative name.
 */
List *
source_list_dir(const char *dir)
{
	List	   *files = NIL;

	list_dir_recurse(dir, NULL, 0, &files);
	list_sort(files, compare_source_files);
	return files;
}

/* one file given by its path, checked against the allow-list */
SourceFile *
source_file(const char *path)
{
	SourceFile *f = palloc0(sizeof(SourceFile));
	struct stat st;

	f->path = path_check_file(path, &st);
	f->name = pstrdup(path);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return f;
}

/*
 * Open file into r, whose fields are all set here: the raw buffer (64 kB)
 * is not cleared, since only what read() filled is ever looked at.  Its
 * identity must be what was checked.
 */
static void
reader_open(ScriptReader *r, const SourceFile *file)
{
	struct stat st;
	bool		identify = file->ino == 0;

	r->file = file;
	r->fd = -1;
	r->carry = 0;
	r->eof = false;
	r->first = true;
	r->pending_cr = false;
	r->line = 0;
	r->fd = OpenTransientFile(file->path, O_RDONLY | PG_BINARY | (identify ? O_NOFOLLOW : 0));
	if (r->fd < 0 && identify && errno == ELOOP)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration file \"%s\" was replaced while it was being read", file->name),
				 errdetail("It is now a symbolic link."),
				 errhint("Run the command again once the directory is no longer changing.")));
	if (r->fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open migration file \"%s\": %m", file->name)));
	if (fstat(r->fd, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat migration file \"%s\": %m", file->name)));
	if (!S_ISREG(st.st_mode) ||
		(!identify && (st.st_dev != file->dev || st.st_ino != file->ino)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration file \"%s\" was replaced while it was being read", file->name),
				 errhint("Run the command again once the directory is no longer changing.")));
	if (identify)
	{
		/* identified now (see list_dir_recurse): later opens must find this file */
		((SourceFile *) file)->dev = st.st_dev;
		((SourceFile *) file)->ino = st.st_ino;
	}
	r->unread = st.st_size;
	digest_init(&r->digest);
}

/* open a script for reading */
ScriptReader *
source_open(const SourceFile *file)
{
	ScriptReader *r = palloc(sizeof(ScriptReader));

	reader_open(r, file);
	return r;
}

/* line (1-based) of offset off in buf, given lines before buf */
static int
line_at(const char *buf, size_t off, int lines_before)
{
	int			line = lines_before + 1;
	size_t		i;

	for (i = 0; i < off; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

/*
 * Length of the longest prefix of buf that is valid in the server encoding
 * and holds no NUL byte.  *bad is set when the first invalid sequence is
 * complete (not just cut off at the end of buf).
 */
static size_t
valid_prefix(const char *buf, size_t len, bool *bad)
{
	int			enc = GetDatabaseEncoding();
	size_t		i = 0;

	*bad = false;
	while (i < len)
	{
		unsigned char c;
		int			l;

		/*
		 * Most scripts are ASCII: skip 8 bytes at a time while none has its
		 * high bit set and none is NUL (the classic has-zero-byte test).
		 */
		while (len - i >= sizeof(uint64))
		{
			uint64		w;

			memcpy(&w, buf + i, sizeof(w));
			if (((w | ((w - UINT64CONST(0x0101010101010101)) & ~w)) &
				 UINT64CONST(0x8080808080808080)) != 0)
				break;
			i += sizeof(w);
		}
		if (i >= len)
			break;

		c = (unsigned char) buf[i];
		if (!IS_HIGHBIT_SET(c))
		{
			if (c == '\0')
			{
				*bad = true;
				return i;
			}
			i++;
			continue;
		}
		if (enc == PG_SQL_ASCII)
		{
			i++;
			continue;
		}
		if ((size_t) pg_encoding_mblen(enc, buf + i) > len - i)
			return i;			/* cut off: decided with more bytes */
		l = pg_encoding_verifymbchar(enc, buf + i, len - i);
		if (l < 0)
		{
			*bad = true;
			return i;
		}
		i += l;
	}
	return len;
}

/*
 * Read the next chunk of normalized text into out (SOURCE_CHUNK + 1
 * bytes).  Returns 0 at the end of the script.
 */
size_t
source_read(ScriptReader *r, char *out)
{
	size_t		len = r->carry;
	size_t		start = 0;
	size_t		usable;
	size_t		n;
	bool		bad;

	while (!r->eof && len < SOURCE_CHUNK)
	{
		ssize_t		got;

		CHECK_FOR_INTERRUPTS();
		got = read(r->fd, r->raw + len, SOURCE_CHUNK - len);
		if (got < 0)
		{
			if (errno == EINTR)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read migration file \"%s\": %m", r->file->name)));
		}
		len += got;
		r->unread -= got;

		/*
		 * End of file at a read of 0 bytes, or at a short read that ends
		 * exactly at the size fstat reported: that saves a read() per file.
		 * A size that does not match (a file growing, a file system that
		 * reports no size) falls back to reading until 0.
		 */
		if (got == 0 || (r->unread == 0 && len < SOURCE_CHUNK))
			r->eof = true;
	}

	if (r->first)
	{
		r->first = false;
		if (len >= 3 && memcmp(r->raw, "\xef\xbb\xbf", 3) == 0)
			start = 3;
	}

	usable = start + valid_prefix(r->raw + start, len - start, &bad);
	if (bad || (r->eof && usable < len))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid byte sequence for encoding \"%s\": 0x%02x",
						GetDatabaseEncodingName(), (unsigned char) r->raw[usable]),
				 errdetail("In migration file \"%s\", line %d.", r->file->name,
						   line_at(r->raw + start, usable - start, r->line)),
				 errhint("Migration files are read in the server encoding; convert the file.")));

	n = normalize_line_endings(r->raw + start, usable - start, out,
							   &r->pending_cr, r->eof && usable == len);
	/* lines so far are needed only for an error in a later chunk */
	if (!(r->eof && usable == len))
		r->line = line_at(out, n, r->line) - 1;

	/* keep what could not be decided yet for the next call */
	r->carry = len - usable;
	memmove(r->raw, r->raw + usable, r->carry);

	digest_update(&r->digest, out, n);
	if (n == 0 && !(r->eof && r->carry == 0 && !r->pending_cr))
		return source_read(r, out);
	return n;
}

/* close the file of r; checksum (if not NULL) receives the checksum of what was read */
static void
reader_close(ScriptReader *r, char *checksum)
{
	if (checksum)
		digest_final(&r->digest, checksum);
	if (CloseTransientFile(r->fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close migration file \"%s\": %m", r->file->name)));
}

/* close a script; checksum (if not NULL) receives the checksum of what was read */
void
source_close(ScriptReader *r, char *checksum)
{
	reader_close(r, checksum);
	pfree(r);
}

/*
 * The checksum and normalized size of a script, read in bounded memory.
 * Every run checksums every file, most of them a few hundred bytes: the
 * reader and its output buffer (64 kB each) are allocated once per
 * backend and reused, instead of being allocated, freed and faulted in
 * again for each file.  Not reentrant (nothing here calls back out).
 */
void
source_checksum(const SourceFile *file, char *checksum, int64 *size)
{
	static ScriptReader *r = NULL;
	static char *buf = NULL;

	if (r == NULL)
	{
		r = MemoryContextAlloc(TopMemoryContext, sizeof(ScriptReader));
		buf = MemoryContextAlloc(TopMemoryContext, SOURCE_CHUNK + 1);
	}
	reader_open(r, file);
	while (source_read(r, buf) > 0)
		;
	*size = r->digest.size;
	reader_close(r, checksum);
}

/* the whole normalized text of a (small) script */
char *
source_read_all(const SourceFile *file, size_t *len, char *checksum)
{
	ScriptReader *r = source_open(file);
	StringInfoData buf;
	size_t		n;

	initStringInfo(&buf);
	for (;;)
	{
		enlargeStringInfo(&buf, SOURCE_CHUNK + 1);
		n = source_read(r, buf.data + buf.len);
		if (n == 0)
			break;
		buf.len += n;
	}
	buf.data[buf.len] = '\0';
	*len = buf.len;
	source_close(r, checksum);
	return buf.data;
}
