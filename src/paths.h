/*-------------------------------------------------------------------------
 *
 * paths.h
 *	  The allow-list of directories migration files may come from.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_PATHS_H
#define MIGRATE_PATHS_H

#include <sys/stat.h>

extern char *path_check_dir(const char *path);
extern char *path_check_file(const char *path, struct stat *st);
extern bool path_is_allowed(const char *realpath_);
extern const char *path_allowed_root(const char *realpath_);
extern bool path_is_hidden(const char *realpath_, const char *root);

#endif							/* MIGRATE_PATHS_H */
