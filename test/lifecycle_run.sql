-- migrate.run: one file from an allowed directory, untracked, in its own
-- transaction; errors name the file and line; SET does not leak; a file
-- that needs top level runs in the background worker, as apply runs it.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\set seed :fx/lifecycle_run/seed_dev.sql
\set broken :fx/lifecycle_run/broken_seed.sql
\set cic :fx/lifecycle_run/index_concurrently.sql

SELECT plan(17);

CREATE FUNCTION pg_temp.error_of(sql text, OUT msg text, OUT context text, OUT state text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, context = PG_EXCEPTION_CONTEXT, state = RETURNED_SQLSTATE;
END $$;

CREATE TABLE public.lrun_people (id serial PRIMARY KEY, name text NOT NULL);
SET search_path = public, pg_catalog;

CALL migrate.run(:'seed');
SELECT is((SELECT count(*) FROM public.lrun_people), 2::bigint, 'run executed the file');
SELECT is((SELECT count(*) FROM migrate.history), 0::bigint, 'and recorded nothing');
SELECT is(current_setting('search_path'), 'public, pg_catalog', 'the file''s SET search_path did not leak');

CALL migrate.run(:'seed');
SELECT is((SELECT count(*) FROM public.lrun_people), 4::bigint, 'untracked: it runs again each time');

-- a failure rolls the file back whole, and names the file and line
\set ON_ERROR_STOP 0
CALL migrate.run(:'broken');
\set ON_ERROR_STOP 1
SELECT is((SELECT count(*) FROM public.lrun_people WHERE name = 'before the error'), 0::bigint,
    'the failed file''s own transaction was rolled back (its first statement too)');
SELECT is((pg_temp.error_of(format('CALL migrate.run(%L)', :'broken'))).state, '23502', 'the file''s error');
SELECT alike((pg_temp.error_of(format('CALL migrate.run(%L)', :'broken'))).context,
    '%file ' || :'broken' || ', line 3%', 'context names the file and the line');

-- in a transaction block it is part of the caller's transaction
BEGIN;
CALL migrate.run(:'seed');
ROLLBACK;
SELECT is((SELECT count(*) FROM public.lrun_people), 4::bigint, 'in a rolled back block it left nothing');

-- a statement that needs top level: the file runs outside a transaction, in the worker
CALL migrate.run(:'cic');
SELECT is((SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.lrun_people_name'::regclass), true,
    'CREATE INDEX CONCURRENTLY ran, at top level');
SELECT is((SELECT count(*) FROM public.lrun_people WHERE name = 'indexed'), 1::bigint,
    'the statement before it ran once (what ran in the transaction was rolled back)');
SELECT is((SELECT count(*) FROM migrate.history), 0::bigint, 'still nothing recorded');
DROP INDEX public.lrun_people_name;
-- in a transaction block it cannot, and says why
SELECT is((pg_temp.error_of(format('CALL migrate.run(%L)', :'cic'))).msg,
    format('file "%s" cannot run inside a transaction block', :'cic'), 'in an atomic call it is refused');
SELECT is((SELECT count(*) FROM public.lrun_people WHERE name = 'indexed'), 1::bigint,
    'and runs nothing');

-- only allowed directories; only existing regular files
SELECT is((pg_temp.error_of($$CALL migrate.run('/etc/passwd')$$)).state, '42501',
    'a file outside migrate.allowed_dirs is refused');
SELECT is((pg_temp.error_of(format('CALL migrate.run(%L)', :'fx' || '/lifecycle_run/../../outside/x.sql'))).state,
    '42501', 'a path escaping with .. is refused');
SELECT isnt((pg_temp.error_of(format('CALL migrate.run(%L)', :'fx' || '/lifecycle_run/no_such.sql'))).state,
    NULL, 'a missing file is an error');
SELECT is((pg_temp.error_of($$CALL migrate.run(NULL)$$)).msg, 'file must not be null', 'NULL file');

SELECT * FROM finish();
