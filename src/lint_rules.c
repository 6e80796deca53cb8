/*-------------------------------------------------------------------------
 *
 * lint_rules.c
 *	  The lint rules: one raw parse tree in, findings out.
 *
 * lint_statement looks at one statement's raw parse tree (raw_parser, as
 * the splitter hands statements out one at a time) and asks the catalog
 * (lint_catalog.c) what it needs: the relation, its size, its columns and
 * constraints.  It never runs the statement.  What the statement creates
 * or validates is remembered so that later statements of the pending run
 * are judged against it: a table created earlier in the run is new and
 * empty, and so needs no care.
 *
 * The lock a statement takes is the server's own answer where the server
 * has one to give before running it: ALTER TABLE's is
 * AlterTableGetLockLevel of its subcommands, which is what ALTER TABLE
 * itself calls on the same raw subcommands.  The others are fixed by the
 * statement (CREATE INDEX: SHARE; DROP INDEX, VACUUM FULL, CLUSTER,
 * REFRESH MATERIALIZED VIEW, RENAME: ACCESS EXCLUSIVE; REINDEX: SHARE on
 * the table, ACCESS EXCLUSIVE on the index; UPDATE and DELETE: ROW
 * EXCLUSIVE) and the same on 15, 17 and 18.  Whether a change rewrites
 * or scans the table is decided as ALTER TABLE decides it (see
 * lint_catalog.c).  test/lint_server.sql checks both against what the
 * server really does, on every version the suite runs on.
 *
 * Hints give the safe statements themselves where they can be written
 * from the statement: the same statement with CONCURRENTLY, found with
 * the server's scanner; a constraint's own text with NOT VALID, then its
 * VALIDATE; the steps that avoid a scan under ACCESS EXCLUSIVE.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablecmds.h"
#include "common/keywords.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "parser/scanner.h"
#include "utils/builtins.h"

#include "compat.h"
#include "lint_int.h"

/* how the session-wide messages spell the lock modes of the rules */
static const char *
lock_words(LOCKMODE mode)
{
	static const char *const words[] = {
		"no lock", "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE",
		"SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE",
		"EXCLUSIVE", "ACCESS EXCLUSIVE"
	};

	return mode >= 0 && mode < (int) lengthof(words) ? words[mode] : "a";
}

/* a RangeVar as written, quoted where needed */
static char *
rv_name(const RangeVar *rv)
{
	return rv->schemaname ?
		psprintf("%s.%s", quote_identifier(rv->schemaname), quote_identifier(rv->relname)) :
		pstrdup(quote_identifier(rv->relname));
}

/* is this relation one whose changes need care: existing, not new */
static bool
existing(const LintRel *rel)
{
	return rel != NULL && !rel->is_new && OidIsValid(rel->relid);
}

/* the statement text without trailing blanks and ';' */
static char *
statement_body(LintState *ls)
{
	int			n = strlen(ls->text);

	while (n > 0 && (ls->text[n - 1] == ';' || isspace((unsigned char) ls->text[n - 1])))
		n--;
	return pnstrdup(ls->text, n);
}

/*
 * The statement with word inserted after its first keyword kw (found with
 * the server's scanner), ending in ';', or NULL if kw is not there.
 */
static char *
with_word_after(LintState *ls, const char *kw, const char *word)
{
	char	   *body = statement_body(ls);
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	int			at = -1;

	scanner = scanner_init(body, &yyextra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;
		int			tok = core_yylex(&yylval, &yylloc, scanner);

		if (tok == 0)
			break;
		if (yylval.keyword && strcmp(yylval.keyword, kw) == 0 &&
			yylloc + (int) strlen(kw) <= (int) strlen(body))
		{
			at = yylloc + strlen(kw);
			break;
		}
	}
	scanner_finish(scanner);
	if (at < 0)
		return NULL;
	return psprintf("%.*s %s%s;", at, body, word, body + at);
}

/*
 * The text of the clause starting at location (a constraint in ALTER TABLE
 * ... ADD): up to the ',' that ends its subcommand, or the end.
 */
static char *
clause_text(LintState *ls, int location)
{
	char	   *body = statement_body(ls);
	core_yy_extra_type yyextra;
	core_yyscan_t scanner;
	int			depth = 0;
	int			end = strlen(body);

	if (location < 0 || location >= end)
		return NULL;
	scanner = scanner_init(body, &yyextra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;
		int			tok = core_yylex(&yylval, &yylloc, scanner);

		if (tok == 0)
			break;
		if (yylloc < location)
			continue;
		if (tok == '(')
			depth++;
		else if (tok == ')')
			depth--;
		else if (tok == ',' && depth == 0)
		{
			end = yylloc;
			break;
		}
	}
	scanner_finish(scanner);
	while (end > location && isspace((unsigned char) body[end - 1]))
		end--;
	return pnstrdup(body + location, end - location);
}

