/*-------------------------------------------------------------------------
 *
 * txblocks.c
 *	  A migration file's own transaction control: which files run in one
 *	  transaction with their BEGIN and COMMIT absorbed, and which run
 *	  outside a transaction as psql runs them, in BEGIN ... COMMIT blocks.
 *
 * A migration runs in a transaction of its own, so a file whose
 * transaction control is only a plain BEGIN (or START TRANSACTION) as its
 * first statement and a COMMIT (or END) as its last is run in it, and
 * those two are absorbed (executor.c).  Any other transaction control is
 * psql's: Prisma writes "BEGIN; CREATE TYPE ..._new ...; COMMIT;" followed
 * by more statements when it removes an enum value, and hand-written
 * golang-migrate and Drizzle files hold several blocks.  Such a file runs
 * outside a transaction (nontx.c), in the background worker (worker.c),
 * where every statement goes to a session at top level: the statements
 * outside blocks commit one by one, each BEGIN ... COMMIT is one atomic
 * transaction, a ROLLBACK ends its block rolling it back, SAVEPOINT,
 * RELEASE and ROLLBACK TO work inside a block, and what makes no sense
 * (a COMMIT with no block open) draws PostgreSQL's own warning.
 *
 * The shape is judged statement by statement, in the one pass that runs
 * the file in a transaction (executor.c): the first statement that shows
 * the file is not of the absorbed shape (a BEGIN after other statements, a
 * statement after a COMMIT, a ROLLBACK, a SAVEPOINT, a BEGIN or COMMIT
 * with options) stops the pass before it runs, as a statement that needs
 * top level does; migration.c then rolls back what ran and runs the file
 * again, from its start, in the worker.  A file without such statements
 * is read once, as before.  PREPARE TRANSACTION is left to the executor
 * and the worker, which refuse it everywhere; COMMIT PREPARED and
 * ROLLBACK PREPARED are statements that need top level (nontx.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "nodes/parsenodes.h"

#include "txblocks.h"

/* how much of a statement a reason quotes */
#define TXBLOCKS_SNIPPET 40

/* first word of a transaction control statement? */
static bool
transaction_word(const char *w)
{
	static const char *const words[] = {
		"begin", "start", "commit", "end", "rollback", "abort",
		"savepoint", "release", "prepare", NULL
	};
	int			i;

	for (i = 0; words[i]; i++)
		if (strcmp(w, words[i]) == 0)
			return true;
	return false;
}

/*
 * The statement as a TransactionStmt, or NULL (also for one it cannot
 * parse: running it gives the error).  Only statements whose first word
 * can start transaction control are parsed.
 */
TransactionStmt *
txblocks_transaction_stmt(const Statement *st)
{
	List	   *parsed;
	Node	   *node;

	if (st->kind != STMT_SQL || !transaction_word(st->first_word))
		return NULL;
	parsed = statement_parse(st->text);
	if (list_length(parsed) != 1)
		return NULL;
	node = ((RawStmt *) linitial(parsed))->stmt;
	return IsA(node, TransactionStmt) ? (TransactionStmt *) node : NULL;
}

/* the statement's first line without its ';', shortened, for a reason */
static char *
snippet(const Statement *st)
{
	int			len = strcspn(st->text, "\n;");
	int			cut;

	while (len > 0 && (st->text[len - 1] == ' ' || st->text[len - 1] == '\t' ||
					   st->text[len - 1] == '\r'))
		len--;
	cut = len > TXBLOCKS_SNIPPET ? pg_mbcliplen(st->text, len, TXBLOCKS_SNIPPET) : len;
	return psprintf("%.*s%s", cut, st->text, cut < len ? "..." : "");
}

/*
 * The next statement st of a migration's own file: does the file, from
 * here on, need to run outside a transaction because of its transaction
 * control?  Then the reason, naming the statement and its line (this
 * statement has not run).  Otherwise NULL, and shape remembers st.  A
 * \i or \ir counts as a statement before a BEGIN; \restrict and
 * \unrestrict do not (they run nothing).
 */
char *
txblocks_next(TxShape *shape, const Statement *st)
{
	TransactionStmt *ts;

	if (st->kind == STMT_META && strncmp(st->text, "\\i", 2) != 0)
		return NULL;
	if (shape->commit_line > 0)
		return psprintf("its own transaction control: \"COMMIT\" at line %d is followed by "
						"more statements", shape->commit_line);

	ts = txblocks_transaction_stmt(st);
	shape->statements++;
	if (ts == NULL)
		return NULL;
	switch (ts->kind)
	{
		case TRANS_STMT_BEGIN:
		case TRANS_STMT_START:
			if (shape->statements == 1 && ts->options == NIL)
				return NULL;	/* the leading BEGIN, absorbed */
			if (shape->statements > 1)
				return psprintf("its own transaction control: \"%s\" at line %d comes after "
								"other statements", snippet(st), st->line);
			break;
		case TRANS_STMT_COMMIT:
			if (!ts->chain)
			{
				/* absorbed if it is the last statement */
				shape->commit_line = st->line;
				return NULL;
			}
			break;
		case TRANS_STMT_PREPARE:
		case TRANS_STMT_COMMIT_PREPARED:
		case TRANS_STMT_ROLLBACK_PREPARED:
			/* refused everywhere, or a statement that needs top level */
			return NULL;
		default:
			break;
	}
	return psprintf("its own transaction control: \"%s\" at line %d", snippet(st), st->line);
}

/*
 * Did statement st, which the worker ran and which left no transaction
 * block open, commit anything?  in_block: a block was open before it.  A
 * statement outside a block commits; a COMMIT (or END) commits its block;
 * a ROLLBACK (or ABORT) rolls its block back, and a COMMIT or ROLLBACK with
 * no block open changes nothing (PostgreSQL warns).  So a failure after a
 * block that was rolled back does not count as one after a commit.
 */
bool
txblocks_commits(const Statement *st, bool in_block)
{
	TransactionStmt *ts = txblocks_transaction_stmt(st);

	if (ts == NULL)
		return true;
	switch (ts->kind)
	{
		case TRANS_STMT_COMMIT:
			return in_block;
		case TRANS_STMT_ROLLBACK:
			return false;
		default:
			return true;
	}
}

/*
 * Could text[0..len) hold transaction control that makes a file run
 * outside a transaction?  Only if one of the words that end a block or
 * work inside one is in it: COMMIT, ROLLBACK, ABORT, SAVEPOINT, RELEASE.
 * A cheap look at the first chunk of a file before any of it runs (a
 * BEGIN ... END block, or a BEGIN with options and no COMMIT, is found
 * as the pass reaches it); false positives only cost a closer look.
 */
bool
txblocks_text_may_need(const char *text, size_t len)
{
	static const char *const words[] = {
		"commit", "rollback", "abort", "savepoint", "release", NULL
	};
	const char *p;
	const char *end = text + len;
	int			i;

	for (p = text; p < end; p++)
	{
		char		c = *p | 0x20;	/* ASCII lower case; no other byte matches */

		if (c != 'c' && c != 'r' && c != 'a' && c != 's')
			continue;
		for (i = 0; words[i]; i++)
		{
			size_t		wl = strlen(words[i]);

			if (c == words[i][0] && (size_t) (end - p) >= wl &&
				pg_strncasecmp(p, words[i], wl) == 0)
				return true;
		}
	}
	return false;
}
