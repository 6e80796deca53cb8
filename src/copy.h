/*-------------------------------------------------------------------------
 *
 * copy.h
 *	  COPY ... FROM STDIN with its data inline in a migration script.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_COPY_H
#define MIGRATE_COPY_H

#include "splitter.h"

extern uint64 copy_from_script(const char *sql, Splitter *sp, int *error_line);
extern int	copy_current_line(void);

#endif							/* MIGRATE_COPY_H */
