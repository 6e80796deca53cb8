-- Diesel: one folder <version>_<name> per migration with up.sql and
-- down.sql; the version drops the dashes, as diesel records it.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_diesel') AS d \gset

SELECT plan(4);

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

SELECT * FROM finish();
