-- migrate.adopt('golang-migrate'): schema_migrations (version bigint,
-- dirty boolean) holds the version the database is at.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_golang') AS d \gset

SELECT plan(10);

-- the database as golang-migrate left it: at version 2
CALL migrate.apply(:'d', target => '2', track => 'setup');
DELETE FROM migrate.history WHERE track = 'setup';
CREATE TABLE IF NOT EXISTS public.schema_migrations (version bigint NOT NULL, dirty boolean NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON public.schema_migrations (version);
INSERT INTO schema_migrations (version, dirty) VALUES (2, false);

SELECT throws_ok($$SELECT migrate.adopt('golang-migrate')$$, '22023',
                 'adopting golang-migrate needs the migration directory',
                 'without dir golang-migrate cannot be adopted');

SELECT is(migrate.adopt('golang-migrate', dir => :'d'), 2, 'versions up to 2 adopted');
SELECT max(rank) AS adopted FROM migrate.history \gset
SELECT results_eq(
    $$SELECT version, type, description, script, checksum IS NULL, success FROM migrate.history ORDER BY rank$$,
    $$VALUES ('1', 'versioned', 'create users table', '000001_create_users_table.up.sql', true, true),
             ('2', 'versioned', 'add mood to users', '000002_add_mood_to_users.up.sql', true, true)$$,
    'one versioned row per migration up to the version, named from the files');

CALL migrate.apply(:'d');
SELECT results_eq(
    format('SELECT version FROM migrate.history WHERE rank > %s ORDER BY rank', :adopted),
    $$VALUES ('3')$$, 'the next apply runs only version 3');
SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('1', 'applied'), ('2', 'applied'), ('3', 'applied')$$, 'all applied');

SELECT results_eq($$SELECT version, dirty FROM schema_migrations$$, $$VALUES (2::bigint, false)$$,
                  'schema_migrations is untouched');
SELECT is(migrate.adopt('golang-migrate', dir => :'d'), 0, 'adopting twice adds nothing');

-- a dirty version is refused
CREATE SCHEMA broken;
CREATE TABLE broken.schema_migrations (version bigint NOT NULL, dirty boolean NOT NULL);
INSERT INTO broken.schema_migrations VALUES (3, true);
SELECT throws_ok(format('SELECT migrate.adopt(%L, track => %L, dir => %L, history_table => %L)',
                        'golang-migrate', 'b', :'d', 'broken.schema_migrations'),
                 '55000', 'golang-migrate left version 3 dirty', 'a dirty database is refused');
-- a directory of another layout
SELECT throws_ok(format('SELECT migrate.adopt(%L, track => %L, dir => %L)',
                        'golang-migrate', 'c', pg_temp.fx('layout_dbmate')),
                 '22023', format('migration directory "%s" is not in golang-migrate''s layout', pg_temp.fx('layout_dbmate')),
                 'the directory must be golang-migrate''s');
-- dbmate's name for golang-migrate's table
SELECT throws_ok($$SELECT migrate.adopt('dbmate')$$, '42809',
                 'table public.schema_migrations is not a dbmate history table',
                 'golang-migrate''s schema_migrations is not taken for dbmate''s');

SELECT * FROM finish();
