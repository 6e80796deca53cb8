-- migrate.adopt('sqitch'): sqitch.changes lists the deployed changes of a
-- project; their position in sqitch.plan is their version.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_sqitch') AS d \gset

SELECT plan(8);

-- the database as sqitch left it: the first three changes deployed
CALL migrate.apply(:'d', target => '3', track => 'setup');
DELETE FROM migrate.history WHERE track = 'setup';
CREATE SCHEMA sqitch;
CREATE TABLE sqitch.projects (
    project         TEXT        PRIMARY KEY,
    uri             TEXT            NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    creator_name    TEXT        NOT NULL,
    creator_email   TEXT        NOT NULL
);
CREATE TABLE sqitch.changes (
    change_id       TEXT        PRIMARY KEY,
    script_hash     TEXT            NULL,
    change          TEXT        NOT NULL,
    project         TEXT        NOT NULL REFERENCES sqitch.projects(project) ON UPDATE CASCADE,
    note            TEXT        NOT NULL DEFAULT '',
    committed_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    committer_name  TEXT        NOT NULL,
    committer_email TEXT        NOT NULL,
    planned_at      TIMESTAMPTZ NOT NULL,
    planner_name    TEXT        NOT NULL,
    planner_email   TEXT        NOT NULL,
    UNIQUE(project, script_hash)
);
INSERT INTO sqitch.projects (project, uri, creator_name, creator_email) VALUES
  ('flipr', 'https://github.com/sqitchers/sqitch-intro/', 'Marge N. O’Vera', 'marge@example.com'),
  ('other', NULL, 'Someone', 'someone@example.com');
INSERT INTO sqitch.changes VALUES
  ('a1', 'h1', 'appschema', 'flipr', 'Add schema for all flipr objects.', '2024-01-31 12:01:00+00', 'Marge N. O’Vera', 'marge@example.com', '2024-01-31 12:00:00+00', 'Marge N. O’Vera', 'marge@example.com'),
  ('a2', 'h2', 'users', 'flipr', 'Creates table to track our users.', '2024-01-31 12:06:00+00', 'Marge N. O’Vera', 'marge@example.com', '2024-01-31 12:05:00+00', 'Marge N. O’Vera', 'marge@example.com'),
  ('a3', 'h3', 'insert_user', 'flipr', 'Creates a function to insert a user.', '2024-01-31 12:11:00+00', 'Marge N. O’Vera', 'marge@example.com', '2024-01-31 12:10:00+00', 'Marge N. O’Vera', 'marge@example.com'),
  ('b1', 'h9', 'unrelated', 'other', '', '2024-01-01 00:00:00+00', 'Someone', 'someone@example.com', '2024-01-01 00:00:00+00', 'Someone', 'someone@example.com');
SELECT md5(string_agg(t::text, ',' ORDER BY change_id)) AS before FROM sqitch.changes t \gset

SELECT is(migrate.adopt('sqitch', dir => :'d'), 3, 'the deployed changes of the plan''s project are adopted');
SELECT max(rank) AS adopted FROM migrate.history \gset
SELECT results_eq(
    $$SELECT version, description, script, installed_by, installed_on FROM migrate.history ORDER BY rank$$,
    $$VALUES ('1', 'appschema', 'deploy/appschema.sql', 'Marge N. O’Vera', '2024-01-31 12:01:00+00'::timestamptz),
             ('2', 'users', 'deploy/users.sql', 'Marge N. O’Vera', '2024-01-31 12:06:00+00'),
             ('3', 'insert_user', 'deploy/insert_user@v1.0.0-dev1.sql', 'Marge N. O’Vera', '2024-01-31 12:11:00+00')$$,
    'plan positions become versions, change names descriptions');

CALL migrate.apply(:'d');
SELECT results_eq(format('SELECT version, script FROM migrate.history WHERE rank > %s ORDER BY rank', :adopted),
                  $$VALUES ('4', 'deploy/insert_user.sql')$$, 'the next apply runs only the reworked change');
SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('1', 'applied'), ('2', 'applied'), ('3', 'applied'), ('4', 'applied')$$, 'all applied');
SELECT is(md5(string_agg(t::text, ',' ORDER BY change_id)), :'before', 'sqitch.changes is untouched')
FROM sqitch.changes t;
SELECT is(migrate.adopt('sqitch', dir => :'d'), 0, 'adopting twice adds nothing');

-- changes that do not follow the plan
CREATE SCHEMA other_registry;
CREATE TABLE other_registry.changes (LIKE sqitch.changes);
INSERT INTO other_registry.changes SELECT * FROM sqitch.changes WHERE change = 'users';
SELECT throws_ok(format('SELECT migrate.adopt(%L, track => %L, dir => %L, history_table => %L)',
                        'sqitch', 'x', :'d', 'other_registry.changes'),
                 '55000', format('sqitch.changes does not follow the plan of "%s"', :'d'),
                 'deployed changes must be the first ones of the plan');
SELECT is(pg_temp.error_of(format('SELECT migrate.adopt(%L, track => %L, dir => %L, history_table => %L)',
                                  'sqitch', 'x', :'d', 'other_registry.changes'), 'detail'),
          'Deployed change 1 is "users", but change 1 of sqitch.plan is "appschema".',
          'naming the change');

SELECT * FROM finish();
