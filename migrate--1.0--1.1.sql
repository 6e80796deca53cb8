/* migrate--1.0--1.1.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrate UPDATE TO '1.1'" to load this file. \quit

-- The library of 1.1 also works against the objects of 1.0 (see
-- migrate_schema_version in src/migrate.c): nothing below may be needed by
-- a call that 1.0 already had, unless that call checks the version first.

-- ---------------------------------------------------------------------
-- Platform (issue 10)
-- ---------------------------------------------------------------------
-- No objects: packaging, versions and upgrades change no SQL interface.
-- A call of the 1.1 library that needs an object added below names the
-- version it needs with migrate_require_schema(MIGRATE_SCHEMA_1_1, ...)
-- (src/migrate.c), which tells a 1.0 database to run ALTER EXTENSION
-- migrate UPDATE; sql/oldextversions.sql makes every 1.0 call against 1.0
-- objects, and test/upgrade/calls_1.1.sql is where the calls added below
-- are made after the update.


-- ---------------------------------------------------------------------
-- Security (issue 11)
-- ---------------------------------------------------------------------

-- Only the extension writes its tables.  Every write (a history row, a
-- repair, a staged file) happens inside migrate's own calls, with the
-- rights of the extension's owner switched to in C around that statement
-- alone (src/history.c); migrations always run with the caller's rights.
-- So no role needs, or may keep, a write privilege on them: with INSERT on
-- migrate.history a role forges rows (installed_by 'postgres', a dirty row
-- that blocks every run), with UPDATE or DELETE on migrate.staged it
-- poisons a bundle that a superuser applies, and with TRIGGER it would run
-- its own function with the owner's rights.  1.0's README told the DBA to
-- grant some of these: the update revokes every privilege but SELECT on
-- the two tables and the sequence from every role but the owner (SELECT,
-- what reading needs, is kept), and says so.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT 'migrate.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname) AS obj,
               CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
               CASE a.grantee WHEN 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END AS who,
               pg_catalog.string_agg(DISTINCT a.privilege_type, ', ') AS privs
        FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
        WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY['migrate.history'::pg_catalog.regclass,
                                                     'migrate.staged'::pg_catalog.regclass,
                                                     'migrate.history_rank_seq'::pg_catalog.regclass])
          AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
          AND a.privilege_type OPERATOR(pg_catalog.<>) 'SELECT'
        GROUP BY 1, 2, 3
        ORDER BY 1, 3
    LOOP
        EXECUTE pg_catalog.format('REVOKE %s ON %s %s FROM %s CASCADE', r.privs, r.kind, r.obj, r.who);
        RAISE WARNING 'migrate 1.1: revoked % on % from % (only the extension writes it now)',
            r.privs, r.obj, r.who;
    END LOOP;
END
$$;

-- A staged bundle belongs to the role that staged its first file.  Only
-- that role (or a member of it, or a superuser) stages into it or unstages
-- from it, and apply runs its scripts only for the owner or for a role the
-- owner is a member of: nobody runs SQL that a less privileged role wrote.
-- NULL: staged before 1.1, by whoever could write the table then; such a
-- bundle runs for nobody until a superuser, having read it, sets its owner.
ALTER TABLE migrate.staged ADD COLUMN owner pg_catalog.regrole;

COMMENT ON COLUMN migrate.staged.owner IS
    'the role the bundle belongs to (see migrate.stage); NULL: staged before 1.1, runs for nobody until a superuser sets it';
COMMENT ON COLUMN migrate.staged.staged_by IS 'the role that staged this version of the file';

-- adopt reads the old table in a named schema, never through search_path
-- (a view or table earlier on the path would run its functions with the
-- caller's rights), only an ordinary or partitioned table, and only one
-- owned by the caller or a role it is a member of, unless a superuser
-- says trust_table_owner => true.  Replaced, not overloaded (a second
-- adopt with defaults would make every short call ambiguous); its EXECUTE
-- grants are carried over.
ALTER FUNCTION migrate.adopt(text, text, text, text, text) RENAME TO adopt_1_0;

CREATE FUNCTION migrate.adopt(
    tool text,
    track text DEFAULT 'main',
    dir text DEFAULT NULL,
    history_table text DEFAULT NULL,
    confirm text DEFAULT NULL,
    schema text DEFAULT NULL,
    trust_table_owner boolean DEFAULT false)
RETURNS integer
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_adopt';

COMMENT ON FUNCTION migrate.adopt(text, text, text, text, text, text, boolean)
    IS 'record the migrations another tool applied (flyway, node-pg-migrate, golang-migrate, dbmate, drizzle, sqitch)';

REVOKE ALL ON FUNCTION migrate.adopt(text, text, text, text, text, text, boolean) FROM PUBLIC;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT CASE a.grantee WHEN 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END AS who,
               a.is_grantable
        FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
        WHERE p.oid OPERATOR(pg_catalog.=)
              'migrate.adopt_1_0(text, text, text, text, text)'::pg_catalog.regprocedure
          AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
          AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION '
                                  'migrate.adopt(text, text, text, text, text, text, boolean) TO %s%s',
                                  r.who, CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;
DROP FUNCTION migrate.adopt_1_0(text, text, text, text, text);

-- The splitter's self-check is for the tests only (which create it in
-- pg_temp): as part of the extension, "GRANT EXECUTE ON ALL ROUTINES"
-- handed every migration role a call that burns a CPU for minutes.
DROP FUNCTION migrate._split_check(text, integer);


-- ---------------------------------------------------------------------
-- Performance (issue 12)
-- ---------------------------------------------------------------------

-- A no-op reads nothing: beside its checksum, each row that applied a file
-- records the file's identity when it was opened, as git's index does:
-- device, inode, size, mtime and ctime in nanoseconds.  A later run trusts
-- the recorded checksum of a file whose identity is unchanged
-- (migrate.verify_checksums = 'changed', the default) and reads only the
-- others; validate reads every file.  NULL: nothing recorded (a staged
-- file, a file reached through a symbolic link, one changed less than a
-- second before it was read, or a row written before 1.1).  Written only
-- by the extension, like the rest of the row.
ALTER TABLE migrate.history
    ADD COLUMN file_dev bigint,
    ADD COLUMN file_ino bigint,
    ADD COLUMN file_size bigint,
    ADD COLUMN file_mtime_ns bigint,
    ADD COLUMN file_ctime_ns bigint;

COMMENT ON COLUMN migrate.history.file_ctime_ns IS
    'identity of the file when it was read (with file_dev, file_ino, file_size, file_mtime_ns): unchanged, its checksum is trusted without reading it';

-- The CHECK on history.type was rebuilt from its stored text for every row
-- inserted: a third of what recording a migration cost.  Since 1.1 no
-- role but the extension's owner may write the table (Security above),
-- and the extension writes only these four types; so the check goes.
ALTER TABLE migrate.history DROP CONSTRAINT history_type_check;


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

-- The layouts need no new objects: sql-migrate is a layout of the library,
-- and status's new states (misnamed, ignored) are values of its text
-- column, so a 1.0 database gets them before ALTER EXTENSION UPDATE too.
-- adopt reads sql-migrate's gorp_migrations; its comment says so.
COMMENT ON FUNCTION migrate.adopt(text, text, text, text, text, text, boolean)
    IS 'record the migrations another tool applied (flyway, node-pg-migrate, golang-migrate, dbmate, drizzle, sqitch, sql-migrate)';

-- Flyway placeholders: apply, undo and run take placeholders => jsonb, the
-- call's values for ${name} (they win over migrate.placeholders.<name>
-- settings and a flyway.conf).  Replaced, not overloaded: a second apply
-- with defaults would make every short call ambiguous.  The 1.1 library
-- reads the argument only when the call has it, so the 1.0 procedures
-- keep working until the update; their EXECUTE grants are carried over.
ALTER PROCEDURE migrate.apply(text, text, boolean, boolean, text, text, text) RENAME TO apply_1_0;
ALTER PROCEDURE migrate.undo(text, text, text, text, text) RENAME TO undo_1_0;
ALTER PROCEDURE migrate.run(text, text) RENAME TO run_1_0;

CREATE PROCEDURE migrate.apply(
    dir text,
    target text DEFAULT NULL,
    out_of_order boolean DEFAULT false,
    dry_run boolean DEFAULT false,
    track text DEFAULT 'main',
    statement_timeout text DEFAULT NULL,
    confirm text DEFAULT NULL,
    placeholders jsonb DEFAULT NULL)
LANGUAGE c
AS 'MODULE_PATHNAME', 'migrate_apply';

COMMENT ON PROCEDURE migrate.apply(text, text, boolean, boolean, text, text, text, jsonb)
    IS 'apply the pending migrations of a directory, each in its own transaction';

CREATE PROCEDURE migrate.undo(
    dir text,
    target text DEFAULT NULL,
    version text DEFAULT NULL,
    track text DEFAULT 'main',
    confirm text DEFAULT NULL,
    placeholders jsonb DEFAULT NULL)
LANGUAGE c
AS 'MODULE_PATHNAME', 'migrate_undo';

COMMENT ON PROCEDURE migrate.undo(text, text, text, text, text, jsonb)
    IS 'undo applied migrations with their undo scripts, newest first';

CREATE PROCEDURE migrate.run(file text, confirm text DEFAULT NULL, placeholders jsonb DEFAULT NULL)
LANGUAGE c
AS 'MODULE_PATHNAME', 'migrate_run';

COMMENT ON PROCEDURE migrate.run(text, text, jsonb)
    IS 'run one untracked file from an allowed directory, in its own transaction';

REVOKE ALL ON PROCEDURE migrate.apply(text, text, boolean, boolean, text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON PROCEDURE migrate.undo(text, text, text, text, text, jsonb) FROM PUBLIC;
REVOKE ALL ON PROCEDURE migrate.run(text, text, jsonb) FROM PUBLIC;
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT m.new_sig,
               CASE a.grantee WHEN 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END AS who,
               a.is_grantable
        FROM (VALUES ('migrate.apply_1_0(text, text, boolean, boolean, text, text, text)',
                      'migrate.apply(text, text, boolean, boolean, text, text, text, jsonb)'),
                     ('migrate.undo_1_0(text, text, text, text, text)',
                      'migrate.undo(text, text, text, text, text, jsonb)'),
                     ('migrate.run_1_0(text, text)',
                      'migrate.run(text, text, jsonb)')) AS m(old_sig, new_sig),
             pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
        WHERE p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure(m.old_sig)
          AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
          AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON PROCEDURE %s TO %s%s', r.new_sig, r.who,
                                  CASE WHEN r.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;
DROP PROCEDURE migrate.apply_1_0(text, text, boolean, boolean, text, text, text);
DROP PROCEDURE migrate.undo_1_0(text, text, text, text, text);
DROP PROCEDURE migrate.run_1_0(text, text);


-- ---------------------------------------------------------------------
-- Fleets (issue 16)
-- ---------------------------------------------------------------------

-- The heartbeat: one row per changing call (apply, undo, repair,
-- baseline, adopt), no-ops and failures included, so that a database whose
-- scheduled job stopped is told from one checked a minute ago
-- (src/runs.c).  Written by the extension alone, with its owner's rights,
-- like migrate.history; a failed call's row is committed before the error
-- is raised when the call can commit (CALL outside a transaction block).
-- Kept bounded: the last migrate.runs_keep rows of each track.  pg_dump
-- carries it, like the history.
CREATE TABLE migrate.runs (
    id        bigserial PRIMARY KEY,
    track     text NOT NULL,
    call      text NOT NULL,
    dir       text,
    started   timestamptz NOT NULL,
    ended     timestamptz NOT NULL,
    applied   integer NOT NULL,
    version   text,
    outcome   text NOT NULL CHECK (outcome IN ('success', 'failed')),
    sqlstate  text,
    error     text,
    run_by    text NOT NULL,
    dir_state text
);
CREATE INDEX runs_track_id_idx ON migrate.runs (track, id);

COMMENT ON TABLE migrate.runs IS 'one row per apply, undo, repair, baseline or adopt call, no-ops and failures included (the last migrate.runs_keep per track)';
COMMENT ON COLUMN migrate.runs.call IS 'apply, undo, repair, baseline or adopt';
COMMENT ON COLUMN migrate.runs.dir IS 'the directory or staged bundle as given; NULL for baseline';
COMMENT ON COLUMN migrate.runs.applied IS 'how many scripts the call ran successfully (undo scripts for undo)';
COMMENT ON COLUMN migrate.runs.version IS 'the version the track was at when the call ended';
COMMENT ON COLUMN migrate.runs.run_by IS 'the role that made the call';
COMMENT ON COLUMN migrate.runs.dir_state IS 'a successful apply: digest of its directory''s files and identities and of the history, which lets the next apply of an unchanged directory stop at once';

SELECT pg_catalog.pg_extension_config_dump('migrate.runs', '');
SELECT pg_catalog.pg_extension_config_dump('migrate.runs_id_seq', '');

-- One row about a track, for a fleet check over dblink or postgres_fdw:
-- its version, how many migrations of dir are pending (NULL without dir),
-- how many failed, whether one is dirty, when a migration was last
-- applied, and the last run (migrate.runs) with its outcome and error.
CREATE FUNCTION migrate.summary(
    dir text DEFAULT NULL,
    track text DEFAULT 'main',
    OUT version text,
    OUT pending integer,
    OUT failed integer,
    OUT dirty boolean,
    OUT last_applied timestamptz,
    OUT last_run timestamptz,
    OUT last_call text,
    OUT last_outcome text,
    OUT last_error text)
RETURNS record
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'migrate_summary';

COMMENT ON FUNCTION migrate.summary(text, text)
    IS 'one row about a track: version, pending (with dir), failed, dirty, last applied, last run and its outcome';


-- Nothing is granted to PUBLIC (as in 1.0): whatever the sections above
-- created gets the same treatment.
REVOKE ALL ON ALL TABLES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA migrate FROM PUBLIC;
REVOKE ALL ON ALL ROUTINES IN SCHEMA migrate FROM PUBLIC;

-- pg_dump keeps a DBA's grants on the extension's objects (EXECUTE on
-- apply, SELECT on the history) only where they differ from the privileges
-- recorded when the extension was installed (pg_init_privs).  Every GRANT
-- or REVOKE in an update script records the privileges of that moment as
-- the installed ones, the DBA's grants included, so a dump taken after
-- ALTER EXTENSION UPDATE would silently leave them out and a restore would
-- lose them.  Record instead what a fresh install of this version records:
-- the owner's privileges alone (nothing for PUBLIC).  On CREATE EXTENSION
-- this changes nothing.
UPDATE pg_catalog.pg_init_privs ip
   SET initprivs = pg_catalog.acldefault(CASE c.relkind WHEN 'S' THEN 's'::pg_catalog."char"
                                                              ELSE 'r'::pg_catalog."char" END,
                                         c.relowner)
  FROM pg_catalog.pg_class c
 WHERE ip.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
   AND ip.objoid OPERATOR(pg_catalog.=) c.oid
   AND ip.objsubid OPERATOR(pg_catalog.=) 0
   AND ip.privtype OPERATOR(pg_catalog.=) 'e'
   AND c.relnamespace OPERATOR(pg_catalog.=) 'migrate'::pg_catalog.regnamespace;
UPDATE pg_catalog.pg_init_privs ip
   SET initprivs = pg_catalog.array_remove(pg_catalog.acldefault('f', p.proowner),
                                           pg_catalog.makeaclitem(0, p.proowner, 'EXECUTE', false))
  FROM pg_catalog.pg_proc p
 WHERE ip.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
   AND ip.objoid OPERATOR(pg_catalog.=) p.oid
   AND ip.privtype OPERATOR(pg_catalog.=) 'e'
   AND p.pronamespace OPERATOR(pg_catalog.=) 'migrate'::pg_catalog.regnamespace;
