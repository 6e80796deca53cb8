-- migrate.validate: every problem in one error, one per detail line;
-- silent when clean; the same checks as apply's (plan_problems).
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\set good :fx/lifecycle_validate/good
\set bad :fx/lifecycle_validate/bad

SELECT plan(20);

-- the message, detail and SQLSTATE of the error a statement raises
CREATE FUNCTION pg_temp.error_of(sql text, OUT msg text, OUT detail text, OUT state text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, state = RETURNED_SQLSTATE;
END $$;

-- a clean directory: nothing to say
SELECT lives_ok(format('SELECT migrate.validate(%L)', :'good'), 'validate of a directory never applied is silent');

-- V1..V3 applied, V4 fails (line 3, division by zero)
\set ON_ERROR_STOP 0
CALL migrate.apply(:'good');
\set ON_ERROR_STOP 1
SELECT is((SELECT count(*) FROM migrate.history WHERE NOT success), 1::bigint, 'V4 failed');

-- a dirty run of V5, as a non-transactional migration that failed part-way leaves it
INSERT INTO migrate.history (version, description, type, script, checksum, success, dirty, error, error_line)
VALUES ('5', 'dirty', 'versioned', 'V5__dirty.sql', NULL, false, true, 'canceling statement due to user request', 1);

-- the bad directory: V1 edited, V2 gone, V2.5 late, a misnamed file, a duplicate version
SELECT is((pg_temp.error_of(format('SELECT migrate.validate(%L)', :'bad'))).msg,
    'validation found 7 problems on track "main"', 'validate counts every problem');
SELECT is((pg_temp.error_of(format('SELECT migrate.validate(%L)', :'bad'))).state, '42602',
    'its SQLSTATE is the first problem''s (misnamed: invalid_name)');

CREATE TEMP TABLE lines AS
SELECT n, line FROM regexp_split_to_table(
    (pg_temp.error_of(format('SELECT migrate.validate(%L)', :'bad'))).detail, E'\n')
    WITH ORDINALITY AS t(line, n);
SELECT is((SELECT count(*) FROM lines), 7::bigint, 'one detail line per problem');
SELECT is((SELECT line FROM lines WHERE n = 1),
    'File "v6-misnamed.sql" is misnamed: it fits no migration name pattern; it was probably meant to be "V6__misnamed.sql".', 'misnamed, and the name it probably meant');
SELECT is((SELECT line FROM lines WHERE n = 2),
    'Files "V07__second.sql" and "V7__first.sql" both have version 7.', 'duplicate');
SELECT alike((SELECT line FROM lines WHERE n = 3),
    'Migration "V1__one.sql" has changed since it was applied: checksum recorded %, file now %.', 'changed');
SELECT is((SELECT line FROM lines WHERE n = 4),
    'Migration "V2__two.sql" (version 2) is applied, but its file is missing.', 'missing');
SELECT is((SELECT line FROM lines WHERE n = 5),
    'Migration "V4__fails.sql" failed at line 3: division by zero.', 'failed, with its line and error');
SELECT is((SELECT line FROM lines WHERE n = 6),
    'Migration "V5__dirty.sql" ran outside a transaction and stopped part-way at line 1: canceling statement due to user request.',
    'dirty');
SELECT is((SELECT line FROM lines WHERE n = 7),
    'Migration "V2.5__late.sql" is out of order: version 2.5 is pending, but version 3 is already applied.',
    'out of order');

-- apply refuses with the same checks: the blocking ones (not missing, not failed)
SELECT is((pg_temp.error_of(format('CALL migrate.apply(%L)', :'bad'))).msg,
    'migration file "v6-misnamed.sql" is misnamed', 'apply names the first problem');
SELECT is((pg_temp.error_of(format('CALL migrate.apply(%L)', :'bad'))).detail,
    (SELECT string_agg(line, E'\n' ORDER BY n) FROM lines WHERE n NOT IN (4, 5)),
    'and lists every blocking problem with validate''s very lines');
SELECT is((pg_temp.error_of(format('CALL migrate.apply(%L, out_of_order => true)', :'bad'))).detail,
    (SELECT string_agg(line, E'\n' ORDER BY n) FROM lines WHERE n NOT IN (4, 5, 7)),
    'out_of_order => true lifts only the out-of-order problem');

-- another track sees only the directory's own problems
SELECT is((pg_temp.error_of(format('SELECT migrate.validate(%L, %L)', :'bad', 'other'))).msg,
    'validation found 2 problems on track "other"', 'tracks are validated apart');

-- adopted rows (no checksum of ours) never count as changed
DELETE FROM migrate.history WHERE NOT success;
SELECT lives_ok(format('SELECT migrate.validate(%L)', :'good'), 'good is clean once the failures are gone');
UPDATE migrate.history SET checksum = NULL WHERE version = '1';
SELECT lives_ok(format('SELECT migrate.validate(%L)', :'good'), 'a NULL checksum is not a change');
SELECT is((SELECT count(*) FROM lines), 7::bigint, 'fixture sanity');
SELECT is((pg_temp.error_of(format('SELECT migrate.validate(%L)', :'bad'))).msg,
    'validation found 4 problems on track "main"',
    'the edited V1 does not count as changed against a NULL checksum');

SELECT * FROM finish();
