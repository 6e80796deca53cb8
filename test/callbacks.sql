-- Flyway's SQL callbacks: beforeMigrate.sql, beforeEachMigrate.sql,
-- afterEachMigrate.sql, afterMigrate.sql (and afterMigrate__<description>.sql),
-- afterMigrateApplied.sql, afterMigrateError.sql, the undo and validate
-- events.  They run at their events, in name order, through the executor
-- (file and line, \ir), are never migrations (not planned, not recorded,
-- not misnamed), and the each-migration ones share the migration's
-- transaction.  The NOTICEs and the dry run are in test/callbacks.sh.
\i test/include/files.psql
SET client_min_messages = warning;

-- every callback writes a row: its event, how many migrations of the track
-- were recorded as applied when it ran, and its transaction
CREATE TABLE public.cb_log (id serial PRIMARY KEY, event text, applied int, xid text);
CREATE FUNCTION pg_temp.cb(event text, track text) RETURNS text LANGUAGE sql AS $$
    SELECT format(E'-- the %s callback\nINSERT INTO public.cb_log (event, applied, xid)\n'
                  'VALUES (%L, (SELECT count(*) FROM migrate.history WHERE success AND track = %L), '
                  'pg_current_xact_id()::xid::text);\n', event, event, track)
$$;
-- the events logged since id
CREATE FUNCTION pg_temp.events(since int DEFAULT 0) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(event || ':' || coalesce(applied::text, '') ORDER BY id), '{}')
    FROM public.cb_log WHERE id > since
$$;
CREATE FUNCTION pg_temp.last_id() RETURNS int LANGUAGE sql AS $$
    SELECT coalesce(max(id), 0) FROM public.cb_log
