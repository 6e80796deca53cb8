/*-------------------------------------------------------------------------
 *
 * source.c
 *	  Listing the files of a migration directory and reading them.
 *
 * Listing walks the directory recursively, in name order, and checks every
 * entry against the allow-list (paths.c): a symlink may point anywhere
 * inside the allowed tree but not out of it, and a script that is not a
 * regular file is refused.  Hidden entries (".git", ".env") are skipped,
 * and a name that is not valid in the server encoding is refused before
 * anything runs.
 *
 * Reading delivers a script's text in chunks of SOURCE_CHUNK bytes,
 * normalized (BOM dropped, CRLF as LF) and validated against the server
 * encoding, while its checksum is computed; so a file of any size is read
 * in bounded memory.  Directories and files are opened only through
 * safeopen.c (no symbolic link followed on the way, no FIFO waited for),
 * which the transaction closes if an error escapes, and each is opened and
 * closed within one transaction (a commit closes them too).
 *
 * A staged bundle is the second kind of source: a name without '/' given
 * where a directory is expected names the rows of migrate.staged with that
 * bundle name (staged.c loads them).  Its files are read through the same
 * reader, in the same normalized, checksummed chunks, from the text loaded
 * before the first commit of a run; so nothing above this file needs to
 * know where a script came from.  A staged file's path is
 * "<bundle>/<filename>": never absolute, so \i of a relative name inside a
 * staged script finds the staged file of that name.
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
#include "utils/memutils.h"

#include "checksum.h"
#include "compat.h"
#include "paths.h"
#include "safeopen.h"
#include "source.h"
#include "staged.h"

/* directories nested deeper than this are refused (symlink loops) */
#define SOURCE_MAX_DEPTH 32

/* normalized text read ahead line by line (sections and line scans) */
typedef struct LineBuffer
{
	char		text[SOURCE_CHUNK + SOURCE_PEEK + 1];
	size_t		len;
	size_t		pos;			/* next byte to look at */
	bool		done;			/* the file has no more text */
	bool		at_line_start;
	int			current;		/* section of the line at pos */
	bool		started;		/* the section read has begun */
	bool		ended;			/* ... and a later marker ended it */
	int64		pad;			/* skipped lines still to deliver as empty lines */
} LineBuffer;

struct ScriptReader
{
	const SourceFile *file;
	int			fd;				/* -1 for a staged file */
	size_t		text_off;		/* staged: bytes of text delivered */
	off_t		unread;			/* file: bytes left by the size fstat reported */
	char		raw[SOURCE_CHUNK];
	size_t		carry;			/* bytes held over at the start of raw */
	bool		eof;
	bool		first;			/* nothing read yet: look for a BOM */
	bool		pending_cr;
	int			line;			/* lines of the file normalized so far, for errors */
	ScriptDigest digest;
	LineBuffer *lines;			/* NULL unless read line by line */
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
 * List dir (a real path below an allowed directory) into *files, and its
 * subdirectories.  shown is the directory as messages name it (the path
 * the caller gave, and the names below it), prefix its name relative to
 * the migration directory (NULL at the top).  The directory is opened
 * through safeopen.c, so a link put on its path meanwhile is refused, not
 * followed; entries are looked at through the open directory.
 */
static void
list_dir_recurse(const char *dir, const char *shown, const char *prefix, int depth,
				 List **files)
{
	DIR		   *d;
	struct dirent *de;

	if (depth > SOURCE_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("migration directory \"%s\" is nested too deeply", shown),
				 errdetail("Directories are read at most %d levels deep.", SOURCE_MAX_DEPTH)));

