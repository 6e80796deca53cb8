-- Prisma Migrate: one folder <timestamp>_<name> per migration with
-- migration.sql, and the down.sql that "prisma migrate diff" generates.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_prisma') AS d \gset

SELECT plan(4);

SELECT results_eq(
    format('SELECT layout, version, description, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('prisma', '20240131120000', 'init', 'versioned', '20240131120000_init/migration.sql'),
             ('prisma', '20240131120000', 'init', 'undo', '20240131120000_init/down.sql'),
             ('prisma', '20240205093000', 'add posts', 'versioned', '20240205093000_add_posts/migration.sql'),
             ('prisma', '20240205093000', 'add posts', 'undo', '20240205093000_add_posts/down.sql')$$,
    'migration.sql is versioned, down.sql its undo script; migration_lock.toml is no script');

CALL migrate.apply(:'d');

SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('20240131120000', 'applied'), ('20240205093000', 'applied')$$,
    'apply runs migration.sql of each folder');

SELECT has_table('public', 'Post', 'Post created');
SELECT fk_ok('public', 'Post', 'authorId', 'public', 'User', 'id', 'its foreign key was added');

SELECT * FROM finish();
