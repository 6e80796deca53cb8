/*-------------------------------------------------------------------------
 *
 * lint_catalog.c
 *	  What the linter asks the live database, without waiting behind a
 *	  lock and without running anything.
 *
 * Names are resolved with NoLock.  A relation's size is measured
 * (estimate_rel_size, as the planner does, from the current number of
 * blocks) only under an AccessShareLock taken with
 * ConditionalLockRelationOid and released at once: when another session
 * holds or waits for a conflicting lock (an ACCESS EXCLUSIVE), the lint
 * does not queue behind it but falls back to pg_class's relpages and
 * reltuples.  Sizes are read once per run.
 *
 * Relations, indexes and types the pending run itself creates are
 * remembered in the run's state (they are new, so empty), and so are the
 * constraints it adds and validates, because they decide whether a later
 * SET NOT NULL must scan.
 *
 * What a type change or a new column's default costs is decided the way
 * ALTER TABLE decides it: the same coercion is built (coerce_to_target_type,
 * expression_planner, whose support functions turn varchar(n) to a larger
 * n into a relabel) and walked as ALTER TABLE's own test walks it.  Those
 * steps may raise errors (a type that an earlier pending migration
 * creates, a bad typmod), so they run in a subtransaction and an error
 * means "cannot tell".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_type.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "lint_int.h"
#include "migrate.h"

/* a name as written: schema.name or name */
static char *
written_name(const char *schema, const char *name)
{
	return schema ? psprintf("%s.%s", quote_identifier(schema), quote_identifier(name))
		: pstrdup(quote_identifier(name));
}

/* the schemas of two names may be the same object's */
static bool
same_schema(const char *a, const char *b)
{
	return a == NULL || b == NULL || strcmp(a, b) == 0;
}

/*
 * The latest entry of the pending run for schema.name of a kind ('r', 'i',
 * 't', 'a', or 0 for any relation), or NULL.  An unqualified name matches whatever
 * schema it was created in: lint does not follow SET search_path.
 */
LintCreated *
lint_find_created(LintState *ls, const char *schema, const char *name, char kind)
{
	LintCreated *found = NULL;
	ListCell   *lc;

	foreach(lc, ls->created)
	{
		LintCreated *c = (LintCreated *) lfirst(lc);

		if (strcmp(c->name, name) != 0 || !same_schema(c->schema, schema))
			continue;
		if (kind == 0 ? c->kind != 't' : c->kind == kind)
			found = c;
	}
	return found;
}

/* remember something the pending run creates (copied into the run's memory) */
void
lint_created(LintState *ls, const RangeVar *rv, char kind, const RangeVar *table, List *columns)
{
	MemoryContext old = MemoryContextSwitchTo(ls->cxt);
	LintCreated *c = palloc0(sizeof(LintCreated));
	ListCell   *lc;

	c->schema = rv->schemaname ? pstrdup(rv->schemaname) : NULL;
	c->name = pstrdup(rv->relname);
	c->kind = kind;
	if (table)
	{
		c->table_schema = table->schemaname ? pstrdup(table->schemaname) : NULL;
		c->table_name = pstrdup(table->relname);
	}
	foreach(lc, columns)
		c->columns = lappend(c->columns, pstrdup((char *) lfirst(lc)));
	ls->created = lappend(ls->created, c);
	MemoryContextSwitchTo(old);
}

/*
 * A relation is renamed: a new one keeps being new under its new name, an
 * existing one (rel) is known by its new name to later statements.
 */
void
lint_renamed(LintState *ls, const RangeVar *rv, const LintRel *rel, const char *newname)
{
	LintCreated *c = lint_find_created(ls, rv->schemaname, rv->relname, 0);

	if (c)
		c->name = MemoryContextStrdup(ls->cxt, newname);
	else if (rel && OidIsValid(rel->relid))
	{
		lint_created(ls, makeRangeVar(rv->schemaname, (char *) newname, -1), 'a', NULL, NIL);
		((LintCreated *) llast(ls->created))->relid = rel->relid;
	}
}

