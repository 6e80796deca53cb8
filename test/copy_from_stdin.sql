-- COPY ... FROM stdin with its data in the file: errors in the data name
-- the line of the bad row, exactly, after rows spanning several lines too;
-- the rights COPY checks are checked; a COPY without its \. end marker ends
-- at the end of the file.
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\i test/include/files.psql
SELECT plan(15);


SELECT matches(pg_temp.apply_error(:'fx' || '/copy_bad_row'),
               '^22P02: invalid input syntax for type integer: "three".*COPY bad_row, line 3, column a: "three"\nmigration V1__bad_row\.sql, line 7\n',
               'a bad row names the line of the file it is on (and COPY''s own line within the data)');
SELECT hasnt_table('bad_row', 'the failed migration left nothing');

-- rows spanning lines: COPY numbers them its own way (a quoted CSV newline
-- counts only once the first row's end showed the line ending; a text
-- backslash-newline never): the line is the file's, where the row starts
SELECT pg_temp.write_file(pg_temp.fresh_dir('copy_ml_csv') || '/V1__csv.sql', E'CREATE TABLE ml_csv (a int, b text);\n'
    'COPY ml_csv FROM stdin WITH (FORMAT csv);\n1,"first\nvalue"\n2,"second\nvalue\nwith three lines"\n3,plain\n'
    'four,bad\n5,after\n\\.\n');
SELECT matches(pg_temp.apply_error(:'fx' || '/copy_ml_csv'),
               '^22P02: invalid input syntax for type integer: "four".*\nmigration V1__csv\.sql, line 9\n',
               'after CSV values spanning lines, a bad row names its own line of the file');
SELECT pg_temp.write_file(pg_temp.fresh_dir('copy_ml_text') || '/V1__text.sql', E'CREATE TABLE ml_text (a int, b text);\n'
    'COPY ml_text FROM stdin;\n1\tone\\\ncontinued\nx\ttwo\n\\.\n');
SELECT matches(pg_temp.apply_error(:'fx' || '/copy_ml_text'),
               '^22P02: invalid input syntax for type integer: "x".*\nmigration V1__text\.sql, line 5\n',
               'after a text row continued by a backslash-newline, the same');
SELECT pg_temp.write_file(pg_temp.fresh_dir('copy_ml_self') || '/V1__self.sql', E'CREATE TABLE ml_self (a int, b text);\n'
    'COPY ml_self FROM stdin (FORMAT csv);\n1,ok\nx,"bad\nrow"\n3,ok\n\\.\n');
SELECT matches(pg_temp.apply_error(:'fx' || '/copy_ml_self'),
               '^22P02: invalid input syntax for type integer: "x".*\nmigration V1__self\.sql, line 4\n',
               'a bad row spanning lines names the line it starts on');
-- COPY inserts rows in batches: a duplicate found then names a row it read before
SELECT pg_temp.write_file(pg_temp.fresh_dir('copy_ml_dup') || '/V1__dup.sql', E'CREATE TABLE ml_dup (a int PRIMARY KEY, b text);\n'
    'COPY ml_dup FROM stdin (FORMAT csv);\n1,"a\nb"\n2,"c\nd"\n1,dup\n4,"e\nf"\n5,ok\n\\.\n');
SELECT matches(pg_temp.apply_error(:'fx' || '/copy_ml_dup'),
               '^23505: duplicate key value violates unique constraint "ml_dup_pkey".*\nmigration V1__dup\.sql, line 7\n',
               'a duplicate found when a batch is inserted names the line of its row');

CALL migrate.apply(:'fx' || '/copy_no_marker');
SELECT results_eq('SELECT a, b FROM nm ORDER BY a', $$VALUES (1, 'x'), (2, '\.')$$,
                  'data without a \. line ends at the end of the file, last line without a newline included');

CALL migrate.apply(:'fx' || '/copy_crlf', track => 'crlf');
SELECT results_eq('SELECT a, b FROM crlf ORDER BY a', $$VALUES (1, 'x'), (2, NULL), (3, 'z')$$,
                  'CRLF lines: the data ends at its \. line and the values carry no CR');

SELECT matches(pg_temp.apply_error(:'fx' || '/copy_line_rest'),
               '^0A000: text after COPY \.\.\. FROM STDIN on the same line is not supported.*line 2',
               'SQL after COPY ... FROM STDIN; on the same line is refused, naming the line');

-- rights: what DoCopy checks is checked
CREATE TABLE public.secured (a int);
DROP ROLE IF EXISTS migrate_copy_role;
CREATE ROLE migrate_copy_role;
GRANT USAGE ON SCHEMA migrate TO migrate_copy_role;
GRANT EXECUTE ON PROCEDURE migrate.apply(text, text, boolean, boolean, text, text, text, jsonb) TO migrate_copy_role;
GRANT SELECT, INSERT ON migrate.history TO migrate_copy_role;
GRANT USAGE ON SEQUENCE migrate.history_rank_seq TO migrate_copy_role;

SET ROLE migrate_copy_role;
SELECT matches(pg_temp.apply_error(:'fx' || '/copy_rights'),
               '^42501: permission denied for table secured',
               'COPY needs INSERT on the table');
RESET ROLE;

GRANT INSERT (a) ON public.secured TO migrate_copy_role;
ALTER TABLE public.secured ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_two ON public.secured FOR INSERT WITH CHECK (a = 2);
SET ROLE migrate_copy_role;
SELECT matches(pg_temp.apply_error(:'fx' || '/copy_rights'),
               '^0A000: COPY FROM not supported with row-level security',
               'COPY FROM refuses a table whose row-level security applies to the role');
RESET ROLE;

ALTER TABLE public.secured DISABLE ROW LEVEL SECURITY;
SET ROLE migrate_copy_role;
SELECT is(pg_temp.apply_error(:'fx' || '/copy_rights'), NULL, 'with INSERT on the column and no policy it loads');
RESET ROLE;
SELECT results_eq('SELECT a FROM public.secured', ARRAY[1], 'the row is there');

-- a read-only transaction refuses COPY FROM as it refuses INSERT (apply
-- itself refuses to start in one, so the migration turns read-only first)
TRUNCATE migrate.history;
TRUNCATE public.secured;
SELECT matches(pg_temp.apply_error(:'fx' || '/copy_readonly'),
               '^25006: cannot execute COPY FROM in a read-only transaction',
               'COPY FROM is refused in a read-only transaction');
SELECT is((SELECT count(*)::int FROM public.secured), 0, 'and loads nothing');

REVOKE ALL ON public.secured FROM migrate_copy_role;
DROP POLICY only_two ON public.secured;
REVOKE ALL ON SCHEMA migrate FROM migrate_copy_role;
REVOKE ALL ON PROCEDURE migrate.apply(text, text, boolean, boolean, text, text, text, jsonb) FROM migrate_copy_role;
REVOKE ALL ON migrate.history FROM migrate_copy_role;
REVOKE ALL ON SEQUENCE migrate.history_rank_seq FROM migrate_copy_role;
DROP ROLE migrate_copy_role;

SELECT * FROM finish();
