-- apply(dry_run => true) changes nothing and fails the way apply would;
-- apply(target => V) stops after V.  (What the dry run prints, in order,
-- is checked by the pg_regress test sql/lifecycle_messages.sql.)
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\set d :fx/lifecycle_undo
\set orig :fx/lifecycle_changed/orig
\set edited :fx/lifecycle_changed/edited

SELECT plan(13);

CREATE FUNCTION pg_temp.error_of(sql text, OUT msg text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
END $$;

CALL migrate.apply(:'d', dry_run => true);
SELECT is((SELECT count(*) FROM migrate.history), 0::bigint, 'a dry run records nothing');
SELECT hasnt_table('public', 'lc_one', 'and runs nothing');

-- target: stops after V
CALL migrate.apply(:'d', target => '2', dry_run => true);
SELECT is((SELECT count(*) FROM migrate.history), 0::bigint, 'a dry run with a target records nothing');
CALL migrate.apply(:'d', target => '2');
SELECT results_eq($$SELECT version FROM migrate.history ORDER BY rank$$, $$VALUES ('1'::text), ('2')$$,
    'target => 2 applied V1 and V2 only');
SELECT hasnt_table('public', 'lc_three', 'V3 did not run');
CALL migrate.apply(:'d', target => 'V2');
SELECT is((SELECT count(*) FROM migrate.history), 2::bigint, 'at the target: nothing more to apply');
CALL migrate.apply(:'d', target => '3.5');
SELECT results_eq($$SELECT version FROM migrate.history ORDER BY rank$$, $$VALUES ('1'::text), ('2'), ('3')$$,
    'a target between versions stops after the last one below it');
CALL migrate.apply(:'d');
SELECT is((SELECT count(*) FROM migrate.history), 4::bigint, 'without a target, the rest');

-- the dry run stops where apply would, with the same error, and changes nothing
CALL migrate.apply(:'orig', track => 'ch');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L, dry_run => true)', :'edited', 'ch')),
          pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'edited', 'ch')),
          'the dry run raises apply''s very error');
SELECT is((pg_temp.error_of(format('CALL migrate.apply(%L, track => %L, dry_run => true)', :'edited', 'ch'))).msg,
    'migration file "V2__two.sql" has changed since it was applied', 'a changed file stops it');

-- the dry run takes out_of_order into account, like apply
CALL migrate.undo(:'d', version => '2');
SELECT is((pg_temp.error_of(format('CALL migrate.apply(%L, dry_run => true)', :'d'))).msg,
    'migration "V2__two.sql" is out of order', 'an out-of-order migration stops the dry run');
SELECT is((pg_temp.error_of(format('CALL migrate.apply(%L, dry_run => true, out_of_order => true)', :'d'))).msg,
    NULL, 'with out_of_order => true the dry run passes');
SELECT is((SELECT count(*) FROM migrate.history WHERE track = 'main'), 5::bigint,
    'and still changed nothing');

SELECT * FROM finish();
