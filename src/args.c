/*-------------------------------------------------------------------------
 *
 * args.c
 *	  Arguments and result sets of the SQL-callable functions.
 *
 * What every entry point needs from its FunctionCallInfo: its text
 * arguments (optional or required), whether the call may commit, and a
 * materialized result set.  The entry points themselves live in
 * commands.c, lifecycle.c, staged.c, adopt.c, scripts.c, statements.c and
 * lint.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupdesc.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "args.h"
#include "compat.h"

/* text argument n, or NULL (also when the declaration has fewer arguments) */
char *
text_arg(FunctionCallInfo fcinfo, int n)
{
	if (PG_NARGS() <= n || PG_ARGISNULL(n))
		return NULL;
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* a required text argument */
char *
required_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	char	   *v = text_arg(fcinfo, n);

	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return v;
}

/* may this call commit? (a CALL outside any transaction block) */
bool
call_is_nonatomic(FunctionCallInfo fcinfo)
{
	return fcinfo->context != NULL && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;
}

/*
 * The tuplestore and row shape of an SRF's result (InitMaterializedSRF):
 * of rows (OUT parameters) or of one scalar column (SETOF text), as the
 * query expects them.
 */
Tuplestorestate *
materialize_result(FunctionCallInfo fcinfo, TupleDesc *desc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	*desc = rsinfo->setDesc;
	return rsinfo->setResult;
}
