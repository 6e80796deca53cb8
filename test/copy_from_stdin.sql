-- COPY ... FROM stdin with its data in the file: errors in the data name
-- the line of the bad row; the rights COPY checks are checked; a COPY
-- without its \. end marker ends at the end of the file.
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\i test/include/files.psql
SELECT plan(11);


SELECT matches(pg_temp.apply_error(:'fx' || '/copy_bad_row'),
               '^22P02: invalid input syntax for type integer: "three".*COPY bad_row, line 3, column a: "three"\nmigration V1__bad_row\.sql, line 7\n',
               'a bad row names the line of the file it is on (and COPY''s own line within the data)');
SELECT hasnt_table('bad_row', 'the failed migration left nothing');

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
