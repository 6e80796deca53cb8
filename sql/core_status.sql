-- What a DBA sees in psql: apply's errors and migrate.status.
CREATE EXTENSION migrate;
-- The fixtures come from this source tree (pg_regress exports its path), so
-- any cluster will do whose OS user can read them; a superuser sets the
-- allow-list for this session.
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures/core_regress'
SET migrate.allowed_dirs = :'fx';
\set app :fx '/app'
\set misnamed :fx '/misnamed'
-- timings vary from run to run: keep NOTICEs out of the expected output
SET client_min_messages = warning;

-- V2 violates its foreign key on its 8th line: V1 and V1.1 stay applied
CALL migrate.apply(:'app');
SELECT version, description, type, script, state, installed_on IS NOT NULL AS installed
FROM migrate.status(:'app');
SELECT rank, version, success, sqlstate, error, error_line, script
FROM migrate.history ORDER BY rank;

-- misnamed files stop everything
CALL migrate.apply(:'misnamed', track => 'other');

-- a target that is no version
CALL migrate.apply(:'app', target => 'v2.x');

-- the second track sees nothing of the first
SELECT version, description, type, script, state FROM migrate.status(:'app', track => 'other');

DROP EXTENSION migrate;
DROP TABLE public.customers;
