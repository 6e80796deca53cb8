/*-------------------------------------------------------------------------
 *
 * lock.c
 *	  The runner lock: a session-level advisory lock per track.
 *
 * The lock is the one pg_advisory_lock(int4, int4) would take, with keys
 * (MIGRATE_LOCK_CLASSID, hash of the track name), so it shows in pg_locks
 * as an advisory lock with that classid.  It is held at session level:
 * it survives the commits between migrations, and is released by the
 * caller (in PG_FINALLY) or by the end of the session.
 *
 * A call that cannot commit (in a transaction block, or from a function)
 * takes the same lock at transaction level instead: its migrations are not
 * committed when it returns, so the lock must last until the caller's
 * transaction ends, or a second runner could read the history before that
 * commit and apply the same migrations again.  Several such calls in one
 * transaction share the lock.  What is refused is a migration calling
 * migrate on the track that is running it, found from the list of runs in
 * progress in this backend.
 *
 * Waiting: a runner that waits inside a transaction holding a snapshot
 * would make every CREATE INDEX CONCURRENTLY in the database wait for it
 * (the deadlock other tools hit when two runners meet).  So a runner that
 * may commit first commits, then polls with a non-blocking acquire,
 * sleeping on its latch in between; it never sits in a blocking lock wait
 * and holds no snapshot while it waits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "lock.h"
#include "migrate.h"

/* how often a waiting runner tries again */
#define LOCK_POLL_MS 20

/* tracks with a run in progress in this backend (TopMemoryContext) */
static List *active_tracks = NIL;

static bool
track_is_active(const char *track)
{
	ListCell   *lc;

	foreach(lc, active_tracks)
		if (strcmp((char *) lfirst(lc), track) == 0)
			return true;
	return false;
}

static void
runner_locktag(LOCKTAG *tag, const char *track)
{
	uint32		key = hash_bytes((const unsigned char *) track, strlen(track));

	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, MIGRATE_LOCK_CLASSID, key, 2);
}

/* pid of the session holding the runner lock of track, or 0 */
static int
runner_lock_holder(const char *track)
{
	Oid			argtypes[2] = {OIDOID, OIDOID};
	Datum		args[2];
	int			pid = 0;
	int			ret;

	args[0] = ObjectIdGetDatum(MIGRATE_LOCK_CLASSID);
	args[1] = ObjectIdGetDatum(hash_bytes((const unsigned char *) track, strlen(track)));
	ret = SPI_execute_with_args("SELECT pid FROM pg_catalog.pg_locks "
								"WHERE locktype OPERATOR(pg_catalog.=) 'advisory' "
								"AND database OPERATOR(pg_catalog.=) "
								"(SELECT oid FROM pg_catalog.pg_database "
								" WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database()) "
								"AND classid OPERATOR(pg_catalog.=) $1 "
								"AND objid OPERATOR(pg_catalog.=) $2 "
								"AND objsubid OPERATOR(pg_catalog.=) 2 AND granted LIMIT 1",
								2, argtypes, args, NULL, true, 1);
	if (ret == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			pid = DatumGetInt32(d);
	}
	return pid;
}

/*
 * Take the runner lock of track, waiting up to migrate.lock_wait.  With
 * can_commit (a nonatomic procedure, SPI-connected) the lock is taken at
 * session level, and the current transaction is committed before waiting
 * so that the wait holds nothing; otherwise at transaction level.  Returns
 * whether a session lock was taken: pass it to runner_lock_release.
 */
bool
runner_lock_acquire(const char *track, bool can_commit)
{
	LOCKTAG		tag;
	TimestampTz start = GetCurrentTimestamp();
	bool		committed = false;
	bool		announced = false;
	MemoryContext old;

	if (track_is_active(track))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a migrate run on track \"%s\" is already in progress in this session", track),
				 errhint("A migration cannot run migrate commands on its own track.")));

	runner_locktag(&tag, track);
	for (;;)
	{
		LockAcquireResult res = LockAcquire(&tag, ExclusiveLock, can_commit, true);

		/* at transaction level, an earlier call of this transaction may hold it */
		if (res == LOCKACQUIRE_OK || res == LOCKACQUIRE_ALREADY_HELD ||
			res == LOCKACQUIRE_ALREADY_CLEAR)
			break;

		/* not available: wait, holding no snapshot if we can */
		if (can_commit && !committed)
		{
			SPI_commit();
			SPI_start_transaction();
			committed = true;
		}
		InvalidateCatalogSnapshot();

		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), migrate_lock_wait))
		{
			int			holder = runner_lock_holder(track);

			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("could not obtain the migrate lock of track \"%s\"", track),
					 holder ? errdetail("Process %d is running migrations on this track.", holder) : 0,
					 errhint("Wait for that run to end, or raise migrate.lock_wait (now %d ms).",
							 migrate_lock_wait)));
		}
		if (!announced)
		{
			ereport(NOTICE,
					(errmsg("waiting for another migrate run on track \"%s\"", track)));
			announced = true;
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LOCK_POLL_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	old = MemoryContextSwitchTo(TopMemoryContext);
	active_tracks = lappend(active_tracks, pstrdup(track));
	MemoryContextSwitchTo(old);
	return can_commit;
}

/*
 * End a run on track.  A session lock is released now; a transaction-level
 * one stays until the caller's transaction ends.
 */
void
runner_lock_release(const char *track, bool session)
{
	LOCKTAG		tag;
	ListCell   *lc;

	foreach(lc, active_tracks)
	{
		char	   *t = (char *) lfirst(lc);

		if (strcmp(t, track) == 0)
		{
			active_tracks = foreach_delete_current(active_tracks, lc);
			pfree(t);
			break;
		}
	}
	if (session)
	{
		runner_locktag(&tag, track);
		(void) LockRelease(&tag, ExclusiveLock, true);
	}
}
