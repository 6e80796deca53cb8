/*-------------------------------------------------------------------------
 *
 * placeholders.h
 *	  Flyway's placeholders: ${name} in a script replaced, as it is read,
 *	  by a value from the call, a setting or a Flyway config file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_PLACEHOLDERS_H
#define MIGRATE_PLACEHOLDERS_H

#include "fmgr.h"
#include "utils/jsonb.h"

#include "source.h"

/* what a call replaces, and with what (NULL: it replaces nothing) */
typedef struct Placeholders Placeholders;

/* one script's text being replaced as it streams (reader.c drives it) */
typedef struct PlaceholderStream PlaceholderStream;

/* reads the next chunk of text into buf (READER_CHUNK + 1 bytes); 0 at the end */
typedef size_t (*PlaceholderSource) (void *arg, char *buf);

extern Jsonb *placeholders_arg(FunctionCallInfo fcinfo, int n);
extern Jsonb *placeholders_copy(Jsonb *jb, MemoryContext cxt);
extern Placeholders *placeholders_for_dir(Jsonb *call, const char *layout, const char *dir,
										  const char *real_dir);
extern Placeholders *placeholders_for_file(Jsonb *call, const char *real_path);
extern void placeholders_check_file(const Placeholders *ph, const SourceFile *file,
									const char *name);

extern PlaceholderStream *placeholders_stream(const Placeholders *ph, const char *name);
extern size_t placeholders_read(PlaceholderStream *ps, char *buf,
								PlaceholderSource source, void *arg);
extern int	placeholders_failed_line(const PlaceholderStream *ps);

#endif							/* MIGRATE_PLACEHOLDERS_H */
