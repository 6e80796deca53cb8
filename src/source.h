/*-------------------------------------------------------------------------
 *
 * source.h
 *	  Listing and reading migration scripts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SOURCE_H
#define MIGRATE_SOURCE_H

#include <sys/types.h>

#include "lib/stringinfo.h"

#include "checksum.h"
#include "migrate.h"

/*
 * One script: a regular file below a migration directory, or a file of a
 * staged bundle (a row of migrate.staged, see staged.c).  A staged file
 * has text set; its path is "<bundle>/<filename>", which is never
 * absolute, so the two kinds cannot be confused.
 */
typedef struct SourceFile
{
	const struct SourceSection *section;	/* one section of the file; NULL: all */
	char	   *name;			/* relative to the directory, '/'-separated */
	char	   *path;			/* absolute real path, or bundle/filename */
	dev_t		dev;			/* identity checked when opened; */
	ino_t		ino;			/* 0: not known yet, taken at the first open */
	const char *text;			/* staged: the script as stored; NULL for a file */
	size_t		text_len;
	Oid			owner;			/* staged: the bundle's owner (staged.c); else 0 */
	int			split;			/* the splitter's dialect for it: SPLIT_* of
								 * splitter.h, set by its layout; 0 is psql's */
} SourceFile;

/* size of one read from a script */
#define SOURCE_CHUNK (64 * 1024)

/*
 * Sections: one file holding several scripts (dbmate's "-- migrate:up" and
 * "-- migrate:down", node-pg-migrate's "-- Up Migration" ...).  A marker
 * function looks at the start of a line (at most SOURCE_PEEK bytes, without
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
#define SOURCE_PEEK 256

/* called per line by source_scan_lines; returns false to stop the scan */
typedef bool (*LineVisitor) (void *arg, int lineno, const char *line, size_t len);

typedef struct ScriptReader ScriptReader;

extern List *source_list(const char *dir, char **base);
extern bool source_is_bundle(const char *dir);
extern List *source_list_dir(const char *dir, const char *shown);
extern SourceFile *source_file(const char *path);
extern ScriptReader *source_open(const SourceFile *file);
extern size_t source_read(ScriptReader *r, char *out);
extern void source_close(ScriptReader *r, char *checksum);
extern void source_checksum(const SourceFile *file, char *checksum, int64 *size);
extern char *source_read_all(const SourceFile *file, size_t *len, char *checksum);
extern SourceFile *source_section(const SourceFile *file, SectionMarker marker, int which);
extern void source_scan_lines(const SourceFile *file, LineVisitor visit, void *arg);

#endif							/* MIGRATE_SOURCE_H */