/* an option of a DefElem list (REINDEX, VACUUM, CLUSTER) is on */
static bool
option_on(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, name) == 0)
			return defGetBoolean(opt);
	}
	return false;
}

/* "<table>_<suffix>" as a constraint or index name, quoted if needed */
static char *
made_name(const RangeVar *rv, const char *column, const char *suffix)
{
	return pstrdup(quote_identifier(column ?
									psprintf("%s_%s_%s", rv->relname, column, suffix) :
									psprintf("%s_%s", rv->relname, suffix)));
}

/* ---------------------------------------------------------------------
 * Types (squawk's advice): serial, int primary keys, timestamp, char(n)
 * ---------------------------------------------------------------------
 */

/* the serial pseudo-type a column is written with, or NULL (as the server reads it) */
static const char *
serial_name(TypeName *tn)
{
	static const char *const serials[] = {
		"smallserial", "serial2", "serial", "serial4", "bigserial", "serial8", NULL
	};
	const char *name;
	int			i;

	if (list_length(tn->names) != 1 || tn->typmods != NIL || tn->arrayBounds != NIL ||
		tn->pct_type)
		return NULL;
	name = strVal(linitial(tn->names));
	for (i = 0; serials[i]; i++)
		if (strcmp(name, serials[i]) == 0)
			return serials[i];
	return NULL;
}

/* is the column a primary key, inline or by the table's constraint? */
static bool
is_primary_key(ColumnDef *def, List *table_constraints)
{
	ListCell   *lc;

	foreach(lc, def->constraints)
		if (((Constraint *) lfirst(lc))->contype == CONSTR_PRIMARY)
			return true;
	foreach(lc, table_constraints)
	{
		Constraint *con = (Constraint *) lfirst(lc);
		ListCell   *k;

		if (con->contype != CONSTR_PRIMARY)
			continue;
		foreach(k, con->keys)
			if (strcmp(strVal(lfirst(k)), def->colname) == 0)
				return true;
	}
	return false;
}

/* the advice on one column's type */
static void
advise_type(LintState *ls, const LintRel *rel, ColumnDef *def, bool pk)
{
	const char *serial = serial_name(def->typeName);
	Oid			type = serial ? InvalidOid : lint_type_oid(def->typeName, NULL);
	const char *col = quote_identifier(def->colname);
	bool		small;

	if (serial)
		lint_add(ls, "serial", LINT_INFO, rel, NoLock, false,
				 psprintf("column %s of %s is %s: its sequence is a separate object with its own "
						  "privileges and ownership", col, rel->name, serial),
				 psprintf("Use an identity column: %s bigint GENERATED BY DEFAULT AS IDENTITY.",
						  col));
	if (serial)
		small = strcmp(serial, "smallserial") == 0 || strcmp(serial, "serial2") == 0;
	else
		small = type == INT2OID;
	if (pk && (small || type == INT4OID || (serial && (strcmp(serial, "serial") == 0 ||
												   strcmp(serial, "serial4") == 0))))
		lint_add(ls, "int_primary_key", LINT_INFO, rel, NoLock, false,
				 psprintf("primary key column %s of %s is %s, which runs out at %s",
						  col, rel->name, small ? "smallint" : "integer",
						  small ? "32767" : "2147483647"),
				 psprintf("Use bigint: %s bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY.",
						  col));
	if (type == TIMESTAMPOID)
		lint_add(ls, "timestamp_without_time_zone", LINT_INFO, rel, NoLock, false,
				 psprintf("column %s of %s is timestamp without time zone: its values mean "
						  "different instants in different time zones", col, rel->name),
				 psprintf("Use timestamptz: %s timestamp with time zone.", col));
	if (type == BPCHAROID)
		lint_add(ls, "char_type", LINT_INFO, rel, NoLock, false,
				 psprintf("column %s of %s is character(n), which pads its values with blanks",
						  col, rel->name),
				 psprintf("Use text (with a CHECK on its length if one is needed) or varchar: "
						  "%s text.", col));
}

/* ---------------------------------------------------------------------
 * ALTER TABLE
 * ---------------------------------------------------------------------
 */

/* the hint for proving a column NOT NULL without a scan under ACCESS EXCLUSIVE */
static char *
not_null_hint(const RangeVar *rv, const char *column)
{
	char	   *t = rv_name(rv);
	char	   *c = pstrdup(quote_identifier(column));
	char	   *n = made_name(rv, column, "not_null");

#ifdef MIGRATE_NOTNULL_CONSTRAINTS
	/* PG 18: a NOT VALID not-null constraint, validated without blocking writes */
	return psprintf("ALTER TABLE %s ADD CONSTRAINT %s NOT NULL %s NOT VALID; "
					"ALTER TABLE %s VALIDATE CONSTRAINT %s;",
					t, n, c, t, n);
#else
	return psprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID; "
					"ALTER TABLE %s VALIDATE CONSTRAINT %s; "
					"ALTER TABLE %s ALTER COLUMN %s SET NOT NULL; "
					"ALTER TABLE %s DROP CONSTRAINT %s;",
					t, n, c, t, n, t, c, t, n);
