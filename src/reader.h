/*-------------------------------------------------------------------------
 *
 * reader.h
 *	  Reading migration scripts: normalized, validated, checksummed
 *	  chunks, a whole file or one section of it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_READER_H
#define MIGRATE_READER_H

#include "lib/stringinfo.h"

#include "checksum.h"
#include "migrate.h"
#include "source.h"

/* size of one read from a script */
#define READER_CHUNK (64 * 1024)

/*
 * Sections: one file holding several scripts (dbmate's "-- migrate:up" and
 * "-- migrate:down", node-pg-migrate's "-- Up Migration" ...).  A marker
 * function looks at the start of a line (at most READER_PEEK bytes, without
 * its newline) and returns the number of the section that line opens, or 0.
 * Lines before the first marker are in section 0.
 */
typedef int (*SectionMarker) (const char *line, size_t len);

typedef struct SourceSection
{
	SectionMarker marker;
	int			which;			/* the section read: its marker line to the next marker */
} SourceSection;

/* bytes of a line a SectionMarker or a line scan sees */
#define READER_PEEK 256

/* called per line by reader_scan_lines; returns false to stop the scan */
typedef bool (*LineVisitor) (void *arg, int lineno, const char *line, size_t len);

typedef struct ScriptReader ScriptReader;

struct Placeholders;			/* placeholders.h */

extern ScriptReader *reader_open(const SourceFile *file);
extern size_t reader_read(ScriptReader *r, char *out);
extern void reader_close(ScriptReader *r, char *checksum);
extern void reader_checksum(const SourceFile *file, char *checksum, int64 *size,
							FileIdentity *opened);
extern const FileIdentity *reader_identity(ScriptReader *r);
extern char *reader_read_all(const SourceFile *file, size_t *len, char *checksum);
extern SourceFile *reader_section(const SourceFile *file, SectionMarker marker, int which);
extern void reader_scan_lines(const SourceFile *file, LineVisitor visit, void *arg);
extern void reader_replace(ScriptReader *r, const struct Placeholders *ph, const char *name);
extern int	reader_failed_line(ScriptReader *r);

#endif							/* MIGRATE_READER_H */
