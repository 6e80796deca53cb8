/*-------------------------------------------------------------------------
 *
 * checksum.h
 *	  Checksums of migration scripts, blind to line endings and a BOM.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_CHECKSUM_H
#define MIGRATE_CHECKSUM_H

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "migrate.h"

typedef struct ScriptDigest
{
	pg_cryptohash_ctx *ctx;
	int64		size;			/* normalized bytes fed so far */
} ScriptDigest;

extern void digest_init(ScriptDigest *d);
extern void digest_update(ScriptDigest *d, const char *data, size_t len);
extern void digest_final(ScriptDigest *d, char *hex);
extern size_t normalize_line_endings(const char *in, size_t len, char *out,
									 bool *pending_cr, bool eof);

#endif							/* MIGRATE_CHECKSUM_H */
