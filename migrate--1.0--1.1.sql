/* migrate--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrate UPDATE TO '1.1'" to load this file. \quit

-- The library of 1.1 also works against the objects of 1.0 (see
-- migrate_schema_version in src/migrate.c): nothing below may be needed by
-- a call that 1.0 already had, unless that call checks the version first.

-- ---------------------------------------------------------------------
-- Platform (issue 10)
-- ---------------------------------------------------------------------


-- ---------------------------------------------------------------------
-- Security (issue 11)
-- ---------------------------------------------------------------------


-- ---------------------------------------------------------------------
-- Performance (issue 12)
-- ---------------------------------------------------------------------


-- ---------------------------------------------------------------------
-- Lint (issue 13)
-- ---------------------------------------------------------------------

-- The findings of the linter (src/lint*.c) over the pending migrations of
-- dir, in the order apply would run them: what each statement locks, on
-- which relation of what size, whether it rewrites it, and the safe way.
-- Analysed from the server's parse tree and the live catalog, never by
-- running the statements; no lock stronger than ACCESS SHARE, and none
-- waited for.
CREATE FUNCTION migrate.lint(
    dir text,
    track text DEFAULT 'main',
    OUT script text,
    OUT line integer,
    OUT statement text,
    OUT rule text,
    OUT severity text,
    OUT relation text,
    OUT relation_bytes bigint,
    OUT estimated_rows bigint,
    OUT lock text,
    OUT rewrites boolean,
    OUT message text,
    OUT hint text)
RETURNS SETOF record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_lint';

COMMENT ON FUNCTION migrate.lint(text, text)
    IS 'lint findings over the pending migrations: lock, relation size, rewrite, safe alternative';

-- The same for one file (in an allowed directory, or "bundle/file").
CREATE FUNCTION migrate.lint_file(
    file text,
    OUT script text,
    OUT line integer,
    OUT statement text,
    OUT rule text,
    OUT severity text,
    OUT relation text,
    OUT relation_bytes bigint,
    OUT estimated_rows bigint,
    OUT lock text,
    OUT rewrites boolean,
    OUT message text,
    OUT hint text)
RETURNS SETOF record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_lint_file';

COMMENT ON FUNCTION migrate.lint_file(text)
    IS 'lint findings of one migration file, as if it were the only pending one';

-- Findings a migration silenced with "-- migrate:lint-ignore rule reason",
-- recorded by apply with the history row of the run that applied it
-- (rank).  No foreign key: the history is restored by pg_dump in no
-- particular order with this table.
CREATE TABLE migrate.lint_ignored (
    rank       bigint NOT NULL,
    line       integer NOT NULL,
    statement  text,
    rule       text NOT NULL,
    severity   text NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    reason     text,
    message    text NOT NULL
);
CREATE INDEX lint_ignored_rank_idx ON migrate.lint_ignored (rank);

COMMENT ON TABLE migrate.lint_ignored
    IS 'lint findings a migration silenced, with the reason given, per history row (rank)';

SELECT pg_catalog.pg_extension_config_dump('migrate.lint_ignored', '');


-- ---------------------------------------------------------------------
-- Drift and progress (issue 14)
-- ---------------------------------------------------------------------


-- ---------------------------------------------------------------------
-- Layouts, placeholders and callbacks (issue 15)
-- ---------------------------------------------------------------------


-- ---------------------------------------------------------------------
-- Fleets (issue 16)
-- ---------------------------------------------------------------------


-- Nothing is granted to PUBLIC (as in 1.0): whatever the sections above
-- created gets the same treatment.
REVOKE ALL ON ALL TABLES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL ROUTINES IN SCHEMA migrate FROM PUBLIC;
