/*-------------------------------------------------------------------------
 *
 * copy.c
 *	  COPY ... FROM STDIN whose data follows the statement in the script,
 *	  the way pg_dump writes it and psql -f loads it.
 *
 * SPI cannot run COPY FROM STDIN (there is no client to read from), so
 * the statement is run here with the server's own COPY machinery and an
 * in-memory data source: BeginCopyFrom with a data_source_cb that pulls
 * the data lines from the splitter, which streams them from the file in
 * bounded memory (no temporary file).  BeginCopyFrom checks no rights, so
 * this file does what DoCopy does before it: open and lock the table, a
 * range-table entry asking for INSERT on the copied columns, the
 * permission check, row-level security (COPY FROM refuses it) and the
 * read-only transaction check.  The data is in the server encoding (the
 * file was validated when read), so ENCODING defaults to that, whatever
 * the client's encoding is.
 *
 * An error in a data row is reported at the line of the file it is on:
 * COPY counts lines within its data (its context says "line N"), and the
 * data starts on a known line of the file.  A CSV value spanning several
 * lines counts once in COPY's numbering, so after one the file line is
 * approximate.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "commands/defrem.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#define MIGRATE_COMPAT_COPY
#include "compat.h"
#include "copy.h"

/* the COPY being fed now: data_source_cb takes no argument */
typedef struct CopyFeed
{
	Splitter   *sp;
	const char *sql;			/* the COPY statement */
	const char *piece;			/* data handed out by the splitter, not yet copied */
	size_t		left;
	bool		done;			/* the splitter reached the end of the data */
	int			first_line;		/* file line of the first data line */
	CopyFromState cstate;
	int			error_line;		/* file line of the row an error was raised at */
} CopyFeed;

static CopyFeed *active_feed = NULL;

/* data_source_cb: up to maxread bytes of data (fewer only at its end) */
static int
copy_read(void *outbuf, int minread, int maxread)
{
	CopyFeed   *feed = active_feed;
	char	   *out = (char *) outbuf;
	int			n = 0;

	while (n < maxread)
	{
		size_t		take;

		if (feed->left == 0)
		{
			if (feed->done ||
				!splitter_copy_data(feed->sp, &feed->piece, &feed->left))
			{
				feed->done = true;
				break;
			}
			continue;
		}
		take = Min(feed->left, (size_t) (maxread - n));
		memcpy(out + n, feed->piece, take);
		feed->piece += take;
		feed->left -= take;
		n += take;
	}
	return n;
}

/*
 * The file line of the data row the running COPY is at, or 0 when no row
 * is being read (no COPY runs, or it is before the first row or past the
 * last, e.g. in its AFTER triggers).  Read from COPY's own error context,
 * which is on the stack exactly while rows are processed.
 */
int
copy_current_line(void)
{
	ErrorContextCallback *e;

	if (active_feed == NULL || active_feed->cstate == NULL)
		return 0;
	for (e = error_context_stack; e != NULL; e = e->previous)
	{
		if (e->callback == CopyFromErrorCallback && e->arg == (void *) active_feed->cstate)
		{
			uint64		n = active_feed->cstate->cur_lineno;

			return n > 0 ? active_feed->first_line + (int) (n - 1) : 0;
		}
	}
	return 0;
}

/*
 * Error context of the statement: a position in it is reported as an
 * internal position of its text (as SPI does), and the line of the data
 * row is remembered for the history.
 */
static void
copy_error_callback(void *arg)
{
	CopyFeed   *feed = (CopyFeed *) arg;
	int			pos = geterrposition();
	int			line = copy_current_line();

	if (pos > 0)
	{
		errposition(0);
		internalerrposition(pos);
		internalerrquery(feed->sql);
	}
	if (line > 0)
		feed->error_line = line;
}

/* the COPY options, checked and completed for an inline data source */
static List *
copy_options(List *options)
{
	ListCell   *lc;
	bool		has_encoding = false;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "format") == 0 &&
			strcmp(defGetString(def), "binary") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("COPY FROM STDIN in binary format is not supported in a migration"),
					 errdetail("Data inline in a script must be text or CSV."),
					 errhint("Use FORMAT text or FORMAT csv, as pg_dump does.")));
		if (strcmp(def->defname, "encoding") == 0)
			has_encoding = true;
	}
	/* the script was read and validated in the server encoding */
	if (!has_encoding)
		options = lappend(list_copy(options),
						  makeDefElem("encoding",
									  (Node *) makeString(pstrdup(GetDatabaseEncodingName())),
									  -1));
	return options;
}

/*
 * The WHERE clause of COPY FROM, made ready for the executor as DoCopy
 * does (PG 14 and later let us pass it to BeginCopyFrom).
 */
