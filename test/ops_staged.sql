-- Staged bundles: scripts handed over as SQL text behave exactly like a
-- directory of the same file names (SPEC section 9).
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') || '/ops_staged' AS dir \gset
SELECT plan(29);

-- the files of test/fixtures/ops_staged, staged; V1 with CRLF line endings
SELECT is(migrate.stage('app', 'V1__init.sql',
                        E'CREATE TABLE staged_t (id int);\r\nINSERT INTO staged_t VALUES (1);\r\n'),
          (SELECT checksum FROM migrate.status(:'dir', track => 'dir') WHERE version = '1'),
          'stage returns the checksum the same file on disk has (line endings do not count)');
SELECT lives_ok($$SELECT migrate.stage('app', 'sub/V2__more.sql',
                    E'\\ir ../lib/seed.inc\nINSERT INTO staged_t VALUES (2);\n')$$,
                'a file in a subdirectory is staged');
SELECT lives_ok($$SELECT migrate.stage('app', 'lib/seed.inc', E'INSERT INTO staged_t VALUES (42);\n')$$,
                'a file that is not a migration is staged');
SELECT lives_ok($$SELECT migrate.stage('app', '.keep', '')$$, 'a hidden file is staged');

SELECT results_eq(
    $$SELECT version, description, type, script, checksum, state
        FROM migrate.status('app', track => 'bundle')$$,
    format($$SELECT version, description, type, script, checksum, state
               FROM migrate.status(%L, track => 'bundle')$$, :'dir'),
    'status of a bundle is the status of the directory of the same files');

CALL migrate.apply('app', track => 'bundle');

SELECT results_eq('SELECT id FROM staged_t ORDER BY id', ARRAY[1, 2, 42],
                  'the bundle is applied, including the file its script includes with \ir');
SELECT results_eq($$SELECT state FROM migrate.status('app', track => 'bundle')$$,
                  ARRAY['applied', 'applied'], 'both migrations are applied');
SELECT is((SELECT sql FROM migrate.history WHERE script = 'sub/V2__more.sql'),
          E'\\ir ../lib/seed.inc\nINSERT INTO staged_t VALUES (2);\n',
          'the staged text is readable in the history');
SELECT is((SELECT sql FROM migrate.history WHERE script = 'V1__init.sql'),
          E'CREATE TABLE staged_t (id int);\nINSERT INTO staged_t VALUES (1);\n',
          'the history keeps the normalized text that ran');
SELECT is((SELECT checksum FROM migrate.history WHERE script = 'V1__init.sql'),
          (SELECT checksum FROM migrate.staged WHERE bundle = 'app' AND filename = 'V1__init.sql'),
          'the recorded checksum is the staged checksum');

-- re-staging the same text with other line endings changes nothing
SELECT migrate.stage('app', 'V1__init.sql',
                     E'CREATE TABLE staged_t (id int);\nINSERT INTO staged_t VALUES (1);\n') \g /dev/null
SELECT is((SELECT state FROM migrate.status('app', track => 'bundle') WHERE version = '1'),
          'applied', 'the same script staged again with LF endings is still applied');

-- a changed script of an applied migration is caught like a changed file
SELECT migrate.stage('app', 'V1__init.sql',
                     E'CREATE TABLE staged_t (id int, x int);\nINSERT INTO staged_t VALUES (1);\n') \g /dev/null
SELECT is((SELECT state FROM migrate.status('app', track => 'bundle') WHERE version = '1'),
          'changed', 'a changed re-staged script is changed in status');
SELECT throws_ok($$CALL migrate.apply('app', track => 'bundle')$$, '55000',
                 'migration file "V1__init.sql" has changed since it was applied',
                 'apply refuses a bundle whose applied script was re-staged changed');
SELECT migrate.stage('app', 'V1__init.sql',
                     E'CREATE TABLE staged_t (id int);\nINSERT INTO staged_t VALUES (1);\n') \g /dev/null

-- what a staged script may not reach
SELECT migrate.stage('app', 'V3__escape.sql', E'\\ir ../../other/x.inc\n') \g /dev/null
SELECT throws_like($$CALL migrate.apply('app', track => 'bundle')$$,
                   '%lies outside its bundle%', 'an include cannot leave its bundle');
SELECT migrate.stage('app', 'V3__escape.sql', E'\\i /etc/passwd\n') \g /dev/null
SELECT throws_ok($$CALL migrate.apply('app', track => 'bundle')$$, '42501',
                 'migration file "/etc/passwd" is not in an allowed directory',
                 'an absolute include outside the allowed directories is refused');
SELECT migrate.stage('app', 'V3__escape.sql', E'\\i missing.inc\n') \g /dev/null
SELECT throws_ok($$CALL migrate.apply('app', track => 'bundle')$$, '58P01',
                 'staged file "missing.inc" does not exist in bundle "app"',
                 'an include of a file that is not staged names it');
SELECT is(migrate.unstage('app', 'V3__escape.sql'), 1, 'unstage removes one file');

-- layout rules are those of a directory
SELECT migrate.stage('app', 'v4-oops.sql', 'SELECT 1;') \g /dev/null
SELECT throws_like($$CALL migrate.apply('app', track => 'bundle')$$,
                   'migration file "v4-oops.sql" is misnamed%', 'a misnamed staged script is an error');
SELECT migrate.unstage('app', 'v4-oops.sql') \g /dev/null

-- names
SELECT throws_ok($$CALL migrate.apply('nope')$$, '42704', 'staged bundle "nope" does not exist',
                 'a name without / that is no bundle is an error');
SELECT throws_ok($$SELECT migrate.stage('a/b', 'V1__x.sql', '')$$, '22023',
                 'invalid staged bundle name "a/b"', 'a bundle name has no /');
SELECT throws_ok($$SELECT migrate.stage('app', '../V1__x.sql', '')$$, '22023',
                 'invalid staged file name "../V1__x.sql"', 'a file name has no ..');
SELECT throws_ok($$SELECT migrate.stage('app', '/etc/V1__x.sql', '')$$, '22023',
                 'invalid staged file name "/etc/V1__x.sql"', 'a file name is relative');
SELECT throws_ok($$SELECT migrate.stage('app', 'a//V1__x.sql', '')$$, '22023',
                 'invalid staged file name "a//V1__x.sql"', 'a file name has no empty component');
SELECT throws_ok($$SELECT migrate.stage('app', 'V1__x.sql', NULL)$$, '22004',
                 'sql must not be null', 'the text must not be null');

-- the table
SELECT ok((SELECT 'migrate.staged'::regclass = ANY (extconfig) FROM pg_extension
            WHERE extname = 'migrate'), 'pg_dump carries migrate.staged');
SELECT is((SELECT staged_by FROM migrate.staged WHERE filename = 'V1__init.sql'), current_user::text,
          'staged_by records who staged');
SELECT is(migrate.unstage('app'), 4, 'unstage without a file name removes the bundle');
SELECT is((SELECT count(*)::int FROM migrate.staged), 0, 'nothing is left staged');
SELECT throws_ok($$SELECT * FROM migrate.status('app', track => 'bundle')$$, '42704',
                 'staged bundle "app" does not exist', 'status of a removed bundle is an error');

SELECT * FROM finish();
