/*-------------------------------------------------------------------------
 *
 * splitter.c
 *	  Splitting a script into statements the way psql splits them.
 *
 * The splitter is a streaming lexer: it pulls the script in chunks and
 * holds only the statement it is in, so a file of any size is split in
 * memory bounded by its largest statement.  It follows psql's rules
 * (psqlscan.l): a statement ends at a ';' outside quotes, comments and
 * parentheses; quotes are '...' (with '' inside), E'...' (backslash
 * escapes; all strings when standard_conforming_strings is off), "...",
 * and dollar quotes $tag$...$tag$; comments are -- to the end of the line
 * (which, for psql and the server alike, a lone \r ends too) and nested
 * block comments; a $ inside an identifier or before a digit starts no
 * quote.  A block comment still open at the end of the script is an error,
 * as it is in psql (which sends it to the server): never a silent end that
 * would hide the statements inside it.  Inside CREATE [OR REPLACE] FUNCTION|PROCEDURE, BEGIN
 * (and CASE within it) ... END pairs are counted so that an SQL-standard
 * BEGIN ATOMIC body is one statement, as psql does.  A backslash outside
 * quotes starts a psql meta-command, which runs to the end of its line;
 * a statement still in progress there is handed out first (psql sends it).
 * After COPY ... FROM STDIN; the lines up to "\." are the statement's data
 * (splitter_copy_data), streamed in pieces that need not end at a line
 * end, so a data line of any length passes in bounded memory.
 *
 * Other tools' files add their own rules (the dialect a layout sets, see
 * splitter.h): in Drizzle Kit's files "--> statement-breakpoint" ends a
 * statement even without a ';' before it (Drizzle splits the file there),
 * and in sql-migrate's the lines between "-- +migrate StatementBegin" and
 * "-- +migrate StatementEnd" are one statement whatever ';' they hold,
 * ended only by the StatementEnd line (sql-migrate matches both lines
 * exactly, at the start of a line, and so does the splitter).
 *
 * Statements are returned from their first token, with the line it is
 * on, so error positions can be mapped back to lines of the file.  The
 * splitter executes nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"
#include "parser/parser.h"
#include "utils/guc.h"

#include "reader.h"
#include "source.h"
#include "splitter.h"

/* bytes that must be buffered ahead of the scan position, unless at EOF */
#define LOOKAHEAD 4

#define NO_STATEMENT ((size_t) -1)
#define WORD_LEN 16
#define TRACKED_WORDS 4

typedef enum LexState
{
	LX_NORMAL,
	LX_SQUOTE,					/* '...' */
	LX_ESTRING,					/* E'...' */
	LX_DQUOTE,					/* "..." */
	LX_DOLLAR,					/* $tag$...$tag$ */
	LX_BLOCK_COMMENT,			/* nested */
	LX_LINE_COMMENT
} LexState;

struct Splitter
{
	SplitterRead read;
	void	   *arg;
	MemoryContext cxt;			/* where the splitter's own memory lives */

	char	   *buf;
	size_t		cap;
	int64		base;			/* script offset of buf[0] */
	size_t		pos;			/* scan position */
	size_t		end;			/* end of buffered data */
	bool		eof;
	int			line;			/* line at pos */
	bool		backslash_quotes;	/* standard_conforming_strings = off */
	bool		in_copy;		/* COPY data follows at pos */
	bool		copy_midline;	/* COPY data: pos is inside a line */
	bool		prev_nl;		/* the byte before buf[0] ends a line (or none) */
	int			dialect;		/* SPLIT_* of splitter.h */
	bool		in_block;		/* inside a sql-migrate StatementBegin block */
	int			block_line;		/* the line of its StatementBegin */

	/* the statement being scanned */
	size_t		stmt_start;		/* NO_STATEMENT until its first token */
	int			stmt_line;
	LexState	lx;
	int			comment_depth;
	int			comment_line;	/* line the outermost block comment opened on */
	char	   *tag;			/* dollar-quote tag, without the $s */
	int			taglen;
	int			paren_depth;
	int			begin_depth;
	int			nwords;
	char		words[TRACKED_WORDS][WORD_LEN];
	bool		last_word_from; /* previous word was FROM (COPY) */
	bool		copy_from_stdin;
};

