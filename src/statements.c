/*-------------------------------------------------------------------------
 *
 * statements.c
 *	  The splitter as SQL functions: what a script would run, and a check
 *	  of the splitter against the server's own parser.
 *
 * migrate.statements(sql) shows the statements a migration file would run
 * and the line each starts on, without running anything (useful before
 * applying a file, and to see where a psql-style split falls).
 *
 * migrate_split_check(sql, chunk) exists for the tests: it splits sql
 * with the splitter (fed chunk bytes at a time, so that tokens straddle
 * chunk boundaries) and with raw_parser, reduces both to the server
 * scanner's tokens, and reports the first statement on which they differ.
 * Since 1.1 no SQL function of the extension calls it (the tests declare
 * one in pg_temp), and it refuses anyone but a superuser, also where the
 * 1.0 objects still declare migrate._split_check.  It is linear in the
 * script and can be cancelled.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/keywords.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "args.h"
#include "compat.h"
#include "reader.h"
#include "source.h"
#include "splitter.h"

PG_FUNCTION_INFO_V1(migrate_statements);
PG_FUNCTION_INFO_V1(migrate_split_check);

/* a statement reduced to tokens: where its first and last start, how many */
typedef struct TokenSpan
{
	int			first;			/* byte offset of the first token, -1 if none */
	int			last;			/* byte offset of the last token */
	int			count;
	int			line;			/* line of the first token */
} TokenSpan;

/*
 * SELECT * FROM migrate.statements(sql): one row per statement (or psql
 * meta-command) the splitter finds, with the line it starts on.  COPY
 * data is skipped, as it is not a statement.
 */
Datum
migrate_statements(PG_FUNCTION_ARGS)
{
	text	   *sql = PG_GETARG_TEXT_PP(0);
	TupleDesc	desc;
	Tuplestorestate *ts = materialize_result(fcinfo, &desc);
	Splitter   *sp = splitter_create_text(VARDATA_ANY(sql), VARSIZE_ANY_EXHDR(sql));
	Statement	st;

	while (splitter_next(sp, &st))
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		CHECK_FOR_INTERRUPTS();
		values[0] = Int32GetDatum(st.line);
		values[1] = PointerGetDatum(cstring_to_text_with_len(st.text, st.len));
		tuplestore_putvalues(ts, desc, values, nulls);
		pfree(st.text);
	}
	splitter_free(sp);
	PG_RETURN_NULL();
}

