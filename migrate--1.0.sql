/* migrate--1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION migrate" to load this file. \quit

-- Everything that happened, one row per execution of a script.  The state
-- of a migration is derived from its rows (see src/plan.c).
CREATE TABLE migrate.history (
    rank          bigserial PRIMARY KEY,
    track         text NOT NULL DEFAULT 'main',
    version       text,
    description   text NOT NULL DEFAULT '',
    type          text NOT NULL
                  CHECK (type IN ('versioned', 'undo', 'repeatable', 'baseline')),
    script        text,
    checksum      text,
    installed_by  text NOT NULL DEFAULT current_user,
    installed_on  timestamptz NOT NULL DEFAULT clock_timestamp(),
    execution_ms  bigint,
    success       boolean NOT NULL,
    dirty         boolean NOT NULL DEFAULT false,
    error         text,
    sqlstate      text,
    error_line    integer,
    sql           text
);
CREATE INDEX history_track_version_idx ON migrate.history (track, version);

COMMENT ON TABLE migrate.history IS 'every execution of a migration script, successful or not';
COMMENT ON COLUMN migrate.history.sql IS 'the text that ran, when not larger than migrate.history_sql_limit';

-- pg_dump carries the history, so a restored database knows its migrations
SELECT pg_catalog.pg_extension_config_dump('migrate.history', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.history_rank_seq', '');

-- Apply the pending migrations of dir.  A procedure: it commits after
-- each migration when called outside a transaction block.  It must not be
-- SECURITY DEFINER or have a SET clause (either would make it atomic).
CREATE PROCEDURE migrate.apply(
    dir text,
    target text DEFAULT NULL,
    out_of_order boolean DEFAULT false,
    dry_run boolean DEFAULT false,
    track text DEFAULT 'main')
LANGUAGE c
AS 'MODULE_PATHNAME', 'migrate_apply';

COMMENT ON PROCEDURE migrate.apply(text, text, boolean, boolean, text)
    IS 'apply the pending migrations of a directory, each in its own transaction';

CREATE FUNCTION migrate.status(
    dir text,
    track text DEFAULT 'main',
    OUT version text,
    OUT description text,
    OUT type text,
    OUT script text,
    OUT checksum text,
    OUT state text,
    OUT installed_on timestamptz,
    OUT execution_ms bigint)
RETURNS SETOF record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_status';

COMMENT ON FUNCTION migrate.status(text, text)
    IS 'the state of every migration known from the files or the history';

-- Directory layouts and adopt (src/layout*.c, src/scripts.c, src/adopt.c)

-- Every script migrate reads in a directory, and the layout it was read as.
CREATE FUNCTION migrate.scripts(
    dir text,
    OUT layout text,
    OUT version text,
    OUT description text,
    OUT type text,
    OUT script text,
    OUT checksum text)
RETURNS SETOF record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_scripts';

COMMENT ON FUNCTION migrate.scripts(text)
    IS 'every script of a directory as migrate reads it: layout, kind, version, checksum';

-- Import the history another tool kept, so that the next apply re-runs
-- nothing; the old table is only read.
CREATE FUNCTION migrate.adopt(
    tool text,
    track text DEFAULT 'main',
    dir text DEFAULT NULL,
    history_table text DEFAULT NULL)
RETURNS integer
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_adopt';

COMMENT ON FUNCTION migrate.adopt(text, text, text, text)
    IS 'record the migrations another tool applied (flyway, node-pg-migrate, golang-migrate, dbmate, drizzle, sqitch)';

-- Nothing is granted to PUBLIC: a DBA grants EXECUTE and rights on the
-- history to the roles that may run migrations (see README).
REVOKE ALL ON ALL TABLES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL ROUTINES IN SCHEMA migrate FROM PUBLIC;
