-- A failing migration: rolled back, recorded, reported with file and line,
-- earlier ones kept, retried by the next apply once fixed.
\i test/include/files.psql
SELECT pg_temp.fresh_dir('core_failure') AS d \gset

SELECT pg_temp.write_file(:'d' || '/V1__ok.sql', E'CREATE TABLE public.a (id int);\n');
SELECT pg_temp.write_file(:'d' || '/V2__bad.sql',
    E'CREATE TABLE public.b (id int);\nINSERT INTO public.b VALUES (1);\nINSERT INTO public.b VALUES (1/0);\n');
SELECT pg_temp.write_file(:'d' || '/V3__later.sql', E'CREATE TABLE public.c (id int);\n');

SELECT plan(20);

-- the CALL fails: let the script go on to inspect what it left
\set ON_ERROR_STOP 0
CALL migrate.apply(:'d');
\set ON_ERROR_STOP 1

SELECT has_table('public', 'a', 'a migration before the failure stays applied');
SELECT hasnt_table('public', 'b', 'the failed migration is rolled back whole');
SELECT hasnt_table('public', 'c', 'nothing runs after the failure');

SELECT results_eq(
    $$SELECT version, success, sqlstate, error, error_line, script FROM migrate.history ORDER BY rank$$,
    $$VALUES ('1', true, NULL, NULL, NULL, 'V1__ok.sql'),
             ('2', false, '22012', 'division by zero', 3, 'V2__bad.sql')$$,
    'the failure row is committed with SQLSTATE, message, line and file');

SELECT is((SELECT state FROM migrate.status(:'d') WHERE version = '2'), 'failed', 'status shows it failed');
SELECT is((SELECT state FROM migrate.status(:'d') WHERE version = '3'), 'pending', 'later ones stay pending');

-- the error names the file and the line (3rd line of the file)
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d'), '22012', 'division by zero',
                 'the error is raised again with its SQLSTATE');
SELECT matches(pg_temp.error_of(format('CALL migrate.apply(%L)', :'d')),
               'migration V2__bad\.sql, line 3',
               'the error context names the file and the line');

-- a syntax error points at its own line inside a multi-line statement
SELECT pg_temp.write_file(:'d' || '/V2__bad.sql',
    E'CREATE TABLE public.b (\n  id int,\n  oops oops oops\n);\n');
SELECT matches(pg_temp.error_of(format('CALL migrate.apply(%L)', :'d')),
               'migration V2__bad\.sql, line 3',
               'a syntax error is reported at the line it is on');
-- an error in a statement that starts further down
SELECT pg_temp.write_file(:'d' || '/V2__bad.sql',
    E'-- header\n\nSELECT 1;\n\n\nSELECT\n  no_such_column\nFROM public.a;\n');
SELECT matches(pg_temp.error_of(format('CALL migrate.apply(%L)', :'d')),
               'migration V2__bad\.sql, line 7',
               'an unknown column is reported at its own line');
SELECT is(count(*)::int, 1, 'errors raised inside the test transaction leave no rows')
FROM migrate.history WHERE NOT success;

-- fixed file: the next apply retries and goes on
SELECT pg_temp.write_file(:'d' || '/V2__bad.sql', E'CREATE TABLE public.b (id int);\nINSERT INTO public.b VALUES (1);\n');
CALL migrate.apply(:'d');
SELECT has_table('public', 'b', 'the fixed migration is retried and applied');
SELECT has_table('public', 'c', 'and the run goes on after it');
SELECT results_eq(
    $$SELECT version, success FROM migrate.history ORDER BY rank$$,
    $$VALUES ('1', true), ('2', false), ('2', true), ('3', true)$$,
    'the failure row stays in the history, followed by the success');
SELECT is((SELECT array_agg(state ORDER BY version) FROM migrate.status(:'d')),
          ARRAY['applied', 'applied', 'applied'], 'status shows all applied');

-- the caller's session is unchanged by a migration's SET
SELECT pg_temp.write_file(:'d' || '/V4__set.sql', E'SET search_path = nowhere;\nSET statement_timeout = 1234;\nCREATE TABLE public.d ();\n');
SET statement_timeout = 0;
CALL migrate.apply(:'d');
SELECT is(current_setting('statement_timeout'), '0', 'a SET in a migration does not leak to the caller');

-- a migration cannot run migrate on the track that is running it
SELECT pg_temp.write_file(:'d' || '/V5__recursive.sql', format(E'CALL migrate.apply(%L);\n', :'d'));
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d'), '55000',
                 'a migrate run on track "main" is already in progress in this session',
                 'a migration calling apply on its own track is refused');
\set ON_ERROR_STOP 0
CALL migrate.apply(:'d');
\set ON_ERROR_STOP 1
SELECT is((SELECT sqlstate FROM migrate.history WHERE version = '5'), '55000',
          'and recorded as a failure when run with commits');

-- a failure in a large run: the error is reported whole after the run's
-- memory is gone (its file name and function once pointed into that memory)
SELECT pg_temp.fresh_dir('core_failure_big') AS big \gset
SELECT pg_temp.sh(format('cd %s && printf ''SELECT 1/0;\n'' > V1__bad.sql && for i in $(seq 2 700); do printf ''SELECT %%s;\n'' $i > V${i}__ok.sql; done', :'big'));
SELECT throws_ok(format('CALL migrate.apply(%L, track => %L)', :'big', 'big'), '22012', 'division by zero',
                 'a failure among 700 files is reported in a transaction block');
\set ON_ERROR_STOP 0
CALL migrate.apply(:'big', track => 'big');
\set ON_ERROR_STOP 1
SELECT is((SELECT sqlstate FROM migrate.history WHERE track = 'big' AND NOT success), '22012',
          'and with commits, recorded and reported with the session alive');

SELECT * FROM finish();