/* bytes and rows of one relation with storage, measured when that is free */
static void
measure(Oid relid, Form_pg_class cls, LintRel *r)
{
	if (ConditionalLockRelationOid(relid, AccessShareLock))
	{
		Relation	rel = try_relation_open(relid, NoLock);

		if (rel)
		{
			BlockNumber pages = RelationGetNumberOfBlocks(rel);
			BlockNumber est_pages;
			double		tuples = 0;
			double		allvisfrac;

			/*
			 * Rows as the planner estimates them, at the density of the last
			 * VACUUM or ANALYZE (or from the row width if there was none).
			 * The planner assumes 10 pages of a table never vacuumed; the
			 * bytes are the real ones, so the rows are scaled to them.
			 */
			if (pages > 0 && (rel->rd_rel->relkind == RELKIND_RELATION ||
							  rel->rd_rel->relkind == RELKIND_MATVIEW))
			{
				estimate_rel_size(rel, NULL, &est_pages, &tuples, &allvisfrac);
				if (est_pages > 0 && est_pages != pages)
					tuples = tuples * pages / est_pages;
			}
			else if (pages > 0)
				tuples = Max(rel->rd_rel->reltuples, 0);
			r->bytes += (int64) pages * BLCKSZ;
			r->rows = (r->rows < 0 ? 0 : r->rows) + Max(tuples, 0);
			r->measured = true;
			relation_close(rel, NoLock);
		}
		UnlockRelationOid(relid, AccessShareLock);
		if (rel)
			return;
	}
	/* someone holds (or waits for) an ACCESS EXCLUSIVE: what VACUUM saw last */
	r->bytes += (int64) cls->relpages * BLCKSZ;
	if (cls->reltuples >= 0)
		r->rows = (r->rows < 0 ? 0 : r->rows) + cls->reltuples;
}

/* what the catalog says of relation relid, read once per run; NULL if gone */
LintRel *
lint_rel_oid(LintState *ls, Oid relid)
{
	LintRel    *r;
	bool		found;
	HeapTuple	tup;
	Form_pg_class cls;
	MemoryContext old;

	r = (LintRel *) hash_search(ls->rels, &relid, HASH_ENTER, &found);
	if (found)
		return r->relkind ? r : NULL;

	memset(((char *) r) + sizeof(Oid), 0, sizeof(LintRel) - sizeof(Oid));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return NULL;
	cls = (Form_pg_class) GETSTRUCT(tup);

	old = MemoryContextSwitchTo(ls->cxt);
	r->relid = relid;
	r->relkind = cls->relkind;
	r->rows = -1;
	r->name = quote_qualified_identifier(get_namespace_name(cls->relnamespace),
										 NameStr(cls->relname));
	if (cls->relkind == RELKIND_PARTITIONED_TABLE)
	{
		/* the partitions hold the data: sum them (read with NoLock) */
		List	   *all = find_all_inheritors(relid, NoLock, NULL);
		ListCell   *lc;

		r->measured = true;
		foreach(lc, all)
		{
			Oid			child = lfirst_oid(lc);
			HeapTuple	ctup;

			if (child == relid)
				continue;
			ctup = SearchSysCache1(RELOID, ObjectIdGetDatum(child));
			if (!HeapTupleIsValid(ctup))
				continue;
			if (RELKIND_HAS_STORAGE(((Form_pg_class) GETSTRUCT(ctup))->relkind))
			{
				bool		was = r->measured;

				r->measured = false;
				measure(child, (Form_pg_class) GETSTRUCT(ctup), r);
				r->measured = was && r->measured;
			}
			ReleaseSysCache(ctup);
		}
		if (r->rows < 0 && r->bytes == 0)
			r->rows = 0;
	}
	else if (RELKIND_HAS_STORAGE(cls->relkind))
		measure(relid, cls, r);
	MemoryContextSwitchTo(old);
	ReleaseSysCache(tup);
	return r;
}

/* a relation the pending run created, described as new and empty */
static LintRel *
new_rel(LintState *ls, const char *schema, const char *name)
{
	LintRel    *r = MemoryContextAllocZero(ls->cxt, sizeof(LintRel));

	r->is_new = true;
	r->relkind = RELKIND_RELATION;
	r->name = MemoryContextStrdup(ls->cxt, written_name(schema, name));
	return r;
}

/*
 * What lint knows of the relation rv names: new (the pending run creates
 * it), measured from the catalog, or NULL when neither knows it.
 */
LintRel *
lint_rel(LintState *ls, const RangeVar *rv)
{
	LintCreated *c = lint_find_created(ls, rv->schemaname, rv->relname, 0);
	Oid			relid;

	if (c && c->kind == 'a')
		return lint_rel_oid(ls, c->relid);
	if (c)
		return new_rel(ls, c->schema, c->name);
	relid = RangeVarGetRelidExtended(rv, NoLock, RVR_MISSING_OK, NULL, NULL);
	if (!OidIsValid(relid))
		return NULL;
	return lint_rel_oid(ls, relid);
}

