-- migrate.undo: the newest migration, down to a target, one named version;
-- refusals before anything runs; failure rows; atomic calls; re-apply.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\set d :fx/lifecycle_undo
\set shop :fx/lifecycle_shop
\set uf :fx/lifecycle_undo_fail
\set orig :fx/lifecycle_changed/orig
\set edited :fx/lifecycle_changed/edited

SELECT plan(43);

-- the detail of the error a statement raises, or NULL
CREATE FUNCTION pg_temp.detail_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END $$;

CREATE FUNCTION pg_temp.state_of(dir text, v text, tr text DEFAULT 'main') RETURNS text
LANGUAGE sql AS $$ SELECT state FROM migrate.status(dir, tr) WHERE version = v $$;

-- nothing applied: nothing to undo, and no row
CALL migrate.undo(:'d');
SELECT is((SELECT count(*) FROM migrate.history), 0::bigint, 'undo with nothing applied does nothing');

CALL migrate.apply(:'d');
SELECT is((SELECT count(*) FROM migrate.history WHERE success), 4::bigint, 'V1..V4 applied');

-- 1. no target: the newest applied migration only
CALL migrate.undo(:'d');
SELECT hasnt_table('public', 'lc_four', 'undo ran U4: lc_four is gone');
SELECT has_table('public', 'lc_three', 'V3 still applied');
SELECT results_eq(
    $$SELECT version, type, script, checksum IS NOT NULL, success FROM migrate.history ORDER BY rank DESC LIMIT 1$$,
    $$VALUES ('4'::text, 'undo'::text, 'U4__four.sql'::text, true, true)$$,
    'the undo is a history row of type undo with its script and checksum');
SELECT is((SELECT checksum FROM migrate.history WHERE type = 'undo'),
          (SELECT checksum FROM migrate.status(:'d') WHERE version = '4'),
          'the undo row records the undo script''s checksum (status shows it)');
SELECT results_eq(
    format($$SELECT type, script, state FROM migrate.status(%L) WHERE version = '4'$$, :'d'),
    $$VALUES ('undo'::text, 'U4__four.sql'::text, 'undone'::text)$$,
    'status shows the undone migration: type undo, its undo script, state undone');

-- apply re-applies it
CALL migrate.apply(:'d');
SELECT has_table('public', 'lc_four', 'apply re-applied V4 after its undo');
SELECT is(pg_temp.state_of(:'d', '4'), 'applied', 'V4 applied again');
SELECT is((SELECT count(*) FROM migrate.history WHERE version = '4' AND type = 'versioned' AND success),
          2::bigint, 'V4 has two versioned rows: applied, undone, applied');

-- 2. a migration in the range without an undo script stops everything before it runs
SELECT throws_like(format('CALL migrate.undo(%L, target => %L)', :'d', '1'),
    '%"V3__three.sql" has no undo script%', 'undo down to 1 refuses: V3 has no undo script');
SELECT alike(pg_temp.detail_of(format('CALL migrate.undo(%L, target => %L)', :'d', '1')),
    '%versions 4, 3 and 2%nothing was undone%', 'the detail names the versions the undo would have undone');
SELECT has_table('public', 'lc_four', 'nothing ran: V4 (above V3, with an undo script) is still applied');
SELECT is((SELECT count(*) FROM migrate.history WHERE type = 'undo'), 1::bigint, 'no new undo row');

-- 3. version => exactly that undo script, even with newer ones applied
CALL migrate.undo(:'d', version => '2');
SELECT hasnt_table('public', 'lc_two', 'undo version 2 ran U2');
SELECT has_table('public', 'lc_four', 'newer V4 stays applied');
SELECT has_table('public', 'lc_three', 'newer V3 stays applied');
SELECT is(pg_temp.state_of(:'d', '2'), 'undone', 'V2 is undone');
SELECT throws_like(format('CALL migrate.apply(%L)', :'d'), '%"V2__two.sql" is out of order%',
    're-applying V2 below V4 is out of order');
CALL migrate.apply(:'d', out_of_order => true);
SELECT has_table('public', 'lc_two', 'apply with out_of_order re-applied V2');

-- version whose undo script is missing, version not applied, bad combinations
SELECT throws_like(format('CALL migrate.undo(%L, version => %L)', :'d', '3'),
    '%"V3__three.sql" has no undo script%', 'undo version 3 refuses: no U3');
