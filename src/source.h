/*-------------------------------------------------------------------------
 *
 * source.h
 *	  Where migration scripts come from: a directory (source_dir.c) or a
 *	  staged bundle (staged.c), behind one small interface.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SOURCE_H
#define MIGRATE_SOURCE_H

#include <sys/stat.h>
#include <sys/types.h>

#include "migrate.h"

extern void source_identity(FileIdentity *id, const struct stat *st);
extern bool source_identity_equal(const FileIdentity *a, const FileIdentity *b);

/*
 * One script: a regular file below a migration directory, or a file of a
 * staged bundle (a row of migrate.staged).  A staged file has text set;
 * its path is "<bundle>/<filename>", which is never absolute, so the two
 * kinds cannot be confused.
 */
typedef struct SourceFile
{
	const struct SourceKind *kind;	/* directory or bundle */
	const struct SourceSection *section;	/* one section of the file; NULL: all */
	char	   *name;			/* relative to the directory, '/'-separated */
	char	   *path;			/* absolute real path, or bundle/filename */
	dev_t		dev;			/* identity checked when opened; */
	ino_t		ino;			/* 0: not known yet, taken at the first open */
	const char *text;			/* staged: the script as stored; NULL for a file */
	size_t		text_len;
	Oid			owner;			/* staged: the bundle's owner (staged.c); else 0 */
	const char *stored_checksum;	/* staged: the checksum stage recorded */
	FileIdentity listed;		/* directory: its identity when listed */
} SourceFile;

/* the raw bytes of one file being read (reader.c reads through it) */
typedef struct SourceHandle
{
	const SourceFile *file;
	int			fd;				/* directory: the open file; else -1 */
	size_t		off;			/* bundle: bytes of text delivered */
	int64		left;			/* bytes still to read */
	FileIdentity opened;		/* directory: its identity when opened */
} SourceHandle;

/* a kind of source: what a directory and a staged bundle each implement */
typedef struct SourceKind
{
	const char *name;			/* "directory", "staged bundle" */

	/* every file of where, sorted or not; *base: what \i resolves against */
	List	   *(*list) (const char *where, char **base);

	/* one file by path, as an \i or migrate.run names it */
	SourceFile *(*lookup) (const char *path);

	/* start reading f's raw bytes into h (its identity checked) */
	void		(*open) (SourceHandle *h, const SourceFile *f);

	/* up to len more raw bytes into buf; 0 at the end */
	size_t		(*read) (SourceHandle *h, char *buf, size_t len);

	/* stop reading */
	void		(*close) (SourceHandle *h);

	/* can f be read?  An error like open's if not (checked before a run) */
	void		(*check_readable) (const SourceFile *f);
} SourceKind;

extern const SourceKind source_directory;	/* source_dir.c */
extern const SourceKind source_bundle;	/* staged.c */

extern List *source_list(const char *dir, char **base);
extern bool source_is_bundle(const char *dir);
extern SourceFile *source_file(const char *path);
extern void source_check_readable(List *scripts);

#endif							/* MIGRATE_SOURCE_H */
