-- migrate.adopt('dbmate'): schema_migrations (version varchar) has one row
-- per applied version.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_dbmate') AS d \gset

SELECT plan(8);

-- the database as dbmate left it: the first two migrations applied
CALL migrate.apply(:'d', target => '20240201093000', track => 'setup');
DELETE FROM migrate.history WHERE track = 'setup';
CREATE TABLE public.schema_migrations (version character varying(128) NOT NULL PRIMARY KEY);
INSERT INTO schema_migrations (version) VALUES ('20240131120000'), ('20240201093000');

SELECT is(migrate.adopt('dbmate'), 2, 'both versions adopted, without the directory');
SELECT max(rank) AS adopted FROM migrate.history \gset
SELECT results_eq(
    $$SELECT version, type, checksum IS NULL, success FROM migrate.history ORDER BY rank$$,
    $$VALUES ('20240131120000', 'versioned', true, true), ('20240201093000', 'versioned', true, true)$$,
    'versioned rows without checksum');
SELECT results_eq(
    format('SELECT version, description, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('20240131120000', 'create users', 'applied'),
             ('20240201093000', 'create posts', 'applied'),
             ('20240220100000', 'index posts user id', 'pending')$$,
    'status reads them as applied');

CALL migrate.apply(:'d');
SELECT results_eq(format('SELECT version FROM migrate.history WHERE rank > %s ORDER BY rank', :adopted),
                  $$VALUES ('20240220100000')$$, 'the next apply runs only the new migration');
SELECT results_eq($$SELECT version FROM schema_migrations ORDER BY 1$$,
                  $$VALUES ('20240131120000'::varchar), ('20240201093000')$$, 'schema_migrations is untouched');
SELECT is(migrate.adopt('dbmate'), 0, 'adopting twice adds nothing');

-- with dir, the rows name their files
SELECT is(migrate.adopt('dbmate', track => 'named', dir => :'d'), 2, 'adopted on another track');
SELECT results_eq(
    $$SELECT description, script FROM migrate.history WHERE track = 'named' ORDER BY rank$$,
    $$VALUES ('create users', '20240131120000_create_users.sql'), ('create posts', '20240201093000_create_posts.sql')$$,
    'descriptions and scripts come from the files when dir is given');

SELECT * FROM finish();
