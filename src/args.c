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
 * A materialized result set for an SRF: of rows (OUT parameters), set up
 * by InitMaterializedSRF on 15 and later, or of one scalar column (SETOF
 * text), which InitMaterializedSRF does not describe by itself.
 */
Tuplestorestate *
materialize_result(FunctionCallInfo fcinfo, TupleDesc *desc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	Oid			rettype;
	TypeFuncClass cls;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	cls = get_call_result_type(fcinfo, &rettype, desc);
#if PG_VERSION_NUM >= 150000
	if (cls == TYPEFUNC_COMPOSITE)
	{
		InitMaterializedSRF(fcinfo, 0);
		*desc = rsinfo->setDesc;
		return rsinfo->setResult;
	}
#endif
	if (cls != TYPEFUNC_COMPOSITE && cls != TYPEFUNC_SCALAR)
		elog(ERROR, "return type must be a row type or a scalar");

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (cls == TYPEFUNC_SCALAR)
	{
		*desc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(*desc, (AttrNumber) 1, "result", rettype, -1, 0);
	}
	else
		*desc = CreateTupleDescCopy(*desc);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = *desc;
	MemoryContextSwitchTo(old);
	return rsinfo->setResult;
}
