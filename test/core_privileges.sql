-- Nothing is granted to PUBLIC, and only a superuser sets the allow-list.
BEGIN;
-- before the library is loaded the setting is a placeholder that anyone
-- can set; loading the library discards a value set without the right.
-- First thing: any DDL (even of a temporary object) fires the extension's
-- event trigger, which loads the library.
CREATE ROLE migrate_test_nobody LOGIN;
SET ROLE migrate_test_nobody;
SET migrate.allowed_dirs = '/';
RESET ROLE;
LOAD 'migrate';
SELECT current_setting('migrate.allowed_dirs') AS after_load \gset
\i test/include/files.psql
SELECT plan(12);

SELECT ok(NOT has_function_privilege('public', 'migrate.apply(text,text,boolean,boolean,text,text,text,jsonb)', 'EXECUTE'),
          'PUBLIC cannot execute apply');
SELECT ok(NOT has_function_privilege('public', 'migrate.status(text,text)', 'EXECUTE'),
          'PUBLIC cannot execute status');
SELECT is((SELECT count(*)::int FROM pg_proc p, aclexplode(p.proacl) a
           WHERE p.pronamespace = 'migrate'::regnamespace AND a.grantee = 0), 0,
          'no routine of the extension grants anything to PUBLIC');
SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'migrate'::regnamespace AND p.proacl IS NULL), 0,
          'every routine has an explicit ACL (no default PUBLIC EXECUTE)');
SELECT ok(NOT has_table_privilege('public', 'migrate.history', 'SELECT'), 'PUBLIC cannot read the history');
SELECT ok(NOT has_schema_privilege('public', 'migrate', 'USAGE'), 'PUBLIC cannot use the schema');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'migrate.apply(text,text,boolean,boolean,text,text,text,jsonb)'::regprocedure),
          false, 'apply is not SECURITY DEFINER (it must be able to commit)');

SET ROLE migrate_test_nobody;
SELECT throws_ok(format('CALL migrate.apply(%L)', pg_temp.fx()), '42501', NULL,
                 'a role without grants cannot call apply');
RESET ROLE;
SELECT isnt(:'after_load'::text, '/'::text,
            'a value set by a non-superuser before the library loaded is discarded');
SET ROLE migrate_test_nobody;
SELECT throws_ok($$SET migrate.allowed_dirs = '/'$$, '42501', NULL,
                 'a non-superuser cannot SET migrate.allowed_dirs');
SELECT throws_ok($$ALTER ROLE migrate_test_nobody SET migrate.allowed_dirs = '/'$$, '42501', NULL,
                 'nor set it on its own role');
RESET ROLE;
SELECT ok(current_setting('migrate.allowed_dirs') NOT IN ('/', ''), 'the allow-list is unchanged');

SELECT * FROM finish();
ROLLBACK;
