-- Diesel: one folder <version>_<name> per migration with up.sql and
-- down.sql; the version drops the dashes, as diesel records it, and
-- versions sort as strings, as diesel sorts them.  Loose .sql files are
-- not diesel's: ignored.  metadata.toml's run_in_transaction = false.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_diesel') AS d \gset
SELECT pg_temp.fx('layout_cases') AS c \gset

SELECT plan(13);

SELECT results_eq(
    format('SELECT layout, version, description, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('diesel', '20240131120000', 'create users', 'versioned', '2024-01-31-120000_create_users/up.sql'),
             ('diesel', '20240131120000', 'create users', 'undo', '2024-01-31-120000_create_users/down.sql'),
             ('diesel', '20240201093000', 'create posts', 'versioned', '2024-02-01-093000_create_posts/up.sql'),
             ('diesel', '20240201093000', 'create posts', 'undo', '2024-02-01-093000_create_posts/down.sql')$$,
    'up.sql is versioned, down.sql its undo script, 2024-01-31-120000 is 20240131120000');

CALL migrate.apply(:'d');

SELECT results_eq(
    format('SELECT version, description, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('20240131120000', 'create users', 'applied'), ('20240201093000', 'create posts', 'applied')$$,
    'apply runs the up files in order');

SELECT has_table('public', 'posts', 'posts created');
SELECT col_default_is('public', 'posts', 'published', 'false', 'the posts columns are as written');

-- projects mix diesel's formats: diesel orders the versions as strings, so
-- 2026-07-30-140000-0000 (18 digits) comes before 2027-01-01-000000
SELECT results_eq(
    format('SELECT version, type, script FROM migrate.scripts(%L)', :'c' || '/diesel_mixed'),
    $$VALUES ('00000000000000', 'versioned', '00000000000000_diesel_initial_setup/up.sql'),
             ('00000000000000', 'undo', '00000000000000_diesel_initial_setup/down.sql'),
             ('20140924113530', 'versioned', '20140924113530_create_log/up.sql'),
             ('20140924113530', 'undo', '20140924113530_create_log/down.sql'),
             ('20240212120203', 'versioned', '2024-02-12-120203_add_b/up.sql'),
             ('20240212120203', 'undo', '2024-02-12-120203_add_b/down.sql'),
             ('202607301400000000', 'versioned', '2026-07-30-140000-0000_add_c/up.sql'),
             ('202607301400000000', 'undo', '2026-07-30-140000-0000_add_c/down.sql'),
             ('20270101000000', 'versioned', '2027-01-01-000000_add_d/up.sql'),
             ('20270101000000', 'undo', '2027-01-01-000000_add_d/down.sql'),
             (NULL, 'ignored', 'seed.sql')$$,
    'versions as diesel records them (zeros kept), in diesel''s string order; a loose file is ignored');

-- the database as 1.0 left it: the initial setup recorded as version 0
CALL migrate.apply(:'c' || '/diesel_mixed', target => '00000000000000', track => 'mixed');
UPDATE migrate.history SET version = '0' WHERE track = 'mixed';
CALL migrate.apply(:'c' || '/diesel_mixed', target => '20240212120203', track => 'mixed');
SELECT results_eq(
    $$SELECT name FROM public.dm_log ORDER BY n$$,
    $$VALUES ('create_log'), ('add_b')$$,
    'a target is a version in diesel''s order');
CALL migrate.apply(:'c' || '/diesel_mixed', track => 'mixed');
SELECT results_eq(
    $$SELECT name FROM public.dm_log ORDER BY n$$,
    $$VALUES ('create_log'), ('add_b'), ('add_c'), ('add_d')$$,
    'apply runs the folders in diesel''s order, never the loose file');
SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L, %L)', :'c' || '/diesel_mixed', 'mixed'),
    $$VALUES ('00000000000000', 'applied'), ('20140924113530', 'applied'), ('20240212120203', 'applied'),
             ('202607301400000000', 'applied'), ('20270101000000', 'applied'), (NULL, 'ignored')$$,
    'the row 1.0 wrote for the initial setup still counts for it: nothing runs twice');
SELECT is((SELECT count(*)::int FROM migrate.history WHERE track = 'mixed' AND script LIKE '0000%'), 1,
          'the initial setup ran once');
SELECT is((SELECT description FROM migrate.status(:'c' || '/diesel_mixed', 'mixed') WHERE state = 'ignored'),
          'diesel reads only migration folders, <version>_<name>/up.sql and down.sql, not files beside them',
          'the ignored row says why');

-- undo in diesel's order too: the 18-digit version is not the newest
CALL migrate.undo(:'c' || '/diesel_mixed', track => 'mixed');
SELECT results_eq(
    $$SELECT name FROM public.dm_log ORDER BY n$$,
    $$VALUES ('create_log'), ('add_b'), ('add_c')$$,
    'undo reverts the newest in diesel''s order');

-- metadata.toml: run_in_transaction = false makes the migration run outside a transaction
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'c' || '/diesel_notx', 'notx')),
          'migration "2024-01-02-000000_index_t/up.sql" cannot run inside a transaction block',
          'a migration whose metadata.toml says run_in_transaction = false needs top level');
SELECT alike(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'c' || '/diesel_notx', 'notx'), 'detail'),
             '%run_in_transaction = false in 2024-01-02-000000_index_t/metadata.toml%',
             'the detail names the metadata file');

SELECT * FROM finish();
