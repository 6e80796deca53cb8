/*-------------------------------------------------------------------------
 *
 * fingerprint.c
 *	  The schema fingerprint: one line "identity hash" per object of the
 *	  user schemas, read from the catalogs, and one hash over all lines.
 *
 * drift.c records it after every run that changed the schema and compares
 * it with the schema before the next one, to find the changes the drift
 * trigger could not see.  The objects are those of every schema but
 * pg_*, information_schema and migrate, leaving out any extension's
 * members: schemas; tables, views, materialized views, sequences,
 * foreign tables and composite types, each with its columns, defaults,
 * constraints, triggers, policies, rules, parents, partition key and
 * bound, view query or sequence parameters; indexes; functions,
 * procedures and aggregates; base, enum, range types and domains; other
 * extensions.  Each line is the object's identity ("table public.t",
 * "index public.t_pkey", "function public.f(integer)": the names the
 * drift trigger writes into migrate.drift.objects, so that a change the
 * trigger saw is not reported again) and the first 16 hex digits of the
 * SHA-256 of its definition; the fingerprint is the SHA-256 of all lines
 * sorted in "C" order and joined by newlines.
 *
 * A definition uses the server's own deparsers (pg_get_constraintdef,
 * pg_get_expr, pg_get_functiondef, ...), names rather than OIDs and
 * column order rather than attnum, so that a dump restored into another
 * database gives the same fingerprint.  The caller pins search_path to
 * pg_catalog (drift.c's owner scope), so names deparse qualified alike
 * wherever it runs.
 *
 * This is C, not a query, because it runs after every run that applied
 * migrations and before every run that has some to apply: as one query
 * it cost 35 to 50 million instructions to plan in each new backend, and
 * some 200 thousand per object to execute (a correlated subquery and its
 * executor state for each relation's columns and constraints), more than
 * all the rest of what apply adds to the statements it runs.  Here each
 * catalog is read through the index that returns an object's rows in the
 * order the text lists them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_am.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_range.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "lib/stringinfo.h"
#include "rewrite/rewriteSupport.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "fingerprint.h"

/* an extension's member, or any object: (catalog, OID) */
typedef struct ObjectKey
{
	Oid			classid;
	Oid			objid;
} ObjectKey;

/* a relation fingerprinted: its name and its columns' names, for its indexes */
typedef struct RelationEntry
{
	Oid			oid;			/* hash key */
	char	   *name;			/* schema-qualified and quoted, as regclass writes it */
	int			natts;
	char	  **columns;		/* quoted, by attnum (1..natts); NULL if dropped */
} RelationEntry;

/* an index of a user schema, as pg_class has it, until pg_index is read */
typedef struct IndexEntry
{
	Oid			oid;			/* hash key */
	NameData	name;
	Oid			relam;
	const char *schema;			/* quoted */
	char	   *options;		/* reloptions, or NULL */
} IndexEntry;

/* a user schema, by OID */
typedef struct SchemaEntry
{
	Oid			oid;			/* hash key */
	char	   *name;			/* quoted */
} SchemaEntry;

/* a text that belongs to a relation, read for all of them in one pass */
typedef struct RelationText
{
	Oid			relid;			/* hash key */
	char	   *text;
} RelationText;

/* one row of pg_inherits or pg_policy, to be sorted and grouped */
typedef struct RelationPart
{
	Oid			relid;
	int32		seqno;			/* pg_inherits.inhseqno */
	char	   *name;			/* pg_policy.polname */
	char	   *text;
} RelationPart;

/* what one computation keeps while it reads the catalogs */
typedef struct FingerprintState
{
	HTAB	   *members;		/* ObjectKey of every extension member */
	HTAB	   *schemas;		/* SchemaEntry of every user schema */
	HTAB	   *relations;		/* RelationEntry of every relation fingerprinted */
	Oid			last_collation; /* the collation named last, and its name */
	char	   *last_collation_name;
	HTAB	   *parents;		/* RelationText: a relation's parents */
	HTAB	   *policies;		/* RelationText: a table's policies */
	HTAB	   *arrays;			/* Oid of the array type of every user type */
	StringInfoData lines;		/* "identity hash" lines, each ended by a zero */
	int		   *starts;			/* where each line starts in lines */
	int			nlines;
	int			maxlines;
	pg_cryptohash_ctx *sha;
	StringInfoData def;			/* the object being described */
} FingerprintState;

/* ----------------------------------------------------------------
 * Helpers
 * ----------------------------------------------------------------
 */

/*
 * Call a deparser that returns text or NULL (pg_get_expr and the other
 * pg_get_* functions, which take one or two arguments and no flinfo).
 */
static char *
deparse(PGFunction fn, int nargs, Datum arg0, Datum arg1)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, NULL, nargs, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = arg0;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = arg1;
	fcinfo->args[1].isnull = false;
	result = (*fn) (fcinfo);
	if (fcinfo->isnull)
		return NULL;
	return TextDatumGetCString(result);
}

/* a cstring output function's text for an OID (regclass, regtype, ...) */
static char *
reg_out(PGFunction fn, Oid oid)
{
	return DatumGetCString(DirectFunctionCall1(fn, ObjectIdGetDatum(oid)));
}

