-- Files are read in the server encoding: an invalid byte is an error
-- naming the file and the line; a UTF-8 byte order mark is skipped.
SET client_min_messages = warning;
SELECT current_setting('migrate_test.fixtures') AS fx \gset
\i test/include/files.psql
SELECT plan(4);


-- the SQLSTATE, the message and the detail (the context names the CALL)
SELECT is(split_part(pg_temp.apply_error(:'fx' || '/encoding_bad'), E'\n', 1) || E'\n' ||
          split_part(pg_temp.apply_error(:'fx' || '/encoding_bad'), E'\n', 2),
          E'22021: invalid byte sequence for encoding "UTF8": 0xe9\nIn migration file "V1__latin1.sql", line 3.',
          'an invalid UTF-8 byte is an error naming the file and its line');
SELECT hasnt_table('enc_t', 'a file with an invalid byte runs no statement');

CALL migrate.apply(:'fx' || '/encoding_bom');
SELECT has_table('bom_t', 'a file starting with a byte order mark applies (the BOM is not part of the first statement)');
SELECT is((SELECT a FROM bom_t), 1, 'and its CRLF lines run as LF lines');

SELECT * FROM finish();