/*
 * The table of the index rv names (and the index in *index_rel), or NULL.
 * An index the pending run created is new, and so is its table then.
 */
LintRel *
lint_index_table(LintState *ls, const RangeVar *index, LintRel **index_rel)
{
	LintCreated *c = lint_find_created(ls, index->schemaname, index->relname, 'i');
	Oid			idxoid;
	HeapTuple	tup;
	Oid			table;

	*index_rel = NULL;
	if (c)
	{
		*index_rel = new_rel(ls, c->schema, c->name);
		return new_rel(ls, c->table_schema, c->table_name);
	}
	idxoid = RangeVarGetRelidExtended(index, NoLock, RVR_MISSING_OK, NULL, NULL);
	if (!OidIsValid(idxoid))
		return NULL;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idxoid));
	if (!HeapTupleIsValid(tup))
		return NULL;
	table = ((Form_pg_index) GETSTRUCT(tup))->indrelid;
	ReleaseSysCache(tup);
	*index_rel = lint_rel_oid(ls, idxoid);
	return lint_rel_oid(ls, table);
}

/*
 * The column names of index (in table's schema): from the pending run if
 * it creates the index, else from pg_index.
 */
List *
lint_index_columns(LintState *ls, const RangeVar *table, const char *index)
{
	LintCreated *c = lint_find_created(ls, table->schemaname, index, 'i');
	RangeVar   *irv = makeRangeVar(table->schemaname, (char *) index, -1);
	Oid			idxoid;
	HeapTuple	tup;
	Form_pg_index ind;
	List	   *columns = NIL;
	int			i;

	if (c)
		return c->columns;
	idxoid = RangeVarGetRelidExtended(irv, NoLock, RVR_MISSING_OK, NULL, NULL);
	if (!OidIsValid(idxoid))
		return NIL;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idxoid));
	if (!HeapTupleIsValid(tup))
		return NIL;
	ind = (Form_pg_index) GETSTRUCT(tup);
	for (i = 0; i < ind->indnkeyatts; i++)
	{
		char	   *name = ind->indkey.values[i] > 0 ?
			get_attname(ind->indrelid, ind->indkey.values[i], true) : NULL;

		if (name)
			columns = lappend(columns, name);
	}
	ReleaseSysCache(tup);
	return columns;
}

/*
 * Does the table hold a row?  Looked at (one visible tuple) only under a
 * lock got without waiting, and only by a caller who may read the table;
 * otherwise the estimate decides.
 */
bool
lint_rel_has_rows(LintState *ls, const LintRel *rel)
{
	Relation	r;
	bool		found = false;

	if (rel->is_new || rel->bytes == 0)
		return false;
	/* looking needs the right to read it; otherwise the estimate decides */
	if (rel->relkind != RELKIND_RELATION || !OidIsValid(rel->relid) ||
		pg_class_aclcheck(rel->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		!ConditionalLockRelationOid(rel->relid, AccessShareLock))
		return rel->rows != 0;

	r = try_relation_open(rel->relid, NoLock);
	if (r)
	{
		Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
		TableScanDesc scan = table_beginscan(r, snap, 0, NULL);
		TupleTableSlot *slot = table_slot_create(r, NULL);

		found = table_scan_getnextslot(scan, ForwardScanDirection, slot);
		ExecDropSingleTupleTableSlot(slot);
		table_endscan(scan);
		UnregisterSnapshot(snap);
		relation_close(r, NoLock);
	}
	UnlockRelationOid(rel->relid, AccessShareLock);
	return found;
}

/* does a raw CHECK expression say column IS NOT NULL (alone or ANDed)? */
static bool
raw_proves_not_null(Node *expr, const char *column)
{
	if (expr == NULL)
		return false;
	if (IsA(expr, NullTest))
	{
		NullTest   *nt = (NullTest *) expr;

		if (nt->nulltesttype == IS_NOT_NULL && IsA(nt->arg, ColumnRef))
		{
			List	   *fields = ((ColumnRef *) nt->arg)->fields;
			Node	   *last = (Node *) llast(fields);

			return IsA(last, String) && strcmp(strVal(last), column) == 0;
		}
		return false;
	}
	if (IsA(expr, BoolExpr) && ((BoolExpr *) expr)->boolop == AND_EXPR)
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) expr)->args)
			if (raw_proves_not_null((Node *) lfirst(lc), column))
				return true;
	}
	return false;
}