/* qsort comparator of C strings */
/* a hash table in the current memory context, keyed on its entries' first keysize bytes */
static HTAB *
blob_table(const char *name, long nelem, Size keysize, Size entrysize)
{
	HASHCTL		ctl;

	ctl.hcxt = CurrentMemoryContext;
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	return hash_create(name, nelem, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static int
cmp_cstrings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* a stored expression (pg_node_tree) deparsed, relid its context or 0 */
static char *
expr_text(Datum node, Oid relid)
{
	return deparse(pg_get_expr, 2, node, ObjectIdGetDatum(relid));
}

/* a collation's name as regcollation writes it (most columns share one) */
static const char *
collation_name(FingerprintState *st, Oid collation)
{
	if (!OidIsValid(collation))
		return "-";
	if (collation != st->last_collation)
	{
		st->last_collation_name = reg_out(regcollationout, collation);
		st->last_collation = collation;
	}
	return st->last_collation_name;
}

static const char *
bool_text(bool b)
{
	return b ? "t" : "f";
}

/* append s, or nothing for NULL */
static void
append_opt(StringInfo buf, const char *s)
{
	if (s)
		appendStringInfoString(buf, s);
}

/* an attribute of a catalog tuple as text through its output function, NULL if null */
static char *
attr_text(HeapTuple tup, TupleDesc desc, AttrNumber attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, desc, &isnull);
	Oid			typoutput;
	bool		varlena;

	if (isnull)
		return NULL;
	getTypeOutputInfo(TupleDescAttr(desc, attnum - 1)->atttypid, &typoutput, &varlena);
	return OidOutputFunctionCall(typoutput, d);
}

/* is (classid, objid) a member of an extension? */
static bool
is_member(FingerprintState *st, Oid classid, Oid objid)
{
	ObjectKey	key;

	key.classid = classid;
	key.objid = objid;
	return hash_search(st->members, &key, HASH_FIND, NULL) != NULL;
}

/* the quoted name of a user schema, NULL if oid is none */
static const char *
user_schema(FingerprintState *st, Oid oid)
{
	SchemaEntry *e = hash_search(st->schemas, &oid, HASH_FIND, NULL);

	return e ? e->name : NULL;
}

/*
 * A scan of a whole catalog whose rows belong to schemas (pg_class,
 * pg_proc, pg_type): when there is one user schema, only its rows come
 * back (the key is tested on the page, before a row is formed).
 */
static SysScanDesc
scan_user_rows(FingerprintState *st, Relation rel, AttrNumber nspattr, ScanKeyData *key)
{
	HASH_SEQ_STATUS seq;
	SchemaEntry *only;

	if (hash_get_num_entries(st->schemas) != 1)
		return systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	hash_seq_init(&seq, st->schemas);
	only = hash_seq_search(&seq);
	hash_seq_term(&seq);
	ScanKeyInit(key, nspattr, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(only->oid));
	return systable_beginscan(rel, InvalidOid, false, NULL, 1, key);
}

/* the text kept for relid in table, or NULL */
static const char *
relation_text(HTAB *table, Oid relid)
{
	RelationText *e = hash_search(table, &relid, HASH_FIND, NULL);

	return e ? e->text : NULL;
}

/* qsort comparator of RelationParts: by relation, then seqno, then name in "C" order */
static int
cmp_parts(const void *a, const void *b)
{
	const RelationPart *x = (const RelationPart *) a;
	const RelationPart *y = (const RelationPart *) b;

	if (x->relid != y->relid)
		return x->relid < y->relid ? -1 : 1;
	if (x->seqno != y->seqno)
		return x->seqno < y->seqno ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* sort parts and keep, for each relation, their texts joined by sep */
static void
group_parts(HTAB *table, RelationPart *parts, int n, const char *sep)
{
	StringInfoData buf;

	qsort(parts, n, sizeof(RelationPart), cmp_parts);
	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
	{
		RelationText *e;

		if (i > 0 && parts[i].relid == parts[i - 1].relid)
			appendStringInfoString(&buf, sep);
		appendStringInfoString(&buf, parts[i].text);
		if (i + 1 < n && parts[i + 1].relid == parts[i].relid)
			continue;
		e = hash_search(table, &parts[i].relid, HASH_ENTER, NULL);
		e->text = pstrdup(buf.data);
		resetStringInfo(&buf);
	}
}

/* an index scan of catalog rel on its index indexid, keys equal to the OIDs given */
static SysScanDesc
scan_by_oids(Relation rel, Oid indexid, int nkeys, AttrNumber attno1, Oid oid1,
			 AttrNumber attno2, Oid oid2, ScanKeyData *keys)
{
	ScanKeyInit(&keys[0], attno1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(oid1));
	if (nkeys > 1)
		ScanKeyInit(&keys[1], attno2, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(oid2));
	return systable_beginscan(rel, indexid, true, NULL, nkeys, keys);
}

/*
 * The line of an object: its identity (fmt and what follows), a space,
 * 16 hex digits of SHA-256(def).  All lines share one buffer: a schema of
 * 30 000 objects would otherwise be 30 000 allocations.
 */
pg_attribute_printf(2, 3)
static void
add_line(FingerprintState *st, const char *fmt,...)
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		hex[PG_SHA256_DIGEST_LENGTH * 2 + 1];
	int			start = st->lines.len;

	if (pg_cryptohash_init(st->sha) < 0 ||
		pg_cryptohash_update(st->sha, (uint8 *) st->def.data, st->def.len) < 0 ||
		pg_cryptohash_final(st->sha, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	hex_encode((char *) digest, 8, hex);
	hex[16] = '\0';
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&st->lines, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&st->lines, needed);
	}
	appendStringInfo(&st->lines, " %s", hex);
	appendStringInfoChar(&st->lines, '\0');
	if (st->nlines == st->maxlines)
	{
		st->maxlines = Max(256, st->maxlines * 2);
		st->starts = st->starts ? repalloc(st->starts, sizeof(int) * st->maxlines) :
			palloc(sizeof(int) * st->maxlines);
	}
	st->starts[st->nlines++] = start;
}

/* ----------------------------------------------------------------
 * What is left out, and the schemas
 * ----------------------------------------------------------------
 */

/* every member of every extension (their objects are the extension's) */
static void
read_members(FingerprintState *st)
{
	Relation	ext = table_open(ExtensionRelationId, AccessShareLock);
	Relation	dep = table_open(DependRelationId, AccessShareLock);
	SysScanDesc escan = systable_beginscan(ext, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	etup;

	while (HeapTupleIsValid(etup = systable_getnext(escan)))
	{
		Oid			extoid = ((Form_pg_extension) GETSTRUCT(etup))->oid;
		ScanKeyData keys[2];
		SysScanDesc dscan = scan_by_oids(dep, DependReferenceIndexId, 2,
										 Anum_pg_depend_refclassid, ExtensionRelationId,
										 Anum_pg_depend_refobjid, extoid, keys);
		HeapTuple	dtup;

		while (HeapTupleIsValid(dtup = systable_getnext(dscan)))
		{
			Form_pg_depend d = (Form_pg_depend) GETSTRUCT(dtup);
			ObjectKey	key;

			if (d->deptype != DEPENDENCY_EXTENSION)
				continue;
			key.classid = d->classid;
			key.objid = d->objid;
			(void) hash_search(st->members, &key, HASH_ENTER, NULL);
		}
		systable_endscan(dscan);
	}
	systable_endscan(escan);
	table_close(dep, AccessShareLock);
	table_close(ext, AccessShareLock);
}

/* the user schemas: a line each, and the table of them */
static void
read_schemas(FingerprintState *st)
{
	Relation	rel = table_open(NamespaceRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_namespace n = (Form_pg_namespace) GETSTRUCT(tup);
		const char *name = NameStr(n->nspname);
		SchemaEntry *e;

		if (strcmp(name, "information_schema") == 0 || strcmp(name, "migrate") == 0 ||
			strncmp(name, "pg_", 3) == 0 || is_member(st, NamespaceRelationId, n->oid))
			continue;
		e = hash_search(st->schemas, &n->oid, HASH_ENTER, NULL);
		e->name = pstrdup(quote_identifier(name));
		resetStringInfo(&st->def);
		add_line(st, "schema %s", e->name);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* ----------------------------------------------------------------
 * Relations
 * ----------------------------------------------------------------
 */

/* "name type notnull default identity generated collation", by attnum */
static void
describe_columns(FingerprintState *st, RelationEntry *entry)
{
	Oid			relid = entry->oid;
	int			natts = entry->natts;
	Relation	rel = table_open(AttributeRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	char	  **defaults = NULL;
	bool		first = true;

	ScanKeyInit(&keys[0], Anum_pg_attribute_attrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], Anum_pg_attribute_attnum, BTGreaterStrategyNumber, F_INT2GT,
				Int16GetDatum(0));
	scan = systable_beginscan(rel, AttributeRelidNumIndexId, true, NULL, 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_attribute a = (Form_pg_attribute) GETSTRUCT(tup);

		if (a->attisdropped || a->attnum > natts)
			continue;
		entry->columns[a->attnum] = pstrdup(quote_identifier(NameStr(a->attname)));
		if (a->atthasdef && defaults == NULL)
		{
			/* every default of the relation, by attnum, in one scan */
			Relation	adrel = table_open(AttrDefaultRelationId, AccessShareLock);
			ScanKeyData adkey;
			SysScanDesc adscan;
			HeapTuple	adtup;

			defaults = palloc0(sizeof(char *) * (natts + 1));
			ScanKeyInit(&adkey, Anum_pg_attrdef_adrelid, BTEqualStrategyNumber, F_OIDEQ,
						ObjectIdGetDatum(relid));
			adscan = systable_beginscan(adrel, AttrDefaultIndexId, true, NULL, 1, &adkey);
			while (HeapTupleIsValid(adtup = systable_getnext(adscan)))
			{
				Form_pg_attrdef d = (Form_pg_attrdef) GETSTRUCT(adtup);
				bool		isnull;
				Datum		bin = heap_getattr(adtup, Anum_pg_attrdef_adbin,
											   RelationGetDescr(adrel), &isnull);

				if (!isnull && d->adnum > 0 && d->adnum <= natts)
					defaults[d->adnum] = TextDatumGetCString(bin);
			}
			systable_endscan(adscan);
			table_close(adrel, AccessShareLock);
		}
		if (!first)
			appendStringInfoString(&st->def, ", ");
		first = false;
		appendStringInfo(&st->def, "%s %s %s ", entry->columns[a->attnum],
						 format_type_with_typemod(a->atttypid, a->atttypmod),
						 bool_text(a->attnotnull));

		/*
		 * A column default cannot refer to a column, so it is deparsed
		 * without the relation as context (with it, pg_get_expr opens the
		 * relation for every default); a generated column's expression
		 * can, and keeps it.  The text is the same either way.
		 */
		if (a->atthasdef && defaults[a->attnum])
			append_opt(&st->def,
					   expr_text(CStringGetTextDatum(defaults[a->attnum]),
								 a->attgenerated ? relid : InvalidOid));
		appendStringInfo(&st->def, " %c %c %s",
						 a->attidentity ? a->attidentity : '-',
						 a->attgenerated ? a->attgenerated : '-',
						 collation_name(st, a->attcollation));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* what describe_rows appends for one row; false leaves the row out */
typedef bool (*DescribeRow) (FingerprintState *st, HeapTuple tup, TupleDesc desc);

/*
 * Append what describe says of each row of catalog that its index indexid
 * finds for the OID keys given, in the index's order, joined by sep.
 */
static void
describe_rows(FingerprintState *st, Oid catalog, Oid indexid, int nkeys,
			  AttrNumber attno1, Oid oid1, AttrNumber attno2, Oid oid2,
			  const char *sep, DescribeRow describe)
{
	Relation	rel = table_open(catalog, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan = scan_by_oids(rel, indexid, nkeys, attno1, oid1, attno2, oid2, keys);
	HeapTuple	tup;
	bool		first = true;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		int			len = st->def.len;

		if (!first)
			appendStringInfoString(&st->def, sep);
		if (describe(st, tup, RelationGetDescr(rel)))
			first = false;
		else
		{
			st->def.len = len;
			st->def.data[len] = '\0';
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* a constraint: "name definition" */
static bool
constraint_row(FingerprintState *st, HeapTuple tup, TupleDesc desc)
{
	Form_pg_constraint c = (Form_pg_constraint) GETSTRUCT(tup);

	appendStringInfo(&st->def, "%s ", quote_identifier(NameStr(c->conname)));
	append_opt(&st->def, deparse(pg_get_constraintdef, 1, ObjectIdGetDatum(c->oid), 0));
	return true;
}

/* the constraints of a relation (or of a domain), by name */
static void
describe_constraints(FingerprintState *st, Oid relid, Oid typid)
{
	describe_rows(st, ConstraintRelationId, ConstraintRelidTypidNameIndexId, 2,
				  Anum_pg_constraint_conrelid, relid, Anum_pg_constraint_contypid, typid,
				  ", ", constraint_row);
}

/* a trigger, unless a constraint's internal one */
static bool
trigger_row(FingerprintState *st, HeapTuple tup, TupleDesc desc)
{
	Form_pg_trigger g = (Form_pg_trigger) GETSTRUCT(tup);

	if (g->tgisinternal)
		return false;
	append_opt(&st->def, deparse(pg_get_triggerdef, 1, ObjectIdGetDatum(g->oid), 0));
	return true;
}

/* a rule, unless a view's _RETURN */
static bool
rule_row(FingerprintState *st, HeapTuple tup, TupleDesc desc)
{
	Form_pg_rewrite w = (Form_pg_rewrite) GETSTRUCT(tup);

	if (strcmp(NameStr(w->rulename), ViewSelectRuleName) == 0)
		return false;
	append_opt(&st->def, deparse(pg_get_ruledef, 1, ObjectIdGetDatum(w->oid), 0));
	return true;
}

/* an enum's label, quoted */
static bool
enum_row(FingerprintState *st, HeapTuple tup, TupleDesc desc)
{
	appendStringInfoString(&st->def,
						   quote_literal_cstr(NameStr(((Form_pg_enum) GETSTRUCT(tup))->enumlabel)));
	return true;
}

/*
 * The parents of every relation, by inhseqno, and the policies of every
 * table ("name command permissive roles qual check"), by name: one pass
 * over each catalog, since most relations have none.
 */
static void
read_parents_and_policies(FingerprintState *st)
{
	Relation	rel = table_open(InheritsRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	RelationPart *parts = NULL;
	int			n = 0;
	int			size = 0;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_inherits i = (Form_pg_inherits) GETSTRUCT(tup);

		if (n == size)
		{
			size = Max(16, size * 2);
			parts = parts ? repalloc(parts, sizeof(RelationPart) * size) :
				palloc(sizeof(RelationPart) * size);
		}
		parts[n].relid = i->inhrelid;
		parts[n].seqno = i->inhseqno;
		parts[n].name = "";
		parts[n].text = reg_out(regclassout, i->inhparent);
		n++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	group_parts(st->parents, parts, n, ",");

	n = 0;
	rel = table_open(PolicyRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_policy p = (Form_pg_policy) GETSTRUCT(tup);
		TupleDesc	desc = RelationGetDescr(rel);
		StringInfoData buf;
		bool		isnull;
		Datum		d;
		Datum	   *roles = NULL;
		int			nroles = 0;
		char	  **names;

		initStringInfo(&buf);
		appendStringInfo(&buf, "%s %c %s ", quote_identifier(NameStr(p->polname)),
						 p->polcmd, bool_text(p->polpermissive));

		/* the roles by name, in "C" order (OIDs differ between databases) */
		d = heap_getattr(tup, Anum_pg_policy_polroles, desc, &isnull);
		if (!isnull)
			deconstruct_array(DatumGetArrayTypeP(d), OIDOID, sizeof(Oid), true, TYPALIGN_INT,
							  &roles, NULL, &nroles);
		names = palloc(sizeof(char *) * Max(nroles, 1));
		for (int i = 0; i < nroles; i++)
			names[i] = DatumGetObjectId(roles[i]) == InvalidOid ? "public" :
				NameStr(*DatumGetName(DirectFunctionCall1(pg_get_userbyid, roles[i])));
		qsort(names, nroles, sizeof(char *), cmp_cstrings);
		for (int i = 0; i < nroles; i++)
			appendStringInfo(&buf, "%s%s", i ? "," : "", names[i]);

		d = heap_getattr(tup, Anum_pg_policy_polqual, desc, &isnull);
		appendStringInfoChar(&buf, ' ');
		if (!isnull)
			append_opt(&buf, expr_text(d, p->polrelid));
		d = heap_getattr(tup, Anum_pg_policy_polwithcheck, desc, &isnull);
		appendStringInfoChar(&buf, ' ');
		if (!isnull)
			append_opt(&buf, expr_text(d, p->polrelid));

		if (n == size)
		{
			size = Max(16, size * 2);
			parts = parts ? repalloc(parts, sizeof(RelationPart) * size) :
				palloc(sizeof(RelationPart) * size);
		}
		parts[n].relid = p->polrelid;
		parts[n].seqno = 0;
		parts[n].name = pstrdup(NameStr(p->polname));
		parts[n].text = buf.data;
		n++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	group_parts(st->policies, parts, n, ", ");
}

/* a sequence's type and parameters (not its value) */
static void
describe_sequence(FingerprintState *st, Oid relid)
{
	HeapTuple	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(relid));
	Form_pg_sequence s;

	if (!HeapTupleIsValid(tup))
		return;
	s = (Form_pg_sequence) GETSTRUCT(tup);
	appendStringInfo(&st->def, "%s " INT64_FORMAT " " INT64_FORMAT " " INT64_FORMAT " "
					 INT64_FORMAT " " INT64_FORMAT " %s",
					 reg_out(regtypeout, s->seqtypid), s->seqstart, s->seqincrement,
					 s->seqmax, s->seqmin, s->seqcache, bool_text(s->seqcycle));
	ReleaseSysCache(tup);
}

/*
 * A relation: its kind and options, partition key and bound, parents,
 * columns, view query, constraints, triggers, policies, rules, sequence
 * parameters, a line each (empty where it has none).  Triggers, rules
 * and sequence parameters are looked for only where pg_class says there
 * may be some.
 */
static void
describe_relation(FingerprintState *st, HeapTuple tup, TupleDesc desc, const char *schema)
{
	Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
	Oid			relid = c->oid;
	RelationEntry *entry = hash_search(st->relations, &relid, HASH_ENTER, NULL);
	const char *kind;
	char	   *opts = attr_text(tup, desc, Anum_pg_class_reloptions);
	bool		isnull;
	Datum		bound;
	bool		table = (c->relkind == RELKIND_RELATION ||
						 c->relkind == RELKIND_PARTITIONED_TABLE);

	switch (c->relkind)
	{
		case RELKIND_VIEW:
			kind = "view";
			break;
		case RELKIND_MATVIEW:
			kind = "materialized view";
			break;
		case RELKIND_SEQUENCE:
			kind = "sequence";
			break;
		case RELKIND_FOREIGN_TABLE:
			kind = "foreign table";
			break;
		case RELKIND_COMPOSITE_TYPE:
			kind = "type";
			break;
		default:
			kind = "table";
			break;
	}

	entry->name = psprintf("%s.%s", schema, quote_identifier(NameStr(c->relname)));
	entry->natts = Max(c->relnatts, 0);
	entry->columns = palloc0(sizeof(char *) * (entry->natts + 1));

	resetStringInfo(&st->def);
	appendStringInfo(&st->def, "%c %c %s %s %s\n", c->relkind, c->relpersistence,
					 opts ? opts : "", bool_text(c->relrowsecurity),
					 bool_text(c->relforcerowsecurity));
	if (c->relkind == RELKIND_PARTITIONED_TABLE)
		append_opt(&st->def, deparse(pg_get_partkeydef, 1, ObjectIdGetDatum(relid), 0));
	appendStringInfoChar(&st->def, '\n');
	bound = heap_getattr(tup, Anum_pg_class_relpartbound, desc, &isnull);
	if (!isnull)
		append_opt(&st->def, expr_text(bound, relid));
	appendStringInfoChar(&st->def, '\n');
	append_opt(&st->def, relation_text(st->parents, relid));
	appendStringInfoChar(&st->def, '\n');
	describe_columns(st, entry);
	appendStringInfoChar(&st->def, '\n');
	if (c->relkind == RELKIND_VIEW || c->relkind == RELKIND_MATVIEW)
		append_opt(&st->def, deparse(pg_get_viewdef, 1, ObjectIdGetDatum(relid), 0));
	appendStringInfoChar(&st->def, '\n');
	if (table || c->relkind == RELKIND_FOREIGN_TABLE)
		describe_constraints(st, relid, InvalidOid);
	appendStringInfoChar(&st->def, '\n');
	if (c->relhastriggers)
		describe_rows(st, TriggerRelationId, TriggerRelidNameIndexId, 1,
					  Anum_pg_trigger_tgrelid, relid, 0, InvalidOid, ", ", trigger_row);
	appendStringInfoChar(&st->def, '\n');
	append_opt(&st->def, relation_text(st->policies, relid));
	appendStringInfoChar(&st->def, '\n');
	if (c->relhasrules)
		describe_rows(st, RewriteRelationId, RewriteRelRulenameIndexId, 1,
					  Anum_pg_rewrite_ev_class, relid, 0, InvalidOid, ", ", rule_row);
	appendStringInfoChar(&st->def, '\n');
	if (c->relkind == RELKIND_SEQUENCE)
		describe_sequence(st, relid);

	add_line(st, "%s %s", kind, entry->name);
}

/*
 * An index, from the catalogs rather than pg_get_indexdef, which decides
 * for every column whether to print its operator class by scanning every
 * operator class of the access method for the type's default.  Here each
 * key column names its class, collation and options always, and the
 * table, access method, uniqueness, NULLS NOT DISTINCT, INCLUDE count,
 * storage options, expressions and predicate make up the rest: any change
 * pg_get_indexdef would show changes this text too.  No OID is in it.
 */
static void
describe_index(FingerprintState *st, const IndexEntry *ic, const RelationEntry *table,
			   HeapTuple xtup, TupleDesc xdesc)
{
	Form_pg_index x = (Form_pg_index) GETSTRUCT(xtup);
	HeapTuple	amtup;
	const char *opts = ic->options;
	oidvector  *classes;
	oidvector  *collations;
	int2vector *options;
	bool		isnull;
	Datum		d;

	amtup = SearchSysCache1(AMOID, ObjectIdGetDatum(ic->relam));

	resetStringInfo(&st->def);
	appendStringInfo(&st->def, "%s %s %s %s %s %s %s %d\n%s\n",
					 table->name,
					 HeapTupleIsValid(amtup) ? NameStr(((Form_pg_am) GETSTRUCT(amtup))->amname) : "",
					 bool_text(x->indisunique), bool_text(x->indnullsnotdistinct),
					 bool_text(x->indisprimary), bool_text(x->indisexclusion),
					 bool_text(x->indimmediate), x->indnkeyatts, opts ? opts : "");
	if (HeapTupleIsValid(amtup))
		ReleaseSysCache(amtup);

	d = heap_getattr(xtup, Anum_pg_index_indclass, xdesc, &isnull);
	classes = isnull ? NULL : (oidvector *) DatumGetPointer(d);
	d = heap_getattr(xtup, Anum_pg_index_indcollation, xdesc, &isnull);
	collations = isnull ? NULL : (oidvector *) DatumGetPointer(d);
	d = heap_getattr(xtup, Anum_pg_index_indoption, xdesc, &isnull);
	options = isnull ? NULL : (int2vector *) DatumGetPointer(d);
	for (int i = 0; i < x->indnatts; i++)
	{
		AttrNumber	attnum = x->indkey.values[i];

		if (i > 0)
			appendStringInfoString(&st->def, ", ");
		if (attnum == 0)
			appendStringInfoString(&st->def, "(expression)");
		else if (attnum > 0 && attnum <= table->natts && table->columns[attnum])
			appendStringInfoString(&st->def, table->columns[attnum]);
		else					/* a system column */
			appendStringInfoString(&st->def,
								   quote_identifier(get_attname(x->indrelid, attnum, false)));
		if (i >= x->indnkeyatts)
			continue;			/* an INCLUDE column: no class, collation or options */
		if (classes && i < classes->dim1)
		{
			HeapTuple	otup = SearchSysCache1(CLAOID, ObjectIdGetDatum(classes->values[i]));

			if (HeapTupleIsValid(otup))
			{
				Form_pg_opclass oc = (Form_pg_opclass) GETSTRUCT(otup);

				appendStringInfo(&st->def, " %s.%s",
								 quote_identifier(get_namespace_name(oc->opcnamespace)),
								 quote_identifier(NameStr(oc->opcname)));
				ReleaseSysCache(otup);
			}
		}
		if (collations && i < collations->dim1 && OidIsValid(collations->values[i]))
			appendStringInfo(&st->def, " %s", collation_name(st, collations->values[i]));
		if (options && i < options->dim1)
			appendStringInfo(&st->def, " %d", options->values[i]);
	}
	appendStringInfoChar(&st->def, '\n');
	d = heap_getattr(xtup, Anum_pg_index_indexprs, xdesc, &isnull);
	if (!isnull)
		append_opt(&st->def, expr_text(d, x->indrelid));
	appendStringInfoChar(&st->def, '\n');
	d = heap_getattr(xtup, Anum_pg_index_indpred, xdesc, &isnull);
	if (!isnull)
		append_opt(&st->def, expr_text(d, x->indrelid));

	add_line(st, "index %s.%s", ic->schema, quote_identifier(NameStr(ic->name)));
}

/*
 * The relations of the user schemas, in one pass over pg_class, then
 * their indexes (an index is fingerprinted only when its table is), in
 * one pass over pg_index.
 */
static void
read_relations(FingerprintState *st)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	ScanKeyData key;
	SysScanDesc scan = scan_user_rows(st, rel, Anum_pg_class_relnamespace, &key);
	HeapTuple	tup;
	HTAB	   *indexes = blob_table("migrate fingerprinted indexes", 1024,
										 sizeof(Oid), sizeof(IndexEntry));
	Relation	xrel;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
		const char *schema = user_schema(st, c->relnamespace);
		IndexEntry *ie;

		if (schema == NULL)
			continue;
		switch (c->relkind)
		{
			case RELKIND_RELATION:
			case RELKIND_PARTITIONED_TABLE:
			case RELKIND_VIEW:
			case RELKIND_MATVIEW:
			case RELKIND_SEQUENCE:
			case RELKIND_FOREIGN_TABLE:
			case RELKIND_COMPOSITE_TYPE:
				if (is_member(st, RelationRelationId, c->oid))
					break;
				describe_relation(st, tup, desc, schema);
				break;
			case RELKIND_INDEX:
			case RELKIND_PARTITIONED_INDEX:
				ie = hash_search(indexes, &c->oid, HASH_ENTER, NULL);
				ie->name = c->relname;
				ie->relam = c->relam;
				ie->schema = schema;
				ie->options = attr_text(tup, desc, Anum_pg_class_reloptions);
				break;
			default:
				break;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	/*
	 * Then pg_index, in one pass (not the syscache, which would keep an
	 * entry for every index of the schema for the life of the backend):
	 * the valid indexes of the relations fingerprinted.
	 */
	xrel = table_open(IndexRelationId, AccessShareLock);
	scan = systable_beginscan(xrel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_index x = (Form_pg_index) GETSTRUCT(tup);
		IndexEntry *ie;
		RelationEntry *table;

		if (!x->indisvalid)
			continue;
		ie = hash_search(indexes, &x->indexrelid, HASH_FIND, NULL);
		table = ie ? hash_search(st->relations, &x->indrelid, HASH_FIND, NULL) : NULL;
		if (table)
			describe_index(st, ie, table, tup, RelationGetDescr(xrel));
	}
	systable_endscan(scan);
	table_close(xrel, AccessShareLock);
}

/* ----------------------------------------------------------------
 * Functions, types, extensions
 * ----------------------------------------------------------------
 */

/* functions, procedures and aggregates: pg_get_functiondef, or an aggregate's parts */
static void
read_functions(FingerprintState *st)
{
	Relation	rel = table_open(ProcedureRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan = scan_user_rows(st, rel, Anum_pg_proc_pronamespace, &key);
	HeapTuple	tup;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_proc p = (Form_pg_proc) GETSTRUCT(tup);
		const char *schema = user_schema(st, p->pronamespace);
		const char *kind;
		char	   *signature;
		char	   *args;

		if (schema == NULL || is_member(st, ProcedureRelationId, p->oid))
			continue;
		kind = p->prokind == PROKIND_PROCEDURE ? "procedure" :
			p->prokind == PROKIND_AGGREGATE ? "aggregate" : "function";
		/* the argument list as regprocedure writes it, with search_path pinned */
		signature = reg_out(regprocedureout, p->oid);
		args = strchr(signature, '(');

		resetStringInfo(&st->def);
		if (p->prokind == PROKIND_AGGREGATE)
		{
			HeapTuple	atup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(p->oid));

			if (HeapTupleIsValid(atup))
			{
				Form_pg_aggregate g = (Form_pg_aggregate) GETSTRUCT(atup);
				bool		isnull;
				Datum		init = SysCacheGetAttr(AGGFNOID, atup, Anum_pg_aggregate_agginitval,
												   &isnull);

				appendStringInfo(&st->def, "%s %s %s %s %s",
								 reg_out(regprocout, g->aggtransfn),
								 reg_out(regprocout, g->aggfinalfn),
								 reg_out(regprocout, g->aggcombinefn),
								 reg_out(regtypeout, g->aggtranstype),
								 isnull ? "" : TextDatumGetCString(init));
				ReleaseSysCache(atup);
			}
		}
		else
			append_opt(&st->def, deparse(pg_get_functiondef, 1, ObjectIdGetDatum(p->oid), 0));

		add_line(st, "%s %s.%s%s", kind, schema, quote_identifier(NameStr(p->proname)),
				 args ? args : "");
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * Base, enum and range types and domains (not array types, which come
 * with their element; composite types are relations): kind, base type,
 * NOT NULL, default, labels, constraints, range parameters.  An array
 * type is in its element's schema, so the user schemas' rows tell which
 * of them are arrays without a lookup per type.
 */
static void
read_types(FingerprintState *st)
{
	Relation	rel = table_open(TypeRelationId, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	ScanKeyData key;
	SysScanDesc scan = scan_user_rows(st, rel, Anum_pg_type_typnamespace, &key);
	HeapTuple	tup;
	List	   *types = NIL;
	ListCell   *lc;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_type t = (Form_pg_type) GETSTRUCT(tup);

		if (user_schema(st, t->typnamespace) == NULL)
			continue;
		if (OidIsValid(t->typarray))
			(void) hash_search(st->arrays, &t->typarray, HASH_ENTER, NULL);
		if (t->typtype == TYPTYPE_BASE || t->typtype == TYPTYPE_DOMAIN ||
			t->typtype == TYPTYPE_ENUM || t->typtype == TYPTYPE_RANGE)
			types = lappend(types, heap_copytuple(tup));
	}
	systable_endscan(scan);

	foreach(lc, types)
	{
		HeapTuple	ttup = (HeapTuple) lfirst(lc);
		Form_pg_type t = (Form_pg_type) GETSTRUCT(ttup);
		char	   *dflt;

		if (hash_search(st->arrays, &t->oid, HASH_FIND, NULL) != NULL ||
			(OidIsValid(t->typelem) && get_array_type(t->typelem) == t->oid) ||
			is_member(st, TypeRelationId, t->oid))
			continue;
		dflt = attr_text(ttup, desc, Anum_pg_type_typdefault);

		resetStringInfo(&st->def);
		appendStringInfo(&st->def, "%c %s %s %s\n", t->typtype,
						 OidIsValid(t->typbasetype) ?
						 format_type_with_typemod(t->typbasetype, t->typtypmod) : "",
						 bool_text(t->typnotnull), dflt ? dflt : "");
		if (t->typtype == TYPTYPE_ENUM)
			describe_rows(st, EnumRelationId, EnumTypIdSortOrderIndexId, 1,
						  Anum_pg_enum_enumtypid, t->oid, 0, InvalidOid, ",", enum_row);
		appendStringInfoChar(&st->def, '\n');
		if (t->typtype == TYPTYPE_DOMAIN)
			describe_constraints(st, InvalidOid, t->oid);
		appendStringInfoChar(&st->def, '\n');
		if (t->typtype == TYPTYPE_RANGE)
		{
			HeapTuple	rtup = SearchSysCache1(RANGETYPE, ObjectIdGetDatum(t->oid));

			if (HeapTupleIsValid(rtup))
			{
				Form_pg_range g = (Form_pg_range) GETSTRUCT(rtup);

				appendStringInfo(&st->def, "%s %s %s %s",
								 reg_out(regtypeout, g->rngsubtype),
								 collation_name(st, g->rngcollation),
								 reg_out(regprocout, g->rngcanonical),
								 reg_out(regprocout, g->rngsubdiff));
				ReleaseSysCache(rtup);
			}
		}

		add_line(st, "%s %s.%s", t->typtype == TYPTYPE_DOMAIN ? "domain" : "type",
				 user_schema(st, t->typnamespace), quote_identifier(NameStr(t->typname)));
	}
	table_close(rel, AccessShareLock);
}

/* the other extensions: version and schema */
static void
read_extensions(FingerprintState *st)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_extension x = (Form_pg_extension) GETSTRUCT(tup);
		char	   *version;

		if (strcmp(NameStr(x->extname), "migrate") == 0)
			continue;
		version = attr_text(tup, desc, Anum_pg_extension_extversion);
		resetStringInfo(&st->def);
		appendStringInfo(&st->def, "%s %s", version ? version : "",
						 reg_out(regnamespaceout, x->extnamespace));
		add_line(st, "extension %s", quote_identifier(NameStr(x->extname)));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* ----------------------------------------------------------------
 * The fingerprint
 * ----------------------------------------------------------------
 */

/*
 * The fingerprint of the schema as this transaction sees it: *hash the
 * SHA-256 (hex) of the sorted lines, *objects the lines as a text[],
 * both in the caller's memory context.
 */
void
fingerprint_schema(char **hash, Datum *objects)
{
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "migrate fingerprint",
											  ALLOCSET_DEFAULT_SIZES);
	FingerprintState st;
	char	  **lines;
	Datum	   *elems;
	int			n;
	int			i;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		hex[PG_SHA256_DIGEST_LENGTH * 2 + 1];

	/* see what the caller's own statements did, as a query would */
	CommandCounterIncrement();

	MemoryContextSwitchTo(cxt);
	memset(&st, 0, sizeof(st));
	st.members = blob_table("migrate extension members", 256,
							sizeof(ObjectKey), sizeof(ObjectKey));
	st.schemas = blob_table("migrate user schemas", 16, sizeof(Oid), sizeof(SchemaEntry));
	st.relations = blob_table("migrate fingerprinted relations", 1024,
							  sizeof(Oid), sizeof(RelationEntry));
	st.arrays = blob_table("migrate user array types", 1024, sizeof(Oid), sizeof(Oid));
	st.parents = blob_table("migrate relation parents", 16, sizeof(Oid), sizeof(RelationText));
	st.policies = blob_table("migrate table policies", 16, sizeof(Oid), sizeof(RelationText));
	initStringInfo(&st.def);
	initStringInfo(&st.lines);
	st.sha = pg_cryptohash_create(PG_SHA256);
	if (st.sha == NULL)
		elog(ERROR, "out of memory");

	read_members(&st);
	read_schemas(&st);
	if (hash_get_num_entries(st.schemas) > 0)
	{
		read_parents_and_policies(&st);
		read_relations(&st);
		read_functions(&st);
		read_types(&st);
	}
	read_extensions(&st);

	/* the lines in "C" order; the fingerprint hashes them joined by newlines */
	n = st.nlines;
	lines = palloc(sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
		lines[i] = st.lines.data + st.starts[i];
	qsort(lines, n, sizeof(char *), cmp_cstrings);
	if (pg_cryptohash_init(st.sha) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	for (i = 0; i < n; i++)
	{
		if ((i > 0 && pg_cryptohash_update(st.sha, (const uint8 *) "\n", 1) < 0) ||
			pg_cryptohash_update(st.sha, (const uint8 *) lines[i], strlen(lines[i])) < 0)
			elog(ERROR, "could not compute a SHA-256 digest");
	}
	if (pg_cryptohash_final(st.sha, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a SHA-256 digest");
	pg_cryptohash_free(st.sha);
	hex_encode((char *) digest, sizeof(digest), hex);
	hex[sizeof(hex) - 1] = '\0';

	elems = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(lines[i]);
	MemoryContextSwitchTo(callercxt);
	*objects = PointerGetDatum(n > 0 ?
							   construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT) :
							   construct_empty_array(TEXTOID));
	*hash = pstrdup(hex);
	MemoryContextDelete(cxt);
}