	d = safe_open_dir(dir, shown);
	while ((de = safe_read_dir(d, shown)) != NULL)
	{
		char	   *full;
		char	   *rel;
		struct stat st;

		CHECK_FOR_INTERRUPTS();

		/* hidden entries (.git, .env) are never read */
		if (de->d_name[0] == '.')
			continue;
		check_name_encoding(shown, de->d_name);

		full = psprintf("%s/%s", dir, de->d_name);
		rel = prefix ? psprintf("%s/%s", prefix, de->d_name) : pstrdup(de->d_name);

		/*
		 * An entry the directory says is a regular file needs no lstat: it
		 * is identified when first opened, without following a link (see
		 * reader_start).  That saves a system call per file of every run.
		 */
		if (de->d_type == DT_REG)
		{
			SourceFile *f = palloc0(sizeof(SourceFile));

			f->name = rel;
			f->path = full;
			*files = lappend(*files, f);
			continue;
		}

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
			char		real[PATH_MAX];
			const char *root;
			bool		show_real = superuser();

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
			full = pstrdup(real);
		}

		if (S_ISDIR(st.st_mode))
			list_dir_recurse(full, psprintf("%s/%s", shown, de->d_name), rel, depth + 1, files);
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
	safe_close_dir(d);
}

/*
 * Every regular file below dir (already checked by path_check_dir), sorted
 * by relative name.  shown is the directory as the caller gave it.
 */
List *
source_list_dir(const char *dir, const char *shown)
{
	List	   *files = NIL;

	list_dir_recurse(dir, shown, NULL, 0, &files);
	list_sort(files, compare_source_files);
	return files;
}

/* is dir the name of a staged bundle rather than a directory? (no '/') */
bool
source_is_bundle(const char *dir)
{
	return strchr(dir, '/') == NULL;
}

/*
 * Every script of a migration directory (checked against the allow-list)
 * or of a staged bundle, sorted by relative name.  *base receives what
 * relative includes are resolved against: the directory's real path, or
 * the bundle name.
 */
List *
source_list(const char *dir, char **base)
{
	List	   *files;

	if (source_is_bundle(dir))
	{
		*base = pstrdup(dir);
		files = staged_list_bundle(dir);
	}
	else
	{
		*base = path_check_dir(dir);
		files = source_list_dir(*base, dir);
	}
	list_sort(files, compare_source_files);
	return files;
}

/*
 * One file given by its path, checked against the allow-list; a path that
 * is not absolute is "<bundle>/<filename>" of a staged file.
 */
SourceFile *
source_file(const char *path)
{
	SourceFile *f;
	struct stat st;

	if (!is_absolute_path(path))
		return staged_file_by_path(path);

	f = palloc0(sizeof(SourceFile));
	f->path = path_check_file(path, &st);
	f->name = pstrdup(path);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return f;
}

/*
 * Start reading file into r (everything but the raw buffer is set here).
 * The file's identity must be what was checked when it was listed.
 */
static void
reader_start(ScriptReader *r, const SourceFile *file)
{
	struct stat st;

	r->file = file;
	r->fd = -1;
	r->text_off = 0;
	r->unread = 0;
	r->carry = 0;
	r->eof = false;
	r->first = true;
	r->pending_cr = false;
	r->line = 0;
	r->lines = NULL;
	if (file->section)
	{
		r->lines = palloc0(sizeof(LineBuffer));
		r->lines->at_line_start = true;
	}
	digest_init(&r->digest);
	if (file->text)
		return;
	/* walked from "/" without following a link: see safeopen.c */
	r->fd = safe_open_file(file->path, file->name, &st);
	if (file->ino == 0)
	{
		/* identified now: every later open must find this very file */
		((SourceFile *) file)->dev = st.st_dev;
		((SourceFile *) file)->ino = st.st_ino;
	}
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
	r->unread = st.st_size;
}

/* open a script for reading; its identity must be what was checked */
ScriptReader *
source_open(const SourceFile *file)
{
	/* not zeroed: raw is 64 kB, and reader_start sets everything else */
	ScriptReader *r = palloc(sizeof(ScriptReader));

	reader_start(r, file);
	return r;
}

/* a section of file: another script read from the same file */
SourceFile *
source_section(const SourceFile *file, SectionMarker marker, int which)
{
	SourceFile *f = palloc(sizeof(SourceFile));
	SourceSection *sec = palloc(sizeof(SourceSection));

	*f = *file;
	sec->marker = marker;
	sec->which = which;
	f->section = sec;
	return f;
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
		unsigned char c = (unsigned char) buf[i];
		int			l;

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
 * Read the next chunk of the file's normalized text into out (SOURCE_CHUNK
 * + 1 bytes).  Returns 0 at the end of the file.
 */
