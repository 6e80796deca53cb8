-- migrate.runs, the heartbeat: one row per apply, undo, repair and
-- baseline call, no-ops and failures included (a failure of a CALL outside
-- a transaction block survives its error), none for a dry run or a call
-- in the caller's transaction that fails; bounded by migrate.runs_keep per
-- track; written only by the extension.  migrate.summary: one row.
\i test/include/files.psql
\set QUIET 1
SET client_min_messages = warning;
SELECT pg_temp.fresh_dir('fleets_runs') AS d \gset

SELECT pg_temp.write_file(:'d' || '/V1__one.sql', E'CREATE TABLE public.r1 (id int);\n');
SELECT pg_temp.write_file(:'d' || '/V2__two.sql', E'CREATE TABLE public.r2 (id int);\n');
SELECT pg_temp.write_file(:'d' || '/U2__two.sql', E'DROP TABLE public.r2;\n');
SELECT pg_temp.write_file(:'d' || '/U4__bad.sql', E'SELECT 1;\n');
-- a directory whose one migration can run on any number of tracks
SELECT pg_temp.fresh_dir('fleets_runs_any') AS any \gset
SELECT pg_temp.write_file(:'any' || '/V1__any.sql', E'SELECT 1;\n');

-- the runs of a track, oldest first, without the times
CREATE FUNCTION pg_temp.runs(tr text DEFAULT 'main')
RETURNS TABLE (call text, dir text, applied int, version text, outcome text, sqlstate text, error text)
LANGUAGE sql AS $$
    SELECT call, dir, applied, version, outcome, sqlstate, error
    FROM migrate.runs WHERE track = tr ORDER BY id $$;

SELECT plan(29);

SELECT has_table('migrate', 'runs', 'migrate.runs exists');
SELECT ok((SELECT 'migrate.runs'::regclass = ANY (extconfig) FROM pg_extension WHERE extname = 'migrate'),
          'migrate.runs is carried by pg_dump (pg_extension_config_dump)');

-- a run that applies two, then a no-op
CALL migrate.apply(:'d');
CALL migrate.apply(:'d');
SELECT results_eq(
    $$SELECT * FROM pg_temp.runs()$$,
    format($$VALUES ('apply', %L, 2, '2', 'success', NULL::text, NULL::text),
                    ('apply', %L, 0, '2', 'success', NULL, NULL)$$, :'d', :'d'),
    'an apply and a no-op apply: one row each, with what they applied and the version');
SELECT ok((SELECT bool_and(started <= ended AND ended <= clock_timestamp()
                           AND run_by = current_user) FROM migrate.runs),
          'started, ended and the calling role are recorded');

-- a dry run writes nothing (it may run on a standby)
CALL migrate.apply(:'d', dry_run => true);
SELECT is((SELECT count(*) FROM migrate.runs), 2::bigint, 'a dry run records no run');

-- a failing migration: the CALL errors out, its run row stays
SELECT pg_temp.write_file(:'d' || '/V3__bad.sql', E'SELECT 1;\nSELECT 1/0;\n');
\set ON_ERROR_STOP 0
CALL migrate.apply(:'d');
\set ON_ERROR_STOP 1
SELECT results_eq(
    $$SELECT * FROM pg_temp.runs() OFFSET 2$$,
    format($$VALUES ('apply', %L, 0, '2', 'failed', '22012', 'division by zero')$$, :'d'),
    'a failed apply is recorded with its SQLSTATE and message, though the CALL failed');

-- a run that applied one and then failed: how many it applied
SELECT pg_temp.write_file(:'d' || '/V3__bad.sql', E'CREATE TABLE public.r3 (id int);\n');
SELECT pg_temp.write_file(:'d' || '/V4__bad.sql', E'SELECT 1/0;\n');
\set ON_ERROR_STOP 0
CALL migrate.apply(:'d');
\set ON_ERROR_STOP 1
SELECT results_eq(
    $$SELECT applied, version, outcome FROM pg_temp.runs() OFFSET 3$$,
    $$VALUES (1, '3', 'failed')$$,
    'a run that failed after applying one records 1 applied and the version it reached');