#endif
}

/* SET NOT NULL (or an ADD CONSTRAINT ... NOT NULL) on column */
static void
set_not_null(LintState *ls, LintRel *rel, const RangeVar *rv, const char *column,
			 LOCKMODE lock, const char *what)
{
	if (!existing(rel) || lint_column_proven_not_null(ls, rel, rv, column))
		return;
	lint_add(ls, "set_not_null", lint_size_severity(ls, rel), rel, lock, false,
			 psprintf("%s on %s of %s scans the whole table under %s lock to check for NULLs",
					  what, quote_identifier(column), lint_describe(rel), lock_words(lock)),
			 not_null_hint(rv, column));
}

/* ADD [CONSTRAINT] CHECK / FOREIGN KEY / UNIQUE / PRIMARY KEY / EXCLUDE / NOT NULL */
static void
add_constraint(LintState *ls, LintRel *rel, const RangeVar *rv, Constraint *con,
			   LOCKMODE lock, const char *column)
{
	bool		checked = !con->skip_validation && migrate_constraint_enforced(con);
	char	   *t = rv_name(rv);
	char	   *name;
	char	   *clause;

	switch (con->contype)
	{
		case CONSTR_CHECK:
			lint_constraint_added(ls, rv, con);
			if (!checked || !existing(rel))
				return;
			name = con->conname ? pstrdup(quote_identifier(con->conname)) :
				made_name(rv, column, "check");
			clause = clause_text(ls, con->location);
			lint_add(ls, "add_check", lint_size_severity(ls, rel), rel, lock, false,
					 psprintf("adding a CHECK constraint to %s scans the whole table under %s lock",
							  lint_describe(rel), lock_words(lock)),
					 column || clause == NULL ? NULL :
					 psprintf("ALTER TABLE %s ADD %s%s NOT VALID; ALTER TABLE %s VALIDATE CONSTRAINT %s;",
							  t, con->conname ? "" : psprintf("CONSTRAINT %s ", name),
							  clause, t, name));
			return;

		case CONSTR_NOTNULL:
			/* PG 18: ALTER TABLE ... ADD CONSTRAINT name NOT NULL col [NOT VALID] */
			if (column == NULL)
			{
				/* judged before it is remembered: it proves nothing about itself */
				if (checked && list_length(con->keys) == 1)
					set_not_null(ls, rel, rv, strVal(linitial(con->keys)), lock,
								 "ADD CONSTRAINT ... NOT NULL");
				lint_constraint_added(ls, rv, con);
			}
			return;

		case CONSTR_FOREIGN:
			{
				LintRel    *pk;
				char	   *fkcol;

				if (!checked || !existing(rel))
					return;
				pk = con->pktable ? lint_rel(ls, con->pktable) : NULL;
				fkcol = column ? (char *) column :
					con->fk_attrs ? strVal(linitial(con->fk_attrs)) : NULL;
				name = con->conname ? pstrdup(quote_identifier(con->conname)) :
					made_name(rv, fkcol, "fkey");
				clause = clause_text(ls, con->location);
				lint_add(ls, "add_foreign_key", lint_size_severity(ls, rel), rel,
						 Max(lock, ShareRowExclusiveLock), false,
						 psprintf("adding a FOREIGN KEY to %s scans the whole table to check it, "
								  "under %s lock on it and on the referenced table %s",
								  lint_describe(rel), lock_words(Max(lock, ShareRowExclusiveLock)),
								  pk ? lint_describe(pk) : rv_name(con->pktable)),
						 column || clause == NULL ? NULL :
						 psprintf("ALTER TABLE %s ADD %s%s NOT VALID; ALTER TABLE %s VALIDATE CONSTRAINT %s;",
								  t, con->conname ? "" : psprintf("CONSTRAINT %s ", name),
								  clause, t, name));
				return;
			}

		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
		case CONSTR_EXCLUSION:
			{
				bool		pkey = con->contype == CONSTR_PRIMARY;
				const char *rule = pkey ? "add_primary_key" : "add_unique";
				const char *what = pkey ? "PRIMARY KEY" :
					con->contype == CONSTR_UNIQUE ? "UNIQUE" : "EXCLUDE";
				StringInfoData cols;
				StringInfoData under;
				ListCell   *lc;

				if (!existing(rel))
					return;
				if (con->indexname)
				{
					/* USING INDEX: no build; a primary key still makes its columns NOT NULL */
					if (pkey)
						foreach(lc, lint_index_columns(ls, rv, con->indexname))
							set_not_null(ls, rel, rv, (char *) lfirst(lc), lock,
										 "ADD PRIMARY KEY USING INDEX (which sets NOT NULL)");
					return;
				}
				initStringInfo(&cols);
				initStringInfo(&under);
				if (column)
				{
					appendStringInfoString(&cols, quote_identifier(column));
					appendStringInfoString(&under, column);
				}
				foreach(lc, con->keys)
				{
					appendStringInfo(&cols, "%s%s", cols.len ? ", " : "",
									 quote_identifier(strVal(lfirst(lc))));
					appendStringInfo(&under, "%s%s", under.len ? "_" : "", strVal(lfirst(lc)));
				}
				/* named as the server names it: <table>_<columns>_key, <table>_pkey */
				name = con->conname ? pstrdup(quote_identifier(con->conname)) :
					pkey ? made_name(rv, NULL, "pkey") :
					made_name(rv, under.len ? under.data : NULL, "key");
				lint_add(ls, rule, lint_size_severity(ls, rel), rel, lock, false,
						 psprintf("adding a %s to %s builds its index under %s lock: reads and "
								  "writes wait for the whole build", what, lint_describe(rel),
								  lock_words(lock)),
						 con->contype == CONSTR_EXCLUSION || column ? NULL :
						 psprintf("CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s); "
								  "ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s;%s",
								  name, t, cols.data, t, name, what, name,
								  pkey ? " (Make the columns NOT NULL first, as the set_not_null "
								  "hint shows, or the last step scans the table.)" : ""));
				return;
			}

		default:
			return;
	}
}

