/*-------------------------------------------------------------------------
 *
 * nontx.c
 *	  Migrations that run outside a transaction: deciding which files must,
 *	  and describing what one that failed part-way left behind.
 *
 * A file runs outside a transaction, statement by statement in a
 * background worker (worker.c), when one of its statements can only run
 * at top level (the statements whose execution calls
 * PreventInTransactionBlock: CREATE/DROP INDEX CONCURRENTLY, REINDEX
 * CONCURRENTLY, VACUUM, CREATE/DROP DATABASE, ...), or when it carries
 * another tool's marker for that: a line "-- migrate:up transaction:false"
 * (dbmate), "-- +migrate Up notransaction" or "-- +migrate Down
 * notransaction" (sql-migrate, for its up or down section), ".autocommit."
 * in its name, or a marker its layout found beside it
 * (MigrationScript.nontx_marker: diesel's metadata.toml with
 * run_in_transaction = false), or when its own transaction control is more
 * than a leading BEGIN and a trailing COMMIT (BEGIN ... COMMIT blocks,
 * txblocks.c).  Statements are judged from their raw parse tree, in the
 * one pass that runs the file (executor.c): the file starts in a
 * transaction, and the first statement that needs top level (or a
 * marker) stops it before that statement runs; migration.c rolls back
 * what ran and runs the file again, from its start, in the worker.  Only
 * statements whose first word can start such a statement are parsed at
 * all.  The statements of a file a migration includes with \i or \ir
 * count as its own (the worker runs the \i too); markers count only in
 * the migration's own file, where its tool writes them.
 *
 * Such a file cannot be rolled back: if it fails part-way, the statements
 * before the failure stay committed, and a failed concurrent index build
 * leaves an INVALID index.  The migration is then recorded as dirty, with
 * a summary that says which statement succeeded last and which invalid
 * indexes appeared, and further runs refuse until it is repaired by hand.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "compat.h"
#include "nontx.h"
#include "reader.h"
#include "source.h"
#include "splitter.h"

/* how much of a line is looked at for a marker */
#define MARKER_LINE_MAX 128

/* the other tools' marker on one line, or NULL */
static const char *
marker_of_line(char *line)
{
	char	   *words[8];
	int			n = 0;
	char	   *p = line;
	int			i;

	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (strncmp(p, "--", 2) != 0)
		return NULL;
	p += 2;
	while (n < (int) lengthof(words))
	{
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		words[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
	}

	/* dbmate: -- migrate:up transaction:false */
	if (n >= 2 && pg_strcasecmp(words[0], "migrate:up") == 0)
		for (i = 1; i < n; i++)
			if (pg_strcasecmp(words[i], "transaction:false") == 0)
				return "-- migrate:up transaction:false";
	/* sql-migrate: -- +migrate Up notransaction, and the same for Down */
	if (n >= 3 && pg_strcasecmp(words[0], "+migrate") == 0 &&
		(pg_strcasecmp(words[1], "up") == 0 || pg_strcasecmp(words[1], "down") == 0))
		for (i = 2; i < n; i++)
			if (pg_strcasecmp(words[i], "notransaction") == 0)
				return pg_strcasecmp(words[1], "up") == 0 ?
					"-- +migrate Up notransaction" : "-- +migrate Down notransaction";
	return NULL;
}

/*
 * Another tool's "run outside a transaction" marker on this line (the
 * first MARKER_LINE_MAX bytes of it), or NULL.
 */
const char *
nontx_marker(const char *line, size_t len)
{
	char		buf[MARKER_LINE_MAX];
	size_t		n = Min(len, sizeof(buf) - 1);

	/* cheap test first: a marker line is a -- comment */
	if (memchr(line, '-', n) == NULL)
		return NULL;
	memcpy(buf, line, n);
	buf[n] = '\0';
	return marker_of_line(buf);
}

/* might a statement starting with this word need top level? */
static bool
candidate_word(const char *w)
{
	static const char *const words[] = {
		"create", "drop", "reindex", "vacuum", "cluster", "alter", "discard",
		"commit", "rollback", NULL
	};
	int			i;

	for (i = 0; words[i]; i++)
		if (strcmp(w, words[i]) == 0)
			return true;
	return false;
}

/* is option name set (to true) in a DefElem list? */
static bool
has_option(List *options, const char *name, bool check_value)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return check_value ? defGetBoolean(def) : true;
	}
	return false;
}

