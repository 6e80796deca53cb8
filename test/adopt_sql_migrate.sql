-- migrate.adopt('sql-migrate'): gorp_migrations (id text, applied_at) has
-- one row per applied file, id its name, which is the version in
-- sql-migrate's layout.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_sql_migrate') AS d \gset

SELECT plan(7);

-- the database as sql-migrate left it: the first two files applied
CALL migrate.apply(:'d', target => '2', track => 'setup');
DELETE FROM migrate.history WHERE track = 'setup';
CREATE TABLE public.gorp_migrations (id text NOT NULL PRIMARY KEY, applied_at timestamp with time zone);
INSERT INTO gorp_migrations VALUES ('1_create_accounts.sql', '2024-03-01 12:00:00+00'),
                                   ('2_seed_accounts.sql', '2024-03-01 12:00:01+00');

SELECT is(migrate.adopt('sql-migrate', dir => :'d'), 2, 'both files adopted');
SELECT max(rank) AS adopted FROM migrate.history \gset
SELECT results_eq(
    $$SELECT version, description, script, installed_on, checksum IS NULL FROM migrate.history ORDER BY rank$$,
    $$VALUES ('1_create_accounts.sql', 'create accounts', '1_create_accounts.sql', '2024-03-01 12:00:00+00'::timestamptz, true),
             ('2_seed_accounts.sql', 'seed accounts', '2_seed_accounts.sql', '2024-03-01 12:00:01+00', true)$$,
    'one versioned row per file, applied when sql-migrate applied it');
SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L) WHERE version IS NOT NULL', :'d'),
    $$VALUES ('1_create_accounts.sql', 'applied'), ('2_seed_accounts.sql', 'applied'),
             ('10_index_email.sql', 'pending'), ('20240301120000-add-notes.sql', 'pending')$$,
    'status reads them as applied');

CALL migrate.apply(:'d');
SELECT results_eq(format('SELECT version FROM migrate.history WHERE rank > %s ORDER BY rank', :adopted),
                  $$VALUES ('10_index_email.sql'), ('20240301120000-add-notes.sql')$$,
                  'the next apply runs only the new files, in sql-migrate''s order');
SELECT is(migrate.adopt('sql-migrate', dir => :'d'), 0, 'adopting twice adds nothing');

-- without dir, the ids are the scripts
SELECT is(migrate.adopt('sql-migrate', track => 'bare'), 2, 'adopted without the directory');
SELECT results_eq(
    $$SELECT version, description, script FROM migrate.history WHERE track = 'bare' ORDER BY rank$$,
    $$VALUES ('1_create_accounts.sql', 'create accounts', '1_create_accounts.sql'),
             ('2_seed_accounts.sql', 'seed accounts', '2_seed_accounts.sql')$$,
    'versions, descriptions and scripts from the ids');

SELECT * FROM finish();
