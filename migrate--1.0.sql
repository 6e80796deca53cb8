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
-- statement_timeout applies to each statement of the run's migrations;
-- confirm must name the database when migrate.protected is on.
CREATE PROCEDURE migrate.apply(
    dir text,
    target text DEFAULT NULL,
    out_of_order boolean DEFAULT false,
    dry_run boolean DEFAULT false,
    track text DEFAULT 'main',
    statement_timeout text DEFAULT NULL,
    confirm text DEFAULT NULL)
LANGUAGE c
AS 'MODULE_PATHNAME', 'migrate_apply';

COMMENT ON PROCEDURE migrate.apply(text, text, boolean, boolean, text, text, text)
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

-- ---------------------------------------------------------------------
-- The lifecycle: undo, validate, repair, baseline, run (src/lifecycle.c)
-- ---------------------------------------------------------------------

-- Undo applied migrations with their undo scripts: the newest one; with
-- target every one above target, newest first ('0': all); with version
-- exactly that one.  A procedure like apply (it commits after each undo
-- when called outside a transaction block), so neither SECURITY DEFINER
-- nor a SET clause.
CREATE PROCEDURE migrate.undo(
    dir text,
    target text DEFAULT NULL,
    version text DEFAULT NULL,
    track text DEFAULT 'main',
    confirm text DEFAULT NULL)
LANGUAGE c
AS 'MODULE_PATHNAME', 'migrate_undo';

COMMENT ON PROCEDURE migrate.undo(text, text, text, text, text)
    IS 'undo applied migrations with their undo scripts, newest first';

CREATE FUNCTION migrate.validate(dir text, track text DEFAULT 'main')
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_validate';

COMMENT ON FUNCTION migrate.validate(text, text)
    IS 'one error listing every changed, missing, failed, dirty, misnamed, duplicate or out-of-order migration';

CREATE FUNCTION migrate.repair(dir text, track text DEFAULT 'main', confirm text DEFAULT NULL)
RETURNS SETOF text
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_repair';

COMMENT ON FUNCTION migrate.repair(text, text, text)
    IS 'remove failed runs, clear dirty, re-record changed checksums; one line per action';

CREATE FUNCTION migrate.baseline(
    version text,
    description text DEFAULT '<< baseline >>',
    track text DEFAULT 'main',
    confirm text DEFAULT NULL)
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_baseline';

COMMENT ON FUNCTION migrate.baseline(text, text, text, text)
    IS 'record an existing database as being at a version';

-- Run one file from an allowed directory, untracked.  A procedure: it
-- commits when called outside a transaction block.
CREATE PROCEDURE migrate.run(file text, confirm text DEFAULT NULL)
LANGUAGE c
AS 'MODULE_PATHNAME', 'migrate_run';

COMMENT ON PROCEDURE migrate.run(text, text)
    IS 'run one untracked file from an allowed directory, in its own transaction';
-- Staged scripts (hosts without a file system): migration files kept as
-- SQL text.  CALL migrate.apply('bundle') reads a bundle (a name without
-- '/') exactly as a directory of the same file names.
CREATE TABLE migrate.staged (
    bundle     text NOT NULL CHECK (bundle <> '' AND strpos(bundle, '/') = 0),
    filename   text NOT NULL CHECK (filename <> '' AND left(filename, 1) <> '/'),
    sql        text NOT NULL,
    checksum   text NOT NULL,
    staged_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    staged_by  text NOT NULL DEFAULT current_user,
    PRIMARY KEY (bundle, filename)
);

COMMENT ON TABLE migrate.staged IS 'migration files handed over as SQL text, by bundle';
COMMENT ON COLUMN migrate.staged.checksum IS 'the checksum apply records for this file';

SELECT pg_catalog.pg_extension_config_dump('migrate.staged', '');

-- Store or replace one file of a bundle; returns its checksum.
CREATE FUNCTION migrate.stage(bundle text, filename text, sql text)
RETURNS text
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_stage';

COMMENT ON FUNCTION migrate.stage(text, text, text)
    IS 'store a migration file as SQL text in a staged bundle';

-- Remove one file of a bundle, or the whole bundle; returns how many.
CREATE FUNCTION migrate.unstage(bundle text, filename text DEFAULT NULL)
RETURNS integer
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_unstage';

COMMENT ON FUNCTION migrate.unstage(text, text)
    IS 'remove a file, or every file, of a staged bundle';
-- Splitting (src/statements.c): the statements a script would run.
CREATE FUNCTION migrate.statements(sql text, OUT line integer, OUT statement text)
RETURNS SETOF record
LANGUAGE c STABLE STRICT
AS 'MODULE_PATHNAME', 'migrate_statements';

COMMENT ON FUNCTION migrate.statements(text)
    IS 'the statements (and psql meta-commands) a migration script would run, with the line each starts on';

-- Internal, for the tests: compares the splitter with the server's parser.
CREATE FUNCTION migrate._split_check(sql text, chunk integer DEFAULT 65536)
RETURNS text
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'migrate_split_check';

COMMENT ON FUNCTION migrate._split_check(text, integer)
    IS 'internal (tests): NULL if the splitter splits sql as the server parser does, else the first difference';

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
    history_table text DEFAULT NULL,
    confirm text DEFAULT NULL)
RETURNS integer
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_adopt';

COMMENT ON FUNCTION migrate.adopt(text, text, text, text, text)
    IS 'record the migrations another tool applied (flyway, node-pg-migrate, golang-migrate, dbmate, drizzle, sqitch)';

-- Nothing is granted to PUBLIC: a DBA grants EXECUTE and rights on the
-- history to the roles that may run migrations (see README).
REVOKE ALL ON ALL TABLES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL ROUTINES IN SCHEMA migrate FROM PUBLIC;
