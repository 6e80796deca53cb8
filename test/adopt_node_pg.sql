-- migrate.adopt('node-pg-migrate'): pgmigrations has one row per applied
-- migration, named <timestamp>_<name>.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_node_pg') AS d \gset

SELECT plan(6);

CALL migrate.apply(:'d', target => '1706788800000', track => 'setup');
DELETE FROM migrate.history WHERE track = 'setup';
CREATE TABLE "public"."pgmigrations" (
  id SERIAL PRIMARY KEY,
  name varchar(255) NOT NULL,
  run_on timestamp NOT NULL
);
INSERT INTO pgmigrations (name, run_on) VALUES
  ('1706702400000_create-users', '2024-01-31 12:00:05'),
  ('1706788800000_create-posts', '2024-02-01 12:00:07');
SELECT md5(string_agg(t::text, ',' ORDER BY id)) AS before FROM pgmigrations t \gset

SELECT is(migrate.adopt('node-pg-migrate'), 2, 'both migrations adopted');
SELECT max(rank) AS adopted FROM migrate.history \gset
SELECT results_eq(
    $$SELECT version, description, script, installed_on, checksum IS NULL FROM migrate.history ORDER BY rank$$,
    $$VALUES ('1706702400000', 'create-users', '1706702400000_create-users', '2024-01-31 12:00:05'::timestamptz, true),
             ('1706788800000', 'create-posts', '1706788800000_create-posts', '2024-02-01 12:00:07', true)$$,
    'the timestamp is the version, run_on the time');

CALL migrate.apply(:'d');
SELECT results_eq(format('SELECT version FROM migrate.history WHERE rank > %s ORDER BY rank', :adopted),
                  $$VALUES ('1707134400000')$$, 'the next apply runs only the new migration');
SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('1706702400000', 'applied'), ('1706788800000', 'applied'), ('1707134400000', 'applied')$$,
    'all applied');
SELECT is(md5(string_agg(t::text, ',' ORDER BY id)), :'before', 'pgmigrations is untouched') FROM pgmigrations t;
SELECT is(migrate.adopt('node-pg-migrate'), 0, 'adopting twice adds nothing');

SELECT * FROM finish();
