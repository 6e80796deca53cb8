/*-------------------------------------------------------------------------
 *
 * dirstate.c
 *	  The no-op's shortcut: a directory and a history as the last run left
 *	  them need no plan.
 *
 * An apply with nothing to do still had to classify every file by its
 * layout, read the track's whole history and match the two, to find that
 * every file is applied and unchanged: at 1000 applied files that was half
 * of what the call cost beyond a bare connection.  Yet when neither the
 * directory nor the history has changed since the last successful apply,
 * the answer is the one that run left.  So a successful apply records in
 * its row of migrate.runs (dir_state) a digest of what its answer depends
 * on, and the next apply of the same directory on the same track, once it
 * has listed the directory (which it must, to see every file's identity),
 * computes the same digest and compares it with the track's newest row:
 * equal, it reports the version that row reached and stops there.
 *
 * The digest is the SHA-256 of: this library's version and the extension
 * schema's; the track; the directory's real path; every file below it, in
 * name order, with its identity (device, inode, size, mtime and ctime in
 * nanoseconds: the one the per-file no-op trusts, see README "Checksums");
 * and how far the sequence of migrate.history's ranks has gone.  A file
 * added, removed, renamed or edited changes it, and so does any row ever
 * inserted into migrate.history (the sequence never goes back, even when
 * the row is deleted or rolled back).  A call that changes the history
 * otherwise (repair updating a row) records its own row in migrate.runs,
 * which is then the track's newest and carries no digest.
 *
 * A run records a digest only when its answer needs nothing more than
 * those: an apply of a directory with no target, no out_of_order, no
 * placeholders, no callback scripts (they run on every apply), no file
 * the layout ignores or finds misnamed (each a NOTICE on every run), and
 * every file's identity known and settled (no file reached through a
 * link, none changed in the last second).  Only an apply under
 * migrate.verify_checksums = 'changed' stops at a digest ('always' reads
 * every file, and records what it found for the next one).  What it trusts beyond the per-file no-op: that migrate.history
 * was changed only by migrate's own calls, which is what its grants allow
 * (only the extension writes it); a superuser who edits it by hand makes
 * the next apply, or validate, read everything again by setting
 * migrate.verify_checksums = 'always' once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"

#include "dirstate.h"
#include "history.h"
#include "migrate.h"
#include "runs.h"
#include "source.h"

/*
 * What the digest is made of, and what a plain apply answers for an
 * unchanged directory and history: a library whose layouts or plan would
 * answer differently must change this (or MIGRATE_VERSION), so that the
 * digests of an older one are not taken for its own.
 */
#define DIRSTATE_FORMAT "migrate dir state 1"

/* the listing is hashed this many bytes at a time */
#define DIRSTATE_BATCH 8192