/* ADD COLUMN def */
static void
add_column(LintState *ls, LintRel *rel, const RangeVar *rv, ColumnDef *def, LOCKMODE lock)
{
	Node	   *raw_default = def->raw_default;
	bool		not_null = def->is_not_null;
	const char *cause = NULL;
	bool		known = true;
	bool		rewrites = false;
	char	   *deparsed = NULL;
	ListCell   *lc;

	if (rel == NULL)
		return;
	advise_type(ls, rel, def, is_primary_key(def, NIL));
	if (!existing(rel))
		return;

	if (serial_name(def->typeName))
	{
		cause = "its serial default (nextval) is volatile";
		not_null = true;
	}
	foreach(lc, def->constraints)
	{
		Constraint *con = (Constraint *) lfirst(lc);

		if (con->contype == CONSTR_DEFAULT)
			raw_default = con->raw_expr;
		else if (con->contype == CONSTR_NOTNULL || con->contype == CONSTR_PRIMARY)
			not_null = true;
		else if (con->contype == CONSTR_IDENTITY)
			cause = "an identity column's values come from its sequence (volatile)";
		else if (con->contype == CONSTR_GENERATED && !migrate_generated_virtual(con))
			cause = "a stored generated column is computed for every row";
	}

	/* a table without storage of its own for the column: nothing to fill */
	if (rel->relkind != RELKIND_RELATION && rel->relkind != RELKIND_PARTITIONED_TABLE)
		return;

	if (cause == NULL)
	{
		rewrites = lint_default_rewrites(rel, def, raw_default, &known, &deparsed);
		if (rewrites)
			cause = raw_default ? "its default is volatile" :
				"its domain has constraints every row must be checked against";
	}
	else
		rewrites = true;

	if (rewrites)
	{
		char	   *t = rv_name(rv);
		char	   *c = pstrdup(quote_identifier(def->colname));

		lint_add(ls, "add_column_volatile_default", lint_size_severity(ls, rel), rel, lock, true,
				 psprintf("ADD COLUMN %s rewrites %s under %s lock: %s",
						  c, lint_describe(rel), lock_words(lock), cause),
				 deparsed ?
				 psprintf("ALTER TABLE %s ADD COLUMN %s %s; ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s; "
						  "then fill the existing rows in batches (UPDATE %s SET %s = %s WHERE %s IS NULL "
						  "AND <key range>), each in its own transaction.",
						  t, c, lint_type_text(def->typeName), t, c, deparsed,
						  t, c, deparsed, c) :
				 psprintf("Add the column without it (ALTER TABLE %s ADD COLUMN %s %s), fill the "
						  "existing rows in batches, then add the default or identity.",
						  t, c, lint_type_text(def->typeName)));
		return;
	}
	if (known && not_null && (raw_default == NULL || IsA(raw_default, A_Const)) &&
		(deparsed == NULL || strcmp(deparsed, "NULL") == 0) &&
		lint_rel_has_rows(ls, rel))
	{
		char	   *t = rv_name(rv);
		char	   *c = pstrdup(quote_identifier(def->colname));

		lint_add(ls, "add_column_not_null", LINT_ERROR, rel, lock, false,
				 psprintf("ADD COLUMN %s NOT NULL without a default will fail: %s has rows, "
						  "and they would be NULL", c, lint_describe(rel)),
				 psprintf("Give it a constant default (ALTER TABLE %s ADD COLUMN %s %s NOT NULL "
						  "DEFAULT <value>; no rewrite), or add it nullable, fill it, and then "
						  "make it NOT NULL as the set_not_null hint shows.",
						  t, c, lint_type_text(def->typeName)));
	}

	/* constraints written on the new column are added, and checked, too */
	foreach(lc, def->constraints)
		add_constraint(ls, rel, rv, (Constraint *) lfirst(lc), lock, def->colname);
}

