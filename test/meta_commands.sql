-- psql meta-commands in a migration: \i and \ir include a file from an
-- allowed directory, \restrict/\unrestrict are honoured, anything else is
-- an error naming the line and the command.
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\i test/include/files.psql
SELECT plan(9);


CALL migrate.apply(:'fx' || '/meta_include');
SELECT results_eq('SELECT step FROM inc_log ORDER BY n',
                  ARRAY['a', 'c', 'b', 'main'],
                  '\i (from the migration directory) and \ir (from the including file) run the files in place');
SELECT is((SELECT sql FROM migrate.history WHERE version = '1'),
          pg_read_file(:'fx' || '/meta_include/V1__include.sql'),
          'the history keeps the migration''s own text');

SELECT matches(pg_temp.apply_error(:'fx' || '/meta_outside'),
               '^42501: .*/etc/hostname.*migration V1__outside\.sql, line 3',
               '\i of a file outside the allowed directories is refused, naming the line');
SELECT hasnt_table('outside_t', 'nothing of the refused migration is left');

-- as in psql, \ir may climb with "..", but only within the allowed tree
CALL migrate.apply(:'fx' || '/meta_parent/app', track => 'parent');
SELECT results_eq('SELECT a FROM public.parent_t', ARRAY[42], '\ir ../shared/x.sql runs a file beside the directory');
SELECT matches(pg_temp.apply_error(:'fx' || '/meta_parent_escape'),
               '^42501: .*migration V1__escape\.sql, line 2',
               '\ir climbing out of the allowed directories is refused, naming the line');

SELECT matches(pg_temp.apply_error(:'fx' || '/meta_unknown'),
               '^42601: psql meta-command "\\set" is not supported in a migration.*migration V1__unknown\.sql, line 3',
               'another meta-command is an error naming the command and its line');

SELECT matches(pg_temp.apply_error(:'fx' || '/meta_restrict'),
               '^42601: psql meta-command "\\ir" is not allowed after \\restrict.*line 3',
               'no meta-command runs between \restrict and \unrestrict, as in psql');

SELECT is((SELECT count(*)::int FROM migrate.statements(pg_read_file(:'fx' || '/meta_include/V1__include.sql'))
           WHERE statement LIKE '\\%'), 2,
          'migrate.statements lists meta-commands as statements');

SELECT * FROM finish();