/*
 * The statement a raw parse tree is, if it can only run at top level
 * (outside a transaction block), or NULL.  These are the statements whose
 * execution calls PreventInTransactionBlock.
 */
const char *
nontx_needs_top_level(Node *n)
{
	switch (nodeTag(n))
	{
		case T_IndexStmt:
			return ((IndexStmt *) n)->concurrent ? "CREATE INDEX CONCURRENTLY" : NULL;
		case T_DropStmt:
			return ((DropStmt *) n)->concurrent ? "DROP INDEX CONCURRENTLY" : NULL;
		case T_ReindexStmt:
			{
				ReindexStmt *r = (ReindexStmt *) n;

				if (r->kind == REINDEX_OBJECT_SCHEMA)
					return "REINDEX SCHEMA";
				if (r->kind == REINDEX_OBJECT_SYSTEM)
					return "REINDEX SYSTEM";
				if (r->kind == REINDEX_OBJECT_DATABASE)
					return "REINDEX DATABASE";
				if (has_option(r->params, "concurrently", true))
					return "REINDEX CONCURRENTLY";
				return NULL;
			}
		case T_VacuumStmt:
			return ((VacuumStmt *) n)->is_vacuumcmd ? "VACUUM" : NULL;
		case T_ClusterStmt:
			/* CLUSTER without a table clusters each table in its own transaction */
			return ((ClusterStmt *) n)->relation == NULL ? "CLUSTER" : NULL;
		case T_CreatedbStmt:
			return "CREATE DATABASE";
		case T_DropdbStmt:
			return "DROP DATABASE";
		case T_AlterDatabaseStmt:
			return has_option(((AlterDatabaseStmt *) n)->options, "tablespace", false) ?
				"ALTER DATABASE SET TABLESPACE" : NULL;
		case T_CreateTableSpaceStmt:
			return "CREATE TABLESPACE";
		case T_DropTableSpaceStmt:
			return "DROP TABLESPACE";
		case T_AlterSystemStmt:
			return "ALTER SYSTEM";
		case T_DiscardStmt:
			return ((DiscardStmt *) n)->target == DISCARD_ALL ? "DISCARD ALL" : NULL;
		case T_TransactionStmt:
			switch (((TransactionStmt *) n)->kind)
			{
				case TRANS_STMT_COMMIT_PREPARED:
					return "COMMIT PREPARED";
				case TRANS_STMT_ROLLBACK_PREPARED:
					return "ROLLBACK PREPARED";
				default:
					return NULL;
			}
		case T_CreateSubscriptionStmt:
			/* with a replication slot (the default) */
			return "CREATE SUBSCRIPTION";
		case T_DropSubscriptionStmt:
			return "DROP SUBSCRIPTION";
		case T_AlterSubscriptionStmt:
			switch (((AlterSubscriptionStmt *) n)->kind)
			{
				case ALTER_SUBSCRIPTION_REFRESH:
				case ALTER_SUBSCRIPTION_SET_PUBLICATION:
				case ALTER_SUBSCRIPTION_ADD_PUBLICATION:
				case ALTER_SUBSCRIPTION_DROP_PUBLICATION:
					/* with refresh (the default) */
					return "ALTER SUBSCRIPTION with refresh";
				default:
					return NULL;
			}
		case T_AlterTableStmt:
			{
				ListCell   *lc;

				foreach(lc, ((AlterTableStmt *) n)->cmds)
				{
					AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

					if (cmd->subtype == AT_DetachPartition &&
						((PartitionCmd *) cmd->def)->concurrent)
						return "ALTER TABLE ... DETACH PARTITION CONCURRENTLY";
				}
				return NULL;
			}
		default:
			return NULL;
	}
}