static size_t
read_normalized(ScriptReader *r, char *out)
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
		if (r->fd < 0)
		{
			/* staged: the next piece of the stored text */
			got = Min(SOURCE_CHUNK - len, r->file->text_len - r->text_off);
			memcpy(r->raw + len, r->file->text + r->text_off, got);
			r->text_off += got;
		}
		else if (r->unread <= 0)
			got = 0;
		else
			got = read(r->fd, r->raw + len, Min(SOURCE_CHUNK - len, (size_t) r->unread));
		if (got < 0)
		{
			if (errno == EINTR)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read migration file \"%s\": %m", r->file->name)));
		}
		if (got == 0)
			r->eof = true;
		else if (r->fd >= 0)
			r->unread -= got;
		len += got;
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
	r->line = line_at(out, n, r->line) - 1;

	/* keep what could not be decided yet for the next call */
	r->carry = len - usable;
	memmove(r->raw, r->raw + usable, r->carry);

	if (n == 0 && !(r->eof && r->carry == 0 && !r->pending_cr))
		return read_normalized(r, out);
	return n;
}

/* read more text into an empty line buffer; false at the end of the file */
static bool
lines_refill(ScriptReader *r)
{
	LineBuffer *lb = r->lines;

	if (lb->done)
		return false;
	lb->pos = 0;
	lb->len = read_normalized(r, lb->text);
	if (lb->len == 0)
		lb->done = true;
	return lb->len > 0;
}

/*
 * At the start of a line: make it visible up to its newline or SOURCE_PEEK
 * bytes, whichever comes first.  Returns the visible length (without the
 * newline), or -1 at the end of the file.
 */
static ssize_t
peek_line(ScriptReader *r)
{
	LineBuffer *lb = r->lines;

	for (;;)
	{
		size_t		avail = lb->len - lb->pos;
		char	   *nl = memchr(lb->text + lb->pos, '\n', Min(avail, SOURCE_PEEK));
		size_t		n;

		if (nl)
			return nl - (lb->text + lb->pos);
		if (avail >= SOURCE_PEEK)
			return SOURCE_PEEK;
		if (lb->done)
			return avail == 0 ? -1 : (ssize_t) avail;

		/* fewer than SOURCE_PEEK bytes left: move them to the front, read on */
		memmove(lb->text, lb->text + lb->pos, avail);
		lb->len = avail;
		lb->pos = 0;
		n = read_normalized(r, lb->text + lb->len);
		if (n == 0)
			lb->done = true;
		lb->len += n;
	}
}

/*
 * The next chunk of a script that is one section of a file
 * (SourceFile.section, see layout_sections.c).  The file is still
 * streamed, line by line, and only the lines of that section are
 * delivered, from its marker line up to the next marker.  The lines before
 * the section are delivered as empty lines, so that the splitter's line
 * numbers (and every error message) are those of the file; the checksum
 * covers the section's own lines only, so editing the down section of a
 * file does not change the checksum of its up section.  A marker function
 * sees at most SOURCE_PEEK bytes of a line, so a line of any length is
 * still read in bounded memory.
 */
