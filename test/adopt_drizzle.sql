-- migrate.adopt('drizzle'): drizzle.__drizzle_migrations records the
-- journal's "when" of each migration run; the journal maps it to versions.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_drizzle') AS d \gset

SELECT plan(7);

CALL migrate.apply(:'d', target => '0', track => 'setup');
DELETE FROM migrate.history WHERE track = 'setup';
CREATE SCHEMA IF NOT EXISTS "drizzle";
CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" (
    id SERIAL PRIMARY KEY,
    hash text NOT NULL,
    created_at bigint
);
INSERT INTO drizzle.__drizzle_migrations (hash, created_at)
VALUES ((SELECT checksum FROM migrate.scripts(:'d') WHERE version = '0'), 1706702400000);
SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS before FROM drizzle.__drizzle_migrations t \gset

SELECT throws_ok($$SELECT migrate.adopt('drizzle')$$, '22023',
                 'adopting drizzle needs the migration directory', 'the journal is needed');
SELECT is(migrate.adopt('drizzle', dir => :'d'), 1, 'the journal entries up to created_at are adopted');
SELECT max(rank) AS adopted FROM migrate.history \gset
SELECT results_eq(
    $$SELECT version, description, script FROM migrate.history ORDER BY rank$$,
    $$VALUES ('0', 'brave wolf', '0000_brave_wolf.sql')$$, 'version 0, named from the journal');

CALL migrate.apply(:'d');
SELECT results_eq(format('SELECT version FROM migrate.history WHERE rank > %s ORDER BY rank', :adopted),
                  $$VALUES ('1')$$, 'the next apply runs only the new migration');
SELECT has_index('public', 'users', 'users_email_idx', 'which ran');
SELECT is(md5(string_agg(t::text, ',' ORDER BY id)), :'before', '__drizzle_migrations is untouched')
FROM drizzle.__drizzle_migrations t;
SELECT is(migrate.adopt('drizzle', dir => :'d'), 0, 'adopting twice adds nothing');

SELECT * FROM finish();
