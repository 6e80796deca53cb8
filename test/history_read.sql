-- Reading migrate.history: straight from the table (a heap scan, no SPI)
-- when the caller holds SELECT on the whole table and no row security
-- applies, else through the query, whose privileges and row security are
-- the reference.  Both paths must give the same plan; each is exercised
-- here, with the grants a migration role holds (README, "Privileges").
-- With two tracks in the table the direct read finds a track's rows
-- through the (track, version) index; a database with one track (every
-- other test) reads the whole table.
BEGIN;
\i test/include/files.psql
SELECT plan(11);

SELECT pg_temp.fresh_dir('history_read') AS d \gset
SELECT pg_temp.write_file(:'d' || '/V1__one.sql', 'CREATE TABLE hr_one (id int);');
SELECT pg_temp.write_file(:'d' || '/V2__two.sql', 'CREATE TABLE hr_two (id int);');
SELECT pg_temp.write_file(:'d' || '/V3__three.sql', 'CREATE TABLE hr_three (id int);');
SET client_min_messages = warning;
CALL migrate.apply(:'d', target => '2');
-- a second track: its rows are in the same table and must not be read
SELECT pg_temp.fresh_dir('history_read_other') AS d2 \gset
SELECT pg_temp.write_file(:'d2' || '/V1__one.sql', 'CREATE TABLE hr_o1 (id int);');
SELECT pg_temp.write_file(:'d2' || '/V2__two.sql', 'CREATE TABLE hr_o2 (id int);');
SELECT pg_temp.write_file(:'d2' || '/V3__three.sql', 'CREATE TABLE hr_o3 (id int);');
SELECT pg_temp.write_file(:'d2' || '/V4__four.sql', 'CREATE TABLE hr_o4 (id int);');
CALL migrate.apply(:'d2', track => 'other');

CREATE ROLE migrate_test_hr_reader;
GRANT USAGE ON SCHEMA migrate TO migrate_test_hr_reader;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO migrate_test_hr_reader;

CREATE FUNCTION pg_temp.states(dir text) RETURNS text LANGUAGE sql
AS $$ SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM migrate.status(dir) $$;

-- the superuser: the direct read
SELECT is(pg_temp.states(:'d'), '1:applied,2:applied,3:pending',
          'status of track main, read straight from the table');

-- SELECT on the whole table: the direct read, as the caller
GRANT SELECT ON migrate.history TO migrate_test_hr_reader;
SET ROLE migrate_test_hr_reader;
SELECT is(pg_temp.states(:'d'), '1:applied,2:applied,3:pending',
          'a role with SELECT on migrate.history reads the same');
SELECT is((SELECT string_agg(version || ':' || state, ',' ORDER BY version)
           FROM migrate.status(:'d2', 'other')), '1:applied,2:applied,3:applied,4:applied',
          'and each track its own rows');
RESET ROLE;

-- SELECT on the columns read, not on the table: the query reads them
REVOKE SELECT ON migrate.history FROM migrate_test_hr_reader;
GRANT SELECT (track, rank, version, description, type, script, checksum, installed_on,
              execution_ms, success, dirty, error, error_line, file_dev, file_ino,
              file_size, file_mtime_ns, file_ctime_ns)
    ON migrate.history TO migrate_test_hr_reader;
SET ROLE migrate_test_hr_reader;
SELECT is(pg_temp.states(:'d'), '1:applied,2:applied,3:pending',
          'a role with SELECT on the columns only reads the same, through the query');
RESET ROLE;

-- without the right to one column the query's own error is raised
REVOKE SELECT (file_ctime_ns) ON migrate.history FROM migrate_test_hr_reader;
SET ROLE migrate_test_hr_reader;
SELECT throws_ok(format('SELECT * FROM migrate.status(%L)', :'d'), '42501',
                 'permission denied for table history',
                 'without SELECT on a column read, the query''s permission error');
RESET ROLE;

-- no right at all: the same error
REVOKE SELECT ON migrate.history FROM migrate_test_hr_reader;
SET ROLE migrate_test_hr_reader;
SELECT throws_ok(format('SELECT * FROM migrate.status(%L)', :'d'), '42501',
                 'permission denied for table history',
                 'without SELECT on migrate.history, permission denied');
RESET ROLE;

-- row security applies to the role: the query, and its policy, decide
GRANT SELECT ON migrate.history TO migrate_test_hr_reader;
ALTER TABLE migrate.history ENABLE ROW LEVEL SECURITY;
CREATE POLICY hr_hide_two ON migrate.history FOR SELECT TO migrate_test_hr_reader
    USING (version IS DISTINCT FROM '2');
SET ROLE migrate_test_hr_reader;
SELECT is(pg_temp.states(:'d'), '1:applied,2:pending,3:pending',
          'under row security the policy hides a row from the role, as the query would');
RESET ROLE;
SELECT is(pg_temp.states(:'d'), '1:applied,2:applied,3:pending',
          'the owner, whom row security does not bind, still reads every row');
DROP POLICY hr_hide_two ON migrate.history;
ALTER TABLE migrate.history DISABLE ROW LEVEL SECURITY;

-- the caller's own uncommitted rows are read (a new command sees them)
SELECT is(pg_temp.states(:'d'), '1:applied,2:applied,3:pending', 'before the apply');
CALL migrate.apply(:'d');
SELECT is(pg_temp.states(:'d'), '1:applied,2:applied,3:applied',
          'an apply in the same transaction is seen by the next read');

-- a row the history holds but no file names is kept too (rank order)
SELECT pg_temp.sh(format('rm %s/V3__three.sql', :'d'));
SELECT is(pg_temp.states(:'d'), '1:applied,2:applied,3:missing',
          'a recorded migration whose file is gone is read and shown missing');

SELECT * FROM finish();
ROLLBACK;