/* in-memory source for splitter_create_text */
typedef struct TextSource
{
	const char *text;
	size_t		len;
	size_t		pos;
	size_t		chunk;			/* bytes handed out per read */
} TextSource;

static size_t
text_read(void *arg, char *buf)
{
	TextSource *ts = (TextSource *) arg;
	size_t		n = Min(ts->len - ts->pos, ts->chunk);

	memcpy(buf, ts->text + ts->pos, n);
	ts->pos += n;
	return n;
}

/*
 * Whether '...' strings take backslash escapes, as psql follows the
 * server: read from the setting's variable, not looked up by name (that
 * lookup was a tenth of the splitter's cost per statement).
 */
static bool
backslash_quotes(void)
{
	return !standard_conforming_strings;
}

/* a splitter pulling text through read(arg, buf) */
Splitter *
splitter_create(SplitterRead read, void *arg)
{
	Splitter   *sp = palloc0(sizeof(Splitter));

	sp->read = read;
	sp->arg = arg;
	sp->cxt = CurrentMemoryContext;
	sp->cap = 2 * READER_CHUNK + 1;
	sp->buf = palloc(sp->cap);
	sp->line = 1;
	sp->prev_nl = true;
	sp->stmt_start = NO_STATEMENT;
	sp->backslash_quotes = backslash_quotes();
	return sp;
}

/* follow another tool's rules as well as psql's (SPLIT_* of splitter.h) */
void
splitter_set_dialect(Splitter *sp, int split)
{
	sp->dialect = split;
}

/* a splitter over text already in memory */
Splitter *
splitter_create_text(const char *text, size_t len)
{
	return splitter_create_text_chunked(text, len, READER_CHUNK);
}

/*
 * The same, handing the text to the splitter chunk bytes at a time (tests
 * use small chunks so that every token straddles a chunk boundary).
 */
Splitter *
splitter_create_text_chunked(const char *text, size_t len, size_t chunk)
{
	TextSource *ts = palloc(sizeof(TextSource));

	ts->text = text;
	ts->len = len;
	ts->pos = 0;
	ts->chunk = Max(Min(chunk, READER_CHUNK), 1);
	return splitter_create(text_read, ts);
}

void
splitter_free(Splitter *sp)
{
	pfree(sp->buf);
	if (sp->tag)
		pfree(sp->tag);
	pfree(sp);
}

/* the line the splitter has reached */
int
splitter_line(Splitter *sp)
{
	return sp->line;
}

/*
 * Read more text, keeping the current statement (or from pos if none).
 * Returns false at the end of the script.
 */
static bool
refill(Splitter *sp)
{
	size_t		keep;
	size_t		n;

	if (sp->eof)
		return false;
	/* every loop over the script reads through here: one check per chunk */
	CHECK_FOR_INTERRUPTS();

	keep = sp->stmt_start != NO_STATEMENT ? sp->stmt_start : sp->pos;
	if (keep > 0)
	{
		sp->prev_nl = sp->buf[keep - 1] == '\n';
		memmove(sp->buf, sp->buf + keep, sp->end - keep);
		sp->base += keep;
		sp->end -= keep;
		sp->pos -= keep;
		if (sp->stmt_start != NO_STATEMENT)
			sp->stmt_start -= keep;
	}
	if (sp->cap - sp->end < READER_CHUNK + 1)
	{
		size_t		newcap = Max(sp->cap * 2, sp->end + READER_CHUNK + 1);

		/*
		 * The server parses at most MaxAllocSize (1 GB) in one string, so a
		 * longer statement can only fail: fail here, holding at most that
		 * much, rather than doubling the buffer past it first.
		 */
		if (sp->end > MaxAllocSize - 1)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("statement starting at line %d is larger than 1 GB", sp->stmt_line),
					 errdetail("PostgreSQL parses at most 1 GB of SQL in one statement."),
					 errhint("Split the statement (a multi-row INSERT into several), or load the "
							 "data with COPY ... FROM STDIN.")));
		newcap = Min(newcap, (size_t) MaxAllocSize + READER_CHUNK + 1);
		sp->buf = repalloc_huge(sp->buf, newcap);
		sp->cap = newcap;
	}
	n = sp->read(sp->arg, sp->buf + sp->end);
	if (n == 0)
	{
		sp->eof = true;
		return false;
	}
	sp->end += n;
	return true;
}

