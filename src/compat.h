/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Differences between the PostgreSQL major versions migrate builds on
 *	  (13 to 17), in one place.  Each guard says which release changed what.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_COMPAT_H
#define MIGRATE_COMPAT_H

#include "utils/guc.h"

/* PG 15 renamed EmitWarningsOnPlaceholders and made it reserve the prefix */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * SHA-256: PG 14 introduced the cryptohash API (and dropped pg_sha256_*);
 * PG 15 added the length of the destination buffer to its final call.
 */
#if PG_VERSION_NUM >= 140000
#include "common/cryptohash.h"
#if PG_VERSION_NUM >= 150000
#define migrate_cryptohash_final(ctx, dest, len) pg_cryptohash_final(ctx, dest, len)
#else
#define migrate_cryptohash_final(ctx, dest, len) pg_cryptohash_final(ctx, dest)
#endif
#else
#include "common/sha2.h"
#endif

#include "common/sha2.h"		/* PG_SHA256_DIGEST_LENGTH, all versions */

/* PG 14 renamed pg_encoding_verifymb to pg_encoding_verifymbchar */
#if PG_VERSION_NUM < 140000
#define pg_encoding_verifymbchar(enc, s, len) pg_encoding_verifymb(enc, s, len)
#endif

/* PG 14 gave raw_parser a mode argument */
#include "parser/parser.h"
#if PG_VERSION_NUM >= 140000
#define migrate_raw_parser(str) raw_parser(str, RAW_PARSE_DEFAULT)
#else
#define migrate_raw_parser(str) raw_parser(str)
#endif

/*
 * The PGPROC of a virtual transaction id's backend: PG 17 replaced backend
 * ids by proc numbers (VirtualTransactionId.procNumber, ProcNumberGetProc).
 */
#if PG_VERSION_NUM >= 170000
#include "storage/procarray.h"
#define migrate_vxid_proc(vxid) ProcNumberGetProc((vxid).procNumber)
#else
#include "storage/sinvaladt.h"
#define migrate_vxid_proc(vxid) BackendIdGetProc((vxid).backendId)
#endif

/*
 * PG 15 added repeating timeouts (enable_timeout_every), which the lock
 * watch of a migration needs; before it the blocker of a lock timeout is
 * not identified.
 */
#if PG_VERSION_NUM >= 150000
#define MIGRATE_HAVE_TIMEOUT_EVERY 1
#endif

/*
 * PG 14 added get_timeout_active.  Before it the timer the client statement
 * armed cannot be seen, so a migration statement's statement_timeout
 * replaces it (the client's own deadline is not restored afterwards).
 */
#if PG_VERSION_NUM >= 140000
#define migrate_timeout_active(id) get_timeout_active(id)
#else
#define migrate_timeout_active(id) false
#endif

#endif							/* MIGRATE_COMPAT_H */
