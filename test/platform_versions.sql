-- What differs between the supported PostgreSQL versions, seen from SQL:
-- on 18 the library's magic block names it and its version (shown by
-- pg_get_loaded_modules(), new in 18); the set-returning functions, set up
-- by InitMaterializedSRF, work in FROM and in the select list, for rows
-- and for a scalar column, on every version.
BEGIN;
\i test/include/files.psql
SELECT plan(5);

LOAD 'migrate';
SELECT CASE WHEN current_setting('server_version_num')::int >= 180000
    THEN results_eq(
        $$SELECT module_name, version FROM pg_get_loaded_modules() WHERE file_name = 'migrate.so'$$,
        $$SELECT 'migrate'::text, default_version FROM pg_available_extensions WHERE name = 'migrate'$$,
        'the loaded library names itself, with the version of migrate.control')
    ELSE skip('pg_get_loaded_modules() is new in PostgreSQL 18', 1)
END;

-- rows (OUT parameters), in FROM and in the select list
SELECT results_eq(
    $$SELECT line, statement FROM migrate.statements(E'SELECT 1;\nSELECT 2;')$$,
    $$VALUES (1, 'SELECT 1;'), (2, 'SELECT 2;')$$,
    'statements: rows in FROM');
SELECT results_eq(
    $$SELECT (s).line FROM (SELECT migrate.statements(E'SELECT 1;\nSELECT 2;') AS s) x$$,
    $$VALUES (1), (2)$$,
    'statements: rows in the select list');

-- a scalar column (SETOF text), in the select list and in FROM: repair
-- re-records the checksum of an applied file that changed
SELECT pg_temp.write_file(pg_temp.fresh_dir('platform_srf') || '/V1__one.sql', 'CREATE TABLE platform_srf ();');
CALL migrate.apply(pg_temp.fx() || '/platform_srf', track => 'platform_srf');
SELECT pg_temp.write_file(pg_temp.fx() || '/platform_srf/V1__one.sql', 'CREATE TABLE platform_srf (); -- 2');
SELECT results_eq(
    format('SELECT migrate.repair(%L, %L) LIKE %L', pg_temp.fx() || '/platform_srf', 'platform_srf',
           're-recorded the checksum of V1__one.sql%'),
    $$VALUES (true)$$,
    'repair: a scalar row in the select list');
SELECT pg_temp.write_file(pg_temp.fx() || '/platform_srf/V1__one.sql', 'CREATE TABLE platform_srf (); -- 3');
SELECT results_eq(
    format('SELECT r LIKE %L FROM migrate.repair(%L, %L) AS r', 're-recorded the checksum of V1__one.sql%',
           pg_temp.fx() || '/platform_srf', 'platform_srf'),
    $$VALUES (true)$$,
    'repair: a scalar row in FROM');

SELECT * FROM finish();
ROLLBACK;