static size_t
read_section(ScriptReader *r, char *out)
{
	LineBuffer *lb = r->lines;
	const SourceSection *sec = r->file->section;
	size_t		n = 0;

	while (n < SOURCE_CHUNK && !lb->ended)
	{
		char	   *p;
		char	   *nl;
		size_t		run;
		bool		mine;

		if (lb->at_line_start)
		{
			ssize_t		vis = peek_line(r);
			int			m;

			if (vis < 0)
				break;
			m = sec->marker(lb->text + lb->pos, vis);
			if (m != 0 && m != lb->current)
			{
				if (lb->started)
				{
					/* the next section begins: this one is complete */
					lb->ended = true;
					break;
				}
				lb->current = m;
			}
			lb->at_line_start = false;
			if (lb->current == sec->which)
				lb->started = true;
		}
		mine = lb->current == sec->which;

		if (mine && lb->pad > 0)
		{
			size_t		k = Min((size_t) lb->pad, SOURCE_CHUNK - n);

			memset(out + n, '\n', k);
			n += k;
			lb->pad -= k;
			continue;
		}
		if (lb->pos == lb->len && !lines_refill(r))
			break;

		p = lb->text + lb->pos;
		nl = memchr(p, '\n', lb->len - lb->pos);
		run = nl ? (size_t) (nl - p) + 1 : lb->len - lb->pos;
		if (mine)
		{
			run = Min(run, SOURCE_CHUNK - n);
			memcpy(out + n, p, run);
			digest_update(&r->digest, p, run);
			n += run;
		}
		else if (nl)
			lb->pad++;
		lb->pos += run;
		if (nl && p + run == nl + 1)
			lb->at_line_start = true;
	}
	return n;
}

/*
 * Read the next chunk of the script's text into out (SOURCE_CHUNK + 1
 * bytes): the whole file, or its section.  Returns 0 at the end.
 */
size_t
source_read(ScriptReader *r, char *out)
{
	size_t		n;

	if (r->file->section)
		return read_section(r, out);
	n = read_normalized(r, out);
	digest_update(&r->digest, out, n);
	return n;
}

/* end reading: close the file, finish the checksum (which frees its context) */
static void
reader_finish(ScriptReader *r, char *checksum)
{
	char		unused[MIGRATE_CHECKSUM_LEN];

	digest_final(&r->digest, checksum ? checksum : unused);
	if (r->fd >= 0 && !safe_close_file(r->fd))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close migration file \"%s\": %m", r->file->name)));
	r->fd = -1;
	if (r->lines)
		pfree(r->lines);
	r->lines = NULL;
}

/* close a script; checksum (if not NULL) receives the checksum of what was read */
void
source_close(ScriptReader *r, char *checksum)
{
	reader_finish(r, checksum);
	pfree(r);
}

/* the checksum and normalized size of a script, read in bounded memory */
void
source_checksum(const SourceFile *file, char *checksum, int64 *size)
{
	/*
	 * Every file of a directory is checksummed before each run: one reader
	 * and one buffer serve them all, instead of 128 kB allocated (and
	 * faulted in) per file.
	 */
	static ScriptReader *reader = NULL;
	static char *buf = NULL;

	if (reader == NULL)
	{
		reader = MemoryContextAlloc(TopMemoryContext, sizeof(ScriptReader));
		buf = MemoryContextAlloc(TopMemoryContext, SOURCE_CHUNK + 1);
		reader->fd = -1;
	}
	reader_start(reader, file);
	while (source_read(reader, buf) > 0)
		;
	*size = reader->digest.size;
	reader_finish(reader, checksum);
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

/*
 * Call visit for every line of a whole file, in order, with its first
 * SOURCE_PEEK bytes at most (no newline), until it returns false.  The
 * layouts use it to find section markers without holding the file.
 */
void
source_scan_lines(const SourceFile *file, LineVisitor visit, void *arg)
{
	SourceFile	whole = *file;
	ScriptReader *r;
	LineBuffer *lb;
	int			lineno = 1;

	whole.section = NULL;
	r = source_open(&whole);
	r->lines = lb = palloc0(sizeof(LineBuffer));
	for (;;)
	{
		ssize_t		vis = peek_line(r);

		CHECK_FOR_INTERRUPTS();
		if (vis < 0 || !visit(arg, lineno, lb->text + lb->pos, vis))
			break;
		/* skip to the next line, however long this one is */
		for (;;)
		{
			char	   *nl = memchr(lb->text + lb->pos, '\n', lb->len - lb->pos);

			if (nl)
			{
				lb->pos = nl - lb->text + 1;
				lineno++;
				break;
			}
			lb->pos = lb->len;
			if (!lines_refill(r))
				break;
		}
	}
	source_close(r, NULL);
}