/* make n bytes available at pos if the script has them */
static bool
need(Splitter *sp, size_t n)
{
	while (sp->end - sp->pos < n)
	{
		if (!refill(sp))
			return false;
	}
	return true;
}

static inline bool
is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || IS_HIGHBIT_SET(c);
}

static inline bool
is_ident_char(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* is pos at the start of a line? */
static bool
at_line_start(const Splitter *sp)
{
	return sp->pos > 0 ? sp->buf[sp->pos - 1] == '\n' : sp->prev_nl;
}

/*
 * Is the line at pos (at the start of a line) sql-migrate's command, as
 * sql-migrate reads it: "-- +migrate " then, after any blanks, command as
 * a word of its own?
 */
static bool
sql_migrate_command(Splitter *sp, const char *command)
{
	static const char prefix[] = "-- +migrate ";
	size_t		plen = sizeof(prefix) - 1;
	size_t		clen = strlen(command);
	const char *p;
	size_t		avail;
	size_t		i;

	/* the command is near the start of the line: 256 bytes decide */
	(void) need(sp, 256);
	p = sp->buf + sp->pos;
	avail = sp->end - sp->pos;
	if (avail < plen || memcmp(p, prefix, plen) != 0)
		return false;
	for (i = plen; i < avail && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
								 p[i] == '\f' || p[i] == '\v'); i++)
		;
	if (avail - i < clen || memcmp(p + i, command, clen) != 0)
		return false;
	i += clen;
	return i == avail || p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n' ||
		p[i] == '\f' || p[i] == '\v';
}

/* is "--> statement-breakpoint" at pos? */
static bool
drizzle_breakpoint(Splitter *sp)
{
	static const char marker[] = "--> statement-breakpoint";

	return need(sp, sizeof(marker) - 1) &&
		memcmp(sp->buf + sp->pos, marker, sizeof(marker) - 1) == 0;
}

/* forget the statement just handed out; the next starts from scratch */
static void
reset_statement(Splitter *sp)
{
	sp->stmt_start = NO_STATEMENT;
	sp->lx = LX_NORMAL;
	sp->comment_depth = 0;
	sp->paren_depth = 0;
	sp->begin_depth = 0;
	sp->nwords = 0;
	sp->last_word_from = false;
	sp->copy_from_stdin = false;
}

static bool
word_is(const Splitter *sp, int i, const char *w)
{
	return i < sp->nwords && strcmp(sp->words[i], w) == 0;
}

/* does the statement so far start CREATE [OR REPLACE] FUNCTION|PROCEDURE? */
static bool
in_routine_definition(const Splitter *sp)
{
	if (!word_is(sp, 0, "create"))
		return false;
	if (word_is(sp, 1, "function") || word_is(sp, 1, "procedure"))
		return true;
	return word_is(sp, 1, "or") && word_is(sp, 2, "replace") &&
		(word_is(sp, 3, "function") || word_is(sp, 3, "procedure"));
}

/* account for one unquoted word of the statement */
static void
track_word(Splitter *sp, const char *w, size_t len)
{
	char		lower[WORD_LEN];
	size_t		i;

	if (len >= WORD_LEN)
		len = WORD_LEN - 1;
	for (i = 0; i < len; i++)
		lower[i] = pg_ascii_tolower((unsigned char) w[i]);
	lower[len] = '\0';

	if (sp->nwords < TRACKED_WORDS)
		strcpy(sp->words[sp->nwords], lower);
	sp->nwords++;

	/* psql's heuristic for BEGIN ATOMIC ... END bodies */
	if (sp->paren_depth == 0 && in_routine_definition(sp))
	{
		if (strcmp(lower, "begin") == 0)
			sp->begin_depth++;
		else if (strcmp(lower, "case") == 0)
		{
			if (sp->begin_depth > 0)
				sp->begin_depth++;
		}
		else if (strcmp(lower, "end") == 0)
		{
			if (sp->begin_depth > 0)
				sp->begin_depth--;
		}
	}

	/*
	 * COPY ... FROM STDIN (or STDOUT, which the server takes the same way)
	 * outside parentheses: a query in parentheses is COPY ... TO.
	 */
	if (word_is(sp, 0, "copy") && sp->paren_depth == 0)
	{
		if (sp->last_word_from &&
			(strcmp(lower, "stdin") == 0 || strcmp(lower, "stdout") == 0))
			sp->copy_from_stdin = true;
		sp->last_word_from = strcmp(lower, "from") == 0;
	}
}

