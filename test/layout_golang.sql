-- golang-migrate: <version>_<name>.up.sql / .down.sql, as `migrate create
-- -seq` writes them; the down files are the undo scripts.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_golang') AS d \gset

SELECT plan(8);

SELECT results_eq(
    format('SELECT layout, version, description, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('golang-migrate', '1', 'create users table', 'versioned', '000001_create_users_table.up.sql'),
             ('golang-migrate', '1', 'create users table', 'undo', '000001_create_users_table.down.sql'),
             ('golang-migrate', '2', 'add mood to users', 'versioned', '000002_add_mood_to_users.up.sql'),
             ('golang-migrate', '2', 'add mood to users', 'undo', '000002_add_mood_to_users.down.sql'),
             ('golang-migrate', '3', 'create posts', 'versioned', '000003_create_posts.up.sql'),
             ('golang-migrate', '3', 'create posts', 'undo', '000003_create_posts.down.sql')$$,
    'up files are versioned, down files undo scripts, 000001 is version 1');

CALL migrate.apply(:'d');

SELECT results_eq(
    format('SELECT version, type, script, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('1', 'versioned', '000001_create_users_table.up.sql', 'applied'),
             ('2', 'versioned', '000002_add_mood_to_users.up.sql', 'applied'),
             ('3', 'versioned', '000003_create_posts.up.sql', 'applied')$$,
    'apply runs the up files in version order');

SELECT has_table('public', 'users', 'users created');
SELECT has_column('public', 'users', 'mood', 'the BEGIN/COMMIT-wrapped migration ran');
SELECT has_index('public', 'posts', 'posts_user_id_idx', 'posts index created');
SELECT hasnt_table('public', 'schema_migrations', 'no table of golang-migrate is created');

CALL migrate.apply(:'d');
SELECT is(count(*)::int, 3, 'a second apply runs nothing') FROM migrate.history;

SELECT is((SELECT checksum FROM migrate.history WHERE version = '1'),
          (SELECT checksum FROM migrate.scripts(:'d') WHERE version = '1' AND type = 'versioned'),
          'the history keeps the checksum of the up file');

SELECT * FROM finish();
