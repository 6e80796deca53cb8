-- SET in a migration lasts until the end of that migration: the next
-- migration starts from the caller's settings, and the caller's session
-- is left as it was, whether apply commits per migration or runs all of
-- them in the caller's transaction.
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
SELECT plan(8);

SET statement_timeout = '77s';
SET work_mem = '3MB';
SELECT current_setting('search_path') AS caller_path \gset

-- one transaction per migration
CALL migrate.apply(:'fx' || '/set_scope');
SELECT has_table('scope_s', 'scope_t', 'the SET search_path applied within its migration');
SELECT results_eq('SELECT search_path, statement_timeout, work_mem FROM public.scope_seen',
                  format('VALUES (%L, ''77s'', ''3MB'')', :'caller_path'),
                  'the next migration saw the caller''s search_path, statement_timeout and work_mem');
SELECT is(current_setting('search_path'), :'caller_path', 'the caller''s search_path is unchanged');
SELECT is(current_setting('statement_timeout'), '77s', 'the caller''s statement_timeout is unchanged');
SELECT is(current_setting('work_mem'), '3MB', 'a set_config(..., false) did not leak either');

-- all migrations in the caller's transaction (atomic call)
TRUNCATE public.scope_seen;
BEGIN;
CALL migrate.apply(:'fx' || '/set_scope', track => 'atomic');
COMMIT;
SELECT results_eq('SELECT search_path, statement_timeout, work_mem FROM public.scope_seen',
                  format('VALUES (%L, ''77s'', ''3MB'')', :'caller_path'),
                  'in one transaction, too, the next migration starts from the caller''s settings');
SELECT is(current_setting('statement_timeout'), '77s', 'and the caller''s session is unchanged');
SELECT is(current_setting('search_path'), :'caller_path', 'search_path included');

SELECT * FROM finish();
