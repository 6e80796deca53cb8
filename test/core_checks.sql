-- What apply refuses before running anything: changed files, duplicate
-- versions, misnamed files, out-of-order versions.  Checksums ignore
-- line endings and a BOM.
\i test/include/files.psql
SELECT pg_temp.fresh_dir('core_checks') AS d \gset

SELECT pg_temp.write_file(:'d' || '/V1__one.sql', E'CREATE TABLE public.one (id int);\nSELECT 1;\n');
SELECT pg_temp.write_file(:'d' || '/V2__two.sql', E'CREATE TABLE public.two (id int);\n');
CALL migrate.apply(:'d');

SELECT plan(19);

-- CRLF line endings and a UTF-8 BOM do not change the checksum
SELECT checksum AS c1 FROM migrate.history WHERE version = '1' \gset
SELECT pg_temp.write_bytes(:'d' || '/V1__one.sql',
    '\xefbbbf'::bytea || convert_to(E'CREATE TABLE public.one (id int);\r\nSELECT 1;\r\n', 'UTF8'));
SELECT is((SELECT checksum FROM migrate.status(:'d') WHERE version = '1'), :'c1',
          'CRLF and a BOM leave the checksum unchanged');
SELECT is((SELECT state FROM migrate.status(:'d') WHERE version = '1'), 'applied',
          'so the file is still applied, not changed');
SELECT lives_ok(format('CALL migrate.apply(%L)', :'d'), 'apply accepts the re-encoded file');

-- a changed file stops the run before anything runs, naming the file
SELECT pg_temp.write_file(:'d' || '/V1__one.sql', E'CREATE TABLE public.one (id bigint);\nSELECT 1;\n');
SELECT pg_temp.write_file(:'d' || '/V3__three.sql', E'CREATE TABLE public.three (id int);\n');
SELECT is((SELECT state FROM migrate.status(:'d') WHERE version = '1'), 'changed', 'status shows the change');
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d'), '55000',
                 'migration file "V1__one.sql" has changed since it was applied',
                 'a changed file stops the run, naming it');
\set ON_ERROR_STOP 0
CALL migrate.apply(:'d');
\set ON_ERROR_STOP 1
SELECT hasnt_table('public', 'three', 'nothing ran: the pending migration was not applied');
SELECT is(count(*)::int, 0, 'and no failure row was written') FROM migrate.history WHERE NOT success;
SELECT pg_temp.write_file(:'d' || '/V1__one.sql', E'CREATE TABLE public.one (id int);\nSELECT 1;\n');

-- a missing file is reported by status, but does not stop apply
SELECT pg_temp.sh(format('mv %s/V2__two.sql %s/V2__two.sql.bak', :'d', :'d'));
SELECT is((SELECT state FROM migrate.status(:'d') WHERE version = '2'), 'missing', 'a removed file is missing');
SELECT lives_ok(format('CALL migrate.apply(%L)', :'d'), 'apply runs with a missing file');
SELECT has_table('public', 'three', 'and applies what is pending');
SELECT pg_temp.sh(format('mv %s/V2__two.sql.bak %s/V2__two.sql', :'d', :'d'));

-- duplicate versions: V4 and V04 are one version
SELECT pg_temp.write_file(:'d' || '/V4__a.sql', E'SELECT 1;\n');
SELECT pg_temp.write_file(:'d' || '/V04__b.sql', E'SELECT 1;\n');
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d'), '42710', 'duplicate migration versions',
                 'duplicate versions are refused');
SELECT throws_matching(format('CALL migrate.apply(%L)', :'d'), 'duplicate',
                       'the error names both files (detail)');
SELECT matches(pg_temp.error_of(format('CALL migrate.apply(%L)', :'d'), 'detail'),
               'V04__b\.sql.*V4__a\.sql|V4__a\.sql.*V04__b\.sql', 'the detail names both files');
SELECT pg_temp.sh(format('rm %s/V04__b.sql', :'d'));

-- a misnamed .sql file is never skipped silently
SELECT pg_temp.write_file(:'d' || '/v5_lowercase.sql', E'SELECT 1;\n');
SELECT pg_temp.write_file(:'d' || '/V6_single_underscore.sql', E'SELECT 1;\n');
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d'), '42602', '2 migration files are misnamed',
                 'misnamed files are refused');
SELECT matches(pg_temp.error_of(format('CALL migrate.apply(%L)', :'d'), 'detail'),
               'V6_single_underscore\.sql', 'the detail names them');
SELECT pg_temp.sh(format('rm %s/v5_lowercase.sql %s/V6_single_underscore.sql', :'d', :'d'));
-- U and R names are valid (not misnamed)
SELECT pg_temp.write_file(:'d' || '/U4__a.sql', E'SELECT 1;\n');
SELECT pg_temp.write_file(:'d' || '/R__view.sql', E'CREATE OR REPLACE VIEW public.v AS SELECT 1 AS x;\n');
CALL migrate.apply(:'d');
SELECT has_view('public', 'v', 'U and R files are recognised; repeatables run after versioned ones');

-- out of order: a new version below the highest applied one
SELECT pg_temp.write_file(:'d' || '/V3.5__late.sql', E'CREATE TABLE public.late (id int);\n');
SELECT is((SELECT state FROM migrate.status(:'d') WHERE version = '3.5'), 'out_of_order', 'status shows it out of order');
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d'), '55000',
                 'migration "V3.5__late.sql" is out of order', 'out-of-order versions are refused');
CALL migrate.apply(:'d', out_of_order => true);
SELECT has_table('public', 'late', 'out_of_order => true applies it');

SELECT * FROM finish();
