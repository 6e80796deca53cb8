-- migrate.baseline: an existing database recorded as being at a version.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\set d :fx/lifecycle_undo

SELECT plan(17);

SELECT migrate.baseline('V2');
SELECT results_eq(
    $$SELECT track, version, description, type, script, checksum, success, execution_ms FROM migrate.history$$,
    $$VALUES ('main'::text, '2'::text, '<< baseline >>'::text, 'baseline'::text, NULL::text, NULL::text, true, NULL::bigint)$$,
    'a history row of type baseline, version normalized, default description');
SELECT results_eq(
    format('SELECT version, type, state, installed_on IS NOT NULL FROM migrate.status(%L)', :'d'),
    $$VALUES ('1'::text, 'baseline'::text, 'baseline'::text, true), ('2', 'baseline', 'baseline', true),
             ('3', 'versioned', 'pending', false), ('4', 'versioned', 'pending', false)$$,
    'older files count as applied (state baseline), newer ones are pending');

CALL migrate.apply(:'d');
SELECT hasnt_table('public', 'lc_one', 'apply did not run V1 (below the baseline)');
SELECT hasnt_table('public', 'lc_two', 'nor V2 (the baseline itself)');
SELECT has_table('public', 'lc_four', 'it ran V4');
SELECT results_eq($$SELECT version FROM migrate.history WHERE type = 'versioned' ORDER BY rank$$,
    $$VALUES ('3'::text), ('4')$$, 'only V3 and V4 were applied');
SELECT lives_ok(format('SELECT migrate.validate(%L)', :'d'), 'validate is clean');

-- refusals
SELECT throws_ok($$SELECT migrate.baseline('3')$$, '55000', 'cannot baseline track "main" at version 3',
    'no baseline below applied migrations');
SELECT throws_ok($$SELECT migrate.baseline('1', track => 'x'); SELECT migrate.baseline('1', track => 'x')$$, '55000',
    'track "x" is already baselined at version 1', 'a track is baselined once at a version');
SELECT throws_ok($$SELECT migrate.baseline('1.x')$$, '22023', 'invalid migration version "1.x"',
    'a bad version is refused');
SELECT throws_ok($$SELECT migrate.baseline(NULL)$$, '22004', 'version must not be null', 'NULL version');

-- undo stops at the baseline
SELECT throws_ok(format('CALL migrate.undo(%L, target => %L)', :'d', '0'), '55000',
    'cannot undo below the baseline of track "main"', 'undo below the baseline is refused');
CALL migrate.undo(:'d', target => '3');
SELECT hasnt_table('public', 'lc_four', 'undo down to 3 undid V4');
SELECT is((SELECT state FROM migrate.status(:'d') WHERE version = '2'), 'baseline', 'V2 stays at the baseline');
SELECT throws_ok(format('CALL migrate.undo(%L, version => %L)', :'d', '1'), '55000',
    'migration version 1 is not applied on track "main"', 'a baselined version cannot be undone');

-- a baseline above every file: its own row in status; nothing to apply
SELECT migrate.baseline('10', 'legacy schema from before migrate', 'legacy');
SELECT results_eq(
    format('SELECT version, description, type, script, state FROM migrate.status(%L, %L) ORDER BY version', :'d', 'legacy'),
    $$VALUES ('1'::text, 'one'::text, 'baseline'::text, 'V1__one.sql'::text, 'baseline'::text),
             ('10', 'legacy schema from before migrate', 'baseline', NULL, 'baseline'),
             ('2', 'two', 'baseline', 'V2__two.sql', 'baseline'),
             ('3', 'three', 'baseline', 'V3__three.sql', 'baseline'),
             ('4', 'four', 'baseline', 'V4__four.sql', 'baseline')$$,
    'the baseline version shows as a row of its own when no file has it');
CALL migrate.apply(:'d', track => 'legacy');
SELECT is((SELECT count(*) FROM migrate.history WHERE track = 'legacy'), 1::bigint,
    'apply has nothing to do on a track baselined above every file');

SELECT * FROM finish();
