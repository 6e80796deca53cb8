-- sqitch: sqitch.plan gives the order, deploy/ and revert/ the scripts;
-- a change's version is its position in the plan, its name the description.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_sqitch') AS d \gset
SELECT pg_temp.fx('layout_cases') AS c \gset

SELECT plan(9);

SELECT results_eq(
    format('SELECT layout, version, description, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('sqitch', '1', 'appschema', 'versioned', 'deploy/appschema.sql'),
             ('sqitch', '1', 'appschema', 'undo', 'revert/appschema.sql'),
             ('sqitch', '2', 'users', 'versioned', 'deploy/users.sql'),
             ('sqitch', '2', 'users', 'undo', 'revert/users.sql'),
             ('sqitch', '3', 'insert_user', 'versioned', 'deploy/insert_user@v1.0.0-dev1.sql'),
             ('sqitch', '3', 'insert_user', 'undo', 'revert/insert_user@v1.0.0-dev1.sql'),
             ('sqitch', '4', 'insert_user', 'versioned', 'deploy/insert_user.sql'),
             ('sqitch', '4', 'insert_user', 'undo', 'revert/insert_user.sql')$$,
    'plan order, reworked change read from <change>@<tag>.sql, verify/ not run');

SELECT current_setting('client_min_messages') AS before_apply \gset
CALL migrate.apply(:'d');

SELECT results_eq(
    format('SELECT version, description, script, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('1', 'appschema', 'deploy/appschema.sql', 'applied'),
             ('2', 'users', 'deploy/users.sql', 'applied'),
             ('3', 'insert_user', 'deploy/insert_user@v1.0.0-dev1.sql', 'applied'),
             ('4', 'insert_user', 'deploy/insert_user.sql', 'applied')$$,
    'status shows the change names');

SELECT results_eq(
    $$SELECT version, description FROM migrate.history ORDER BY rank$$,
    $$VALUES ('1', 'appschema'), ('2', 'users'), ('3', 'insert_user'), ('4', 'insert_user')$$,
    'the history shows the change names');

SELECT has_table('flipr', 'users', 'flipr.users created');
SELECT flipr.insert_user('alice', 'secret');
SELECT is(password, md5('secret'), 'the reworked insert_user is the one deployed last')
FROM flipr.users WHERE nickname = 'alice';

SELECT is(current_setting('client_min_messages'), :'before_apply',
          'SET in a deploy script does not outlast it');

-- a planned change without its deploy script
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/sqitch_missing')),
          'sqitch change "b" has no deploy script', 'a planned change needs deploy/<change>.sql');
-- a deploy script of no planned change
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/sqitch_unplanned')),
          'migration file "deploy/z.sql" is misnamed', 'a deploy script the plan does not name is refused');
SELECT alike(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/sqitch_unplanned'), 'hint'),
            '%sqitch.plan%', 'the hint explains sqitch''s layout');

SELECT * FROM finish();
