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

/* one regular file below a migration directory */
typedef struct SourceFile
{
	char	   *name;			/* relative to the directory, '/'-separated */
	char	   *path;			/* absolute real path */
	dev_t		dev;			/* identity checked when opened; */
	ino_t		ino;			/* 0: taken when first opened */
} SourceFile;

/* size of one read from a script */
#define SOURCE_CHUNK (64 * 1024)

typedef struct ScriptReader ScriptReader;

extern List *source_list_dir(const char *dir);
extern SourceFile *source_file(const char *path);
extern ScriptReader *source_open(const SourceFile *file);
extern size_t source_read(ScriptReader *r, char *out);
extern void source_close(ScriptReader *r, char *checksum);
extern void source_checksum(const SourceFile *file, char *checksum, int64 *size);
extern char *source_read_all(const SourceFile *file, size_t *len, char *checksum);

#endif							/* MIGRATE_SOURCE_H */
