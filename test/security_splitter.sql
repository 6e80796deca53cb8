-- Security (issue 11, item 7): no input is ever recorded as applied with a
-- statement skipped.  psql (and the server) end a -- comment at a lone \r;
-- an unterminated /* at the end of a file is an error in psql; the rest
-- of a COPY ... FROM STDIN line after a comment ended by \r is SQL.
BEGIN;
\i test/include/files.psql
SELECT plan(11);

-- a comment ended by a lone carriage return (CRLF is read as LF; a lone CR is kept)
SELECT pg_temp.fresh_dir('sec_split_cr') AS cr \gset
SELECT pg_temp.write_bytes(:'cr' || '/V1__cr.sql',
                           convert_to(E'-- create the table\rCREATE TABLE sec_cr (id int);\n', 'UTF8'));
SELECT is(pg_temp.apply_error(:'cr'), NULL, 'a file whose statement follows a comment ended by \r applies');
SELECT has_table('sec_cr', 'the statement after the comment ran');
SELECT results_eq(
    $$SELECT statement FROM migrate.statements(E'-- one\rSELECT 1;\n-- two\r\rSELECT 2')$$,
    ARRAY['SELECT 1;', 'SELECT 2'],
    'migrate.statements: a -- comment ends at a lone \r');

-- an unterminated block comment hides nothing: it is an error
SELECT throws_ok($$SELECT * FROM migrate.statements(E'SELECT 1;\n/* not closed;\nDROP TABLE x;')$$,
                 '42601', 'unterminated /* comment at line 2',
                 'migrate.statements refuses an unterminated /* comment');
SELECT throws_ok($$SELECT * FROM migrate.statements(E'/* a /* nested */ comment\nSELECT 1;')$$,
                 '42601', 'unterminated /* comment at line 1',
                 'a nested comment closed only once is unterminated');
SELECT pg_temp.fresh_dir('sec_split_open') AS op \gset
SELECT pg_temp.write_file(:'op' || '/V1__open.sql',
                          E'CREATE TABLE sec_open_a (id int);\n/* commented out until ready;\nCREATE TABLE sec_open_b (id int);\n');
SELECT matches(pg_temp.apply_error(:'op'), '^42601: unterminated /\* comment at line 2',
               'apply refuses a migration with an unterminated comment');
SELECT is((SELECT count(*)::int FROM migrate.history WHERE track = :'op' AND success), 0,
          'the migration is not recorded as applied');
SELECT hasnt_table('sec_open_a', 'and its first statement was rolled back');

-- after COPY ... FROM STDIN; a -- comment ended by \r leaves SQL on the line:
-- refused, as any SQL there is (psql would run it after the data)
SELECT pg_temp.fresh_dir('sec_split_copy') AS cp \gset
SELECT pg_temp.write_bytes(:'cp' || '/V1__copy.sql',
                           convert_to(E'CREATE TABLE sec_copy (id int);\nCOPY sec_copy FROM stdin; -- data\rDROP TABLE sec_copy;\n1\n\\.\n', 'UTF8'));
SELECT matches(pg_temp.apply_error(:'cp'), '^0A000: text after COPY \.\.\. FROM STDIN on the same line',
               'SQL after a comment ended by \r on the COPY line is refused, not skipped');

-- the splitter's self-check is not part of the extension any more
SELECT is(to_regprocedure('migrate._split_check(text, integer)'), NULL,
          'migrate._split_check does not exist');
CREATE FUNCTION pg_temp.split_check(sql text, chunk integer DEFAULT 65536) RETURNS text
LANGUAGE c STABLE AS '$libdir/migrate', 'migrate_split_check';
CREATE ROLE sec_split_nobody;
SET ROLE sec_split_nobody;
SELECT throws_ok($$SELECT pg_temp.split_check('SELECT 1')$$, '42501', NULL,
                 'the C function behind it refuses a non-superuser');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