$$;
-- apply in a function: an atomic call, in the caller's transaction
CREATE FUNCTION pg_temp.apply_atomic(dir text, track text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CALL migrate.apply(dir, track => track);
END $$;

DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cb_reader') THEN
        CREATE ROLE cb_reader NOLOGIN;
    END IF;
END $$;
CREATE SCHEMA app;
SELECT migrate.acknowledge_drift('the test''s own tables') \gset

SELECT plan(47);

-- 1. every migrate event, in order; the grant use case
SELECT pg_temp.fresh_dir('callbacks_all') AS d \gset
SELECT pg_temp.write_file(:'d' || '/V1__one.sql', E'CREATE TABLE app.t1 (id int);\n');
SELECT pg_temp.write_file(:'d' || '/V2__two.sql', E'CREATE TABLE app.t2 (id int);\n');
SELECT pg_temp.write_file(:'d' || '/R__view.sql', E'CREATE OR REPLACE VIEW app.v AS SELECT id FROM app.t1;\n');
SELECT pg_temp.write_file(:'d' || '/beforeMigrate.sql', pg_temp.cb('beforeMigrate', 'all'));
SELECT pg_temp.write_file(:'d' || '/beforeEachMigrate.sql', pg_temp.cb('beforeEachMigrate', 'all'));
SELECT pg_temp.write_file(:'d' || '/afterEachMigrate.sql', pg_temp.cb('afterEachMigrate', 'all'));
SELECT pg_temp.write_file(:'d' || '/afterMigrate.sql', pg_temp.cb('afterMigrate', 'all'));
-- a BEGIN ... COMMIT wrapper is absorbed, as in a migration
SELECT pg_temp.write_file(:'d' || '/afterMigrate__a_first.sql',
    E'BEGIN;\n' || pg_temp.cb('afterMigrate__a_first', 'all') || E'COMMIT;\n');
-- the typical use: grant on everything the run created, through \ir
SELECT pg_temp.write_file(:'d' || '/callbacks/afterMigrate__grants.sql',
    E'-- grants for the readers\n\\ir _grants/select.sql\n' || pg_temp.cb('afterMigrate__grants', 'all'));
SELECT pg_temp.write_file(:'d' || '/callbacks/_grants/select.sql',
    E'GRANT USAGE ON SCHEMA app TO cb_reader;\nGRANT SELECT ON ALL TABLES IN SCHEMA app TO cb_reader;\n');
SELECT pg_temp.write_file(:'d' || '/afterMigrateApplied.sql', pg_temp.cb('afterMigrateApplied', 'all'));
SELECT pg_temp.write_file(:'d' || '/afterMigrateError.sql', pg_temp.cb('afterMigrateError', 'all'));
SELECT pg_temp.write_file(:'d' || '/README.md', E'not sql\n');

SELECT results_eq(
    format($$SELECT coalesce(version, '-'), script, state FROM migrate.status(%L, 'all')$$, :'d'),
    $$VALUES ('1', 'V1__one.sql', 'pending'), ('2', 'V2__two.sql', 'pending'), ('-', 'R__view.sql', 'pending')$$,
    'status lists the migrations only: no callback is a migration, none is misnamed');
SELECT lives_ok(format($$SELECT migrate.validate(%L, 'all')$$, :'d'), 'validate finds no misnamed callback');
SELECT results_eq(
    format($$SELECT description, script FROM migrate.scripts(%L) WHERE type = 'callback'$$, :'d'),
    $$VALUES ('afterEachMigrate', 'afterEachMigrate.sql'), ('afterMigrate', 'afterMigrate.sql'),
             ('afterMigrateApplied', 'afterMigrateApplied.sql'), ('afterMigrateError', 'afterMigrateError.sql'),
             ('afterMigrate', 'afterMigrate__a_first.sql'), ('afterMigrate', 'callbacks/afterMigrate__grants.sql'),
             ('beforeEachMigrate', 'beforeEachMigrate.sql'), ('beforeMigrate', 'beforeMigrate.sql')$$,
    'migrate.scripts lists the callbacks with their events, in name order');

CALL migrate.apply(:'d', track => 'all');

SELECT is(pg_temp.events(),
    ARRAY['beforeMigrate:0',
          'beforeEachMigrate:0', 'afterEachMigrate:0',
          'beforeEachMigrate:1', 'afterEachMigrate:1',
          'beforeEachMigrate:2', 'afterEachMigrate:2',
          'afterMigrate:3', 'afterMigrate__a_first:3', 'afterMigrate__grants:3',
          'afterMigrateApplied:3'],
    'every event runs in order, several for one event in name order, before each history row');
SELECT is((SELECT count(*)::int FROM migrate.history WHERE track = 'all'), 3,
          'callbacks are not recorded in the history');
SELECT is((SELECT count(*)::int FROM migrate.history h JOIN public.cb_log l ON l.xid = h.xmin::text
           WHERE h.track = 'all' AND l.event LIKE '%EachMigrate'), 6,
          'each-migration callbacks run in the transaction of the migration they surround');
SELECT is((SELECT count(DISTINCT xid)::int FROM public.cb_log
           WHERE event IN ('beforeMigrate', 'afterMigrate', 'afterMigrateApplied')), 3,
          'beforeMigrate, afterMigrate and afterMigrateApplied each commit in a transaction of their own');
SELECT ok(NOT EXISTS (SELECT FROM migrate.history h JOIN public.cb_log l ON l.xid = h.xmin::text
                      WHERE l.event IN ('beforeMigrate', 'afterMigrate')),
          'and none of them shares a migration''s transaction');
SELECT ok(has_table_privilege('cb_reader', 'app.t1', 'SELECT') AND
          has_table_privilege('cb_reader', 'app.t2', 'SELECT') AND
          has_table_privilege('cb_reader', 'app.v', 'SELECT'),
          'afterMigrate__grants.sql granted SELECT on every table the run created');
SET ROLE cb_reader;
SELECT lives_ok('SELECT * FROM app.t1, app.t2, app.v', 'the reader role can select from them');
RESET ROLE;

-- nothing pending: beforeMigrate and afterMigrate run all the same, nothing else
SELECT pg_temp.last_id() AS mark \gset
CALL migrate.apply(:'d', track => 'all');
SELECT is(pg_temp.events(:mark),
    ARRAY['beforeMigrate:3', 'afterMigrate:3', 'afterMigrate__a_first:3', 'afterMigrate__grants:3'],
    'with nothing pending, beforeMigrate and afterMigrate run; afterMigrateApplied does not');

-- a new table is granted by the next run
SELECT pg_temp.write_file(:'d' || '/V3__three.sql', E'CREATE TABLE app.t3 (id int);\n');
CALL migrate.apply(:'d', track => 'all');
SELECT ok(has_table_privilege('cb_reader', 'app.t3', 'SELECT'), 'the next run grants the table it created');

-- the dry run lists callbacks and runs none
SELECT pg_temp.write_file(:'d' || '/V4__four.sql', E'CREATE TABLE app.t4 (id int);\n');
SELECT pg_temp.last_id() AS mark \gset
CALL migrate.apply(:'d', track => 'all', dry_run => true);
SELECT is(pg_temp.events(:mark), '{}'::text[], 'a dry run runs no callback');

-- in the caller's transaction: every callback runs there
SELECT pg_temp.last_id() AS mark \gset
SELECT pg_temp.apply_atomic(:'d', 'all');
SELECT is(pg_temp.events(:mark),
    ARRAY['beforeMigrate:4', 'beforeEachMigrate:4', 'afterEachMigrate:4', 'afterMigrate:5',
          'afterMigrate__a_first:5', 'afterMigrate__grants:5', 'afterMigrateApplied:5'],
    'apply in the caller''s transaction runs the same callbacks');
SELECT is((SELECT count(DISTINCT xid)::int FROM public.cb_log WHERE id > :mark), 1,
          'all of them in the caller''s transaction');

-- 2. a failing afterEachMigrate fails its migration, which is rolled back
SELECT pg_temp.fresh_dir('callbacks_fail') AS f \gset
SELECT pg_temp.write_file(:'f' || '/V1__ok.sql', E'CREATE TABLE public.f1 (id int);\n');
SELECT pg_temp.write_file(:'f' || '/V2__boom.sql', E'CREATE TABLE public.boom (id int);\n');
SELECT pg_temp.write_file(:'f' || '/V3__later.sql', E'CREATE TABLE public.f3 (id int);\n');
SELECT pg_temp.write_file(:'f' || '/afterEachMigrate.sql',
    E'-- fails after V2\nINSERT INTO public.cb_log (event) VALUES (''afterEach'');\nSELECT 1 / (1 - (SELECT count(*)::int FROM pg_class WHERE oid = to_regclass(''public.boom'')));\n');
SELECT pg_temp.write_file(:'f' || '/afterMigrate.sql', pg_temp.cb('afterMigrate', 'fail'));
SELECT pg_temp.write_file(:'f' || '/afterMigrateError.sql', pg_temp.cb('afterMigrateError', 'fail'));
SELECT pg_temp.last_id() AS mark \gset
\set ON_ERROR_STOP 0
CALL migrate.apply(:'f', track => 'fail');
\set ON_ERROR_STOP 1
SELECT has_table('public', 'f1', 'the migration before stays applied');
SELECT hasnt_table('public', 'boom', 'the migration whose afterEachMigrate failed is rolled back');
SELECT hasnt_table('public', 'f3', 'nothing runs after it');
SELECT results_eq(
    $$SELECT version, success, sqlstate, error, error_line FROM migrate.history WHERE track = 'fail' ORDER BY rank$$,
    $$VALUES ('1', true, NULL, NULL, NULL::int),
             ('2', false, '22012', 'callback afterEachMigrate.sql, line 3: division by zero', NULL)$$,
    'the failure row names the callback, its line and the SQLSTATE');
SELECT is(pg_temp.events(:mark), ARRAY['afterEach:', 'afterMigrateError:1'],
          'afterMigrateError runs after the failure row is committed; afterMigrate does not run');
SELECT is((SELECT state FROM migrate.status(:'f', 'fail') WHERE version = '2'), 'failed',
          'status shows the migration failed');
SELECT throws_ok(format($$SELECT pg_temp.apply_atomic(%L, 'fail')$$, :'f'), '22012', 'division by zero',
                 'the error keeps its SQLSTATE');
SELECT matches(pg_temp.error_of(format($$CALL migrate.apply(%L, track => 'fail')$$, :'f')),
               'callback afterEachMigrate\.sql, line 3',
               'the error context names the callback file and line');

-- 3. a failing beforeEachMigrate, and a failing beforeMigrate
SELECT pg_temp.fresh_dir('callbacks_before') AS b \gset
SELECT pg_temp.write_file(:'b' || '/V1__one.sql', E'CREATE TABLE public.b1 (id int);\n');
SELECT pg_temp.write_file(:'b' || '/beforeEachMigrate__check.sql', E'SELECT 1;\n\nSELECT 1/0;\n');
\set ON_ERROR_STOP 0
CALL migrate.apply(:'b', track => 'before');
\set ON_ERROR_STOP 1
SELECT hasnt_table('public', 'b1', 'a failing beforeEachMigrate stops its migration');
SELECT results_eq(
    $$SELECT version, success, error FROM migrate.history WHERE track = 'before'$$,
    $$VALUES ('1', false, 'callback beforeEachMigrate__check.sql, line 3: division by zero')$$,
    'and is its failure');
SELECT pg_temp.sh(format('rm %s/beforeEachMigrate__check.sql', :'b'));
SELECT pg_temp.write_file(:'b' || '/beforeMigrate.sql', E'CREATE TABLE public.b0 (id int);\nSELECT missing_column FROM public.b0;\n');
SELECT pg_temp.write_file(:'b' || '/afterMigrateError.sql', pg_temp.cb('afterMigrateError', 'before'));
SELECT pg_temp.last_id() AS mark \gset
SELECT throws_ok(format($$CALL migrate.apply(%L, track => 'before')$$, :'b'), '42703', NULL,
                 'a failing beforeMigrate fails the run');
SELECT matches(pg_temp.error_of(format($$CALL migrate.apply(%L, track => 'before')$$, :'b')),
               'callback beforeMigrate\.sql, line 2', 'with its file and line');
\set ON_ERROR_STOP 0
CALL migrate.apply(:'b', track => 'before');
\set ON_ERROR_STOP 1
SELECT hasnt_table('public', 'b0', 'what the failed beforeMigrate did is rolled back');
SELECT hasnt_table('public', 'b1', 'no migration runs after it');
SELECT is(pg_temp.events(:mark), ARRAY['afterMigrateError:0'], 'afterMigrateError runs');
-- a failing afterMigrate: the migrations stay applied, the call fails, afterMigrateError runs
SELECT pg_temp.sh(format('rm %s/beforeMigrate.sql', :'b'));
SELECT pg_temp.write_file(:'b' || '/afterMigrate.sql', E'CREATE TABLE public.b2 (id int);\nSELECT 1/0;\n');
SELECT pg_temp.last_id() AS mark \gset
\set ON_ERROR_STOP 0
CALL migrate.apply(:'b', track => 'before');
\set ON_ERROR_STOP 1
SELECT has_table('public', 'b1', 'a failing afterMigrate leaves the migrations applied');
SELECT hasnt_table('public', 'b2', 'and what it did is rolled back');
SELECT is(pg_temp.events(:mark), ARRAY['afterMigrateError:1'], 'then afterMigrateError runs');
SELECT lives_ok(format($$SELECT migrate.validate(%L, 'before')$$, :'b'),
                'the schema the run left is recorded: validate sees no drift');

-- 4. undo callbacks
SELECT pg_temp.fresh_dir('callbacks_undo') AS u \gset
SELECT pg_temp.write_file(:'u' || '/V1__one.sql', E'CREATE TABLE public.u1 (id int);\n');
SELECT pg_temp.write_file(:'u' || '/U1__one.sql', E'DROP TABLE public.u1;\n');
SELECT pg_temp.write_file(:'u' || '/V2__two.sql', E'CREATE TABLE public.u2 (id int);\n');
SELECT pg_temp.write_file(:'u' || '/U2__two.sql', E'DROP TABLE public.u2;\n');
CALL migrate.apply(:'u', track => 'undo');
SELECT pg_temp.write_file(:'u' || '/beforeUndo.sql', pg_temp.cb('beforeUndo', 'undo'));
SELECT pg_temp.write_file(:'u' || '/beforeEachUndo.sql', pg_temp.cb('beforeEachUndo', 'undo'));
SELECT pg_temp.write_file(:'u' || '/afterEachUndo.sql', pg_temp.cb('afterEachUndo', 'undo'));
SELECT pg_temp.write_file(:'u' || '/afterUndo.sql', pg_temp.cb('afterUndo', 'undo'));
SELECT pg_temp.last_id() AS mark \gset
CALL migrate.undo(:'u', target => '0', track => 'undo');
SELECT is(pg_temp.events(:mark),
    ARRAY['beforeUndo:2', 'beforeEachUndo:2', 'afterEachUndo:2', 'beforeEachUndo:3', 'afterEachUndo:3',
          'afterUndo:4'],
    'beforeUndo, beforeEachUndo and afterEachUndo around each undo script, then afterUndo');
SELECT hasnt_table('public', 'u1', 'the undo ran');
SELECT is((SELECT count(*)::int FROM migrate.history h JOIN public.cb_log l ON l.xid = h.xmin::text
           WHERE h.track = 'undo' AND h.type = 'undo' AND l.event LIKE '%EachUndo'), 4,
          'each-undo callbacks run in the transaction of their undo script');
SELECT pg_temp.last_id() AS mark \gset
CALL migrate.apply(:'u', track => 'undo');
SELECT is(pg_temp.events(:mark), '{}'::text[], 'undo callbacks do not run on apply');

-- 5. validate callbacks
SELECT pg_temp.write_file(:'u' || '/beforeValidate.sql', pg_temp.cb('beforeValidate', 'undo'));
SELECT pg_temp.write_file(:'u' || '/afterValidate.sql', pg_temp.cb('afterValidate', 'undo'));
SELECT pg_temp.last_id() AS mark \gset
SELECT migrate.validate(:'u', 'undo');
SELECT is(pg_temp.events(:mark), ARRAY['beforeValidate:6', 'afterValidate:6'],
          'validate runs beforeValidate, then afterValidate when it passes');
SELECT pg_temp.write_file(:'u' || '/V1__one.sql', E'CREATE TABLE public.u1 (id bigint);\n');
SELECT pg_temp.write_file(:'u' || '/beforeValidate.sql', E'SELECT 1;\n');
SELECT pg_temp.write_file(:'u' || '/afterValidate.sql', E'SELECT 1/0;\n');
SELECT throws_ok(format($$SELECT migrate.validate(%L, 'undo')$$, :'u'), '55000', NULL,
                 'validate of a changed file fails with its own error: afterValidate does not run');

-- 6. names: only Flyway's layout has callbacks; misspelled ones are misnamed
SELECT pg_temp.fresh_dir('callbacks_names') AS n \gset
SELECT pg_temp.write_file(:'n' || '/V1__one.sql', E'SELECT 1;\n');
SELECT pg_temp.write_file(:'n' || '/aftermigrate.sql', E'SELECT 1;\n');
SELECT pg_temp.write_file(:'n' || '/afterMigrate_grants.sql', E'SELECT 1;\n');
SELECT pg_temp.write_file(:'n' || '/afterClean.sql', E'SELECT 1;\n');
SELECT results_eq(
    format($$SELECT script, state, description FROM migrate.status(%L, 'names') WHERE version IS NULL ORDER BY script$$, :'n'),
    $$VALUES ('afterClean.sql', 'ignored', 'It is Flyway''s afterClean callback, an event migrate does not run'),
             ('afterMigrate_grants.sql', 'misnamed', ''),
             ('aftermigrate.sql', 'misnamed', 'probably meant afterMigrate.sql')$$,
    'a misspelled callback is misnamed, one of an event migrate does not run is ignored');
SELECT pg_temp.fresh_dir('callbacks_golang') AS g \gset
SELECT pg_temp.write_file(:'g' || '/1_one.up.sql', E'SELECT 1;\n');
SELECT pg_temp.write_file(:'g' || '/1_one.down.sql', E'SELECT 1;\n');
SELECT pg_temp.write_file(:'g' || '/afterMigrate.sql', E'SELECT 1;\n');
SELECT is((SELECT state FROM migrate.status(:'g', 'golang') WHERE script = 'afterMigrate.sql'), 'misnamed',
          'in another tool''s layout afterMigrate.sql is no callback: it is misnamed');

-- 7. a staged bundle: its callbacks act as a directory's
SELECT migrate.stage('cbbundle', 'V1__one.sql', E'CREATE TABLE public.s1 (id int);\n') AS staged1 \gset
SELECT migrate.stage('cbbundle', 'afterMigrate.sql', pg_temp.cb('staged afterMigrate', 'staged')) AS staged2 \gset
SELECT pg_temp.last_id() AS mark \gset
CALL migrate.apply('cbbundle', track => 'staged');
SELECT is(pg_temp.events(:mark), ARRAY['staged afterMigrate:1'], 'a staged afterMigrate.sql runs as a callback');
SELECT is((SELECT array_agg(script) FROM migrate.history WHERE track = 'staged'), ARRAY['V1__one.sql'],
          'and is not applied as a migration');

-- 8. a migration that runs outside a transaction: its each-migration
-- callbacks commit in transactions of their own around it
SELECT pg_temp.fresh_dir('callbacks_nontx') AS x \gset
SELECT pg_temp.write_file(:'x' || '/V1__table.sql', E'CREATE TABLE public.x1 (id int);\n');
SELECT pg_temp.write_file(:'x' || '/V2__index.sql', E'CREATE INDEX CONCURRENTLY x1_id ON public.x1 (id);\n');
SELECT pg_temp.write_file(:'x' || '/beforeEachMigrate.sql', pg_temp.cb('beforeEachMigrate', 'nontx'));
SELECT pg_temp.write_file(:'x' || '/afterEachMigrate.sql', pg_temp.cb('afterEachMigrate', 'nontx'));
SELECT pg_temp.last_id() AS mark \gset
CALL migrate.apply(:'x', track => 'nontx');
SELECT has_index('public', 'x1', 'x1_id', 'the concurrent build ran');
SELECT is(pg_temp.events(:mark),
    ARRAY['beforeEachMigrate:0', 'afterEachMigrate:0', 'beforeEachMigrate:1', 'afterEachMigrate:2'],
    'around a migration run outside a transaction, afterEachMigrate runs after its row is committed');
SELECT is((SELECT count(*)::int FROM migrate.history h JOIN public.cb_log l ON l.xid = h.xmin::text
           WHERE h.track = 'nontx' AND h.version = '2'), 0,
          'and neither shares a transaction with it');

SELECT * FROM finish();