/* hand out the statement buf[stmt_start, stmt_end) */
static void
emit(Splitter *sp, Statement *st, StatementKind kind, size_t stmt_end)
{
	st->kind = kind;
	st->len = stmt_end - sp->stmt_start;
	st->text = pnstrdup(sp->buf + sp->stmt_start, st->len);
	st->offset = sp->base + sp->stmt_start;
	st->line = sp->stmt_line;
	st->end_line = sp->line;
	st->copy_from_stdin = kind == STMT_SQL && sp->copy_from_stdin;
	st->copy_line_rest = false;
	if (kind == STMT_SQL && sp->nwords > 0)
		strlcpy(st->first_word, sp->words[0], sizeof(st->first_word));
	else
		st->first_word[0] = '\0';
	/* the buffer need no longer keep the statement (COPY data may follow) */
	sp->stmt_start = NO_STATEMENT;
}

/*
 * Skip to the end of the current line (after COPY ... FROM STDIN;): the
 * data starts on the next line, as in psql.  Returns true if the rest of
 * the line held more than blanks and a -- comment (psql would run it as
 * SQL after the data; we refuse it rather than guess).  A -- comment ends
 * at a lone \r, as in psql: what follows it on the line counts.
 */
static bool
skip_rest_of_line(Splitter *sp)
{
	bool		blank = true;
	bool		comment = false;

	for (;;)
	{
		char		c;

		if (sp->end - sp->pos < 2 && !sp->eof)
		{
			(void) refill(sp);
			continue;
		}
		if (sp->pos >= sp->end)
			return !blank;
		c = sp->buf[sp->pos];
		if (c == '\n')
		{
			sp->pos++;
			sp->line++;
			return !blank;
		}
		if (!blank)
		{
			/* the verdict is in: skip to the end of the line */
			char	   *nl = memchr(sp->buf + sp->pos, '\n', sp->end - sp->pos);

			sp->pos = nl ? (size_t) (nl - sp->buf) : sp->end;
			continue;
		}
		if (comment)
		{
			if (c == '\r')
				comment = false;
			sp->pos++;
			continue;
		}
		if (c == '-' && sp->end - sp->pos >= 2 && sp->buf[sp->pos + 1] == '-')
		{
			comment = true;
			sp->pos += 2;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
		{
			sp->pos++;
			continue;
		}
		blank = false;
	}
}

/*
 * One character inside '...' or "...": a doubled quote stands for itself,
 * a single one ends the quote.
 */
static void
scan_quoted(Splitter *sp, const char *p, size_t avail, char quote)
{
	if (p[0] == quote)
	{
		if (avail >= 2 && p[1] == quote)
			sp->pos += 2;
		else
		{
			sp->pos++;
			sp->lx = LX_NORMAL;
		}
	}
	else
	{
		if (p[0] == '\n')
			sp->line++;
		sp->pos++;
	}
}

/*
 * The next statement, or false at the end of the script.  Data of a COPY
 * FROM STDIN that the caller did not read is skipped.
 */
bool
splitter_next(Splitter *sp, Statement *st)
{
	const char *dummy;
	size_t		dummylen;

	while (sp->in_copy)
		(void) splitter_copy_data(sp, &dummy, &dummylen);

	reset_statement(sp);
	/* a SET standard_conforming_strings earlier in the script counts */
	sp->backslash_quotes = backslash_quotes();
	for (;;)
	{
		size_t		avail = sp->end - sp->pos;
		char	   *p;
		unsigned char c;

		if (avail < LOOKAHEAD && !sp->eof)
		{
			(void) refill(sp);
			continue;
		}
		if (avail == 0)
		{
			if (sp->in_block)
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("\"-- +migrate StatementBegin\" at line %d has no matching "
								"\"-- +migrate StatementEnd\"", sp->block_line),
						 errdetail("sql-migrate takes the lines after StatementBegin as one "
								   "statement up to a StatementEnd line in the same section, "
								   "and refuses such a file too."),
						 errhint("Add a \"-- +migrate StatementEnd\" line after the statement.")));

			/*
			 * End of script inside a block comment that no statement holds:
			 * psql sends it to the server, which refuses it.  Ending quietly
			 * would drop every statement the comment swallowed.  (A comment
			 * inside a statement goes to the server with the statement.)
			 */
			if (sp->lx == LX_BLOCK_COMMENT && sp->stmt_start == NO_STATEMENT)
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("unterminated /* comment at line %d", sp->comment_line),
						 errdetail("The block comment that starts at line %d is not closed by */ "
								   "before the end of the script; psql refuses such a file too.",
								   sp->comment_line),
						 errhint("Close the comment with */ (block comments nest: each /* needs "
								 "its own */).")));
			/* end of script: a last statement needs no ';' */
			if (sp->stmt_start == NO_STATEMENT)
				return false;
			emit(sp, st, STMT_SQL, sp->pos);
			return true;
		}

		/*
		 * In a sql-migrate block only its StatementEnd line ends the
		 * statement, wherever the lexer is (sql-migrate does not lex).
		 */
		if (sp->in_block && at_line_start(sp) && sql_migrate_command(sp, "StatementEnd"))
		{
			sp->in_block = false;
			sp->lx = LX_NORMAL;
			sp->comment_depth = 0;
			/* the StatementEnd line is read next, as a comment */
			if (sp->stmt_start != NO_STATEMENT)
			{
				emit(sp, st, STMT_SQL, sp->pos);
				return true;
			}
			continue;
		}

		p = sp->buf + sp->pos;
		c = (unsigned char) *p;

		switch (sp->lx)
		{
			case LX_LINE_COMMENT:
				{
					/* psql's and the server's -- comments end at \n or \r */
					const char *q = p;
					const char *e = p + avail;

					while (q < e && *q != '\n' && *q != '\r')
						q++;
					if (q == e)
						sp->pos = sp->end;
					else
					{
						sp->pos = q - sp->buf;
						sp->lx = LX_NORMAL;
					}
					continue;
				}

			case LX_BLOCK_COMMENT:
				if (c == '*' && avail >= 2 && p[1] == '/')
				{
					sp->pos += 2;
					if (--sp->comment_depth == 0)
						sp->lx = LX_NORMAL;
				}
				else if (c == '/' && avail >= 2 && p[1] == '*')
				{
					sp->pos += 2;
					sp->comment_depth++;
				}
				else
				{
					if (c == '\n')
						sp->line++;
					sp->pos++;
				}
				continue;

			case LX_SQUOTE:
			case LX_ESTRING:
				if (c == '\\' && (sp->lx == LX_ESTRING || sp->backslash_quotes))
				{
					if (avail >= 2 && p[1] == '\n')
						sp->line++;
					sp->pos += Min(avail, 2);
				}
				else
					scan_quoted(sp, p, avail, '\'');
				continue;

			case LX_DQUOTE:
				scan_quoted(sp, p, avail, '"');
				continue;

			case LX_DOLLAR:
				if (c == '$')
				{
					if (!need(sp, sp->taglen + 2))
					{
						sp->pos++;
						continue;
					}
					p = sp->buf + sp->pos;
					if (memcmp(p + 1, sp->tag, sp->taglen) == 0 && p[sp->taglen + 1] == '$')
					{
						sp->pos += sp->taglen + 2;
						sp->lx = LX_NORMAL;
					}
					else
						sp->pos++;
				}
				else
				{
					if (c == '\n')
						sp->line++;
					sp->pos++;
				}
				continue;

			case LX_NORMAL:
				break;
		}

		/* LX_NORMAL */
		if (c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
		{
			if (c == '\n')
				sp->line++;
			sp->pos++;
			continue;
		}
		if (c == '-' && avail >= 2 && p[1] == '-')
		{
			/* Drizzle splits its files at every breakpoint */
			if ((sp->dialect & SPLIT_BREAKPOINTS) && sp->stmt_start != NO_STATEMENT &&
				drizzle_breakpoint(sp))
			{
				emit(sp, st, STMT_SQL, sp->pos);
				return true;
			}
			if ((sp->dialect & SPLIT_STATEMENT_BLOCKS) && !sp->in_block &&
				at_line_start(sp) && sql_migrate_command(sp, "StatementBegin"))
			{
				sp->in_block = true;
				sp->block_line = sp->line;
			}
			sp->lx = LX_LINE_COMMENT;
			sp->pos += 2;
			continue;
		}
		if (c == '/' && avail >= 2 && p[1] == '*')
		{
			sp->lx = LX_BLOCK_COMMENT;
			sp->comment_depth = 1;
			sp->comment_line = sp->line;
			sp->pos += 2;
			continue;
		}
		if (c == '\\' && !sp->in_block)
		{
			/* a psql meta-command: the rest of the line */
			char	   *nl;

			if (sp->stmt_start != NO_STATEMENT)
			{
				/* psql runs the statement typed so far first, as for \g */
				emit(sp, st, STMT_SQL, sp->pos);
				return true;
			}
			nl = memchr(p, '\n', avail);
			if (nl == NULL && refill(sp))
				continue;
			sp->stmt_start = sp->pos;
			sp->stmt_line = sp->line;
			sp->pos = nl ? (size_t) (nl - sp->buf) : sp->end;
			emit(sp, st, STMT_META, sp->pos);
			return true;
		}
		if (c == ';' && sp->stmt_start == NO_STATEMENT)
		{
			/* an empty statement */
			sp->pos++;
			continue;
		}

		/* a token: the statement starts here if it has not yet */
		if (sp->stmt_start == NO_STATEMENT)
		{
			sp->stmt_start = sp->pos;
			sp->stmt_line = sp->line;
		}

		if (c == ';')
		{
			sp->pos++;
			if (sp->paren_depth == 0 && sp->begin_depth == 0 && !sp->in_block)
			{
				emit(sp, st, STMT_SQL, sp->pos);
				if (st->copy_from_stdin)
				{
					st->copy_line_rest = skip_rest_of_line(sp);
					sp->in_copy = true;
					sp->copy_midline = false;
				}
				return true;
			}
			continue;
		}
		if (c == '\'')
		{
			sp->lx = sp->backslash_quotes ? LX_ESTRING : LX_SQUOTE;
			sp->pos++;
			continue;
		}
		if (c == '"')
		{
			sp->lx = LX_DQUOTE;
			sp->pos++;
			continue;
		}
		if (c == '(')
		{
			sp->paren_depth++;
			sp->pos++;
			continue;
		}
		if (c == ')')
		{
			if (sp->paren_depth > 0)
				sp->paren_depth--;
			sp->pos++;
			continue;
		}
		if (c == '$')
		{
			size_t		k = 1;

			/* $n is a parameter; otherwise $tag$ or $$ opens a dollar quote */
			if (!need(sp, 2))
			{
				sp->pos++;
				continue;
			}
			p = sp->buf + sp->pos;
			if (is_ident_start((unsigned char) p[1]) || p[1] == '$')
			{
				for (;;)
				{
					while (sp->pos + k < sp->end && is_ident_char((unsigned char) p[k]) && p[k] != '$')
						k++;
					if (sp->pos + k < sp->end || !refill(sp))
						break;
					p = sp->buf + sp->pos;
				}
				if (sp->pos + k < sp->end && p[k] == '$')
				{
					if (sp->tag)
						pfree(sp->tag);
					sp->taglen = k - 1;
					/* not in the caller's context: that may be reset per statement */
					sp->tag = MemoryContextAlloc(sp->cxt, sp->taglen + 1);
					memcpy(sp->tag, p + 1, sp->taglen);
					sp->tag[sp->taglen] = '\0';
					sp->lx = LX_DOLLAR;
					sp->pos += k + 1;
					continue;
				}
			}
			sp->pos++;
			continue;
		}
		if (is_ident_start(c))
		{
			size_t		k = 1;

			/* the whole word must be in the buffer */
			for (;;)
			{
				while (sp->pos + k < sp->end && is_ident_char((unsigned char) p[k]))
					k++;
				if (sp->pos + k < sp->end || !refill(sp))
					break;
				p = sp->buf + sp->pos;
			}
			/* E'...' is an escape string; U&'...' and others are standard */
			if (k == 1 && (c == 'e' || c == 'E') && sp->pos + 1 < sp->end && p[1] == '\'')
			{
				sp->lx = LX_ESTRING;
				sp->pos += 2;
				continue;
			}
			track_word(sp, p, k);
			sp->pos += k;
			continue;
		}
		if (c >= '0' && c <= '9')
		{
			/* a number, with any identifier characters stuck to it */
			size_t		k = 1;

			while (sp->pos + k < sp->end && is_ident_char((unsigned char) p[k]) && p[k] != '$')
				k++;
			sp->pos += k;
			continue;
		}
		sp->pos++;
	}
}

