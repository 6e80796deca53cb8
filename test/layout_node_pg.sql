-- node-pg-migrate SQL files: <timestamp>_<name>.sql with "-- Up Migration"
-- and "-- Down Migration" sections.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_node_pg') AS d \gset

SELECT plan(7);

SELECT results_eq(
    format('SELECT layout, version, description, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('node-pg-migrate', '1706702400000', 'create-users', 'versioned', '1706702400000_create-users.sql'),
             ('node-pg-migrate', '1706702400000', 'create-users', 'undo', '1706702400000_create-users.sql'),
             ('node-pg-migrate', '1706788800000', 'create-posts', 'versioned', '1706788800000_create-posts.sql'),
             ('node-pg-migrate', '1706788800000', 'create-posts', 'undo', '1706788800000_create-posts.sql'),
             ('node-pg-migrate', '1707134400000', 'add-users-email', 'versioned', '1707134400000_add-users-email.sql'),
             ('node-pg-migrate', '1707134400000', 'add-users-email', 'undo', '1707134400000_add-users-email.sql')$$,
    'each file is an up and a down script; the millisecond timestamp is the version');

SELECT is((SELECT checksum FROM migrate.scripts(:'d') WHERE version = '1707134400000' AND type = 'undo'),
          pg_temp.sha(E'-- Down Migration\nALTER TABLE users DROP COLUMN email;\n'),
          'the down script is the down section');

CALL migrate.apply(:'d');

SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('1706702400000', 'applied'), ('1706788800000', 'applied'), ('1707134400000', 'applied')$$,
    'apply runs the up sections in order');

SELECT has_column('public', 'users', 'email', 'the last up section ran');
SELECT has_index('public', 'posts', 'posts_userid_index', 'posts index created');
SELECT is(col_description('public.users'::regclass, 4), 'where we write to; may be NULL',
          'a quoted ; inside a statement does not split it');

CALL migrate.apply(:'d');
SELECT is(count(*)::int, 3, 'a second apply runs nothing') FROM migrate.history;

SELECT * FROM finish();
