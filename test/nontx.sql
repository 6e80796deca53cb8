-- Migrations that cannot run in a transaction: concurrent index builds,
-- DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and VACUUM run for real in
-- a background worker; other tools' markers are honoured; enum values
-- added by one migration are usable by the next, or in the same file when
-- it runs outside a transaction.  Failures part-way (dirty), cancelling,
-- notices and concurrency are in the shell tests nontx_*.sh.
\set ECHO none
\set QUIET 1
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset

SELECT plan(27);

-- 1. concurrent builds, a concurrent drop, REINDEX CONCURRENTLY, VACUUM
CALL migrate.apply(:'fx' || '/nontx_cic', track => 'cic');

SELECT results_eq(
    $$SELECT version, state FROM migrate.status(current_setting('migrate_test.fixtures') || '/nontx_cic', 'cic')$$,
    $$VALUES ('1', 'applied'), ('2', 'applied'), ('3', 'applied'), ('4', 'applied')$$,
    'every migration of nontx_cic is applied');
SELECT is((SELECT count(*)::int FROM migrate.history
           WHERE track = 'cic' AND success AND NOT dirty), 4,
          'one successful, clean history row per migration');
SELECT has_index('public', 'item', 'item_sku_idx', 'CREATE INDEX CONCURRENTLY built item_sku_idx');
SELECT has_index('public', 'item', 'item_sku_price_idx', 'the second concurrent build of the same file built item_sku_price_idx');
SELECT hasnt_index('public', 'item', 'item_price_old', 'DROP INDEX CONCURRENTLY dropped item_price_old');
SELECT is((SELECT count(*)::int FROM pg_index WHERE NOT indisvalid), 0,
          'no invalid index is left (REINDEX CONCURRENTLY included)');
SELECT is((SELECT indisunique FROM pg_index WHERE indexrelid = 'item_sku_price_idx'::regclass), true,
          'the unique concurrent build is unique');
SELECT isnt((SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'item'), NULL,
            'VACUUM ran on item');
SELECT isnt((SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'item'), NULL,
            'VACUUM (ANALYZE) analyzed item');
SELECT alike((SELECT sql FROM migrate.history WHERE track = 'cic' AND version = '2'),
            '%CREATE INDEX CONCURRENTLY item_sku_idx%',
            'the text of a non-transactional migration is kept in the history');

-- 2. markers: dbmate, sql-migrate, .autocommit. names; none on plain files
CALL migrate.apply(:'fx' || '/nontx_markers', track => 'markers');

SELECT is((SELECT backend_type FROM run_log WHERE script = 'V2'), 'migrate worker',
          '"-- migrate:up transaction:false" runs the file in the worker');
SELECT is((SELECT backend_type FROM run_log WHERE script = 'V3'), 'migrate worker',
          '"-- +migrate Up notransaction" runs the file in the worker');
SELECT is((SELECT backend_type FROM run_log WHERE script = 'V4'), 'migrate worker',
          '".autocommit." in the name runs the file in the worker');
SELECT is((SELECT backend_type FROM run_log WHERE script = 'V5'), 'client backend',
          'a "migrate:down" marker does not make a file non-transactional');
SELECT is((SELECT backend_type FROM run_log WHERE script = 'V6'), 'client backend',
          'ANALYZE and a plain CREATE INDEX run in the caller''s transaction');
SELECT is((SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'migrate worker'), 0,
          'no worker is left running');

-- 3. an enum value added by one migration, used by the next (transactional)
CREATE SCHEMA enum_later;
SET search_path = enum_later;
CALL migrate.apply(:'fx' || '/nontx_enum_later', track => 'enum_later');
RESET search_path;

SELECT is((SELECT mood::text FROM enum_later.person WHERE name = 'ann'), 'happy',
          'a value added by ALTER TYPE ... ADD VALUE is usable in a later migration');
SELECT is((SELECT count(*)::int FROM migrate.history WHERE track = 'enum_later' AND success), 3,
          'the three enum migrations are applied');

-- 4. ... and in the same file, when the file runs outside a transaction
CREATE SCHEMA enum_marker;
SET search_path = enum_marker;
CALL migrate.apply(:'fx' || '/nontx_enum_marker', track => 'enum_marker');
RESET search_path;

SELECT is((SELECT mood::text FROM enum_marker.person WHERE name = 'ann'), 'happy',
          'with the marker, a file can add an enum value and use it');
SELECT is((SELECT typnamespace::regnamespace::text FROM pg_type WHERE typname = 'mood'
           AND typnamespace = 'enum_marker'::regnamespace), 'enum_marker',
          'the worker used the caller''s search_path');

-- 5. in a transactional file, using the new value fails (unsafe use)
CREATE SCHEMA enum_same;
SELECT throws_ok(
    format('SET search_path = enum_same; CALL migrate.apply(%L, track => %L)',
           current_setting('migrate_test.fixtures') || '/nontx_enum_same_file', 'enum_same'),
    '55P04', NULL,
    'adding an enum value and using it in one transactional file fails with unsafe use');
RESET search_path;

-- 6. an atomic call refuses a non-transactional migration
SELECT throws_ok(
    format('CALL migrate.apply(%L, track => %L)',
           current_setting('migrate_test.fixtures') || '/nontx_atomic', 'atomic'),
    '25001', 'migration "V1__vacuum.sql" cannot run inside a transaction block',
    'an atomic call refuses a file that must run outside a transaction');
SELECT is((SELECT count(*)::int FROM migrate.history WHERE track = 'atomic'), 0,
          'the refused migration left no history row');

-- 7. a non-transactional file is pending again after its atomic refusal
CALL migrate.apply(:'fx' || '/nontx_atomic', track => 'atomic');
SELECT is((SELECT state FROM migrate.status(current_setting('migrate_test.fixtures') || '/nontx_atomic', 'atomic')),
          'applied', 'called with CALL outside a transaction, the same file applies');

-- 8. the worker runs as the caller's role, even one that cannot log in
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'nontx_owner') THEN
        CREATE ROLE nontx_owner NOLOGIN;
    END IF;
END
$$;
GRANT CREATE ON SCHEMA public TO nontx_owner;
GRANT USAGE ON SCHEMA migrate TO nontx_owner;
GRANT SELECT, INSERT ON migrate.history TO nontx_owner;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA migrate TO nontx_owner;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO nontx_owner;
SET ROLE nontx_owner;
SET TimeZone = 'Pacific/Auckland';
CALL migrate.apply(:'fx' || '/nontx_role', track => 'role');
RESET TimeZone;
RESET ROLE;

SELECT is((SELECT tableowner::text FROM pg_tables WHERE tablename = 'role_owned'), 'nontx_owner',
          'objects the worker creates belong to the caller''s current role');
SELECT is((SELECT who || ' / ' || session_who FROM role_owned), 'nontx_owner / ' || session_user,
          'the worker has the caller''s current and session user');
SELECT is((SELECT tz FROM role_owned), 'Pacific/Auckland',
          'the worker has the caller''s TimeZone');

SELECT * FROM finish();
