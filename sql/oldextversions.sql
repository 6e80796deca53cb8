-- Upgrades, as contrib's pg_stat_statements tests them (oldextversions):
-- create the oldest released version, use it with this release's library,
-- update step by step, and check at each step that the history is intact
-- and every call works.  A release that changes the interface adds its
-- update script, a step below (ALTER EXTENSION migrate UPDATE TO 'X.Y'),
-- and test/upgrade/calls_X.Y.sql with the calls it adds, which every later
-- step runs too.  (test/upgrade_dump.sh does the same through pg_dump.)
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/upgrade'
\set calls_1_0 :abs_srcdir '/test/upgrade/calls_1.0.sql'
\set calls_1_1 :abs_srcdir '/test/upgrade/calls_1.1.sql'
\set fingerprint :abs_srcdir '/test/upgrade/fingerprint.sql'
SET migrate.allowed_dirs = :'fx';
-- notices carry timings
SET client_min_messages = warning;

-- ---- 1.0: its objects, used by this release's library ---------------------
CREATE EXTENSION migrate VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'migrate';
-- its objects (as \dx+ lists them, without the row types of its tables,
-- which \dx+ shows from PostgreSQL 17 on)
SELECT pg_describe_object(classid, objid, 0) AS object
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrate')
  AND classid <> 'pg_type'::regclass
ORDER BY 1;
\set track 'at_1_0'
\i :calls_1_0
-- keep the history that 1.0 holds, to compare after the update
CREATE TEMP TABLE history_1_0 AS SELECT * FROM migrate.history;
SELECT count(*) AS history_rows FROM history_1_0;

-- ---- 1.0 -> 1.1 -------------------------------------------------------------
ALTER EXTENSION migrate UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'migrate';
-- every row of 1.0's history is still there, unchanged
SELECT count(*) AS rows_changed_or_lost FROM (
    SELECT rank, track, version, description, type, script, checksum, installed_by,
           installed_on, execution_ms, success, dirty, error, sqlstate, error_line, sql
    FROM history_1_0
    EXCEPT
    SELECT rank, track, version, description, type, script, checksum, installed_by,
           installed_on, execution_ms, success, dirty, error, sqlstate, error_line, sql
    FROM migrate.history) AS lost;
-- and the states it gives are the same
SELECT version, type, state FROM migrate.status(:'fx' || '/app', track => 'at_1_0');
\set track 'at_1_1'
\i :calls_1_0
\i :calls_1_1
-- the rank sequence went on from 1.0's rows
SELECT min(rank) > (SELECT max(rank) FROM history_1_0) AS ranks_continue
FROM migrate.history WHERE track LIKE 'at_1_1%';

-- ---- the updated objects are those of a fresh CREATE EXTENSION --------------
-- (test/upgrade/fingerprint.sql, not echoed: its query is long)
\set ECHO none
\set fp 'fp_updated'
\i :fingerprint
DROP EXTENSION migrate;
CREATE EXTENSION migrate;
\set fp 'fp_fresh'
\i :fingerprint
\set ECHO all
SELECT 'only after the update' AS "where", * FROM (TABLE fp_updated EXCEPT TABLE fp_fresh) AS a
UNION ALL
SELECT 'only when fresh', * FROM (TABLE fp_fresh EXCEPT TABLE fp_updated) AS b;
SELECT count(*) > 0 AS fingerprint_has_rows FROM fp_fresh;

DROP EXTENSION migrate;
