-- dbmate: <version>_<name>.sql with "-- migrate:up" and "-- migrate:down"
-- sections; each section is a script with its own checksum, and options
-- on the marker line stay in the script's text.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_dbmate') AS d \gset

SELECT plan(8);

SELECT results_eq(
    format('SELECT layout, version, description, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('dbmate', '20240131120000', 'create users', 'versioned', '20240131120000_create_users.sql'),
             ('dbmate', '20240131120000', 'create users', 'undo', '20240131120000_create_users.sql'),
             ('dbmate', '20240201093000', 'create posts', 'versioned', '20240201093000_create_posts.sql'),
             ('dbmate', '20240201093000', 'create posts', 'undo', '20240201093000_create_posts.sql'),
             ('dbmate', '20240220100000', 'index posts user id', 'versioned', '20240220100000_index_posts_user_id.sql'),
             ('dbmate', '20240220100000', 'index posts user id', 'undo', '20240220100000_index_posts_user_id.sql')$$,
    'each file is an up script and a down script of the same version');

SELECT is((SELECT checksum FROM migrate.scripts(:'d') WHERE version = '20240131120000' AND type = 'versioned'),
          pg_temp.sha(E'-- migrate:up\ncreate table users (\n  id serial primary key,\n  name varchar(255),\n  email varchar(255) not null\n);\n\n'),
          'the up checksum covers the up section, from its marker line');
SELECT is((SELECT checksum FROM migrate.scripts(:'d') WHERE version = '20240131120000' AND type = 'undo'),
          pg_temp.sha(E'-- migrate:down\ndrop table users;\n'),
          'the down checksum covers the down section');

CALL migrate.apply(:'d');

SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('20240131120000', 'applied'), ('20240201093000', 'applied'), ('20240220100000', 'applied')$$,
    'apply runs the up sections');

SELECT has_table('public', 'users', 'users created, and not dropped again by its down section');
SELECT has_trigger('public', 'posts', 'posts_touch', 'the dollar-quoted trigger function and its trigger ran');

SELECT is(sql, E'-- migrate:up transaction:false\ncreate index posts_user_id_idx on posts (user_id);\n\n',
          'the up text starts with its marker line, options kept, and stops before the down section')
FROM migrate.history WHERE version = '20240220100000';

CALL migrate.apply(:'d');
SELECT is(count(*)::int, 3, 'a second apply runs nothing') FROM migrate.history;

SELECT * FROM finish();
