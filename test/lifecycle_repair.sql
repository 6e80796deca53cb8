-- migrate.repair: removes failed runs (clearing dirty), re-records
-- checksums of changed files and records one for adopted rows, by updating
-- the row that applied the migration; one result line per action.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\set good :fx/lifecycle_validate/good
\set bad :fx/lifecycle_validate/bad

SELECT plan(16);

SELECT is((SELECT count(*) FROM migrate.repair(:'good')), 0::bigint, 'nothing to repair: no rows');

\set ON_ERROR_STOP 0
CALL migrate.apply(:'good');
\set ON_ERROR_STOP 1
INSERT INTO migrate.history (version, description, type, script, checksum, success, dirty, error, error_line)
VALUES ('5', 'dirty', 'versioned', 'V5__dirty.sql', NULL, false, true, 'canceling statement due to user request', 1);
-- a second track's failure must survive the repair of main
INSERT INTO migrate.history (track, version, description, type, script, success)
VALUES ('other', '1', 'x', 'versioned', 'V1__x.sql', false);

CREATE TEMP TABLE before AS SELECT * FROM migrate.history;
CREATE TEMP TABLE sums AS SELECT script, checksum FROM migrate.status(:'bad');

SELECT results_eq(
    format('SELECT * FROM migrate.repair(%L)', :'bad'),
    ARRAY[
        'removed the failed run of V4__fails.sql (rank 4)',
        'cleared dirty V5__dirty.sql: removed its failed run (rank 5), which stopped at line 1; it is pending again',
        format('re-recorded the checksum of V1__one.sql: was %s, now %s',
               (SELECT checksum FROM before WHERE script = 'V1__one.sql'),
               (SELECT checksum FROM sums WHERE script = 'V1__one.sql'))],
    'repair reports each action, in order');

SELECT is((SELECT count(*) FROM migrate.history WHERE track = 'main' AND NOT success), 0::bigint,
    'the failed rows of the track are gone');
SELECT is((SELECT count(*) FROM migrate.history WHERE track = 'other' AND NOT success), 1::bigint,
    'other tracks are untouched');
SELECT is((SELECT state FROM migrate.status(:'bad') WHERE version = '5'), 'pending',
    'the dirty migration is no longer dirty: pending again');
SELECT is((SELECT state FROM migrate.status(:'good') WHERE version = '4'), 'pending',
    'the failed migration is pending again, not failed');
SELECT is((SELECT checksum FROM migrate.history WHERE script = 'V1__one.sql'),
    (SELECT checksum FROM sums WHERE script = 'V1__one.sql'), 'V1 now carries the file''s checksum');
SELECT is((SELECT state FROM migrate.status(:'bad') WHERE version = '1'), 'applied', 'and is applied, not changed');
SELECT results_eq(
    $$SELECT rank, installed_on, installed_by, execution_ms, sql FROM migrate.history WHERE script = 'V1__one.sql'$$,
    $$SELECT rank, installed_on, installed_by, execution_ms, sql FROM before WHERE script = 'V1__one.sql'$$,
    'the checksum was updated in place: same row, same time, same SQL text (no new row)');
SELECT is((SELECT count(*) FROM migrate.history), (SELECT count(*) - 2 FROM before),
    'no row was added, the two failed ones removed');

SELECT is((SELECT count(*) FROM migrate.repair(:'bad')), 0::bigint, 'a second repair has nothing to do');

-- what validate still reports is what repair does not touch
SELECT throws_like(format('SELECT migrate.validate(%L)', :'bad'), 'validation found 4 problems%',
    'misnamed, duplicate, missing and out-of-order remain for the user');

-- back to the original files: the checksum is re-recorded again
SELECT alike((SELECT string_agg(r, ' ') FROM migrate.repair(:'good') AS r),
    're-recorded the checksum of V1__one.sql: was %', 'repairing back to the original file');
SELECT lives_ok(format('SELECT migrate.validate(%L)', :'good'), 'good validates after repair');

-- adopted rows have no checksum: repair records one
UPDATE migrate.history SET checksum = NULL WHERE script IN ('V2__two.sql', 'V3__three.sql');
SELECT results_eq(
    format('SELECT * FROM migrate.repair(%L)', :'good'),
    ARRAY[
        format('recorded the checksum of V2__two.sql (applied without one): %s',
               (SELECT checksum FROM migrate.status(:'good') WHERE version = '2')),
        format('recorded the checksum of V3__three.sql (applied without one): %s',
               (SELECT checksum FROM migrate.status(:'good') WHERE version = '3'))],
    'repair records a checksum for rows adopted without one');
SELECT is((SELECT count(*) FROM migrate.history WHERE checksum IS NULL AND success), 0::bigint,
    'every applied row has a checksum now');

SELECT * FROM finish();
