/*-------------------------------------------------------------------------
 *
 * reader.c
 *	  Reading a migration script: its text in chunks, normalized,
 *	  validated and checksummed on the way.
 *
 * A reader delivers a script's text in chunks of READER_CHUNK bytes,
 * normalized (BOM dropped, CRLF as LF) and validated against the server
 * encoding, while its checksum is computed; so a file of any size is read
 * in bounded memory.  The raw bytes come from the file's source
 * (source.h: a directory's file, opened through safeopen.c, or a staged
 * file's stored text), so nothing here or above needs to know where a
 * script came from.
 *
 * Sections: one file may hold several scripts (dbmate's "-- migrate:up"
 * and "-- migrate:down"); a reader of one section streams the file line
 * by line and delivers only that section's lines (see read_section).  And
 * reader_scan_lines lets the layouts look at every line of a file for
 * such markers without holding it.
 *
 * A reader may also replace Flyway's placeholders (reader_replace,
 * placeholders.c) in what it delivers: after the checksum, which stays
 * that of the text as written.
 *
 * This file knows nothing of layouts or SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "checksum.h"
#include "compat.h"
#include "placeholders.h"
#include "reader.h"
#include "source.h"

/* normalized text read ahead line by line (sections and line scans) */
typedef struct LineBuffer
{
	char		text[READER_CHUNK + READER_PEEK + 1];
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
	SourceHandle h;				/* the raw bytes, from the file's source */
	bool		open;			/* h is open */
	char		raw[READER_CHUNK];
	size_t		carry;			/* bytes held over at the start of raw */
	bool		eof;
	bool		first;			/* nothing read yet: look for a BOM */
	bool		pending_cr;
	int			line;			/* lines of the file normalized so far, for errors */
	ScriptDigest digest;
	LineBuffer *lines;			/* NULL unless read line by line */
	PlaceholderStream *replace; /* Flyway placeholders replaced, or NULL */
};

/*
 * Start reading file into r (everything but the raw buffer is set here).
 * The file's identity must be what was checked when it was listed.
 */
static void
reader_start(ScriptReader *r, const SourceFile *file)
{
	r->file = file;
	r->open = false;
	r->carry = 0;
	r->eof = false;
	r->first = true;
	r->pending_cr = false;
	r->line = 0;
	r->lines = NULL;
	r->replace = NULL;
	if (file->section)
	{
		r->lines = palloc0(sizeof(LineBuffer));
		r->lines->at_line_start = true;
	}
	digest_init(&r->digest);
	memset(&r->h.opened, 0, sizeof(r->h.opened));
	file->kind->open(&r->h, file);
	r->open = true;
}

/* open a script for reading; its identity must be what was checked */
ScriptReader *
reader_open(const SourceFile *file)
{
	/* not zeroed: raw is 64 kB, and reader_start sets everything else */
	ScriptReader *r = palloc(sizeof(ScriptReader));

	reader_start(r, file);
	return r;
}