/* ALTER COLUMN column TYPE ... [USING ...] */
static void
alter_column_type(LintState *ls, LintRel *rel, const RangeVar *rv, const char *column,
				  ColumnDef *def, LOCKMODE lock)
{
	bool		known;
	bool		rewrites;
	char	   *t;
	char	   *c;

	if (!existing(rel))
		return;
	rewrites = lint_type_change_rewrites(rel, column, def->typeName, def->raw_default, &known);
	if (!known || !rewrites)
		return;
	t = rv_name(rv);
	c = pstrdup(quote_identifier(column));
	lint_add(ls, "alter_column_type", lint_size_severity(ls, rel), rel, lock, true,
			 psprintf("changing the type of %s to %s rewrites %s (and rebuilds its indexes) under "
					  "%s lock", c, lint_type_text(def->typeName), lint_describe(rel),
					  lock_words(lock)),
			 psprintf("Add a new column (ALTER TABLE %s ADD COLUMN %s_new %s), fill it in batches "
					  "and keep it in step with a trigger, then switch the application to it and "
					  "drop %s.", t, column, lint_type_text(def->typeName), c));
}

/* the ALTER TABLE subcommands that rewrite the whole table whatever its columns */
static const char *
rewriting_subcommand(AlterTableType t)
{
	switch (t)
	{
		case AT_SetTableSpace:
			return "SET TABLESPACE";
		case AT_SetLogged:
			return "SET LOGGED";
		case AT_SetUnLogged:
			return "SET UNLOGGED";
		case AT_SetAccessMethod:
			return "SET ACCESS METHOD";
		default:
			return NULL;
	}
}

static void
alter_table(LintState *ls, AlterTableStmt *stmt)
{
	LintRel    *rel;
	LOCKMODE	lock;
	ListCell   *lc;

	if (stmt->objtype != OBJECT_TABLE)
		return;
	rel = lint_rel(ls, stmt->relation);
	/* what ALTER TABLE itself takes for these subcommands */
	lock = AlterTableGetLockLevel(stmt->cmds);

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		const char *rewriting;

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				add_column(ls, rel, stmt->relation, (ColumnDef *) cmd->def, lock);
				break;
			case AT_AlterColumnType:
				alter_column_type(ls, rel, stmt->relation, cmd->name, (ColumnDef *) cmd->def, lock);
				break;
			case AT_SetNotNull:
				set_not_null(ls, rel, stmt->relation, cmd->name, lock, "SET NOT NULL");
				break;
			case AT_AddConstraint:
				add_constraint(ls, rel, stmt->relation, (Constraint *) cmd->def, lock, NULL);
				break;
			case AT_ValidateConstraint:
				lint_constraint_validated(ls, stmt->relation, cmd->name);
				break;
			case AT_DropColumn:
				if (existing(rel))
					lint_add(ls, "drop_column", LINT_WARNING, rel, lock, false,
							 psprintf("dropping column %s of %s breaks the running application "
									  "if it still reads or writes it",
									  quote_identifier(cmd->name), rel->name),
							 "Deploy code that no longer uses the column first, then drop it in a later migration.");
				break;
			default:
				rewriting = rewriting_subcommand(cmd->subtype);
				if (rewriting && existing(rel))
					lint_add(ls, "table_rewrite", lint_size_severity(ls, rel), rel, lock, true,
							 psprintf("ALTER TABLE ... %s rewrites %s under %s lock",
									  rewriting, lint_describe(rel), lock_words(lock)),
							 "Run it in a maintenance window, or rebuild the table online (pg_repack).");
				break;
		}
	}
}

/* ---------------------------------------------------------------------
 * Other statements
 * ---------------------------------------------------------------------
 */

static void
create_table(LintState *ls, CreateStmt *stmt)
{
	LintRel    *rel;
	List	   *table_constraints = NIL;
	ListCell   *lc;

	lint_created(ls, stmt->relation, 'r', NULL, NIL);
	rel = lint_rel(ls, stmt->relation);
	foreach(lc, stmt->tableElts)
		if (IsA(lfirst(lc), Constraint))
			table_constraints = lappend(table_constraints, lfirst(lc));
	foreach(lc, stmt->tableElts)
		if (IsA(lfirst(lc), ColumnDef))
		{
			ColumnDef  *def = (ColumnDef *) lfirst(lc);

			advise_type(ls, rel, def, is_primary_key(def, table_constraints));
		}
}

