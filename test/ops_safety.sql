-- Production safety (SPEC section 8): settings a migration runs with,
-- statement_timeout per run, read-only refusal, protected databases.
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') || '/ops_safety' AS dir \gset
SELECT plan(21);

SET migrate.lock_timeout = '1234ms';
SET lock_timeout = '3s';
SET statement_timeout = '7min';

SELECT throws_ok(format($$CALL migrate.apply(%L, statement_timeout => 'soon')$$, :'dir'),
                 '22023', 'invalid value for parameter "statement_timeout": "soon"',
                 'an invalid statement_timeout is refused before anything runs');

CALL migrate.apply(:'dir', target => '2', statement_timeout => '1min');

SELECT results_eq('SELECT lock_timeout, statement_timeout FROM safety_seen',
                  $$VALUES ('1234ms', '1min')$$,
                  'a migration runs with migrate.lock_timeout and the run''s statement_timeout');
SELECT is(current_setting('lock_timeout'), '3s', 'lock_timeout is restored after the run');
SELECT is(current_setting('statement_timeout'), '7min', 'statement_timeout is restored after the run');
SELECT is(current_setting('search_path'), '"$user", public',
          'a SET in a migration does not leak into the session');

-- statement_timeout limits each statement, not the whole migration
-- (throws_ok cannot catch a cancel: WHEN OTHERS leaves query_canceled out)
CREATE FUNCTION pg_temp.error_of(call text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE call;
    RETURN NULL;
EXCEPTION WHEN query_canceled OR OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
SELECT is(pg_temp.error_of(format($$CALL migrate.apply(%L, statement_timeout => '100ms')$$, :'dir')),
          '57014 canceling statement due to statement timeout',
          'a statement longer than the run''s statement_timeout is cancelled');
SELECT is(current_setting('statement_timeout'), '7min', 'statement_timeout is restored after a failure');
-- (each statement stays 1.5 s below the timeout, so that a loaded machine
-- that stalls the session cannot make one exceed it; both together exceed it)
CALL migrate.apply(:'dir', statement_timeout => '3500ms');
SELECT is((SELECT state FROM migrate.status(:'dir') WHERE version = '3'), 'applied',
          'two statements of 2 s each pass a statement_timeout of 3.5 s');

-- read-only: every changing call fails at once, status still works
SET default_transaction_read_only = on;
SELECT throws_ok(format($$CALL migrate.apply(%L)$$, :'dir'), '25006',
                 'migrate.apply cannot run in a read-only transaction',
                 'apply refuses under default_transaction_read_only');
SELECT throws_ok($$SELECT migrate.stage('b', 'V1__x.sql', '')$$, '25006',
                 'migrate.stage cannot run in a read-only transaction', 'stage refuses too');
SELECT is((SELECT count(*)::int FROM migrate.status(:'dir')), 3, 'status works read-only');
SELECT lives_ok(format($$CALL migrate.apply(%L, dry_run => true)$$, :'dir'),
                'a dry run works read-only');
RESET default_transaction_read_only;
BEGIN TRANSACTION READ ONLY;
SELECT throws_ok(format($$CALL migrate.apply(%L)$$, :'dir'), '25006',
                 'migrate.apply cannot run in a read-only transaction',
                 'apply refuses in a READ ONLY transaction');
COMMIT;

-- protected database: changing calls need confirm => '<database>'
CREATE FUNCTION pg_temp.hint_of(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    EXECUTE call;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END $$;

SET migrate.protected = on;
SELECT throws_ok(format($$CALL migrate.apply(%L)$$, :'dir'), '55000',
                 format('database "%s" is protected', current_database()),
                 'a protected database refuses apply without confirm');
SELECT is(pg_temp.hint_of(format($$CALL migrate.apply(%L, track => 'x')$$, :'dir')),
          format('If you mean to change database "%s", run: CALL migrate.apply(%L, track => %L, confirm => %L)',
                 current_database(), :'dir', 'x', current_database()),
          'the hint spells out the call with confirm');
SELECT throws_ok(format($$CALL migrate.apply(%L, confirm => 'prod')$$, :'dir'), '55000',
                 format('database "%s" is protected', current_database()),
                 'a confirm naming another database is refused');
SELECT lives_ok(format($$CALL migrate.apply(%L, dry_run => true)$$, :'dir'),
                'a dry run needs no confirm');
SELECT lives_ok(format($$SELECT * FROM migrate.status(%L)$$, :'dir'), 'status needs no confirm');
SELECT lives_ok(format($$CALL migrate.apply(%L, confirm => %L)$$, :'dir', current_database()),
                'apply with confirm naming the database runs');
RESET migrate.protected;

DROP ROLE IF EXISTS ops_safety_role;
CREATE ROLE ops_safety_role;
SELECT ok(NOT has_parameter_privilege('ops_safety_role', 'migrate.protected', 'SET'),
          'migrate.protected is a superuser setting');
SELECT ok(NOT has_parameter_privilege('ops_safety_role', 'migrate.allowed_dirs', 'SET'),
          'so is migrate.allowed_dirs');
DROP ROLE ops_safety_role;

SELECT * FROM finish();