/* a section of file: another script read from the same file */
SourceFile *
reader_section(const SourceFile *file, SectionMarker marker, int which)
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
 * Read the next chunk of the file's normalized text into out (READER_CHUNK
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

	while (!r->eof && len < READER_CHUNK)
	{
		size_t		got;

		CHECK_FOR_INTERRUPTS();
		got = r->file->kind->read(&r->h, r->raw + len, READER_CHUNK - len);
		if (got == 0)
			r->eof = true;
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
 * At the start of a line: make it visible up to its newline or READER_PEEK
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
		char	   *nl = memchr(lb->text + lb->pos, '\n', Min(avail, READER_PEEK));
		size_t		n;

		if (nl)
			return nl - (lb->text + lb->pos);
		if (avail >= READER_PEEK)
			return READER_PEEK;
		if (lb->done)
			return avail == 0 ? -1 : (ssize_t) avail;

		/* fewer than READER_PEEK bytes left: move them to the front, read on */
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
 * sees at most READER_PEEK bytes of a line, so a line of any length is
 * still read in bounded memory.
 */
static size_t
read_section(ScriptReader *r, char *out)
{
	LineBuffer *lb = r->lines;
	const SourceSection *sec = r->file->section;
	size_t		n = 0;

	while (n < READER_CHUNK && !lb->ended)
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
			size_t		k = Min((size_t) lb->pad, READER_CHUNK - n);

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
			run = Min(run, READER_CHUNK - n);
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

/* the next chunk of the script's text as written (checksummed on the way) */
static size_t
read_text(void *arg, char *out)
{
	ScriptReader *r = (ScriptReader *) arg;
	size_t		n;

	if (r->file->section)
		return read_section(r, out);
	n = read_normalized(r, out);
	digest_update(&r->digest, out, n);
	return n;
}

/*
 * Read the next chunk of the script's text into out (READER_CHUNK + 1
 * bytes): the whole file, or its section, with its placeholders replaced
 * if reader_replace asked for it.  Returns 0 at the end.
 */
size_t
reader_read(ScriptReader *r, char *out)
{
	if (r->replace)
		return placeholders_read(r->replace, out, read_text, r);
	return read_text(r, out);
}

/*
 * From now on, deliver the script (called name in messages) with Flyway's
 * placeholders replaced (placeholders.c).  The checksum stays that of the
 * text as written.
 */
void
reader_replace(ScriptReader *r, const struct Placeholders *ph, const char *name)
{
	r->replace = placeholders_stream(ph, name);
}

/* the line of a placeholder that had no value, or 0 */
int
reader_failed_line(ScriptReader *r)
{
	return r->replace ? placeholders_failed_line(r->replace) : 0;
}

/* end reading: close the file, finish the checksum (which frees its context) */
static void
reader_finish(ScriptReader *r, char *checksum)
{
	char		unused[MIGRATE_CHECKSUM_LEN];

	digest_final(&r->digest, checksum ? checksum : unused);
	if (r->open)
		r->file->kind->close(&r->h);
	r->open = false;
	if (r->lines)
		pfree(r->lines);
	r->lines = NULL;
}

/* the identity of the file when it was opened (unknown for a staged file) */
const FileIdentity *
reader_identity(ScriptReader *r)
{
	return &r->h.opened;
}

/* close a script; checksum (if not NULL) receives the checksum of what was read */
void
reader_close(ScriptReader *r, char *checksum)
{
	reader_finish(r, checksum);
	pfree(r);
}

/* the checksum and normalized size of a script, read in bounded memory */
void
reader_checksum(const SourceFile *file, char *checksum, int64 *size, FileIdentity *opened)
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
		buf = MemoryContextAlloc(TopMemoryContext, READER_CHUNK + 1);
		reader->open = false;
	}
	reader_start(reader, file);
	while (reader_read(reader, buf) > 0)
		;
	*size = reader->digest.size;
	if (opened)
		*opened = reader->h.opened;
	reader_finish(reader, checksum);
}

/* the whole normalized text of a (small) script */
char *
reader_read_all(const SourceFile *file, size_t *len, char *checksum)
{
	ScriptReader *r = reader_open(file);
	StringInfoData buf;
	size_t		n;

	initStringInfo(&buf);
	for (;;)
	{
		enlargeStringInfo(&buf, READER_CHUNK + 1);
		n = reader_read(r, buf.data + buf.len);
		if (n == 0)
			break;
		buf.len += n;
	}
	buf.data[buf.len] = '\0';
	*len = buf.len;
	reader_close(r, checksum);
	return buf.data;
}

/*
 * Call visit for every line of a whole file, in order, with its first
 * READER_PEEK bytes at most (no newline), until it returns false.  The
 * layouts use it to find section markers without holding the file.
 */
void
reader_scan_lines(const SourceFile *file, LineVisitor visit, void *arg)
{
	SourceFile	whole = *file;
	ScriptReader *r;
	LineBuffer *lb;
	int			lineno = 1;

	whole.section = NULL;
	r = reader_open(&whole);
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
	reader_close(r, NULL);
}
