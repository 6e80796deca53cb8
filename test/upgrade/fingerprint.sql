-- Everything that makes up the extension's objects in this database, one
-- row per member object (and per index, constraint and trigger of its
-- tables), into the temporary table named by :fp.  Two databases whose
-- fingerprints are equal have the same extension, whichever way they got it.
CREATE TEMP TABLE :fp AS
WITH ext AS (
    SELECT oid, extconfig, extcondition FROM pg_catalog.pg_extension WHERE extname = 'migrate'
), member AS (
    SELECT d.classid, d.objid
    FROM pg_catalog.pg_depend d, ext
    WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
      AND d.refobjid = ext.oid AND d.deptype = 'e'
)
SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0) AS object,
       CASE m.classid
       WHEN 'pg_catalog.pg_proc'::regclass THEN (
           SELECT concat_ws(' | ', p.prokind, pg_catalog.pg_get_function_identity_arguments(p.oid),
                            pg_catalog.pg_get_function_result(p.oid), p.provolatile, p.proisstrict,
                            p.prosecdef, p.probin, p.prosrc, p.proconfig::text, p.proacl::text,
                            pg_catalog.pg_get_function_arguments(p.oid))
           FROM pg_catalog.pg_proc p WHERE p.oid = m.objid)
       WHEN 'pg_catalog.pg_class'::regclass THEN (
           SELECT concat_ws(' | ', c.relkind, c.relacl::text,
                  (SELECT string_agg(concat_ws(' ', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
                                               CASE WHEN a.attnotnull THEN 'not null' END,
                                               pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)),
                                     ', ' ORDER BY a.attnum)
                   FROM pg_catalog.pg_attribute a
                   LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                  CASE WHEN c.relkind = 'v' THEN pg_catalog.pg_get_viewdef(c.oid) END,
                  (SELECT string_agg(def, '; ' ORDER BY def)
                   FROM (SELECT pg_catalog.pg_get_indexdef(i.indexrelid) AS def
                         FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid) AS x),
                  (SELECT string_agg(def, '; ' ORDER BY def)
                   FROM (SELECT co.conname || ' ' || pg_catalog.pg_get_constraintdef(co.oid) AS def
                         FROM pg_catalog.pg_constraint co WHERE co.conrelid = c.oid) AS x),
                  (SELECT string_agg(def, '; ' ORDER BY def)
                   FROM (SELECT pg_catalog.pg_get_triggerdef(t.oid) AS def
                         FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS x),
                  (SELECT string_agg(pg_catalog.col_description(c.oid, a.attnum), '; ' ORDER BY a.attnum)
                   FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0),
                  -- registered for pg_dump, with its condition
                  (SELECT 'config dump ' || coalesce(ext.extcondition[pg_catalog.array_position(ext.extconfig, c.oid)], '')
                   FROM ext WHERE c.oid = ANY (ext.extconfig)))
           FROM pg_catalog.pg_class c WHERE c.oid = m.objid)
       WHEN 'pg_catalog.pg_event_trigger'::regclass THEN (
           SELECT concat_ws(' | ', e.evtevent, e.evtfoid::regprocedure::text, e.evtenabled, e.evttags::text)
           FROM pg_catalog.pg_event_trigger e WHERE e.oid = m.objid)
       WHEN 'pg_catalog.pg_type'::regclass THEN pg_catalog.format_type(m.objid, NULL)
       END AS detail,
       pg_catalog.obj_description(m.objid, (SELECT relname FROM pg_catalog.pg_class WHERE oid = m.classid)) AS comment
FROM member m
UNION ALL
SELECT 'schema migrate', nspacl::text, pg_catalog.obj_description(oid, 'pg_namespace')
FROM pg_catalog.pg_namespace WHERE nspname = 'migrate';