static void
create_index(LintState *ls, IndexStmt *stmt)
{
	LintRel    *rel = lint_rel(ls, stmt->relation);
	List	   *columns = NIL;
	ListCell   *lc;
	char	   *hint;

	foreach(lc, stmt->indexParams)
	{
		IndexElem  *e = (IndexElem *) lfirst(lc);

		if (e->name)
			columns = lappend(columns, e->name);
	}
	if (stmt->idxname)
		lint_created(ls, makeRangeVar(stmt->relation->schemaname, stmt->idxname, -1), 'i',
					 stmt->relation, columns);
	if (stmt->concurrent || !existing(rel))
		return;
	if (rel->relkind == RELKIND_PARTITIONED_TABLE)
		hint = psprintf("CONCURRENTLY is not available on a partitioned table: CREATE INDEX ... ON "
						"ONLY %s, then CREATE INDEX CONCURRENTLY on each partition and ALTER INDEX "
						"... ATTACH PARTITION each of them.", rv_name(stmt->relation));
	else
		hint = with_word_after(ls, "index", "CONCURRENTLY");
	lint_add(ls, "create_index", lint_size_severity(ls, rel), rel, ShareLock, false,
			 psprintf("CREATE INDEX on %s blocks writes to it while the index builds",
					  lint_describe(rel)),
			 hint);
}

static void
drop_stmt(LintState *ls, DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType != OBJECT_TABLE && stmt->removeType != OBJECT_INDEX)
		return;
	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));

		if (stmt->removeType == OBJECT_TABLE)
		{
			LintRel    *rel = lint_rel(ls, rv);

			if (existing(rel))
				lint_add(ls, "drop_table", LINT_WARNING, rel, AccessExclusiveLock, false,
						 psprintf("dropping %s breaks the running application if it still uses "
								  "the table", lint_describe(rel)),
						 "Deploy code that no longer uses the table first, then drop it in a later migration.");
		}
		else if (!stmt->concurrent)
		{
			LintRel    *irel;
			LintRel    *rel = lint_index_table(ls, rv, &irel);

			if (existing(rel) && irel && !irel->is_new)
				lint_add(ls, "drop_index", lint_size_severity(ls, rel), rel, AccessExclusiveLock,
						 false,
						 psprintf("DROP INDEX %s takes an ACCESS EXCLUSIVE lock on %s: it waits "
								  "for every query on the table, and every query waits for it",
								  irel->name, lint_describe(rel)),
						 list_length(stmt->objects) == 1 && stmt->behavior != DROP_CASCADE ?
						 with_word_after(ls, "index", "CONCURRENTLY") : NULL);
		}
	}
}

static void
reindex_stmt(LintState *ls, ReindexStmt *stmt)
{
	LintRel    *rel = NULL;
	LintRel    *irel = NULL;
	const char *kw;

	if (option_on(stmt->params, "concurrently"))
		return;
	switch (stmt->kind)
	{
		case REINDEX_OBJECT_INDEX:
			rel = lint_index_table(ls, stmt->relation, &irel);
			kw = "index";
			break;
		case REINDEX_OBJECT_TABLE:
			rel = lint_rel(ls, stmt->relation);
			kw = "table";
			break;
		default:
			lint_add(ls, "reindex", LINT_WARNING, NULL, ShareLock, false,
					 "REINDEX of a whole schema or database without CONCURRENTLY blocks writes to "
					 "each table while its indexes are rebuilt, and reads that use them",
					 stmt->kind == REINDEX_OBJECT_SYSTEM ? NULL :
					 with_word_after(ls, stmt->kind == REINDEX_OBJECT_SCHEMA ? "schema" : "database",
									 "CONCURRENTLY"));
			return;
	}
	if (!existing(rel) || (irel && irel->is_new))
		return;
	lint_add(ls, "reindex", lint_size_severity(ls, rel), rel, ShareLock, false,
			 psprintf("REINDEX of %s blocks writes to it, and locks the index ACCESS EXCLUSIVE "
					  "(reads that use it wait) until the rebuild ends", lint_describe(rel)),
			 with_word_after(ls, kw, "CONCURRENTLY"));
}

static void
vacuum_stmt(LintState *ls, VacuumStmt *stmt)
{
	ListCell   *lc;

	if (!stmt->is_vacuumcmd || !option_on(stmt->options, "full"))
		return;
	if (stmt->rels == NIL)
		lint_add(ls, "vacuum_full", LINT_WARNING, NULL, AccessExclusiveLock, true,
				 "VACUUM FULL of the whole database rewrites every table under ACCESS EXCLUSIVE lock, one after the other",
				 "Use plain VACUUM, or rebuild the tables that need it online (pg_repack).");
	foreach(lc, stmt->rels)
	{
		VacuumRelation *vr = (VacuumRelation *) lfirst(lc);
		LintRel    *rel = vr->relation ? lint_rel(ls, vr->relation) : NULL;

		if (existing(rel))
			lint_add(ls, "vacuum_full", lint_size_severity(ls, rel), rel, AccessExclusiveLock, true,
					 psprintf("VACUUM FULL rewrites %s under ACCESS EXCLUSIVE lock: reads and "
							  "writes wait until it ends", lint_describe(rel)),
					 "Use plain VACUUM, or rebuild the table online (pg_repack).");
	}
}

