-- A file's own BEGIN/START TRANSACTION at its start and COMMIT/END at its
-- end are absorbed into the migration's transaction; any other
-- transaction control makes the file run outside a transaction.
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\i test/include/files.psql
SELECT plan(14);


CALL migrate.apply(:'fx' || '/txn_wrapped');
SELECT has_table('w1', 'BEGIN; ... COMMIT; around a migration is absorbed');
SELECT has_table('w2', 'START TRANSACTION; ... END; around a migration is absorbed');
SELECT is(w_sign(-3) || w_sign(0) || w_sign(5), 'negzeropos',
          'a BEGIN ATOMIC function inside a wrapped file is created whole');
SELECT is((SELECT count(*)::int FROM migrate.history WHERE success), 3, 'all three are recorded');

-- any other transaction control makes the file run outside a transaction,
-- as psql runs it (test/nontx_blocks.sh has the blocks): a call of apply
-- that cannot commit refuses it, naming the statement
SELECT matches(pg_temp.apply_error(:'fx' || '/txn_rollback'),
               '^25001: migration "V1__rollback\.sql" cannot run inside a transaction block\n'
               'It must run outside a transaction, statement by statement: its own transaction '
               'control: "ROLLBACK" at line 2\.',
               'ROLLBACK in a file: apply in a transaction block refuses it, naming its line');
SELECT hasnt_table('r1', 'and the migration is rolled back');
SELECT matches(pg_temp.apply_error(:'fx' || '/txn_savepoint'),
               '^25001: .*\n.*"SAVEPOINT a" at line 3\.',
               'SAVEPOINT in a file: refused in a transaction block, naming its line');
SELECT matches(pg_temp.apply_error(:'fx' || '/txn_midcommit'),
               '^25001: .*\n.*"COMMIT" at line 2 is followed by more statements\.',
               'a COMMIT that is not the last statement: refused in a transaction block');
SELECT hasnt_table('m1', 'and nothing of that file stays');

-- with CALL outside a transaction block, they run as psql runs them
SET client_min_messages = error;
CALL migrate.apply(:'fx' || '/txn_rollback', track => 'rollback');
CALL migrate.apply(:'fx' || '/txn_savepoint', track => 'savepoint');
CALL migrate.apply(:'fx' || '/txn_midcommit', track => 'midcommit');
SET client_min_messages = warning;
SELECT has_table('r1', 'CREATE TABLE before a ROLLBACK with no block open committed (psql warns)');
SELECT has_table('s1', 'a block with a SAVEPOINT committed');
SELECT has_table('m1', 'the statement before a COMMIT in the middle committed');
SELECT has_table('m2', 'and the statement after it');
SELECT is((SELECT count(*)::int FROM migrate.history WHERE success AND NOT dirty
           AND track IN ('rollback', 'savepoint', 'midcommit')), 3,
          'each is one successful history row');

SELECT * FROM finish();