static Node *
copy_where(ParseState *pstate, ParseNamespaceItem *nsitem, Node *where)
{
	Node	   *qual;

	if (where == NULL)
		return NULL;
	addNSItemToQuery(pstate, nsitem, false, true, true);
	qual = transformExpr(pstate, where, EXPR_KIND_COPY_WHERE);
	qual = coerce_to_boolean(pstate, qual, "WHERE");
	assign_expr_collations(pstate, qual);
	qual = eval_const_expressions(NULL, qual);
	qual = (Node *) canonicalize_qual((Expr *) qual, false);
	return (Node *) make_ands_implicit((Expr *) qual);
}

/* parse sql, which the splitter found to be COPY ... FROM STDIN */
static CopyStmt *
parse_copy(const char *sql)
{
	List	   *parsed = raw_parser(sql, RAW_PARSE_DEFAULT);
	Node	   *node;
	CopyStmt   *stmt;

	if (list_length(parsed) != 1)
		elog(ERROR, "expected one COPY statement, got %d statements", list_length(parsed));
	node = linitial_node(RawStmt, parsed)->stmt;
	if (!IsA(node, CopyStmt))
		elog(ERROR, "statement taken for COPY FROM STDIN is not COPY");
	stmt = (CopyStmt *) node;
	if (!stmt->is_from || stmt->filename != NULL || stmt->is_program || stmt->relation == NULL)
		elog(ERROR, "statement taken for COPY FROM STDIN is another kind of COPY");
	return stmt;
}

/* check what DoCopy checks before it lets COPY FROM insert into rel */
static void
check_copy_rights(ParseState *pstate, ParseNamespaceItem *nsitem, Relation rel,
				  List *attlist)
{
	MigratePermInfo *perm = migrate_nsitem_perminfo(nsitem);
	List	   *attnums;
	ListCell   *lc;

	perm->requiredPerms = ACL_INSERT;
	attnums = CopyGetAttnums(RelationGetDescr(rel), rel, attlist);
	foreach(lc, attnums)
		perm->insertedCols = bms_add_member(perm->insertedCols,
											lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	migrate_check_permissions(pstate);

	if (check_enable_rls(RelationGetRelid(rel), InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY FROM not supported with row-level security"),
				 errhint("Use INSERT statements instead.")));

	if (XactReadOnly && !rel->rd_islocaltemp)
		PreventCommandIfReadOnly("COPY FROM");
}

/*
 * Run sql, a COPY ... FROM STDIN statement, loading the data that follows
 * it in the script from sp (up to the "\." line).  Returns the number of
 * rows loaded.  If an error escapes from a data row, *error_line is set
 * to the line of the file that row is on.
 */
uint64
copy_from_script(const char *sql, Splitter *sp, int *error_line)
{
	CopyFeed	feed;
	CopyFeed   *saved = active_feed;
	ErrorContextCallback errcallback;
	uint64		processed = 0;

	memset(&feed, 0, sizeof(feed));
	feed.sp = sp;
	feed.sql = sql;
	feed.first_line = splitter_line(sp);

	errcallback.callback = copy_error_callback;
	errcallback.arg = &feed;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	active_feed = &feed;

	PG_TRY();
	{
		CopyStmt   *stmt = parse_copy(sql);
		ParseState *pstate = make_parsestate(NULL);
		ParseNamespaceItem *nsitem;
		Relation	rel;
		Node	   *where;
		List	   *options;

		pstate->p_sourcetext = sql;
		options = copy_options(stmt->options);

		/* see what earlier statements did */
		CommandCounterIncrement();

		rel = table_openrv(stmt->relation, RowExclusiveLock);
		nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock,
											   NULL, false, false);
		where = copy_where(pstate, nsitem, stmt->whereClause);
		check_copy_rights(pstate, nsitem, rel, stmt->attlist);

		PushActiveSnapshot(GetTransactionSnapshot());
		feed.cstate = BeginCopyFrom(pstate, rel, where, NULL, false, copy_read,
									stmt->attlist, options);
		processed = CopyFrom(feed.cstate);
		EndCopyFrom(feed.cstate);
		feed.cstate = NULL;
		PopActiveSnapshot();

		table_close(rel, NoLock);
		free_parsestate(pstate);
		CommandCounterIncrement();
	}
	PG_CATCH();
	{
		/* the transaction's abort releases the snapshot, relation and COPY */
		active_feed = saved;
		error_context_stack = errcallback.previous;
		*error_line = feed.error_line;
		PG_RE_THROW();
	}
	PG_END_TRY();

	active_feed = saved;
	error_context_stack = errcallback.previous;
	return processed;
}