/* validated CHECK constraints of relid imply that attribute att is not null? */
static bool
checks_imply_not_null(Oid relid, Form_pg_attribute att)
{
	Relation	conrel = table_open(ConstraintRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *facts = NIL;
	NullTest   *nt;

	ScanKeyInit(&key, Anum_pg_constraint_conrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(conrel, ConstraintRelidTypidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);
		Datum		bin;
		bool		isnull;
		Node	   *expr;

		if (con->contype != CONSTRAINT_CHECK || !con->convalidated)
			continue;
		bin = heap_getattr(tup, Anum_pg_constraint_conbin, RelationGetDescr(conrel), &isnull);
		if (isnull)
			continue;
		/* prepared as ALTER TABLE prepares them for the same proof */
		expr = stringToNode(TextDatumGetCString(bin));
		expr = eval_const_expressions(NULL, expr);
		expr = (Node *) canonicalize_qual((Expr *) expr, true);
		facts = list_concat(facts, make_ands_implicit((Expr *) expr));
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);

	if (facts == NIL)
		return false;
	nt = makeNode(NullTest);
	nt->arg = (Expr *) makeVar(1, att->attnum, att->atttypid, att->atttypmod,
							   att->attcollation, 0);
	nt->nulltesttype = IS_NOT_NULL;
	nt->argisrow = false;
	nt->location = -1;
	return predicate_implied_by(list_make1(nt), facts, false);
}

#ifdef MIGRATE_NOTNULL_CONSTRAINTS
/*
 * PG 18: is the column's not-null constraint validated?  A NOT VALID one
 * sets attnotnull too, but SET NOT NULL then validates it: a scan.
 */
static bool
notnull_constraint_valid(Oid relid, AttrNumber attnum)
{
	HeapTuple	tup = findNotNullConstraintAttnum(relid, attnum);

	return !HeapTupleIsValid(tup) || ((Form_pg_constraint) GETSTRUCT(tup))->convalidated;
}
#endif

/*
 * Is column of the table rv (rel) known not to hold NULLs without a scan:
 * already NOT NULL, or implied by validated CHECK constraints (the
 * catalog's, or those the pending run added and validated)?
 */
bool
lint_column_proven_not_null(LintState *ls, const LintRel *rel, const RangeVar *rv,
							const char *column)
{
	ListCell   *lc;

	foreach(lc, ls->constraints)
	{
		LintConstraint *c = (LintConstraint *) lfirst(lc);

		if (!c->validated || strcmp(c->table, rv->relname) != 0 ||
			!same_schema(c->schema, rv->schemaname))
			continue;
		if (c->contype == CONSTR_CHECK && raw_proves_not_null(c->raw_expr, column))
			return true;
		if (c->contype == CONSTR_NOTNULL && list_length(c->columns) == 1 &&
			strcmp((char *) linitial(c->columns), column) == 0)
			return true;
	}

	if (OidIsValid(rel->relid))
	{
		HeapTuple	tup = SearchSysCacheAttName(rel->relid, column);
		bool		proven = false;

		if (!HeapTupleIsValid(tup))
			return false;
		if (((Form_pg_attribute) GETSTRUCT(tup))->attnotnull)
		{
#ifdef MIGRATE_NOTNULL_CONSTRAINTS
			proven = notnull_constraint_valid(rel->relid,
											  ((Form_pg_attribute) GETSTRUCT(tup))->attnum);
#else
			proven = true;
#endif
		}
		if (!proven)
			proven = checks_imply_not_null(rel->relid, (Form_pg_attribute) GETSTRUCT(tup));
		ReleaseSysCache(tup);
		return proven;
	}
	return false;
}

/* remember a CHECK or NOT NULL constraint the pending run adds */
void
lint_constraint_added(LintState *ls, const RangeVar *rv, Constraint *con)
{
	MemoryContext old = MemoryContextSwitchTo(ls->cxt);
	LintConstraint *c = palloc0(sizeof(LintConstraint));
	ListCell   *lc;

	c->schema = rv->schemaname ? pstrdup(rv->schemaname) : NULL;
	c->table = pstrdup(rv->relname);
	c->name = con->conname ? pstrdup(con->conname) : NULL;
	c->contype = con->contype;
	c->raw_expr = copyObject(con->raw_expr);
	foreach(lc, con->keys)
		c->columns = lappend(c->columns, pstrdup(strVal(lfirst(lc))));
	c->validated = !con->skip_validation && migrate_constraint_enforced(con);
	ls->constraints = lappend(ls->constraints, c);
	MemoryContextSwitchTo(old);
}

/* VALIDATE CONSTRAINT name on rv: a constraint the run added is now proven */
void
lint_constraint_validated(LintState *ls, const RangeVar *rv, const char *name)
{
	ListCell   *lc;

	foreach(lc, ls->constraints)
	{
		LintConstraint *c = (LintConstraint *) lfirst(lc);

		if (c->name && strcmp(c->name, name) == 0 && strcmp(c->table, rv->relname) == 0 &&
			same_schema(c->schema, rv->schemaname))
			c->validated = true;
	}
}

/* the OID of a type name (and its typmod when typmod is not NULL), or InvalidOid */
Oid
lint_type_oid(TypeName *tn, int32 *typmod)
{
	Type		t;
	Oid			oid;

	/* %TYPE would look a column up (with a NOTICE): not a type we judge */
	if (tn->pct_type)
		return InvalidOid;
	t = LookupTypeName(NULL, tn, typmod, true);
	if (t == NULL)
		return InvalidOid;
	oid = typeTypeId(t);
	ReleaseSysCache(t);
	return oid;
}

/* does the pending run create the type these names name? */
bool
lint_type_created(LintState *ls, List *names)
{
	char	   *schema;
	char	   *name;

	DeconstructQualifiedName(names, &schema, &name);
	return lint_find_created(ls, schema, name, 't') != NULL;
}

/*
 * The steps ALTER TABLE takes a rewrite from (ATColumnChangeRequiresRewrite
 * in tablecmds.c, the same in 15, 17 and 18): after planning, only
 * relabels, domains without constraints, and timestamp <-> timestamptz
 * while the session time zone is UTC may stand between the new value and
 * the old column.
 */
static bool
coercion_rewrites(Node *expr, AttrNumber attnum)
{
	while (expr != NULL)
	{
		if (IsA(expr, Var))
			return ((Var *) expr)->varattno != attnum;
		if (IsA(expr, RelabelType))
		{
			expr = (Node *) ((RelabelType *) expr)->arg;
			continue;
		}
		if (IsA(expr, CoerceToDomain))
		{
			if (DomainHasConstraints(((CoerceToDomain *) expr)->resulttype))
				return true;
			expr = (Node *) ((CoerceToDomain *) expr)->arg;
			continue;
		}
		if (IsA(expr, FuncExpr))
		{
			FuncExpr   *f = (FuncExpr *) expr;

			if ((f->funcid == F_TIMESTAMPTZ_TIMESTAMP || f->funcid == F_TIMESTAMP_TIMESTAMPTZ) &&
				!TimestampTimestampTzRequiresRewrite())
			{
				expr = (Node *) linitial(f->args);
				continue;
			}
		}
		return true;
	}
	return true;
}

/* a USING expression that is just the column itself */
static bool
is_the_column(Node *expr, const char *column)
{
	List	   *fields;

	if (expr == NULL || !IsA(expr, ColumnRef))
		return false;
	fields = ((ColumnRef *) expr)->fields;
	return list_length(fields) == 1 && IsA(linitial(fields), String) &&
		strcmp(strVal(linitial(fields)), column) == 0;
}

/*
 * Run fn(arg) in a subtransaction; false if it raised an error (other than
 * a cancel or running out of resources, which go on up).
 */
static bool
try_analysis(void (*fn) (void *), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		(void) migrate_catch_recoverable(cxt);
		RollbackAndReleaseCurrentSubTransaction();
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return ok;
}

/* arguments and result of one type-change analysis */
typedef struct TypeChange
{
	Oid			relid;
	const char *column;
	TypeName   *tn;
	bool		known;
	bool		rewrites;
} TypeChange;

static void
type_change_analysis(void *arg)
{
	TypeChange *tc = (TypeChange *) arg;
	HeapTuple	tup = SearchSysCacheAttName(tc->relid, tc->column);
	Form_pg_attribute att;
	Oid			target;
	int32		typmod;
	Node	   *expr;
	ParseState *pstate;

	if (!HeapTupleIsValid(tup))
		return;
	att = (Form_pg_attribute) GETSTRUCT(tup);
	target = lint_type_oid(tc->tn, &typmod);
	if (OidIsValid(target))
	{
		pstate = make_parsestate(NULL);
		expr = (Node *) makeVar(1, att->attnum, att->atttypid, att->atttypmod,
								att->attcollation, 0);
		expr = coerce_to_target_type(pstate, expr, att->atttypid, target, typmod,
									 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
		if (expr != NULL)
		{
			assign_expr_collations(pstate, expr);
			expr = (Node *) expression_planner((Expr *) expr);
			tc->rewrites = coercion_rewrites(expr, att->attnum);
			tc->known = true;
		}
	}
	ReleaseSysCache(tup);
}

/*
 * Does ALTER COLUMN column TYPE tn [USING using_expr] rewrite the table?
 * *known is false when lint cannot tell (the column or the type is not in
 * the catalog yet, or no cast exists and the statement will fail).  A
 * USING expression other than the column itself is taken as a rewrite:
 * judging it would need the table opened.
 */
bool
lint_type_change_rewrites(const LintRel *rel, const char *column, TypeName *tn,
						  Node *using_expr, bool *known)
{
	TypeChange	tc;

	*known = false;
	if (!OidIsValid(rel->relid))
		return false;
	if (using_expr != NULL && !is_the_column(using_expr, column))
	{
		*known = true;
		return true;
	}
	memset(&tc, 0, sizeof(tc));
	tc.relid = rel->relid;
	tc.column = column;
	tc.tn = tn;
	if (!try_analysis(type_change_analysis, &tc))
		return false;
	*known = tc.known;
	return tc.rewrites;
}

/* arguments and result of one default analysis */
typedef struct DefaultCost
{
	ColumnDef  *def;
	Node	   *raw_default;
	bool		known;
	bool		rewrites;
	char	   *deparsed;
} DefaultCost;

static void
default_analysis(void *arg)
{
	DefaultCost *dc = (DefaultCost *) arg;
	int32		typmod;
	Oid			type = lint_type_oid(dc->def->typeName, &typmod);
	ParseState *pstate;
	Node	   *expr;

	if (!OidIsValid(type))
		return;
	if (dc->raw_default == NULL)
	{
		/* a NULL that must pass the domain's constraints: ALTER TABLE rewrites */
		dc->rewrites = DomainHasConstraints(type);
		dc->known = true;
		return;
	}
	pstate = make_parsestate(NULL);
	expr = transformExpr(pstate, dc->raw_default, EXPR_KIND_COLUMN_DEFAULT);
	expr = coerce_to_target_type(pstate, expr, exprType(expr), type, typmod,
								 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST, -1);
	if (expr == NULL)
		return;
	assign_expr_collations(pstate, expr);
	dc->deparsed = deparse_expression(expr, NIL, false, false);

	/*
	 * As ATExecAddColumn: a volatile default, or a domain with constraints,
	 * gives no missing value.  Unlike it, the expression is not planned
	 * first: planning folds immutable calls by running them, and lint runs
	 * no user code (a volatile call that planning would fold away is rare).
	 */
	dc->rewrites = DomainHasConstraints(type) || contain_volatile_functions(expr);
	dc->known = true;
}

/*
 * Does ADD COLUMN def with raw_default (NULL: none) rewrite a table that
 * can hold a missing value (a plain table)?  *deparsed gets the default as
 * the server would print it.  *known is false when lint cannot tell.
 */
bool
lint_default_rewrites(const LintRel *rel, ColumnDef *def, Node *raw_default,
					  bool *known, char **deparsed)
{
	DefaultCost dc;

	memset(&dc, 0, sizeof(dc));
	dc.def = def;
	dc.raw_default = raw_default;
	*deparsed = NULL;
	if (!try_analysis(default_analysis, &dc))
	{
		*known = false;
		return false;
	}
	*known = dc.known;
	*deparsed = dc.deparsed;
	return dc.rewrites;
}

/* arguments and result of one type name lookup */
typedef struct TypeText
{
	TypeName   *tn;
	char	   *text;
} TypeText;

static void
type_text_analysis(void *arg)
{
	TypeText   *tt = (TypeText *) arg;
	int32		typmod = -1;
	Oid			oid = lint_type_oid(tt->tn, &typmod);

	if (OidIsValid(oid))
		tt->text = format_type_with_typemod(oid, typmod);
}

/* a type name as the server prints it (format_type), or as written */
char *
lint_type_text(TypeName *tn)
{
	TypeText	tt;

	tt.tn = tn;
	tt.text = NULL;
	if (try_analysis(type_text_analysis, &tt) && tt.text)
		return tt.text;
	return TypeNameToString(tn);
}
