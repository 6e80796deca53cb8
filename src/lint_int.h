/*-------------------------------------------------------------------------
 *
 * lint_int.h
 *	  Inside the linter: a finding, the state of one lint run, and what
 *	  the rules (lint_rules.c) ask the catalog (lint_catalog.c).
 *
 * A run lints statements one at a time, in the order apply would run
 * them: lint_statement (lint_rules.c) looks at one raw parse tree and
 * adds findings to the state; the state remembers what the statements
 * before it did that changes the verdict on later ones (relations and
 * types they create, constraints they add and validate), the sizes read
 * from the catalog, and the current script's ignore directives.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGRATE_LINT_INT_H
#define MIGRATE_LINT_INT_H

#include "nodes/parsenodes.h"
#include "storage/lockdefs.h"
#include "utils/hsearch.h"

#include "splitter.h"

typedef enum LintSeverity
{
	LINT_INFO,
	LINT_WARNING,
	LINT_ERROR
} LintSeverity;

/* one finding: a row of migrate.lint */
typedef struct LintFinding
{
	const char *script;
	int			line;
	char	   *statement;		/* its first line */
	const char *rule;
	LintSeverity severity;
	char	   *relation;		/* qualified name, or NULL */
	int64		relation_bytes; /* -1: none */
	int64		estimated_rows; /* -1: none or unknown */
	const char *lock;			/* the server's lock mode name, or NULL */
	bool		rewrites;
	char	   *message;
	char	   *hint;			/* or NULL */
	bool		ignored;		/* silenced by a lint-ignore directive */
	char	   *reason;			/* the directive's reason, or NULL */
} LintFinding;

/*
 * What lint knows of a relation a statement names.  A relation the pending
 * run creates is new (and empty); one the catalog has is measured; one
 * neither knows (created by an included file, or the statement will fail)
 * is left alone.
 */
typedef struct LintRel
{
	Oid			relid;			/* InvalidOid unless it exists */
	bool		is_new;			/* created by this script or an earlier pending one */
	char		relkind;
	char	   *name;			/* qualified, for messages */
	int64		bytes;			/* main fork; partitions summed */
	double		rows;			/* estimate; -1 unknown */
	bool		measured;		/* under an AccessShareLock got without waiting */
} LintRel;

/* an ignore directive of the current script */
typedef struct LintDirective
{
	int			line;
	List	   *rules;			/* char * */
	char	   *reason;			/* or NULL */
	bool		used;			/* attached to a statement or the file */
} LintDirective;

/* something the pending run creates: a relation or a type */
typedef struct LintCreated
{
	char	   *schema;			/* as written, or NULL */
	char	   *name;
	char		kind;			/* 'r' relation, 'i' index, 't' type, 'a' new name of relid */
	Oid			relid;			/* 'a': the existing relation renamed */
	char	   *table_schema;	/* an index: its table */
	char	   *table_name;
	List	   *columns;		/* an index: its column names (char *) */
} LintCreated;

/* a constraint the pending run adds, for what it proves about NULLs */
typedef struct LintConstraint
{
	char	   *schema;
	char	   *table;
	char	   *name;			/* or NULL when the server will choose it */
	ConstrType	contype;		/* CONSTR_CHECK or CONSTR_NOTNULL */
	Node	   *raw_expr;		/* CHECK: copied raw expression */
	List	   *columns;		/* NOT NULL: its column (char *) */
	bool		validated;
} LintConstraint;

/* the state of one lint run (see lint.c) */
typedef struct LintState
{
	MemoryContext cxt;			/* findings and everything remembered */
	int64		large_bytes;	/* migrate.lint_large_table in bytes */
	List	   *created;		/* LintCreated * */
	List	   *constraints;	/* LintConstraint * */
	HTAB	   *rels;			/* Oid -> LintRel: sizes read once per run */

	/* the script being linted */
	const char *script;
	List	   *findings;		/* LintFinding * */
	List	   *directives;		/* LintDirective * */
	int			statements;		/* statements seen so far */
	int			prev_end_line;	/* last line of the statement before */
	LintDirective *file_ignore; /* merged directives at the top of the file */

	/* the statement being linted */
	const Statement *st;
	const char *text;			/* its text (locations index into it) */
	LintDirective *stmt_ignore; /* directive on the line before it, or NULL */
} LintState;

/* rule names, as users write them in directives */
extern const char *const lint_rule_names[];

/* lint_rules.c */
extern void lint_statement(LintState *ls, const Statement *st, Node *stmt);

/* lint.c */
extern LintFinding *lint_add(LintState *ls, const char *rule, LintSeverity severity,
							 const LintRel *rel, LOCKMODE lock, bool rewrites,
							 const char *message, const char *hint);
extern LintSeverity lint_size_severity(LintState *ls, const LintRel *rel);
extern char *lint_describe(const LintRel *rel);
extern bool lint_is_rule(const char *name);

/* lint_catalog.c */
extern LintRel *lint_rel(LintState *ls, const RangeVar *rv);
extern LintRel *lint_rel_oid(LintState *ls, Oid relid);
extern LintRel *lint_index_table(LintState *ls, const RangeVar *index, LintRel **index_rel);
extern List *lint_index_columns(LintState *ls, const RangeVar *table, const char *index);
extern bool lint_rel_has_rows(LintState *ls, const LintRel *rel);
extern void lint_created(LintState *ls, const RangeVar *rv, char kind,
						 const RangeVar *table, List *columns);
extern LintCreated *lint_find_created(LintState *ls, const char *schema, const char *name,
									  char kind);
extern void lint_renamed(LintState *ls, const RangeVar *rv, const LintRel *rel,
						 const char *newname);
extern bool lint_column_proven_not_null(LintState *ls, const LintRel *rel, const RangeVar *rv,
										const char *column);
extern void lint_constraint_added(LintState *ls, const RangeVar *rv, Constraint *con);
extern void lint_constraint_validated(LintState *ls, const RangeVar *rv, const char *name);
extern bool lint_type_change_rewrites(const LintRel *rel, const char *column, TypeName *tn,
									  Node *using_expr, bool *known);
extern bool lint_default_rewrites(const LintRel *rel, ColumnDef *def, Node *raw_default,
								  bool *known, char **deparsed);
extern Oid	lint_type_oid(TypeName *tn, int32 *typmod);
extern char *lint_type_text(TypeName *tn);
extern bool lint_type_created(LintState *ls, List *names);

#endif							/* MIGRATE_LINT_INT_H */
