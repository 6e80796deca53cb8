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


-- ---------------------------------------------------------------------
-- Drift and progress (issue 14)
-- ---------------------------------------------------------------------

-- Schema changes made outside migrations (src/drift.c).  One row per DDL
-- command that ran outside a migrate call, written by the event triggers
-- below with the extension owner's rights (the role running the DDL needs
-- no right on this table).  pg_dump carries it, like the history.
CREATE TABLE migrate.drift (
    id               bigserial PRIMARY KEY,
    occurred_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    role_name        text NOT NULL,
    session_role     text NOT NULL,
    application_name text,
    client_addr      inet,
    pid              integer,
    command_tag      text NOT NULL,
    object_type      text,
    object_identity  text,
    objects          text[],
    statement        text,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    acknowledge_note text
);

COMMENT ON TABLE migrate.drift IS 'DDL commands run outside migrate calls, one row per command';
COMMENT ON COLUMN migrate.drift.role_name IS 'current_user when the command ran';
COMMENT ON COLUMN migrate.drift.object_identity IS 'the object the command is about (the first one it names)';
COMMENT ON COLUMN migrate.drift.objects IS 'every object the command created, changed or dropped: type and identity';
COMMENT ON COLUMN migrate.drift.statement IS 'the statement text the client sent, cut at 4 kB';

SELECT pg_catalog.pg_extension_config_dump('migrate.drift', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.drift_id_seq', '');

-- The schema as the last migration run left it: a hash over the catalog
-- definition of every object in the schemas migrations can change, and
-- one short hash per object, so validate can name what differs.  One row.
CREATE TABLE migrate.schema_fingerprint (
    fingerprint  text NOT NULL,
    objects      text[] NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    recorded_by  text NOT NULL,
    reason       text NOT NULL
);

COMMENT ON TABLE migrate.schema_fingerprint IS 'the schema fingerprint recorded after the last migration run or acknowledge_drift';

SELECT pg_catalog.pg_extension_config_dump('migrate.schema_fingerprint', '');

CREATE FUNCTION migrate._drift_record()
RETURNS event_trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'migrate_drift_record';

COMMENT ON FUNCTION migrate._drift_record()
    IS 'internal: the event trigger that records DDL run outside migrate calls in migrate.drift';

CREATE EVENT TRIGGER migrate_drift_ddl ON ddl_command_end
    EXECUTE FUNCTION migrate._drift_record();
CREATE EVENT TRIGGER migrate_drift_drop ON sql_drop
    EXECUTE FUNCTION migrate._drift_record();

-- Accept the drift recorded so far: every unacknowledged row of
-- migrate.drift is marked with who accepted it, and the current schema
-- becomes the expected one.  Returns how many rows it marked.
CREATE FUNCTION migrate.acknowledge_drift(note text DEFAULT NULL, confirm text DEFAULT NULL)
RETURNS bigint
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_acknowledge_drift';

COMMENT ON FUNCTION migrate.acknowledge_drift(text, text)
    IS 'accept the schema changes made outside migrations: marks migrate.drift and records the current schema';

-- What each running migrate call in this database is doing (src/progress.c),
-- read from the activity string the call keeps up to date.
CREATE FUNCTION migrate._progress(
    OUT pid integer,
    OUT call text,
    OUT track text,
    OUT dir text,
    OUT script text,
    OUT version text,
    OUT migration integer,
    OUT migrations integer,
    OUT statement integer,
    OUT line integer,
    OUT statement_text text,
    OUT phase text,
    OUT call_started timestamptz,
    OUT migration_started timestamptz,
    OUT statement_started timestamptz)
RETURNS SETOF record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_progress';

COMMENT ON FUNCTION migrate._progress()
    IS 'internal: the rows of the view migrate.progress';

CREATE VIEW migrate.progress AS SELECT * FROM migrate._progress();

COMMENT ON VIEW migrate.progress
    IS 'one row per running migrate call in this database: its migration, statement, line, phase and times';


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
