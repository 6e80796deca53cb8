-- Prisma Migrate: one folder <timestamp>_<name> per migration with
-- migration.sql, and the down.sql that "prisma migrate diff" generates.
-- Prisma identifies a migration by its folder name and applies the
-- folders in name order, so two may share a timestamp.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_prisma') AS d \gset
SELECT pg_temp.fx('layout_cases') AS c \gset

SELECT plan(12);

SELECT results_eq(
    format('SELECT layout, version, description, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('prisma', '20240131120000_init', 'init', 'versioned', '20240131120000_init/migration.sql'),
             ('prisma', '20240131120000_init', 'init', 'undo', '20240131120000_init/down.sql'),
             ('prisma', '20240205093000_add_posts', 'add posts', 'versioned', '20240205093000_add_posts/migration.sql'),
             ('prisma', '20240205093000_add_posts', 'add posts', 'undo', '20240205093000_add_posts/down.sql')$$,
    'migration.sql is versioned, down.sql its undo script, the folder name the version; migration_lock.toml is no script');

CALL migrate.apply(:'d');

SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('20240131120000_init', 'applied'), ('20240205093000_add_posts', 'applied')$$,
    'apply runs migration.sql of each folder');

SELECT has_table('public', 'Post', 'Post created');
SELECT fk_ok('public', 'Post', 'authorId', 'public', 'User', 'id', 'its foreign key was added');

-- two folders with one timestamp are two migrations, in folder name order
SELECT results_eq(
    format('SELECT version, type, script FROM migrate.scripts(%L)', :'c' || '/prisma_same_ts'),
    $$VALUES ('20240101000000_a', 'versioned', '20240101000000_a/migration.sql'),
             ('20240101000000_b', 'versioned', '20240101000000_b/migration.sql'),
             ('20240102000000_c', 'versioned', '20240102000000_c/migration.sql'),
             ('20240102000000_c', 'undo', '20240102000000_c/down.sql'),
             (NULL, 'ignored', 'seed.sql')$$,
    'folders sharing a timestamp are distinct migrations; a loose .sql file is ignored');

-- the database as 1.0 left it: 20240101000000_a applied, recorded by its timestamp
CALL migrate.apply(:'c' || '/prisma_same_ts', target => '20240101000000_a', track => 'same');
UPDATE migrate.history SET version = '20240101000000' WHERE track = 'same';
SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L, %L) WHERE version IS NOT NULL', :'c' || '/prisma_same_ts', 'same'),
    $$VALUES ('20240101000000_a', 'applied'), ('20240101000000_b', 'pending'), ('20240102000000_c', 'pending')$$,
    'a row 1.0 wrote with the timestamp counts for the folder it names, not for its twin');

-- a bare timestamp as target stands for the folders of that timestamp
CALL migrate.apply(:'c' || '/prisma_same_ts', target => '20240101000000', track => 'same');
SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L, %L) WHERE version IS NOT NULL', :'c' || '/prisma_same_ts', 'same'),
    $$VALUES ('20240101000000_a', 'applied'), ('20240101000000_b', 'applied'), ('20240102000000_c', 'pending')$$,
    'target => the timestamp applies its folders, and the 1.0 row is not run again');
SELECT is((SELECT count(*)::int FROM migrate.history WHERE track = 'same' AND script = '20240101000000_a/migration.sql'),
          1, '20240101000000_a ran once');

CALL migrate.apply(:'c' || '/prisma_same_ts', track => 'same');
SELECT has_table('public', 'PsC', 'the last folder applied');
SELECT is((SELECT state FROM migrate.status(:'c' || '/prisma_same_ts', 'same') WHERE script = 'seed.sql'),
          'ignored', 'status lists the loose file as ignored');

-- undo by folder name
CALL migrate.undo(:'c' || '/prisma_same_ts', version => '20240102000000_c', track => 'same');
SELECT hasnt_table('public', 'PsC', 'undo version => the folder name runs its down.sql');

-- undo names the file to create
SELECT is(pg_temp.error_of(format('CALL migrate.undo(%L, track => %L)', :'c' || '/prisma_same_ts', 'same'), 'hint'),
          'Create the missing undo script: 20240101000000_b/down.sql.',
          'the hint of a missing undo names the down.sql to create');

SELECT * FROM finish();
