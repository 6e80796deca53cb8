/*-------------------------------------------------------------------------
 *
 * lock.h
 *	  The runner lock: one migrate run per track and database at a time.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LOCK_H
#define MIGRATE_LOCK_H

/* first key of the advisory lock, as pg_locks.classid shows it ("migr") */
#define MIGRATE_LOCK_CLASSID 0x6d696772

extern bool runner_lock_acquire(const char *track, bool can_commit);
extern void runner_lock_release(const char *track, bool session);

#endif							/* MIGRATE_LOCK_H */
