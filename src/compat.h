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
 * COPY FROM with a data source callback (copy.c).  PG 14 split COPY FROM
 * into copyfrom.c: BeginCopyFrom gained the WHERE clause argument, the
 * state became CopyFromState, and its struct moved to an installed header
 * (copyfrom_internal.h), which is where the line being read is kept.
 * PG 16 moved the permissions of a range-table entry to RTEPermissionInfo
 * and replaced ExecCheckRTPerms with ExecCheckPermissions.
 */
#include "commands/copy.h"
#include "executor/executor.h"
#include "parser/parse_node.h"
#if PG_VERSION_NUM >= 140000
#include "commands/copyfrom_internal.h"
#define MIGRATE_COPY_STATE_VISIBLE 1
#define migrate_begin_copy_from(pstate, rel, where, cb, attlist, options) \
	BeginCopyFrom(pstate, rel, where, NULL, false, cb, attlist, options)
#else
typedef CopyState CopyFromState;
#define migrate_begin_copy_from(pstate, rel, where, cb, attlist, options) \
	BeginCopyFrom(pstate, rel, NULL, false, cb, attlist, options)
#endif
#if PG_VERSION_NUM >= 160000
typedef RTEPermissionInfo MigratePermInfo;
#define migrate_nsitem_perminfo(nsitem) ((nsitem)->p_perminfo)
#define migrate_check_permissions(pstate) \
	ExecCheckPermissions((pstate)->p_rtable, (pstate)->p_rteperminfos, true)
#else
typedef RangeTblEntry MigratePermInfo;
#define migrate_nsitem_perminfo(nsitem) ((nsitem)->p_rte)
#define migrate_check_permissions(pstate) ExecCheckRTPerms((pstate)->p_rtable, true)
#endif

#endif							/* MIGRATE_COMPAT_H */