/* every token of str, as byte offsets, scanned by the server's scanner */
static int *
token_offsets(const char *str, int *ntokens, int **kinds)
{
	core_yy_extra_type yyextra;
	core_yyscan_t scanner = scanner_init(str, &yyextra, &ScanKeywords, ScanKeywordTokens);
	int			cap = 256;
	int			n = 0;
	int		   *offs = palloc(cap * sizeof(int));

	*kinds = palloc(cap * sizeof(int));
	for (;;)
	{
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;
		int			tok = core_yylex(&yylval, &yylloc, scanner);

		if (tok == 0)
			break;
		if ((n & 0xFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (n == cap)
		{
			cap *= 2;
			offs = repalloc(offs, cap * sizeof(int));
			*kinds = repalloc(*kinds, cap * sizeof(int));
		}
		offs[n] = yylloc;
		(*kinds)[n] = tok;
		n++;
	}
	scanner_finish(scanner);
	*ntokens = n;
	return offs;
}

/* index of the first token at or after byte offset off (binary search) */
static int
first_token_at(const int *offs, int ntokens, int off)
{
	int			lo = 0;
	int			hi = ntokens;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (offs[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The tokens starting in [from, to), less a final ';'.  Found by binary
 * search, so the whole check stays linear in the script.
 */
static TokenSpan
span_of(const int *offs, const int *kinds, int ntokens, int from, int to)
{
	TokenSpan	s = {-1, -1, 0, 0};
	int			i;

	for (i = first_token_at(offs, ntokens, from); i < ntokens && offs[i] < to; i++)
	{
		if (s.count == 0)
			s.first = offs[i];
		s.last = offs[i];
		s.count++;
		/* a ';' ends it only if it is the last token in range */
		if (kinds[i] == ';' && (i + 1 == ntokens || offs[i + 1] >= to))
		{
			s.count--;
			s.last = i > 0 && s.count > 0 ? offs[i - 1] : -1;
			if (s.count == 0)
				s.first = -1;
		}
	}
	return s;
}

/* lines counted so far: the line of byte offset off, for rising offsets */
typedef struct LineCursor
{
	const char *str;
	int			off;
	int			line;
} LineCursor;

/* 1-based line of byte offset off in the cursor's string */
static int
line_at(LineCursor *lc, int off)
{
	if (off < lc->off)
	{
		lc->off = 0;
		lc->line = 1;
	}
	for (; lc->off < off; lc->off++)
		if (lc->str[lc->off] == '\n')
			lc->line++;
	return lc->line;
}

/* a short excerpt of str from off, for messages */
static char *
excerpt(const char *str, int off)
{
	if (off < 0)
		return pstrdup("(nothing)");
	return pnstrdup(str + off, Min(strlen(str + off), 60));
}

/*
 * SELECT migrate._split_check(sql, chunk): NULL when the splitter and the
 * server's parser split sql into the same statements (same tokens, and the
 * splitter's offsets and lines exact), else where they first differ.
 */
Datum
migrate_split_check(PG_FUNCTION_ARGS)
{
	char	   *sql;
	int			chunk;
	int			len;
	int			ntokens;
	int		   *kinds;
	int		   *offs;
	List	   *parsed;
	Splitter   *sp;
	ListCell   *lc;
	Statement	st;
	int			i = 0;
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext stmtcxt = AllocSetContextCreate(CurrentMemoryContext,
												  "split check statement",
												  ALLOCSET_SMALL_SIZES);
	LineCursor	lines;

	/* a test tool: it may run for long on a large input */
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for the splitter check"),
				 errdetail("It is an internal function of migrate's tests.")));
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	chunk = PG_NARGS() < 2 || PG_ARGISNULL(1) ? READER_CHUNK : PG_GETARG_INT32(1);
	len = strlen(sql);
	offs = token_offsets(sql, &ntokens, &kinds);
	parsed = raw_parser(sql, RAW_PARSE_DEFAULT);
	sp = splitter_create_text_chunked(sql, len, chunk);
	lines.str = sql;
	lines.off = 0;
	lines.line = 1;

	/* statements are taken in a context reset each time, as the executor does */
	foreach(lc, parsed)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);
		int			to = raw->stmt_len > 0 ? raw->stmt_location + raw->stmt_len : len;
		TokenSpan	want = span_of(offs, kinds, ntokens, raw->stmt_location, to);
		TokenSpan	got;

		i++;
		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(stmtcxt);
		MemoryContextSwitchTo(stmtcxt);
		if (!splitter_next(sp, &st))
			PG_RETURN_TEXT_P(cstring_to_text(psprintf("statement %d: the splitter found no more statements, the server has \"%s\"",
													  i, excerpt(sql, want.first))));
		if (st.kind != STMT_SQL)
			PG_RETURN_TEXT_P(cstring_to_text(psprintf("statement %d: the splitter found a meta-command at line %d",
													  i, st.line)));
		MemoryContextSwitchTo(outer);
		got = span_of(offs, kinds, ntokens, (int) st.offset, (int) st.offset + st.len);
		if (got.first != want.first || got.last != want.last || got.count != want.count)
			PG_RETURN_TEXT_P(cstring_to_text(psprintf("statement %d: the splitter has %d tokens from \"%s\" to \"%s\", the server %d tokens from \"%s\" to \"%s\"",
													  i, got.count, excerpt(sql, got.first), excerpt(sql, got.last),
													  want.count, excerpt(sql, want.first), excerpt(sql, want.last))));
		if (st.offset != want.first || memcmp(st.text, sql + st.offset, st.len) != 0)
			PG_RETURN_TEXT_P(cstring_to_text(psprintf("statement %d: the splitter's text starts at byte %lld, its first token at %d",
													  i, (long long) st.offset, want.first)));
		if (st.line != line_at(&lines, want.first))
			PG_RETURN_TEXT_P(cstring_to_text(psprintf("statement %d: the splitter says line %d, it starts on line %d",
													  i, st.line, line_at(&lines, want.first))));
	}
	MemoryContextSwitchTo(stmtcxt);
	if (splitter_next(sp, &st))
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("statement %d: the splitter found one more, \"%s\", at line %d",
												  i + 1, excerpt(st.text, 0), st.line)));
	MemoryContextSwitchTo(outer);
	splitter_free(sp);
	MemoryContextDelete(stmtcxt);
	PG_RETURN_NULL();
}
