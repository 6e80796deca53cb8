/*-------------------------------------------------------------------------
 *
 * safeopen.h
 *	  Opening files and directories below an allowed directory without
 *	  following symbolic links or blocking on FIFOs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_SAFEOPEN_H
#define MIGRATE_SAFEOPEN_H

#include <dirent.h>
#include <sys/stat.h>

extern int	safe_open_file(const char *real, const char *shown, struct stat *st);
extern bool safe_close_file(int fd);
extern DIR *safe_open_dir(const char *real, const char *shown);
extern struct dirent *safe_read_dir(DIR *d, const char *shown);
extern void safe_close_dir(DIR *d);
extern int	errhint_file_access(int err);

#endif							/* MIGRATE_SAFEOPEN_H */
