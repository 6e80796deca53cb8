/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Differences between the PostgreSQL major versions migrate builds on,
 *	  in one place.  Each guard says which release changed what.
 *
 * Built and tested: 15, 17 and 18 (test/matrix).  The guards for 13, 14
 * and 16 were written by reading those releases' source and are untested.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_COMPAT_H
#define MIGRATE_COMPAT_H

#include "fmgr.h"
#include "utils/guc.h"

/*
 * Symbols: the library exports only what the server looks up by name
 * (the magic block, _PG_init, each SQL-callable function and its info
 * record, the worker's entry point); everything else is hidden, so no
 * internal name of ours can collide with another library's.  PG 16's
 * PGXS compiles modules with -fvisibility=hidden and gives PGDLLEXPORT
 * default visibility, and its PG_FUNCTION_INFO_V1 declares the function
 * itself with PGDLLEXPORT.  Before 16, PGDLLEXPORT is empty outside
 * Windows and the function is declared without it, so the Makefile adds
 * -fvisibility=hidden and here PGDLLEXPORT gets its 16 meaning and
 * PG_FUNCTION_INFO_V1 exports the function as 16's does (every file that
 * declares an SQL-callable function includes this header through
 * migrate.h).
 */
#if PG_VERSION_NUM < 160000 && defined(__GNUC__)
#undef PGDLLEXPORT
#define PGDLLEXPORT __attribute__((visibility("default")))
#undef PG_FUNCTION_INFO_V1
#define PG_FUNCTION_INFO_V1(funcname) \
extern PGDLLEXPORT Datum funcname(PG_FUNCTION_ARGS); \
extern PGDLLEXPORT const Pg_finfo_record *CppConcat(pg_finfo_, funcname) (void); \
const Pg_finfo_record *CppConcat(pg_finfo_, funcname) (void) \
{ \
	static const Pg_finfo_record finfo = {1}; \
	return &finfo; \
} \
extern int no_such_variable
#endif

/*
 * PG 18 removed the suffix pg_attribute_noreturn() in favour of the prefix
 * pg_noreturn (C11 _Noreturn).  GCC and clang accept the attribute as a
 * prefix too, so older releases get the prefix spelled with it.
 */
#if PG_VERSION_NUM < 180000
#define pg_noreturn pg_attribute_noreturn()
#endif

/* PG 18 dropped PortalRun's run_once argument (it was always true for us) */
#if PG_VERSION_NUM >= 180000
#define migrate_portal_run(portal, count, top, dest, altdest, qc) \
	PortalRun(portal, count, top, dest, altdest, qc)
#else
#define migrate_portal_run(portal, count, top, dest, altdest, qc) \
	PortalRun(portal, count, top, true, dest, altdest, qc)
#endif

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

/*
 * Running statements at top level in a background worker (worker.c).
 * PG 15 renamed pg_analyze_and_rewrite to pg_analyze_and_rewrite_fixedparams.
 */
#if PG_VERSION_NUM >= 150000
#define migrate_analyze_and_rewrite(raw, sql) \
	pg_analyze_and_rewrite_fixedparams(raw, sql, NULL, 0, NULL)
#else
#define migrate_analyze_and_rewrite(raw, sql) \
	pg_analyze_and_rewrite(raw, sql, NULL, 0, NULL)
#endif

/* PG 15 added force_flush to shm_mq_send; we always want the receiver woken */
#if PG_VERSION_NUM >= 150000
#define migrate_shm_mq_send(mqh, n, data, nowait) shm_mq_send(mqh, n, data, nowait, true)
#else
#define migrate_shm_mq_send(mqh, n, data, nowait) shm_mq_send(mqh, n, data, nowait)
#endif

/*
 * PG 17 lets a background worker log in as a role without LOGIN (a caller
 * may have lost it since it connected); before, the worker fails to start.
 */
#if PG_VERSION_NUM >= 170000
#define MIGRATE_BGW_CONNECT_FLAGS BGWORKER_BYPASS_ROLELOGINCHECK
#else
#define MIGRATE_BGW_CONNECT_FLAGS 0
#endif

/*
 * Statements that need top level (nontx.c).  PG 14 turned REINDEX's
 * options into a DefElem list (13 has a "concurrent" flag), and added
 * ALTER TABLE ... DETACH PARTITION CONCURRENTLY and ALTER SUBSCRIPTION
 * ... ADD/DROP PUBLICATION.
 */
#if PG_VERSION_NUM >= 140000
#define MIGRATE_REINDEX_HAS_PARAMS 1
#define MIGRATE_HAS_DETACH_CONCURRENTLY 1
#define MIGRATE_HAS_SUBSCRIPTION_ADD_DROP 1
#endif

/*
 * The linter (lint_rules.c, lint_catalog.c).  PG 18 made NOT NULL a
 * constraint of its own in pg_constraint: it can be added NOT VALID and
 * validated later without blocking writes, a NOT VALID one already sets
 * attnotnull (so attnotnull no longer proves the column holds no NULLs),
 * and SET NOT NULL on such a column validates it with a scan under ACCESS
 * EXCLUSIVE.  PG 18 also added NOT ENFORCED constraints (never checked
 * against rows) and virtual generated columns (computed when read: adding
 * one rewrites nothing).
 */
#if PG_VERSION_NUM >= 180000
#define MIGRATE_NOTNULL_CONSTRAINTS 1
/* the grammar leaves is_enforced false on NOT NULL, which is always enforced */
#define migrate_constraint_enforced(con) \
	((con)->contype == CONSTR_NOTNULL || (con)->is_enforced)
#define migrate_generated_virtual(con) ((con)->generated_kind == ATTRIBUTE_GENERATED_VIRTUAL)
#else
#define migrate_constraint_enforced(con) true
#define migrate_generated_virtual(con) false
#endif

/*
 * Security (issue 11).  PG 16 gave stringToQualifiedNameList a soft-error
 * argument (NULL: errors are thrown, as before).
 */
#include "utils/regproc.h"
#if PG_VERSION_NUM >= 160000
#define migrate_qualified_name_list(s) stringToQualifiedNameList(s, NULL)
#else
#define migrate_qualified_name_list(s) stringToQualifiedNameList(s)
#endif

/*
 * A setting's record (or its placeholder's), NULL if there is none.  PG 16
 * exported find_option; before it, the table of settings is searched.
 */
#include "utils/guc_tables.h"
#if PG_VERSION_NUM >= 160000
#define migrate_find_guc(name) find_option(name, false, true, 0)
#else
static inline struct config_generic *
migrate_find_guc(const char *name)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();
	int			i;

	for (i = 0; i < n; i++)
		if (pg_strcasecmp(vars[i]->name, name) == 0)
			return vars[i];
	return NULL;
}
#endif

#endif							/* MIGRATE_COMPAT_H */

/*
 * COPY FROM with a data source callback (copy.c).  PG 14 split COPY FROM
 * into copyfrom.c: BeginCopyFrom gained the WHERE clause argument, the
 * state became CopyFromState, and its struct moved to an installed header
 * (copyfrom_internal.h), which is where the line being read is kept.
 * PG 16 moved the permissions of a range-table entry to RTEPermissionInfo
 * and replaced ExecCheckRTPerms with ExecCheckPermissions.  Only copy.c
 * needs these headers: it asks for them with MIGRATE_COMPAT_COPY (outside
 * the main include guard, so an earlier plain include does not hide them).
 */
#if defined(MIGRATE_COMPAT_COPY) && !defined(MIGRATE_COMPAT_COPY_H)
#define MIGRATE_COMPAT_COPY_H
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
#endif							/* MIGRATE_COMPAT_COPY */
