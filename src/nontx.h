/*-------------------------------------------------------------------------
 *
 * nontx.h
 *	  Migrations that run outside a transaction: which ones, and what a
 *	  failure part-way leaves behind.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_NONTX_H
#define MIGRATE_NONTX_H

#include "migrate.h"
#include "worker.h"

/* what to do about a dirty migration (apply's warning, plan_check's refusal) */
#define NONTX_REPAIR_HINT \
	"Repair the database by hand: drop any invalid index it left, and undo what its " \
	"committed statements did (or make them idempotent, e.g. CREATE INDEX CONCURRENTLY " \
	"IF NOT EXISTS), since the migration runs again from its first statement. " \
	"Then run SELECT migrate.repair(dir) and apply again."

struct Statement;
extern bool nontx_name_says(const MigrationScript *s, char **why);
extern const char *nontx_marker(const char *line, size_t len);
extern bool nontx_may_need(const struct Statement *st);
extern bool nontx_text_may_need(const char *text, size_t len);
extern const char *nontx_needs_top_level(Node *n);
extern List *nontx_invalid_indexes(void);
extern bool nontx_describe_failure(const char *script, WorkerSession *ws,
								   List *invalid_before, const char *message,
								   int error_line, char **summary);
extern void nontx_enum_hint(ErrorData *edata, bool nonatomic);

#endif							/* MIGRATE_NONTX_H */
