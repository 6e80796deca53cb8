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
 * An error in a data row is reported at the line of the file the row
 * starts on.  COPY numbers its rows (its context says "line N"), but that
 * number is not a count of the data's lines: a row may span several lines
 * (a quoted CSV value with newlines, a backslash-newline in text format),
 * and COPY counts such a row's newlines only in some cases (quoted CSV
 * newlines once the first row's end has shown the line ending, never in
 * text format).  So the data's lines are tracked here as the data is fed
 * to COPY: each row that spans lines, or that COPY counts as several,
 * leaves an entry saying which of COPY's numbers are that row and on
 * which file lines it lies; between entries both count one per row.
 * Entries for rows far behind the one COPY reads are dropped, so memory
 * stays bounded (COPY reports a row behind the one it reads only for a
 * row it buffered, a thousand at most, before inserting).
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

/*
 * How many of COPY's row numbers behind the one it reads a row's entry is
 * kept.  COPY buffers at most 1000 rows (MAX_BUFFERED_TUPLES in
 * copyfrom.c) before inserting them, and an error while inserting one
 * names that row; ten times that leaves room for any change there.
 */
#define COPY_ROWS_KEPT 10000

/* a row spanning several lines of the file, or several of COPY's numbers */
typedef struct RowSpan
{
	uint64		copy_first;		/* COPY's number for it when it starts */
	uint64		copy_last;		/* ... and when it has been read whole */
	int			file_first;		/* file line it starts on */
	int			file_last;		/* file line it ends on */
} RowSpan;

/* the rows of the data fed so far, as the file's lines and COPY's numbers */
typedef struct RowTracker
{
	bool		csv;
	char		quote;
	char		escape;			/* '\0' when it is the quote, as COPY does */
	char		eol;			/* '\n' once the first row ended with LF, '\r' for
								 * CRLF, 0 before */
	bool		in_quote;
	bool		last_was_esc;
	bool		after_backslash;	/* text format: the next byte is escaped */
	char		prev;			/* the byte before */
	uint64		copy_first;		/* the row being fed: COPY's number at its start */
	uint64		copy_extra;		/* newlines in it COPY counts */
	int			file_first;		/* the file line it starts on */
	int			file_line;		/* the file line fed now */
	RowSpan    *spans;			/* rows spanning lines, oldest first */
	int			nspans;
	int			maxspans;
	MemoryContext cxt;			/* of spans (COPY feeds from a per-row context) */
} RowTracker;

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
	RowTracker	rows;			/* where the rows fed so far are in the file */
} CopyFeed;

static CopyFeed *active_feed = NULL;

/*
 * Start tracking rows for a COPY with these (checked) options, its data
 * starting on file line first_line.
 */
static void
rows_begin(RowTracker *rt, List *options, int first_line)
{
	ListCell   *lc;
	bool		has_escape = false;

	memset(rt, 0, sizeof(*rt));
	rt->quote = '"';
	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "format") == 0)
			rt->csv = strcmp(defGetString(def), "csv") == 0;
		else if (strcmp(def->defname, "quote") == 0)
			rt->quote = defGetString(def)[0];
		else if (strcmp(def->defname, "escape") == 0)
		{
			rt->escape = defGetString(def)[0];
			has_escape = true;
		}
	}
	/* COPY ignores an escape that is the quote (CopyReadLineText) */
	if (!has_escape || rt->escape == rt->quote)
		rt->escape = '\0';
	rt->copy_first = 1;
	rt->file_first = rt->file_line = first_line;
	rt->cxt = CurrentMemoryContext;
}

/* the row being fed ended (at a newline that is not in it) */
static void
rows_end_row(RowTracker *rt)
{
	if (rt->file_line != rt->file_first || rt->copy_extra > 0)
	{
		RowSpan    *span;

		if (rt->nspans == rt->maxspans)
		{
			rt->maxspans = Max(16, rt->maxspans * 2);
			rt->spans = rt->spans ? repalloc(rt->spans, rt->maxspans * sizeof(RowSpan)) :
				MemoryContextAlloc(rt->cxt, rt->maxspans * sizeof(RowSpan));
		}
		span = &rt->spans[rt->nspans++];
		span->copy_first = rt->copy_first;
		span->copy_last = rt->copy_first + rt->copy_extra;
		span->file_first = rt->file_first;
		span->file_last = rt->file_line;
	}
	rt->copy_first += rt->copy_extra + 1;
	rt->copy_extra = 0;
	rt->file_line++;
	rt->file_first = rt->file_line;
	rt->in_quote = false;
	rt->last_was_esc = false;
}

