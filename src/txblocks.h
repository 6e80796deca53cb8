/*-------------------------------------------------------------------------
 *
 * txblocks.h
 *	  A migration file's own transaction control: absorbed, or BEGIN ...
 *	  COMMIT blocks that make the file run outside a transaction.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_TXBLOCKS_H
#define MIGRATE_TXBLOCKS_H

#include "nodes/parsenodes.h"
#include "splitter.h"

/* what the statements of a file so far say about its transaction control */
typedef struct TxShape
{
	int			statements;		/* statements seen (SQL, \i and \ir) */
	int			commit_line;	/* line of a COMMIT seen, or 0 */
} TxShape;

extern TransactionStmt *txblocks_transaction_stmt(const Statement *st);
extern char *txblocks_next(TxShape *shape, const Statement *st);
extern bool txblocks_commits(const Statement *st, bool in_block);
extern bool txblocks_text_may_need(const char *text, size_t len);

#endif							/* MIGRATE_TXBLOCKS_H */
