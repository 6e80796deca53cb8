-- The library against extension objects of another version than its own.
-- Older objects (1.0, before ALTER EXTENSION migrate UPDATE) are covered
-- call by call in sql/oldextversions.sql.  Objects newer than the library
-- (a later release's, on a server whose package is older: a downgrade, a
-- standby, a pg_upgrade target) stop every call that reads or writes the
-- history, with what to install; nothing is read or written through them.
BEGIN;
SELECT plan(7);
SELECT current_setting('migrate_test.fixtures') || '/upgrade/app' AS d \gset

-- 'SQLSTATE: message', detail and hint of the error sql raises, or NULL
CREATE FUNCTION pg_temp.failure_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hint text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN st || ': ' || msg || E'\n' || coalesce(det, '') || E'\n' || coalesce(hint, '');
END
$$;

-- what a later release's objects look like to this library: the version
-- pg_extension records (the transaction is rolled back at the end)
SELECT extversion AS ours FROM pg_catalog.pg_extension WHERE extname = 'migrate' \gset
UPDATE pg_catalog.pg_extension SET extversion = '9.3' WHERE extname = 'migrate';

SELECT is(pg_temp.failure_of(format('CALL migrate.apply(%L, target => %L)', :'d', '2')),
          format(E'55000: the migrate extension in this database is version 9.3, newer than its library (%s)\n'
                 'migrate.history is not used through objects of a release this library does not know.\n'
                 'Install migrate 9.3 or later on this server (its package, or make install), then start a new session.',
                 :'ours'),
          'apply refuses objects newer than the library, saying what to install');
SELECT alike(pg_temp.failure_of(format('SELECT * FROM migrate.status(%L)', :'d')),
            '55000: the migrate extension in this database is version 9.3, newer than its library%',
            'status refuses them too');
SELECT alike(pg_temp.failure_of(format('SELECT migrate.baseline(%L)', '1')),
            '55000: the migrate extension in this database is version 9.3%',
            'baseline refuses to write a history row');
SELECT is((SELECT count(*)::int FROM migrate.history), 0, 'nothing was written to the history');
SELECT ok(to_regclass('public.up_accounts') IS NULL, 'nothing was applied');

-- calls that never touch the extension's tables keep working
SELECT is((SELECT count(*)::int FROM migrate.statements('SELECT 1; SELECT 2')), 2,
          'statements still splits text');

-- back at the library's own version, everything works again
UPDATE pg_catalog.pg_extension SET extversion = :'ours' WHERE extname = 'migrate';
SELECT is(pg_temp.failure_of(format('CALL migrate.apply(%L, target => %L)', :'d', '2')), NULL, 'at its own version apply works');

SELECT * FROM finish();
ROLLBACK;