-- a failure before any migration runs (a refusal of the plan) is recorded too
SELECT pg_temp.write_file(:'d' || '/V1__one.sql', E'CREATE TABLE public.r1 (id int, changed int);\n');
\set ON_ERROR_STOP 0
CALL migrate.apply(:'d');
\set ON_ERROR_STOP 1
SELECT results_eq(
    $$SELECT applied, outcome, sqlstate FROM pg_temp.runs() OFFSET 4$$,
    $$VALUES (0, 'failed', '55000')$$,
    'a refusal before anything ran is recorded as a failed run');
SELECT pg_temp.write_file(:'d' || '/V1__one.sql', E'CREATE TABLE public.r1 (id int);\n');
SELECT pg_temp.write_file(:'d' || '/V4__bad.sql', E'SELECT 1;\n');

-- in the caller's transaction a failure leaves nothing, its run row included
SELECT pg_temp.write_file(:'d' || '/V5__bad.sql', E'SELECT 1/0;\n');
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d'), '22012', NULL,
                 'an apply inside a function (atomic) fails');
SELECT is((SELECT count(*) FROM migrate.runs), 5::bigint,
          'a failure in the caller''s transaction leaves no run row (it is rolled back with it)');
SELECT pg_temp.sh(format('rm -f %s', :'d' || '/V5__bad.sql'));
CALL migrate.apply(:'d');

-- undo, repair and baseline are recorded with their call
CALL migrate.undo(:'d');
SELECT results_eq(
    $$SELECT call, applied, version, outcome FROM migrate.runs WHERE track = 'main'
      ORDER BY id DESC LIMIT 1$$,
    $$VALUES ('undo', 1, '3', 'success')$$,
    'an undo is recorded: the scripts it ran and the version it left');
SELECT * FROM migrate.repair(:'d');
SELECT results_eq(
    $$SELECT call, dir, applied, version, outcome FROM migrate.runs WHERE track = 'main'
      ORDER BY id DESC LIMIT 1$$,
    format($$VALUES ('repair', %L, 0, '3', 'success')$$, :'d'),
    'a repair is recorded');
SELECT migrate.baseline('7', 'adopted', track => 'other');
SELECT results_eq(
    $$SELECT * FROM pg_temp.runs('other')$$,
    $$VALUES ('baseline', NULL::text, 0, '7', 'success', NULL::text, NULL::text)$$,
    'a baseline is recorded on its track, without a directory');

-- summary: one row about a track
SELECT results_eq(
    format($$SELECT version, pending, failed, dirty, last_call, last_outcome, last_error
             FROM migrate.summary(%L)$$, :'d'),
    $$VALUES ('3', 1, 0, false, 'repair', 'success', NULL::text)$$,
    'summary with a directory: version, pending (V4, undone), failed, dirty, the last run');
SELECT results_eq(
    $$SELECT version, pending, failed, dirty FROM migrate.summary()$$,
    $$VALUES ('3', NULL::int, 0, false)$$,
    'summary without a directory: no pending count');
SELECT ok((SELECT last_run = (SELECT max(ended) FROM migrate.runs WHERE track = 'main')
                  AND last_applied = (SELECT max(installed_on) FROM migrate.history
                                      WHERE track = 'main' AND success AND type <> 'undo')
           FROM migrate.summary()),
          'summary: last_run is the end of the last run, last_applied the last applied migration');
SELECT results_eq(
    $$SELECT version, failed, last_call FROM migrate.summary(track => 'other')$$,
    $$VALUES ('7', 0, 'baseline')$$, 'summary of another track');
SELECT results_eq(
    $$SELECT version, pending, failed, dirty, last_applied, last_run, last_outcome
      FROM migrate.summary(track => 'never')$$,
    $$VALUES (NULL::text, NULL::int, 0, false, NULL::timestamptz, NULL::timestamptz, NULL::text)$$,
    'summary of a track that never ran: one row of nothing');
CALL migrate.apply(:'d');
SELECT results_eq(
    format($$SELECT version, pending, failed, last_call, last_outcome FROM migrate.summary(%L)$$, :'d'),
    $$VALUES ('4', 0, 0, 'apply', 'success')$$,
    'summary after the failure was fixed and applied');