/*
 * Could a CREATE, DROP or ALTER statement need top level?  Only if one of
 * the keywords that make it so is in its text: CONCURRENTLY, DATABASE,
 * TABLESPACE, SUBSCRIPTION or SYSTEM.  A keyword is always written out
 * (no quoting or escape spells one), so a statement without any of these
 * words, as most CREATE TABLE, CREATE FUNCTION and ALTER TABLE statements
 * are, need not be parsed here: parsing it cost more than the rest of the
 * scan (callgrind, bench/instructions.sh).  Other candidate words (VACUUM,
 * REINDEX, ...) are rare and always parsed.
 */
static bool
may_need_top_level(const Statement *st)
{
	static const struct
	{
		const char *word;
		size_t		len;
	}			keywords[] = {
		{"concurrently", 12}, {"database", 8}, {"tablespace", 10},
		{"subscription", 12}, {"system", 6}
	};
	const char *p;
	const char *end = st->text + st->len;
	int			i;

	if (strcmp(st->first_word, "create") != 0 && strcmp(st->first_word, "drop") != 0 &&
		strcmp(st->first_word, "alter") != 0)
		return true;
	for (p = st->text; p < end; p++)
	{
		char		c = *p | 0x20;	/* ASCII lower case; no other byte matches */

		if (c != 'c' && c != 'd' && c != 't' && c != 's')
			continue;
		for (i = 0; i < (int) lengthof(keywords); i++)
			if (c == keywords[i].word[0] && (size_t) (end - p) >= keywords[i].len &&
				(p[1] | 0x20) == keywords[i].word[1] &&
				pg_strncasecmp(p, keywords[i].word, keywords[i].len) == 0)
				return true;
	}
	return false;
}

/*
 * Could any statement in text[0..len) need top level?  Only if one of the
 * words that can make one so is in it: the keywords above, and the first
 * words VACUUM, REINDEX, CLUSTER, DISCARD and PREPARED (of COMMIT or
 * ROLLBACK PREPARED).  A cheap look at a whole chunk of a file, before
 * any of it runs; false positives only cost a closer look.
 */
bool
nontx_text_may_need(const char *text, size_t len)
{
	static const char *const words[] = {
		"concurrently", "database", "tablespace", "subscription", "system",
		"vacuum", "reindex", "cluster", "discard", "prepared", NULL
	};
	static bool first[256];
	static bool ready = false;
	const char *p;
	const char *end = text + len;
	int			i;

	if (!ready)
	{
		for (i = 0; words[i]; i++)
		{
			first[(unsigned char) words[i][0]] = true;
			first[(unsigned char) (words[i][0] - 'a' + 'A')] = true;
		}
		ready = true;
	}
	for (p = text; p < end; p++)
	{
		if (!first[(unsigned char) *p])
			continue;
		for (i = 0; words[i]; i++)
		{
			size_t		wl = strlen(words[i]);

			if ((size_t) (end - p) >= wl && (p[1] | 0x20) == words[i][1] &&
				pg_strncasecmp(p, words[i], wl) == 0)
				return true;
		}
	}
	return false;
}

/*
 * Might statement st need top level, so that it is worth parsing to know?
 * Only statements whose first word can start one, and for CREATE, DROP
 * and ALTER only those with one of the keywords in their text.
 */
bool
nontx_may_need(const Statement *st)
{
	return candidate_word(st->first_word) && may_need_top_level(st);
}

/*
 * Does the name of script s say it runs outside a transaction (".autocommit."
 * in it), or a marker its layout found beside it (diesel's metadata.toml)?
 * The only verdicts known before the file is read; the rest is found while
 * it runs (executor.c).
 */
bool
nontx_name_says(const MigrationScript *s, char **why)
{
	const char *base = strrchr(s->name, '/');

	base = base ? base + 1 : s->name;
	if (strstr(base, ".autocommit.") != NULL)
	{
		*why = pstrdup("\".autocommit.\" in its name");
		return true;
	}
	if (s->nontx_marker)
	{
		*why = pstrdup(s->nontx_marker);
		return true;
	}
	return false;
}

/* OIDs of the invalid indexes of the database now */
List *
nontx_invalid_indexes(void)
{
	List	   *oids = NIL;
	uint64		i;
	int			ret;

	ret = SPI_execute("SELECT indexrelid FROM pg_catalog.pg_index WHERE NOT indisvalid",
					  true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not list invalid indexes: %s", SPI_result_code_string(ret));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		oids = lappend_oid(oids, DatumGetObjectId(d));
	}
	SPI_freetuptable(SPI_tuptable);
	return oids;
}