/* could a line starting with these n bytes (no newline yet) be "\."? */
static bool
may_be_end_marker(const char *line, size_t n)
{
	return n == 0 || (n == 1 && line[0] == '\\') ||
		(n == 2 && line[0] == '\\' && line[1] == '.');
}

/*
 * The next piece of COPY data in *data and *len, valid until the next
 * call.  Returns false once the "\." line (or the end of the script) is
 * reached; the statements go on after it.  Pieces are whole lines when
 * the buffer holds them; a line longer than the buffer is handed out in
 * parts, so memory stays bounded whatever the data.
 */
bool
splitter_copy_data(Splitter *sp, const char **data, size_t *len)
{
	for (;;)
	{
		size_t		scan = sp->pos;
		int			lines = 0;
		bool		midline = sp->copy_midline;
		bool		ended = false;

		while (scan < sp->end)
		{
			char	   *line = sp->buf + scan;
			size_t		left = sp->end - scan;
			char	   *nl = memchr(line, '\n', left);
			size_t		linelen = nl ? (size_t) (nl - line) : left;

			if (!midline)
			{
				/* at the start of a line: the end marker is "\." alone */
				if (linelen == 2 && line[0] == '\\' && line[1] == '.' &&
					(nl != NULL || sp->eof))
				{
					ended = true;
					break;
				}
				if (nl == NULL && !sp->eof && may_be_end_marker(line, linelen))
					break;		/* decide once more text is there */
			}
			if (nl == NULL)
			{
				/* the buffer ends inside this line: hand out what there is */
				scan = sp->end;
				midline = !sp->eof;
				break;
			}
			scan += linelen + 1;
			lines++;
			midline = false;
		}

		if (scan > sp->pos)
		{
			*data = sp->buf + sp->pos;
			*len = scan - sp->pos;
			sp->pos = scan;
			sp->line += lines;
			sp->copy_midline = midline;
			return true;
		}
		if (ended)
		{
			/* consume the "\." line */
			sp->pos = scan + 2;
			if (sp->pos < sp->end && sp->buf[sp->pos] == '\n')
			{
				sp->pos++;
				sp->line++;
			}
			sp->in_copy = false;
			return false;
		}
		if (sp->eof && sp->pos >= sp->end)
		{
			sp->in_copy = false;
			return false;
		}
		(void) refill(sp);
	}
}

/*
 * The raw parse of one statement, or NIL when it does not parse (left to
 * execution, which reports it with its line).  A cancel or an error that
 * is not about the text goes on.
 */
List *
statement_parse(const char *text)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *parsed = NIL;

	PG_TRY();
	{
		parsed = raw_parser(text, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			category;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
		if (category != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION &&
			category != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		/* the raw parser holds nothing but memory: forgetting the error is safe */
		FlushErrorState();
		parsed = NIL;
	}
	PG_END_TRY();
	return parsed;
}
