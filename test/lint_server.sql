-- What lint says a statement locks and rewrites is what the server really
-- does, on the version under test: each statement is linted, then run in a
-- subtransaction that is rolled back, and the strongest lock this backend
-- then holds on the table (pg_locks) and whether the table got a new file
-- (pg_relation_filenode) are compared with lint's lock and rewrites.
SET client_min_messages = warning;
SET migrate.lint_large_table = '8kB';
SELECT plan(21);

CREATE TABLE srv (id int PRIMARY KEY, ref int, n int, note varchar(20), t text);
INSERT INTO srv SELECT g, g, g, 'x', 'y' FROM generate_series(1, 2000) g;
CREATE INDEX srv_n_idx ON srv (n);
CREATE MATERIALIZED VIEW srv_mv AS SELECT id FROM srv;
ANALYZE srv;

-- the strongest relation lock this backend holds on rel, by pg_locks' name
CREATE FUNCTION pg_temp.strongest(rel regclass) RETURNS text LANGUAGE sql AS $$
    SELECT mode FROM pg_locks
    WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation = rel AND granted
    ORDER BY array_position(ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock',
                                  'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',
                                  'ExclusiveLock', 'AccessExclusiveLock'], mode) DESC
    LIMIT 1
$$;

-- run stmt and roll it back: the lock it left on rel, and whether rel got a new file
CREATE FUNCTION pg_temp.observe(stmt text, rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    before oid := pg_relation_filenode(rel);
    seen text;
BEGIN
    BEGIN
        EXECUTE stmt;
        seen := concat_ws(' ', pg_temp.strongest(rel),
                          (pg_relation_filenode(rel) IS DISTINCT FROM before)::text);
        RAISE EXCEPTION USING ERRCODE = 'ZZ001';
    EXCEPTION WHEN SQLSTATE 'ZZ001' THEN
        NULL;
    END;
    RETURN seen;
END $$;

-- what lint says of stmt as the only pending migration: "lock rewrites"
CREATE FUNCTION pg_temp.said(stmt text) RETURNS text LANGUAGE sql AS $$
    SELECT migrate.stage('s', 'V1__s.sql', stmt);
    SELECT string_agg(concat_ws(' ', lock, rewrites::text), '; ')
    FROM migrate.lint_file('s/V1__s.sql') WHERE relation = 'public.srv' OR relation = 'public.srv_mv';
$$;

SELECT is(pg_temp.observe(s, r), pg_temp.said(s), s)
FROM (VALUES
    ('CREATE INDEX ON srv (t)', 'srv'::regclass),
    ('DROP INDEX srv_n_idx', 'srv'),
    ('REINDEX TABLE srv', 'srv'),
    ('ALTER TABLE srv ADD COLUMN r float8 DEFAULT random()', 'srv'),
    ('ALTER TABLE srv ADD COLUMN i bigint GENERATED ALWAYS AS IDENTITY', 'srv'),
    ('ALTER TABLE srv ALTER COLUMN n TYPE bigint', 'srv'),
    ('ALTER TABLE srv ALTER COLUMN note TYPE varchar(10)', 'srv'),
    ('ALTER TABLE srv ALTER COLUMN t TYPE int USING length(t)', 'srv'),
    ('ALTER TABLE srv ALTER COLUMN n SET NOT NULL', 'srv'),
    ('ALTER TABLE srv ADD CONSTRAINT srv_fk FOREIGN KEY (ref) REFERENCES srv (id)', 'srv'),
    ('ALTER TABLE srv ADD CONSTRAINT srv_ck CHECK (n > 0)', 'srv'),
    ('ALTER TABLE srv ADD UNIQUE (n)', 'srv'),
    ('ALTER TABLE srv SET UNLOGGED', 'srv'),
    ('CLUSTER srv USING srv_pkey', 'srv'),
    ('REFRESH MATERIALIZED VIEW srv_mv', 'srv_mv'),
    ('LOCK TABLE srv IN SHARE ROW EXCLUSIVE MODE', 'srv'),
    ('ALTER TABLE srv DROP COLUMN t', 'srv'),
    ('ALTER TABLE srv RENAME COLUMN t TO t2', 'srv'),
    ('UPDATE srv SET n = n + 1', 'srv')
) AS c (s, r);

-- and what lint allows really neither rewrites nor scans under a strong lock:
-- the type changes keep the table's file
SELECT is(pg_temp.observe('ALTER TABLE srv ALTER COLUMN note TYPE varchar(50)', 'srv'),
          'AccessExclusiveLock false', 'varchar(n) to a larger n keeps the file, as lint says');
SELECT is(pg_temp.observe('ALTER TABLE srv ALTER COLUMN note TYPE text', 'srv'),
          'AccessExclusiveLock false', 'varchar to text keeps the file, as lint says');

SELECT * FROM finish();
