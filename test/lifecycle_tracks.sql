-- Tracks: independent histories side by side in one database (schema
-- migrations and data migrations, as Drizzle users keep them).  That two
-- tracks do not wait for each other's lock is test/lifecycle_tracks.sh.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\set schema :fx/lifecycle_tracks/schema
\set data :fx/lifecycle_tracks/data

SELECT plan(14);

CALL migrate.apply(:'schema', track => 'schema');
CALL migrate.apply(:'data', track => 'data');
SELECT results_eq($$SELECT track, version, script FROM migrate.history ORDER BY rank$$,
    $$VALUES ('schema'::text, '1'::text, 'V1__cities.sql'::text), ('schema', '2', 'V2__country.sql'),
             ('data', '1', 'V1__seed_cities.sql')$$,
    'each track has its own version 1');
SELECT is((SELECT count(*) FROM public.lt_cities), 2::bigint, 'the data track seeded the schema track''s table');
SELECT is((SELECT count(*) FROM migrate.status(:'schema')), 2::bigint,
    'the default track main knows the files but applied none of them');
SELECT is((SELECT count(*) FROM migrate.status(:'schema') WHERE state = 'pending'), 2::bigint, '(pending on main)');
SELECT results_eq(format('SELECT version, state FROM migrate.status(%L, %L)', :'data', 'data'),
    $$VALUES ('1'::text, 'applied'::text)$$, 'status per track');

-- a track is not tied to a path: the same files from another directory
-- (a new release) keep their history
CALL migrate.apply(:'fx' || '/lifecycle_tracks/release2/data', track => 'data');
SELECT is((SELECT count(*) FROM migrate.history), 3::bigint, 'the same files under another path re-run nothing');

-- undo, validate, repair and baseline work per track
CALL migrate.undo(:'data', track => 'data');
SELECT is((SELECT count(*) FROM public.lt_cities), 0::bigint, 'undo on the data track deleted the seed');
SELECT has_column('public', 'lt_cities', 'country', 'the schema track is untouched');
SELECT is((SELECT state FROM migrate.status(:'schema', 'schema') WHERE version = '2'), 'applied',
    'schema V2 still applied');
SELECT lives_ok(format('SELECT migrate.validate(%L, %L)', :'schema', 'schema'), 'validate per track');
SELECT throws_like(format('SELECT migrate.validate(%L, %L)', :'data', 'schema'), '%2 problems%',
    'the data files against the schema track: changed V1 and missing V2');
SELECT migrate.baseline('7', track => 'legacy');
SELECT is((SELECT count(*) FROM migrate.history WHERE track = 'legacy'), 1::bigint, 'baseline per track');
SELECT is((SELECT count(*) FROM migrate.repair(:'schema', 'schema')), 0::bigint, 'repair per track');
SELECT throws_ok(format('CALL migrate.apply(%L, track => NULL)', :'schema'), '22004', 'track must not be null',
    'a NULL track is refused');

SELECT * FROM finish();
