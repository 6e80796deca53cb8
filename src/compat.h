/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  Differences between the PostgreSQL major versions migrate builds on,
 *	  in one place.  Each guard says which release changed what.
 *
 * Supported, built and tested: 15, 17 and 18 (test/matrix runs the whole
 * suite on each, with -Wall -Wextra -Werror).  16 is untested: it takes
 * the 15 or the 17 side of each guard below as its source says (read, not
 * run).  13 and 14 are not supported (the Makefile refuses them): they are
 * past their end of life, and nothing here is kept for them.
 *
 * Changes of 17 and 18 that this code meets without a guard, checked in
 * their source:
 * - ExecutorRun lost its execute_once argument in 18; we run statements
 *   through PortalRun (see migrate_portal_run) and never call it directly.
 * - pg_cryptohash (checksum.c) is the same API in 15, 17 and 18.
 * - COPY FROM (copy.c): BeginCopyFrom and the data source callback are the
 *   same in 15, 17 and 18; the state struct grew (17: soft errors for
 *   ON_ERROR, 18: a routine per format) but is only read through its own
 *   header, and 17's ON_ERROR / LOG_VERBOSITY and 18's REJECT_LIMIT are
 *   COPY's own options, applied by COPY itself as under psql.
 * - 17 runs maintenance commands (VACUUM, ANALYZE, CLUSTER, REINDEX,
 *   CREATE INDEX, REFRESH MATERIALIZED VIEW) with search_path restricted to
 *   pg_catalog, pg_temp inside the command (RestrictSearchPath); migrate
 *   runs them through the same utility code, so they behave as under psql
 *   on each version (test psql_compat).
 * - 18's extension_control_path: the only library name in the C code is the
 *   background worker's, by name through dynamic_library_path (worker.c).
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

/*
 * PG 18's magic block can carry the module's name and version, which
 * pg_get_loaded_modules() shows; MIGRATE_VERSION comes from the Makefile
 * (migrate.control's default_version).
 */
#ifdef PG_MODULE_MAGIC_EXT
#define MIGRATE_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "migrate", .version = MIGRATE_VERSION)
#else
#define MIGRATE_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/* PG 18 dropped PortalRun's run_once argument (it was always true for us) */
#if PG_VERSION_NUM >= 180000
#define migrate_portal_run(portal, count, top, dest, altdest, qc) \
	PortalRun(portal, count, top, dest, altdest, qc)
#else
#define migrate_portal_run(portal, count, top, dest, altdest, qc) \
	PortalRun(portal, count, top, true, dest, altdest, qc)
#endif

/*
 * InitMaterializedSRF came with 15.1 (15.0 named it SetSingleFuncCall,
 * which later 15 releases keep as an alias).
 */
#include "funcapi.h"
#if PG_VERSION_NUM < 150001
#define InitMaterializedSRF(fcinfo, flags) SetSingleFuncCall(fcinfo, flags)
#define MAT_SRF_USE_EXPECTED_DESC SRF_SINGLE_USE_EXPECTED
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
 * PG 17 lets a background worker log in as a role without LOGIN (a caller
 * may have lost it since it connected); before, the worker fails to start,
 * and says so to the caller (worker.c).
 */
#if PG_VERSION_NUM >= 170000
#define MIGRATE_BGW_CONNECT_FLAGS BGWORKER_BYPASS_ROLELOGINCHECK
#else
#define MIGRATE_BGW_CONNECT_FLAGS 0
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

/*
 * Every setting's record, placeholders too, as an array of *n.  PG 16 keeps
 * the settings in a hash table and get_guc_variables returns a sorted copy
 * with its length; before, it returned the table itself, whose length
 * GetNumConfigOptions gives.
 */
#if PG_VERSION_NUM >= 160000
#define migrate_guc_variables(n) get_guc_variables(n)
#else
#define migrate_guc_variables(n) (*(n) = GetNumConfigOptions(), get_guc_variables())
#endif

#endif							/* MIGRATE_COMPAT_H */

/*
 * COPY FROM with a data source callback (copy.c).  PG 16 moved the
 * permissions of a range-table entry to RTEPermissionInfo and replaced
 * ExecCheckRTPerms with ExecCheckPermissions.  Only copy.c needs these
 * headers: it asks for them with MIGRATE_COMPAT_COPY (outside the main
 * include guard, so an earlier plain include does not hide them).
 */
#if defined(MIGRATE_COMPAT_COPY) && !defined(MIGRATE_COMPAT_COPY_H)
#define MIGRATE_COMPAT_COPY_H
#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "executor/executor.h"
#include "parser/parse_node.h"
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