static void
cluster_stmt(LintState *ls, ClusterStmt *stmt)
{
	LintRel    *rel;

	if (stmt->relation == NULL)
	{
		lint_add(ls, "cluster", LINT_WARNING, NULL, AccessExclusiveLock, true,
				 "CLUSTER without a table rewrites every table clustered before, each under ACCESS EXCLUSIVE lock",
				 "Rebuild the tables online instead (pg_repack --order-by).");
		return;
	}
	rel = lint_rel(ls, stmt->relation);
	if (existing(rel))
		lint_add(ls, "cluster", lint_size_severity(ls, rel), rel, AccessExclusiveLock, true,
				 psprintf("CLUSTER rewrites %s under ACCESS EXCLUSIVE lock: reads and writes wait "
						  "until it ends", lint_describe(rel)),
				 "Rebuild the table online instead (pg_repack --order-by).");
}

static void
refresh_stmt(LintState *ls, RefreshMatViewStmt *stmt)
{
	LintRel    *rel;

	if (stmt->concurrent)
		return;
	rel = lint_rel(ls, stmt->relation);
	if (existing(rel))
		lint_add(ls, "refresh_matview", lint_size_severity(ls, rel), rel, AccessExclusiveLock, true,
				 psprintf("REFRESH MATERIALIZED VIEW %s locks it ACCESS EXCLUSIVE: reads wait "
						  "until the new contents are built", lint_describe(rel)),
				 psprintf("%s (It needs a unique index on the materialized view.)",
						  with_word_after(ls, "view", "CONCURRENTLY")));
}

static void
lock_stmt(LintState *ls, LockStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		LintRel    *rel = lint_rel(ls, (RangeVar *) lfirst(lc));

		if (!existing(rel))
			continue;
		lint_add(ls, "lock_table", stmt->mode >= ShareLock ? lint_size_severity(ls, rel) : LINT_INFO,
				 rel, stmt->mode, false,
				 psprintf("LOCK TABLE %s IN %s MODE holds the lock until the migration commits%s",
						  lint_describe(rel), lock_words(stmt->mode),
						  stmt->mode == AccessExclusiveLock ? ": reads and writes wait until then" :
						  stmt->mode >= ShareLock ? ": writes to it wait until then" : ""),
				 "Keep such a migration short, or lock nothing: migrate.lock_timeout bounds the wait for each lock a statement takes.");
	}
}

static void
rename_stmt(LintState *ls, RenameStmt *stmt)
{
	LintRel    *rel;

	if (stmt->relation == NULL)
		return;
	if (stmt->renameType == OBJECT_TABLE || stmt->renameType == OBJECT_VIEW ||
		stmt->renameType == OBJECT_MATVIEW || stmt->renameType == OBJECT_FOREIGN_TABLE)
	{
		rel = lint_rel(ls, stmt->relation);
		lint_renamed(ls, stmt->relation, rel, stmt->newname);
		if (existing(rel))
			lint_add(ls, "rename_table", LINT_WARNING, rel, AccessExclusiveLock, false,
					 psprintf("renaming %s to %s breaks the running application, which still uses "
							  "the old name", rel->name, quote_identifier(stmt->newname)),
					 psprintf("Keep the old name working while the code changes: CREATE VIEW %s "
							  "AS SELECT * FROM %s%s%s in the same migration, and drop the view "
							  "later.", rv_name(stmt->relation),
							  stmt->relation->schemaname ? quote_identifier(stmt->relation->schemaname) : "",
							  stmt->relation->schemaname ? "." : "",
							  quote_identifier(stmt->newname)));
	}
	else if (stmt->renameType == OBJECT_COLUMN && stmt->relationType == OBJECT_TABLE)
	{
		rel = lint_rel(ls, stmt->relation);
		if (existing(rel))
			lint_add(ls, "rename_column", LINT_WARNING, rel, AccessExclusiveLock, false,
					 psprintf("renaming column %s of %s to %s breaks the running application, "
							  "which still uses the old name", quote_identifier(stmt->subname),
							  rel->name, quote_identifier(stmt->newname)),
					 "Add the new column, write both, fill it, switch reads to it, then drop the old one in a later migration.");
	}
}