\set ON_ERROR_STOP 0
SELECT pg_temp.write_file(:'d' || '/V5__bad.sql', E'SELECT 1;\nSELECT 1/0;\n');
CALL migrate.apply(:'d');
\set ON_ERROR_STOP 1
SELECT results_eq(
    $$SELECT failed, last_outcome, last_error FROM migrate.summary()$$,
    $$VALUES (1, 'failed', 'division by zero')$$,
    'summary shows the last run failed, and its error');
SELECT pg_temp.sh(format('rm -f %s', :'d' || '/V5__bad.sql'));

-- bounded: the last migrate.runs_keep runs of each track
SET migrate.runs_keep = 3;
CALL migrate.apply(:'any', track => 'kept');
CALL migrate.apply(:'any', track => 'kept');
CALL migrate.apply(:'any', track => 'kept');
CALL migrate.apply(:'any', track => 'kept');
SELECT is((SELECT count(*) FROM migrate.runs WHERE track = 'kept'), 3::bigint,
          'the run that makes one too many prunes at once (the prune is skipped only while the '
          'track''s ids span no more than migrate.runs_keep rows)');
CALL migrate.apply(:'any', track => 'kept');
SELECT results_eq(
    $$SELECT applied FROM migrate.runs WHERE track = 'kept' ORDER BY id$$,
    $$VALUES (0), (0), (0)$$,
    'a track keeps its last migrate.runs_keep runs (the first, which applied one, is gone)');
SELECT is((SELECT count(*) FROM migrate.runs WHERE track = 'main'), 10::bigint,
          'other tracks keep theirs');
SET migrate.runs_keep = 0;
CALL migrate.apply(:'any', track => 'kept');
SELECT is((SELECT count(*) FROM migrate.runs WHERE track = 'kept'), 3::bigint,
          'migrate.runs_keep = 0 records nothing');
RESET migrate.runs_keep;

-- only the extension writes it
DROP ROLE IF EXISTS fleets_runner;
CREATE ROLE fleets_runner;
GRANT USAGE ON SCHEMA migrate TO fleets_runner;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO fleets_runner;
GRANT SELECT ON migrate.history, migrate.staged, migrate.lint_ignored, migrate.drift TO fleets_runner;
SELECT ok(NOT has_table_privilege('fleets_runner', 'migrate.runs', 'INSERT')
          AND NOT has_table_privilege('fleets_runner', 'migrate.runs', 'DELETE')
          AND NOT has_table_privilege('fleets_runner', 'migrate.runs', 'UPDATE'),
          'a role that may apply may not write migrate.runs');
SET ROLE fleets_runner;
CALL migrate.apply(:'any', track => 'by_role');
RESET ROLE;
SELECT results_eq(
    $$SELECT run_by, applied FROM migrate.runs WHERE track = 'by_role'$$,
    $$VALUES ('fleets_runner', 1)$$,
    'its apply is recorded, with the extension''s rights, naming the role');
SET ROLE fleets_runner;
SELECT throws_ok($$INSERT INTO migrate.runs (track, call, started, ended, applied, outcome, run_by)
                   VALUES ('x', 'apply', now(), now(), 0, 'success', 'postgres')$$,
                 '42501', NULL, 'it cannot forge a row');
SELECT throws_ok('SET migrate.runs_keep = 1', '42501', NULL,
                 'nor set migrate.runs_keep (superuser-only): it cannot erase the heartbeat');
RESET ROLE;

-- a trigger on migrate.runs would run with the owner's rights: refused
CREATE FUNCTION public.runs_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t BEFORE INSERT ON migrate.runs FOR EACH ROW EXECUTE FUNCTION public.runs_trg();
SELECT throws_ok(format('CALL migrate.apply(%L, track => %L)', :'any', 'trg'), '42501', NULL,
                 'a run refuses to write migrate.runs through a trigger');
DROP TRIGGER t ON migrate.runs;
DROP FUNCTION public.runs_trg();

SELECT * FROM finish();

DROP OWNED BY fleets_runner;
DROP ROLE fleets_runner;