/*
 * Data fed to COPY: follow its rows as CopyReadLineText splits them, and
 * its count of lines as it counts them.  Line endings LF and CRLF (a file
 * whose lines end with a lone CR has one line in this file's count).
 */
static void
rows_feed(RowTracker *rt, const char *data, size_t len)
{
	const char *p;
	const char *end = data + len;

	for (p = data; p < end; p++)
	{
		char		c = *p;

		if (!rt->csv)
		{
			/* a backslash escapes the next byte, a newline too */
			if (rt->after_backslash)
			{
				rt->after_backslash = false;
				if (c == '\n')
					rt->file_line++;
			}
			else if (c == '\n')
				rows_end_row(rt);
			else if (c == '\\')
				rt->after_backslash = true;
			continue;
		}
		if (c != '\n' && c != '\r' && c != rt->quote && c != rt->escape)
		{
			rt->last_was_esc = false;
			continue;
		}
		/* quotes and escapes as CopyReadLineText takes them */
		if (rt->in_quote && c == rt->escape)
			rt->last_was_esc = !rt->last_was_esc;
		if (c == rt->quote && !rt->last_was_esc)
			rt->in_quote = !rt->in_quote;
		if (c != rt->escape)
			rt->last_was_esc = false;
		/* COPY counts a quoted newline once it knows the line ending */
		if (rt->in_quote && c == (rt->eol == '\n' ? '\n' : '\r'))
			rt->copy_extra++;
		if (c == '\n')
		{
			if (rt->in_quote)
				rt->file_line++;
			else
			{
				if (rt->eol == 0)
					rt->eol = (p > data ? p[-1] : rt->prev) == '\r' ? '\r' : '\n';
				rows_end_row(rt);
			}
		}
	}
	if (len > 0)
		rt->prev = end[-1];
}

/* drop the entries of rows far behind COPY's number now (keeping the last) */
static void
rows_forget(RowTracker *rt, uint64 now)
{
	int			drop = 0;

	if (now <= COPY_ROWS_KEPT)
		return;
	while (drop + 1 < rt->nspans && rt->spans[drop + 1].copy_last < now - COPY_ROWS_KEPT)
		drop++;
	if (drop > 0 && drop >= rt->nspans / 2)
	{
		rt->nspans -= drop;
		memmove(rt->spans, rt->spans + drop, rt->nspans * sizeof(RowSpan));
	}
}

/* the file line the row COPY numbers n starts on */
static int
rows_file_line(const RowTracker *rt, uint64 n)
{
	int			lo = 0;
	int			hi = rt->nspans;
	const RowSpan *span;

	/* the row being fed (one COPY reads to its end, or past its end) */
	if (n >= rt->copy_first)
		return rt->file_first;
	/* the last span starting at or before n */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (rt->spans[mid].copy_first <= n)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* the rows between spans take one line and one number each */
	if (lo == 0)
		return rt->nspans > 0 ?
			rt->spans[0].file_first - (int) (rt->spans[0].copy_first - n) :
			rt->file_first - (int) (rt->copy_first - n);
	span = &rt->spans[lo - 1];
	if (n <= span->copy_last)
		return span->file_first;
	return span->file_last + (int) (n - span->copy_last);
}

/* data_source_cb: up to maxread bytes of data (fewer only at its end) */
static int
copy_read(void *outbuf, int minread, int maxread)
{
	CopyFeed   *feed = active_feed;
	char	   *out = (char *) outbuf;
	int			n = 0;

	/* COPY is at this row: entries for rows far behind it are not needed */
	if (feed->cstate)
		rows_forget(&feed->rows, feed->cstate->cur_lineno);

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
		rows_feed(&feed->rows, feed->piece, take);
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

			return n > 0 ? rows_file_line(&active_feed->rows, n) : 0;
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
		rows_begin(&feed.rows, options, feed.first_line);

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