static void
alter_enum(LintState *ls, AlterEnumStmt *stmt)
{
	LintRel		rel;

	if (stmt->oldVal == NULL || lint_type_created(ls, stmt->typeName))
		return;
	if (!OidIsValid(lint_type_oid(makeTypeNameFromNameList(stmt->typeName), NULL)))
		return;
	memset(&rel, 0, sizeof(rel));
	rel.name = NameListToQuotedString(stmt->typeName);
	rel.bytes = -1;
	rel.rows = -1;
	rel.is_new = false;
	lint_add(ls, "rename_enum_value", LINT_WARNING, &rel, NoLock, false,
			 psprintf("renaming value '%s' of type %s to '%s' breaks the running application, "
					  "which still writes the old value", stmt->oldVal, rel.name, stmt->newVal),
			 psprintf("Add the new value (ALTER TYPE %s ADD VALUE '%s'), move the rows to it, and "
					  "stop using the old one once no code writes it.", rel.name, stmt->newVal));
}

/* UPDATE or DELETE without WHERE on a large table */
static void
whole_table_dml(LintState *ls, RangeVar *rv, Node *where, const char *what)
{
	LintRel    *rel;

	if (where != NULL)
		return;
	rel = lint_rel(ls, rv);
	if (!existing(rel) || rel->bytes < ls->large_bytes)
		return;
	lint_add(ls, strcmp(what, "UPDATE") == 0 ? "update_without_where" : "delete_without_where",
			 LINT_WARNING, rel, RowExclusiveLock, false,
			 psprintf("%s without WHERE on %s changes every row in one transaction: every row "
					  "stays locked against other writers until the migration commits, and the "
					  "old versions bloat the table", what, lint_describe(rel)),
			 psprintf("Do it in batches, each in its own migration or transaction: %s ... WHERE "
					  "<key> IN (SELECT <key> FROM %s WHERE <not yet done> LIMIT 10000).",
					  strcmp(what, "UPDATE") == 0 ? psprintf("UPDATE %s SET", rv_name(rv)) :
					  psprintf("DELETE FROM %s", rv_name(rv)), rv_name(rv)));
}

/* a type the statement creates, by its name list */
static void
created_type(LintState *ls, List *names)
{
	char	   *schema;
	char	   *name;

	DeconstructQualifiedName(names, &schema, &name);
	lint_created(ls, makeRangeVar(schema, name, -1), 't', NULL, NIL);
}

/*
 * Lint one statement: stmt is its raw parse tree (a RawStmt's stmt), st
 * the statement as the splitter handed it out.  Findings go to ls.
 */
void
lint_statement(LintState *ls, const Statement *st, Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_CreateStmt:
			create_table(ls, (CreateStmt *) stmt);
			break;
		case T_CreateTableAsStmt:
			lint_created(ls, ((CreateTableAsStmt *) stmt)->into->rel, 'r', NULL, NIL);
			break;
		case T_ViewStmt:
			lint_created(ls, ((ViewStmt *) stmt)->view, 'r', NULL, NIL);
			break;
		case T_CreateEnumStmt:
			created_type(ls, ((CreateEnumStmt *) stmt)->typeName);
			break;
		case T_CreateDomainStmt:
			created_type(ls, ((CreateDomainStmt *) stmt)->domainname);
			break;
		case T_CreateRangeStmt:
			created_type(ls, ((CreateRangeStmt *) stmt)->typeName);
			break;
		case T_CompositeTypeStmt:
			lint_created(ls, ((CompositeTypeStmt *) stmt)->typevar, 't', NULL, NIL);
			break;
		case T_IndexStmt:
			create_index(ls, (IndexStmt *) stmt);
			break;
		case T_AlterTableStmt:
			alter_table(ls, (AlterTableStmt *) stmt);
			break;
		case T_DropStmt:
			drop_stmt(ls, (DropStmt *) stmt);
			break;
		case T_ReindexStmt:
			reindex_stmt(ls, (ReindexStmt *) stmt);
			break;
		case T_VacuumStmt:
			vacuum_stmt(ls, (VacuumStmt *) stmt);
			break;
		case T_ClusterStmt:
			cluster_stmt(ls, (ClusterStmt *) stmt);
			break;
		case T_RefreshMatViewStmt:
			refresh_stmt(ls, (RefreshMatViewStmt *) stmt);
			break;
		case T_LockStmt:
			lock_stmt(ls, (LockStmt *) stmt);
			break;
		case T_RenameStmt:
			rename_stmt(ls, (RenameStmt *) stmt);
			break;
		case T_AlterEnumStmt:
			alter_enum(ls, (AlterEnumStmt *) stmt);
			break;
		case T_UpdateStmt:
			whole_table_dml(ls, ((UpdateStmt *) stmt)->relation,
							((UpdateStmt *) stmt)->whereClause, "UPDATE");
			break;
		case T_DeleteStmt:
			whole_table_dml(ls, ((DeleteStmt *) stmt)->relation,
							((DeleteStmt *) stmt)->whereClause, "DELETE");
			break;
		default:
			break;
	}
}
