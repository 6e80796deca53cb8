/*-------------------------------------------------------------------------
 *
 * args.h
 *	  Arguments and result sets of the SQL-callable functions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_ARGS_H
#define MIGRATE_ARGS_H

#include "fmgr.h"
#include "funcapi.h"
#include "utils/tuplestore.h"

extern char *text_arg(FunctionCallInfo fcinfo, int n);
extern char *required_arg(FunctionCallInfo fcinfo, int n, const char *name);
extern bool call_is_nonatomic(FunctionCallInfo fcinfo);
extern Tuplestorestate *materialize_result(FunctionCallInfo fcinfo, TupleDesc *desc);

#endif							/* MIGRATE_ARGS_H */
