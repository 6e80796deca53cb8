-- File names that are not valid in the server encoding (issue 11, item 8).
-- Such a name would be stored in migrate.history as invalid text, which
-- pg_dump writes and a restore then refuses, losing the whole history (the
-- next apply would run everything again).  It is refused before anything
-- runs, with an error naming the directory and the bytes.
SET client_min_messages = warning;
\i test/include/files.psql
SELECT pg_temp.fresh_dir('security_names') AS d \gset

SELECT plan(10);

SELECT pg_temp.write_file(:'d' || '/V1__ok.sql', E'CREATE TABLE public.names_ok ();\n');
-- "V2__café.sql" in Latin-1: the é is the single byte 0xe9
SELECT pg_temp.sh(format($c$cd %s && printf 'CREATE TABLE public.names_bad ();\n' >"$(printf 'V2__caf\351.sql')"$c$, :'d'));

SELECT is(split_part(pg_temp.apply_error(:'d'), E'\n', 1),
          format('22021: a file name in migration directory "%s" is not valid in encoding "UTF8"', :'d'),
          'a file name in another encoding is refused, naming the directory');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'d'), 'detail'),
          'The name is "V2__caf\xe9.sql" (bytes that are not printable ASCII shown as \xNN).',
          'the detail shows the name with its bytes escaped');
SELECT is((SELECT count(*)::int FROM migrate.history), 0, 'nothing is recorded');
SELECT hasnt_table('public', 'names_ok', 'and nothing ran, not even the valid file before it');
SELECT throws_ok(format('SELECT * FROM migrate.status(%L)', :'d'), '22021', NULL,
                 'status refuses the directory as well');

-- in a subdirectory: the directory named is that one
SELECT pg_temp.sh(format($c$cd %s && rm V2__caf* && mkdir "$(printf 'sub\351')" && printf 'SELECT 1;\n' >"$(printf 'sub\351')/V3__x.sql"$c$, :'d'));
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'d'), 'detail'),
          'The name is "sub\xe9" (bytes that are not printable ASCII shown as \xNN).',
          'a directory name in another encoding is refused too');

-- a hidden entry is never read, whatever its name
SELECT pg_temp.sh(format($c$cd %s && rm -r sub* && printf 'x' >"$(printf '.caf\351')"$c$, :'d'));
SELECT lives_ok(format('CALL migrate.apply(%L)', :'d'), 'a hidden file with such a name is skipped like any hidden file');
SELECT has_table('public', 'names_ok', 'and the valid files apply');

-- names the layout ignores are refused all the same: migrate shows them
SELECT pg_temp.sh(format($c$cd %s && printf 'x' >"$(printf 'notes-\377.txt')"$c$, :'d'));
SELECT throws_ok(format('SELECT * FROM migrate.status(%L)', :'d'), '22021', NULL,
                 'a file no layout reads is refused as well: every name listed is valid text');
SELECT is((SELECT count(*)::int FROM migrate.history WHERE script !~ '^[ -~]*$'), 0,
          'no name in the history is anything but printable ASCII here');

SELECT * FROM finish();
