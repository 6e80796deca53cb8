-- A file's own BEGIN/START TRANSACTION at its start and COMMIT/END at its
-- end are absorbed into the migration's transaction; any other
-- transaction control is an error naming its line.
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\i test/include/files.psql
SELECT plan(9);


CALL migrate.apply(:'fx' || '/txn_wrapped');
SELECT has_table('w1', 'BEGIN; ... COMMIT; around a migration is absorbed');
SELECT has_table('w2', 'START TRANSACTION; ... END; around a migration is absorbed');
SELECT is(w_sign(-3) || w_sign(0) || w_sign(5), 'negzeropos',
          'a BEGIN ATOMIC function inside a wrapped file is created whole');
SELECT is((SELECT count(*)::int FROM migrate.history WHERE success), 3, 'all three are recorded');

SELECT matches(pg_temp.apply_error(:'fx' || '/txn_rollback'),
               '^2D000: transaction control statement "ROLLBACK;" is not allowed in a migration.*migration V1__rollback\.sql, line 2',
               'ROLLBACK in a file is an error naming its line');
SELECT hasnt_table('r1', 'and the migration is rolled back');

SELECT matches(pg_temp.apply_error(:'fx' || '/txn_savepoint'),
               '^2D000: transaction control statement "SAVEPOINT a;".*line 3',
               'SAVEPOINT in a file is an error naming its line');

SELECT matches(pg_temp.apply_error(:'fx' || '/txn_midcommit'),
               '^2D000: statement after COMMIT at line 2.*line 3',
               'a COMMIT that is not the last statement is an error');
SELECT hasnt_table('m1', 'and nothing of that file stays');

SELECT * FROM finish();