SELECT throws_ok(format('CALL migrate.undo(%L, version => %L)', :'d', '9'), '55000',
    'migration version 9 is not applied on track "main"', 'undo of an unknown version is refused');
SELECT throws_ok(format('CALL migrate.undo(%L, target => %L, version => %L)', :'d', '1', '2'), '22023',
    'target and version cannot both be given', 'target and version together are refused');
SELECT throws_ok(format('CALL migrate.undo(%L, target => %L)', :'d', 'x1'), '22023',
    'invalid migration version "x1"', 'a bad target is refused');

-- target above everything applied: nothing to undo
CALL migrate.undo(:'d', target => '4');
SELECT has_table('public', 'lc_four', 'undo to target 4 undoes nothing');

-- 4. target => '0' on a directory where every migration has an undo script
CALL migrate.apply(:'shop', track => 'shop');
SELECT has_table('shop', 'orders', 'shop applied');
CALL migrate.undo(:'shop', target => '2', track => 'shop');
SELECT has_table('shop', 'orders', 'undo to 2 keeps V2');
SELECT hasnt_view('shop', 'customer_totals', 'undo to 2 undid V3');
SELECT results_eq(
    $$SELECT script FROM migrate.history WHERE track = 'shop' AND type = 'undo' ORDER BY rank$$,
    $$VALUES ('U4__order_notes.sql'::text), ('U3__customer_totals.sql'::text)$$,
    'newest first: U4 then U3');
CALL migrate.undo(:'shop', target => '0', track => 'shop');
SELECT hasnt_schema('shop', 'undo to 0 undid everything');
SELECT is((SELECT count(*) FROM migrate.status(:'shop', 'shop') WHERE state = 'undone'), 5::bigint,
    'every shop migration is undone');
CALL migrate.apply(:'shop', track => 'shop');
SELECT is((SELECT count(*) FROM shop.customers), 2::bigint, 'and apply brings everything back');

-- 5. a failing undo script: rows before it stay undone, its failure row is committed
CALL migrate.apply(:'uf', track => 'uf');
\set ON_ERROR_STOP 0
CALL migrate.undo(:'uf', target => '0', track => 'uf');
\set ON_ERROR_STOP 1
SELECT hasnt_table('public', 'lc_uf2', 'U2 ran and committed before U1 failed');
SELECT has_table('public', 'lc_uf1', 'U1 was rolled back whole (its first statement too)');
SELECT results_eq(
    $$SELECT version, type, script, success, error_line, sqlstate FROM migrate.history
      WHERE track = 'uf' ORDER BY rank DESC LIMIT 1$$,
    $$VALUES ('1'::text, 'undo'::text, 'U1__first.sql'::text, false, 3, '42P01'::text)$$,
    'the failed undo is recorded: type undo, line 3, SQLSTATE');
SELECT is(pg_temp.state_of(:'uf', '1', 'uf'), 'applied', 'V1 is still applied');

-- 6. atomic: in a transaction block all undos are one transaction
BEGIN;
CALL migrate.undo(:'shop', target => '0', track => 'shop');
ROLLBACK;
SELECT has_table('shop', 'orders', 'undo in a rolled back transaction block undid nothing');
SELECT is((SELECT count(*) FROM migrate.history WHERE track = 'shop' AND type = 'undo'), 5::bigint,
    'and left no undo row');
SELECT throws_like(format('CALL migrate.undo(%L, target => %L, track => %L)', :'uf', '0', 'uf'),
    'table "lc_no_such_table" does not exist', 'atomic undo fails whole');
SELECT is((SELECT count(*) FROM migrate.history WHERE track = 'uf'), 4::bigint,
    'the atomic failure left no row');

-- 7. changed up files in the range are refused, like apply does
CALL migrate.apply(:'orig', track => 'ch');
SELECT throws_like(format('CALL migrate.undo(%L, track => %L)', :'edited', 'ch'),
    '%"V2__two.sql" has changed since it was applied%', 'undo refuses when the file to undo changed');
SELECT has_table('public', 'lch_two', 'nothing was undone');
CALL migrate.undo(:'edited', version => '1', track => 'ch');
SELECT hasnt_table('public', 'lch_one', 'a changed file outside the range does not stop undo');

SELECT * FROM finish();