/* feed len bytes at data to the digest */
static void
sha256_into(pg_cryptohash_ctx *ctx, const void *data, size_t len)
{
	if (pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
}

/* a string and its terminating zero, so that no two lists hash alike */
static void
sha256_string(pg_cryptohash_ctx *ctx, const char *s)
{
	sha256_into(ctx, s, strlen(s) + 1);
}

/*
 * Hash the listing of real_dir for track: everything the digest holds but
 * the position of the history's sequence.  ds->recordable says whether a
 * run may record it (every file's identity known and settled).
 */
void
dirstate_begin(DirState *ds, const char *track, const char *real_dir, List *files)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	int			version = migrate_schema_version();
	ListCell   *lc;
	StringInfoData batch;

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	ds->recordable = true;
	sha256_string(ctx, DIRSTATE_FORMAT);
	sha256_string(ctx, MIGRATE_VERSION);
	sha256_into(ctx, &version, sizeof(version));
	sha256_string(ctx, track);
	sha256_string(ctx, real_dir);

	/*
	 * Each file's name (with its zero), whether its identity is known, and
	 * the identity's fields: collected into batches, which hash to the same
	 * digest as one update each but cost a call per 8 kB, not three a file.
	 */
	initStringInfo(&batch);
	foreach(lc, files)
	{
		const SourceFile *f = (const SourceFile *) lfirst(lc);
		const FileIdentity *id = &f->listed;
		int64		fields[5] = {id->dev, id->ino, id->size, id->mtime_ns, id->ctime_ns};

		if (f->kind != &source_directory || !id->known || !id->settled)
			ds->recordable = false;
		appendBinaryStringInfo(&batch, f->name, strlen(f->name) + 1);
		appendBinaryStringInfo(&batch, (const char *) &id->known, sizeof(id->known));
		appendBinaryStringInfo(&batch, (const char *) fields, sizeof(fields));
		if (batch.len >= DIRSTATE_BATCH)
		{
			sha256_into(ctx, batch.data, batch.len);
			resetStringInfo(&batch);
		}
	}
	sha256_into(ctx, batch.data, batch.len);
	pfree(batch.data);
	if (pg_cryptohash_final(ctx, ds->listing, sizeof(ds->listing)) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	pg_cryptohash_free(ctx);
}

/*
 * How far the history's rank sequence has gone (0: never used), or -1 if
 * it is not there.  Every row ever inserted into migrate.history took a
 * number from it, kept or rolled back, deleted or not, and it never goes
 * back: read as the extension's owner, since the caller need not have
 * rights on it.
 */
static int64
history_sequence_position(Oid nsp)
{
	Oid			seqid = get_relname_relid("history_rank_seq", nsp);
	Oid			owner;
	Oid			save_userid;
	int			save_sec;
	LOCAL_FCINFO(fcinfo, 1);
	volatile Datum d = 0;

	if (!OidIsValid(seqid) || get_rel_relkind(seqid) != RELKIND_SEQUENCE)
		return -1;
	owner = migrate_extension_owner(false);
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(seqid);
	fcinfo->args[0].isnull = false;
	PG_TRY();
	{
		d = pg_sequence_last_value(fcinfo);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_END_TRY();
	return fcinfo->isnull ? 0 : DatumGetInt64(d);
}

/* the digest: the listing's, then the history sequence's position; NULL if unknown */
static char *
digest_with(const DirState *ds, int64 rank)
{
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex;

	if (rank < 0)
		return NULL;
	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	sha256_into(ctx, ds->listing, sizeof(ds->listing));
	sha256_into(ctx, &rank, sizeof(rank));
	if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	pg_cryptohash_free(ctx);
	hex = palloc(PG_SHA256_DIGEST_LENGTH * 2 + 1);
	hex_encode((char *) digest, PG_SHA256_DIGEST_LENGTH, hex);
	hex[PG_SHA256_DIGEST_LENGTH * 2] = '\0';
	return hex;
}

/* the digest to record after a run (the history as it is now), or NULL */
char *
dirstate_digest(const DirState *ds)
{
	Oid			nsp = get_namespace_oid("migrate", true);

	if (!ds->recordable || !OidIsValid(nsp))
		return NULL;
	return digest_with(ds, history_sequence_position(nsp));
}

/*
 * Is the directory as the newest run of track left it, with the history
 * unchanged since?  Then *version is the version that run reached (NULL:
 * none).  Called under the runner lock: the newest row is what the last
 * call committed.
 */
bool
dirstate_unchanged(const DirState *ds, const char *track, char **version)
{
	Oid			nsp = get_namespace_oid("migrate", true);
	RunsNewest	newest;
	char	   *now;

	*version = NULL;
	if (!OidIsValid(nsp) || !runs_newest(track, &newest) ||
		strcmp(newest.call, "apply") != 0 || strcmp(newest.outcome, "success") != 0 ||
		newest.dir_state == NULL)
		return false;
	now = digest_with(ds, history_sequence_position(nsp));
	if (now == NULL || strcmp(now, newest.dir_state) != 0)
		return false;
	*version = newest.version;
	return true;
}
