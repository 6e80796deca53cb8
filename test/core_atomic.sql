-- Called in a transaction block or from a function, apply cannot commit:
-- all pending migrations run in the caller's transaction, all or nothing.
\i test/include/files.psql
SELECT pg_temp.fresh_dir('core_atomic') AS d \gset
SELECT pg_temp.write_file(:'d' || '/V1__a.sql', E'CREATE TABLE public.a (id int);\n');
SELECT pg_temp.write_file(:'d' || '/V2__b.sql', E'CREATE TABLE public.b (id int);\n');

SELECT plan(9);

-- in a transaction block, rolled back by the caller
BEGIN;
CALL migrate.apply(:'d');
SELECT has_table('public', 'b', 'inside BEGIN, apply runs the migrations');
SELECT is(count(DISTINCT xmin::text)::int, 1, 'all in the caller''s one transaction')
FROM migrate.history;
ROLLBACK;
SELECT hasnt_table('public', 'a', 'the caller''s ROLLBACK undoes them all');
SELECT is(count(*)::int, 0, 'and their history rows') FROM migrate.history;

-- a failure in the second one: all or nothing, and no failure row survives
SELECT pg_temp.write_file(:'d' || '/V2__b.sql', E'CREATE TABLE public.b (id int);\nSELECT 1/0;\n');
BEGIN;
SAVEPOINT s;
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d'), '22012', NULL, 'the error is raised');
ROLLBACK TO SAVEPOINT s;
SELECT hasnt_table('public', 'a', 'the first migration is undone with the failure');
COMMIT;
SELECT is(count(*)::int, 0, 'nothing is recorded') FROM migrate.history;

-- from a function: atomic as well
SELECT pg_temp.write_file(:'d' || '/V2__b.sql', E'CREATE TABLE public.b (id int);\n');
CREATE FUNCTION pg_temp.migrate_from_function(dir text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    CALL migrate.apply(dir);
    RETURN (SELECT count(*) FROM migrate.history);
END $$;
SELECT is(pg_temp.migrate_from_function(:'d'), 2::int, 'apply works from a function');
SELECT is(count(DISTINCT xmin::text)::int, 1, 'in the function''s transaction')
FROM migrate.history;

SELECT * FROM finish();