/* the invalid indexes that are not in before, as a list for a message, or NULL */
static char *
new_invalid_indexes(List *before, int *count)
{
	StringInfoData buf;
	uint64		i;
	int			ret;

	*count = 0;
	ret = SPI_execute("SELECT i.indexrelid, "
					  "pg_catalog.format('%I.%I', n.nspname, c.relname) "
					  "FROM pg_catalog.pg_index i "
					  "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid "
					  "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace "
					  "WHERE NOT i.indisvalid ORDER BY 2",
					  true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not list invalid indexes: %s", SPI_result_code_string(ret));

	initStringInfo(&buf);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			oid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 1, &isnull));

		if (list_member_oid(before, oid))
			continue;
		if (buf.len > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
		(*count)++;
	}
	SPI_freetuptable(SPI_tuptable);
	return *count > 0 ? buf.data : NULL;
}

/*
 * A migration run outside a transaction failed with message (at
 * error_line, 0 if unknown).  Returns whether it left the database
 * changed (dirty): a statement committed before the failure, or an
 * invalid index appeared.  *summary is what the history row records:
 * the error, the last statement that succeeded and the invalid indexes.
 * The worker must have stopped; the caller must be SPI-connected.
 */
bool
nontx_describe_failure(const char *script, WorkerSession *ws, List *invalid_before,
					   const char *message, int error_line, char **summary)
{
	WorkerProgress progress;
	StringInfoData buf;
	int			ninvalid;
	char	   *invalid;

	memset(&progress, 0, sizeof(progress));
	if (ws)
		progress = worker_progress(ws);
	invalid = new_invalid_indexes(invalid_before, &ninvalid);

	initStringInfo(&buf);
	appendStringInfoString(&buf, message);
	if (error_line > 0)
		appendStringInfo(&buf, " (line %d)", error_line);
	appendStringInfoString(&buf, ". It ran outside a transaction: ");
	if (progress.committed_line > 0)
	{
		appendStringInfo(&buf, "its statements up to line %d", progress.committed_line);
		if (progress.committed_file && strcmp(progress.committed_file, script) != 0)
			appendStringInfo(&buf, " of included file %s", progress.committed_file);
		appendStringInfo(&buf, " were committed, the last one being \"%s\"",
						 progress.committed_text);
	}
	else
		appendStringInfoString(&buf, "none of its statements was committed");
	if (invalid)
		appendStringInfo(&buf, "; it left the invalid %s %s",
						 ninvalid == 1 ? "index" : "indexes", invalid);
	appendStringInfoChar(&buf, '.');

	*summary = buf.data;
	return progress.committed_line > 0 || invalid != NULL;
}

/*
 * What to do about a dirty migration: after a failed run of it, or after a
 * failed undo (which leaves the migration applied, part-way undone).
 */
const char *
nontx_repair_hint(bool undo)
{
	if (undo)
		return "Repair the database by hand: the undo stopped part-way and runs again from its "
			"first statement, so redo what its committed statements undid, or make them "
			"idempotent (e.g. DROP INDEX CONCURRENTLY IF EXISTS). Then run "
			"SELECT migrate.repair(dir), which leaves the migration applied, and undo again.";
	return NONTX_REPAIR_HINT;
}

/*
 * "unsafe use of new value" of an enum: say how a migration can use an
 * enum value it adds.
 */
void
nontx_enum_hint(ErrorData *edata, bool nonatomic)
{
	if (edata->sqlerrcode != ERRCODE_UNSAFE_NEW_ENUM_VALUE_USAGE)
		return;
	if (nonatomic)
		edata->hint = pstrdup("New enum values must be committed before they can be used: "
							  "use the value in a later migration, or let this migration run "
							  "outside a transaction by adding the line "
							  "\"-- migrate:up transaction:false\" to it.");
	else
		edata->hint = pstrdup("New enum values must be committed before they can be used, and "
							  "this call of migrate.apply runs all migrations in one transaction: "
							  "call it with CALL outside a transaction block, so that each "
							  "migration commits.");
}
