-- Drift (SPEC section 12): DDL run outside migrate calls is recorded in
-- migrate.drift by an event trigger; apply's own DDL, temporary objects,
-- restores and migrate.track_drift = off are not; status and validate
-- report it; acknowledge_drift clears it; the schema fingerprint finds what
-- the trigger did not see; a broken trigger condition is a WARNING, never
-- an error for the user's DDL.
BEGIN;
\i test/include/files.psql
SET client_min_messages = warning;
SELECT plan(60);

-- every drift row recorded so far (the template database has none)
CREATE FUNCTION pg_temp.rows() RETURNS bigint LANGUAGE sql
AS $$ SELECT count(*) FROM migrate.drift WHERE acknowledged_at IS NULL $$;

-- the message, detail and SQLSTATE of the error a statement raises
CREATE FUNCTION pg_temp.err(sql text, OUT msg text, OUT detail text, OUT state text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, state = RETURNED_SQLSTATE;
END $$;

SELECT is(pg_temp.rows(), 0::bigint, 'no drift in a fresh database');

-- ---- DDL by hand is recorded ----------------------------------------------
SET application_name = 'drift-test';
CREATE TABLE public.by_hand (id serial PRIMARY KEY, note text);
SELECT is(pg_temp.rows(), 1::bigint, 'CREATE TABLE by hand is one drift row');
SELECT is((SELECT concat_ws('|', role_name, session_role, application_name, command_tag, object_type, object_identity)
           FROM migrate.drift ORDER BY id DESC LIMIT 1),
          concat_ws('|', current_user, session_user, 'drift-test', 'CREATE TABLE', 'table', 'public.by_hand'),
          'the row says who, from where, what command and which object');
SELECT ok((SELECT objects @> ARRAY['table public.by_hand', 'sequence public.by_hand_id_seq',
                                   'index public.by_hand_pkey']
           FROM migrate.drift ORDER BY id DESC LIMIT 1),
          'objects lists every object the command created');
SELECT is((SELECT statement FROM migrate.drift ORDER BY id DESC LIMIT 1),
          'CREATE TABLE public.by_hand (id serial PRIMARY KEY, note text);',
          'the statement text is kept');
SELECT ok((SELECT pid = pg_backend_pid() AND occurred_at IS NOT NULL FROM migrate.drift ORDER BY id DESC LIMIT 1),
          'and the backend and the time');

ALTER TABLE public.by_hand ADD COLUMN extra int;
SELECT is((SELECT command_tag || ' ' || object_identity FROM migrate.drift ORDER BY id DESC LIMIT 1),
          'ALTER TABLE public.by_hand', 'ALTER TABLE is recorded');
ALTER TABLE public.by_hand DROP COLUMN extra;
SELECT is(pg_temp.rows(), 3::bigint, 'ALTER TABLE ... DROP COLUMN is one row, not one per event');

-- a drop names what the command dropped, and what CASCADE took with it
CREATE SCHEMA gone;
CREATE TABLE gone.t (a int);
DROP SCHEMA gone CASCADE;
SELECT results_eq(
    $$SELECT command_tag, object_type, object_identity, 'table gone.t' = ANY (objects)
      FROM migrate.drift ORDER BY id DESC LIMIT 1$$,
    $$VALUES ('DROP SCHEMA'::text, 'schema'::text, 'gone'::text, true)$$,
    'DROP SCHEMA ... CASCADE names the schema and the table it took');

-- a long statement is cut (psql sends it as it is)
SELECT 'CREATE TABLE public.long_one (a int) /*' || repeat('x', 10000) || '*/' \gexec
SELECT cmp_ok((SELECT length(statement) FROM migrate.drift ORDER BY id DESC LIMIT 1), '<=', 4100,
              'the statement text is cut at 4 kB');

-- ---- not drift ---------------------------------------------------------------
CREATE TEMP TABLE scratch (a int);
CREATE INDEX ON scratch (a);
DROP TABLE scratch;
SELECT is(pg_temp.rows(), 7::bigint, 'temporary objects are not drift (create, index, drop)');

SET migrate.track_drift = off;
CREATE TABLE public.untracked (a int);
RESET migrate.track_drift;
SELECT is(pg_temp.rows(), 7::bigint, 'migrate.track_drift = off records nothing');

-- the least-privilege role's DDL, with no right on migrate.drift
CREATE ROLE drift_test_role;
GRANT CREATE ON SCHEMA public TO drift_test_role;
SET ROLE drift_test_role;
SELECT throws_ok('SELECT count(*) FROM migrate.drift', '42501', NULL, 'the role cannot read migrate.drift');
CREATE TABLE public.role_made (a int);
RESET ROLE;
SELECT is((SELECT concat_ws('|', role_name, session_role, object_identity) FROM migrate.drift ORDER BY id DESC LIMIT 1),
          concat_ws('|', 'drift_test_role', session_user, 'public.role_made'),
          'its DDL is recorded like anyone''s');

-- pg_dump's and pg_restore's scripts start so
SET check_function_bodies = false;
SELECT pg_catalog.set_config('search_path', '', true);
CREATE TABLE public.restored (a int);
RESET check_function_bodies;
RESET search_path;
SELECT is(pg_temp.rows(), 9::bigint, 'DDL of a restore script is not drift');

-- DDL that migrations run is not drift
SELECT pg_temp.fresh_dir('drift_apply') AS dir \gset
SELECT pg_temp.write_file(:'dir' || '/V1__table.sql',
    E'CREATE TABLE public.migrated (id int PRIMARY KEY);\nCREATE INDEX migrated_idx ON public.migrated (id);\n');
SELECT pg_temp.write_file(:'dir' || '/V2__alter.sql', E'ALTER TABLE public.migrated ADD COLUMN b text;\nCREATE INDEX migrated_b ON public.migrated (b);\n');
SELECT pg_temp.write_file(:'dir' || '/U2__alter.sql', E'ALTER TABLE public.migrated DROP COLUMN b;\n');
SELECT pg_temp.fresh_dir('drift_files') AS files \gset
SELECT pg_temp.write_file(:'files' || '/seed.sql', E'CREATE TABLE public.seeded (a int);\n');
CALL migrate.apply(:'dir');
SELECT is(pg_temp.rows(), 9::bigint, 'the DDL of apply is not drift');
CALL migrate.undo(:'dir');
SELECT is(pg_temp.rows(), 9::bigint, 'nor that of undo');
CALL migrate.run(:'files' || '/seed.sql');
SELECT is(pg_temp.rows(), 9::bigint, 'nor that of run');
-- ... and recording resumes after the call, also after one that failed
SELECT pg_temp.write_file(:'files' || '/bad.sql', E'CREATE TABLE public.half (a int);\nSELECT 1/0;\n');
SELECT throws_ok(format('CALL migrate.run(%L)', :'files' || '/bad.sql'), '22012');
CREATE TABLE public.after_failure (a int);
SELECT is(pg_temp.rows(), 10::bigint, 'DDL after a failed migrate call is drift again');

-- a migration's DDL leaves a fingerprint
SELECT is((SELECT reason FROM migrate.schema_fingerprint), 'run', 'the fingerprint is recorded after each run');
SELECT ok((SELECT 'table public.migrated' = ANY (array(SELECT left(o, -17) FROM unnest(objects) o))
           FROM migrate.schema_fingerprint), 'it covers the tables migrations created');

-- ---- the event trigger function is not for calling --------------------------
SELECT throws_ok('SELECT migrate._drift_record()', NULL, NULL, 'the trigger function cannot be called directly');

-- ---- validate and acknowledge ------------------------------------------------
SELECT is((pg_temp.err(format('SELECT migrate.validate(%L)', :'dir'))).msg,
          'validation found 10 schema changes made outside migrations', 'validate counts the drift');
SELECT is((pg_temp.err(format('SELECT migrate.validate(%L)', :'dir'))).state, '55000',
          'as object_not_in_prerequisite_state');
SELECT matches((pg_temp.err(format('SELECT migrate.validate(%L)', :'dir'))).detail,
          '^CREATE TABLE table public\.by_hand by \S+ at [^\n]+ \(drift-test\): CREATE TABLE public\.by_hand \(id serial PRIMARY KEY, note text\)\.\n',
          'its detail names each command, object, role, time, application and statement');
SELECT matches((pg_temp.err(format('SELECT migrate.validate(%L)', :'dir'))).detail,
          'DROP SCHEMA schema gone by ', 'drops included');

SELECT is(migrate.acknowledge_drift('reviewed in the test'), 10::bigint, 'acknowledge_drift marks every row');
SELECT is((SELECT string_agg(DISTINCT concat_ws('|', acknowledged_by, acknowledge_note, acknowledged_at IS NOT NULL), ',')
           FROM migrate.drift),
          concat_ws('|', current_user, 'reviewed in the test', true),
          'with who did it and why');
SELECT lives_ok(format('SELECT migrate.validate(%L)', :'dir'), 'validate is silent after acknowledging');
SELECT is((SELECT reason FROM migrate.schema_fingerprint), 'acknowledge_drift', 'the current schema is the expected one');

-- ---- drift the trigger cannot see: the fingerprint finds it ----------------
ALTER EVENT TRIGGER migrate_drift_ddl DISABLE;
ALTER TABLE public.migrated ADD COLUMN sneaky int;
CREATE FUNCTION public.sneaky_fn(a int) RETURNS int LANGUAGE sql AS 'SELECT a';
ALTER EVENT TRIGGER migrate_drift_ddl ENABLE;
SELECT is(pg_temp.rows(), 0::bigint, 'a disabled trigger records nothing');
SELECT is((pg_temp.err(format('SELECT migrate.validate(%L)', :'dir'))).msg,
          'validation found schema changes made outside migrations', 'validate still finds the change');
SELECT matches((pg_temp.err(format('SELECT migrate.validate(%L)', :'dir'))).detail,
          '^The schema differs from the one recorded after the last migration run \(acknowledge_drift by \S+ at [^)]+\): added function public\.sneaky_fn\(integer\); changed table public\.migrated\.$',
          'and names the objects that differ');

SET session_replication_role = replica;
CREATE TABLE public.replica_made (a int);
RESET session_replication_role;
SELECT is(pg_temp.rows(), 0::bigint, 'session_replication_role = replica fires no trigger');
SELECT matches((pg_temp.err(format('SELECT migrate.validate(%L)', :'dir'))).detail,
          'added table public\.replica_made', 'the fingerprint finds that too');

-- the next run records what it finds before its own fingerprint hides it
CALL migrate.apply(:'dir');
SELECT results_eq($$SELECT command_tag, role_name, objects FROM migrate.drift WHERE acknowledged_at IS NULL$$,
    $$VALUES ('unseen change'::text, 'unknown'::text,
              ARRAY['added function public.sneaky_fn(integer)', 'changed table public.migrated',
                    'added table public.replica_made'])$$,
    'a run turns the unseen changes into a drift row');
SELECT matches((pg_temp.err(format('SELECT migrate.validate(%L)', :'dir'))).detail,
          '^unseen change found at [0-9 :.+-]+: added function public\.sneaky_fn\(integer\); changed table public\.migrated; added table public\.replica_made\.$',
          'which validate reports until acknowledged');
SELECT lives_ok('SELECT migrate.acknowledge_drift()', 'acknowledged');

-- column defaults are deparsed without their table (they cannot refer to a
-- column), generated columns with it: both are still in the fingerprint
ALTER EVENT TRIGGER migrate_drift_ddl DISABLE;
ALTER TABLE public.migrated ALTER COLUMN sneaky SET DEFAULT 42;
ALTER EVENT TRIGGER migrate_drift_ddl ENABLE;
SELECT matches((pg_temp.err(format('SELECT migrate.validate(%L)', :'dir'))).detail,
          ': changed table public\.migrated\.$', 'a new column default unseen by the trigger is found');
SELECT lives_ok('SELECT migrate.acknowledge_drift()', 'acknowledged');
ALTER EVENT TRIGGER migrate_drift_ddl DISABLE;
ALTER TABLE public.migrated ALTER COLUMN sneaky SET DEFAULT 43;
ALTER EVENT TRIGGER migrate_drift_ddl ENABLE;
SELECT matches((pg_temp.err(format('SELECT migrate.validate(%L)', :'dir'))).detail,
          ': changed table public\.migrated\.$', 'and so is a changed one');
ALTER TABLE public.migrated ADD COLUMN doubled int GENERATED ALWAYS AS (sneaky * 2) STORED;
SELECT lives_ok('SELECT migrate.acknowledge_drift()',
                'a generated column''s expression is deparsed with its table');
SELECT lives_ok(format('SELECT migrate.validate(%L)', :'dir'), 'and validate agrees with the fingerprint');

-- ---- an index changed unseen by the trigger: each part of its text ---------
-- (the fingerprint describes an index from the catalogs: table, access
-- method, uniqueness, each column's operator class, collation and order,
-- INCLUDE, storage options, expressions and predicate; recreating the same
-- index, with new OIDs, changes nothing)
ALTER TABLE public.migrated ADD COLUMN label text;
CREATE INDEX migrated_label_idx ON public.migrated (label);
SELECT lives_ok('SELECT migrate.acknowledge_drift()', 'an index to change');
-- run ddl with both event triggers off; what validate then reports (the
-- fingerprint alone can see it), and accept it
CREATE FUNCTION pg_temp.unseen(dir text, ddl text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    ALTER EVENT TRIGGER migrate_drift_ddl DISABLE;
    ALTER EVENT TRIGGER migrate_drift_drop DISABLE;
    EXECUTE ddl;
    ALTER EVENT TRIGGER migrate_drift_drop ENABLE;
    ALTER EVENT TRIGGER migrate_drift_ddl ENABLE;
    d := coalesce((pg_temp.err(format('SELECT migrate.validate(%L)', dir))).detail, 'no change found');
    PERFORM migrate.acknowledge_drift();
    RETURN d;
END $$;
CREATE FUNCTION pg_temp.index_redone(dir text, def text) RETURNS text LANGUAGE sql
AS $$ SELECT pg_temp.unseen(dir, 'DROP INDEX public.migrated_label_idx; ' || def) $$;
SELECT is(pg_temp.index_redone(:'dir', 'CREATE INDEX migrated_label_idx ON public.migrated (label)'),
          'no change found', 'the same index made again (new OIDs) is no change');
SELECT results_eq(
    format($$SELECT d ~ ': changed index public\.migrated_label_idx\.$' FROM unnest(ARRAY[
        pg_temp.index_redone(%1$L, 'CREATE INDEX migrated_label_idx ON public.migrated (label text_pattern_ops)'),
        pg_temp.index_redone(%1$L, 'CREATE INDEX migrated_label_idx ON public.migrated (label DESC)'),
        pg_temp.index_redone(%1$L, 'CREATE INDEX migrated_label_idx ON public.migrated (label COLLATE "C")'),
        pg_temp.index_redone(%1$L, 'CREATE INDEX migrated_label_idx ON public.migrated (label) INCLUDE (sneaky)'),
        pg_temp.index_redone(%1$L, 'CREATE INDEX migrated_label_idx ON public.migrated (label) WHERE sneaky > 0'),
        pg_temp.index_redone(%1$L, 'CREATE INDEX migrated_label_idx ON public.migrated (lower(label))'),
        pg_temp.index_redone(%1$L, 'CREATE INDEX migrated_label_idx ON public.migrated (lower(label)) WITH (fillfactor = 50)'),
        pg_temp.index_redone(%1$L, 'CREATE UNIQUE INDEX migrated_label_idx ON public.migrated (lower(label)) WITH (fillfactor = 50)'),
        pg_temp.index_redone(%1$L, 'CREATE INDEX migrated_label_idx ON public.migrated USING hash (label)'),
        pg_temp.index_redone(%1$L, 'CREATE INDEX migrated_label_idx ON public.migrated (sneaky, label)')]) d$$, :'dir'),
    $$VALUES (true), (true), (true), (true), (true), (true), (true), (true), (true), (true)$$,
    'an operator class, an order, a collation, INCLUDE, a predicate, an expression, a storage option, '
    'uniqueness, an access method and the columns: each change is found');
SELECT is(pg_temp.index_redone(:'dir', 'CREATE INDEX migrated_label_idx ON public.migrated (sneaky, label)'),
          'no change found', 'and the last one made again is none');

-- ---- triggers, rules and sequence parameters changed unseen ----------------
-- (the fingerprint reads them only for relations pg_class says may have them)
CREATE SEQUENCE public.fp_seq;
SELECT lives_ok('SELECT migrate.acknowledge_drift()', 'a sequence to change');
SELECT matches(pg_temp.unseen(:'dir', 'CREATE TRIGGER migrated_t BEFORE UPDATE ON public.migrated '
                                      'FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()'),
               ': changed table public\.migrated\.$', 'a trigger added unseen is found');
SELECT matches(pg_temp.unseen(:'dir', 'CREATE RULE migrated_r AS ON DELETE TO public.migrated DO INSTEAD NOTHING'),
               ': changed table public\.migrated\.$', 'a rule added unseen is found');
SELECT matches(pg_temp.unseen(:'dir', 'ALTER SEQUENCE public.fp_seq INCREMENT BY 5'),
               ': changed sequence public\.fp_seq\.$', 'a sequence''s increment changed unseen is found');
SELECT matches(pg_temp.unseen(:'dir', 'DROP TRIGGER migrated_t ON public.migrated; '
                                      'DROP RULE migrated_r ON public.migrated'),
               ': changed table public\.migrated\.$', 'and their removal');

-- ---- every kind of object the fingerprint reads, changed unseen ------------
-- (src/fingerprint.c reads each from the catalogs: columns, constraints,
-- policies, parents, partition bounds, views, functions, aggregates,
-- domains, enums, schemas, extensions; with one user schema and with two)
CREATE TABLE public.fp_parent (p int);
CREATE TABLE public.fp_t (a int, b text, p int);
CREATE TABLE public.fp_part (k int) PARTITION BY RANGE (k);
CREATE TABLE public.fp_part_1 PARTITION OF public.fp_part FOR VALUES FROM (0) TO (10);
CREATE VIEW public.fp_view AS SELECT 1 AS one;
CREATE FUNCTION public.fp_fn(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1';
CREATE AGGREGATE public.fp_agg(integer) (sfunc = int4pl, stype = integer);
CREATE DOMAIN public.fp_dom AS integer;
CREATE TYPE public.fp_enum AS ENUM ('a');
SELECT lives_ok('SELECT migrate.acknowledge_drift()', 'objects of every kind to change');
SELECT results_eq(
    format($$SELECT regexp_replace(d, '^.*\): ', '') FROM unnest(ARRAY[
        pg_temp.unseen(%1$L, 'ALTER TABLE public.fp_t ALTER COLUMN b TYPE varchar(20)'),
        pg_temp.unseen(%1$L, 'ALTER TABLE public.fp_t ALTER COLUMN a SET NOT NULL'),
        pg_temp.unseen(%1$L, 'ALTER TABLE public.fp_t ALTER COLUMN b SET DEFAULT ''x'''),
        pg_temp.unseen(%1$L, 'ALTER TABLE public.fp_t RENAME COLUMN a TO a2'),
        pg_temp.unseen(%1$L, 'ALTER TABLE public.fp_t ADD CONSTRAINT fp_t_check CHECK (a2 > 0)'),
        pg_temp.unseen(%1$L, 'ALTER TABLE public.fp_t ENABLE ROW LEVEL SECURITY'),
        pg_temp.unseen(%1$L, 'CREATE POLICY fp_p ON public.fp_t USING (a2 > 1)'),
        pg_temp.unseen(%1$L, 'ALTER POLICY fp_p ON public.fp_t USING (a2 > 2)'),
        pg_temp.unseen(%1$L, 'ALTER TABLE public.fp_t INHERIT public.fp_parent'),
        pg_temp.unseen(%1$L, 'ALTER TABLE public.fp_part DETACH PARTITION public.fp_part_1; '
                             'ALTER TABLE public.fp_part ATTACH PARTITION public.fp_part_1 FOR VALUES FROM (0) TO (20)'),
        pg_temp.unseen(%1$L, 'CREATE OR REPLACE VIEW public.fp_view AS SELECT 2 AS one'),
        pg_temp.unseen(%1$L, 'CREATE OR REPLACE FUNCTION public.fp_fn(integer) RETURNS integer LANGUAGE sql AS ''SELECT $1 + 1'''),
        pg_temp.unseen(%1$L, 'DROP AGGREGATE public.fp_agg(integer); '
                             'CREATE AGGREGATE public.fp_agg(integer) (sfunc = int4pl, stype = integer, initcond = ''0'')'),
        pg_temp.unseen(%1$L, 'ALTER DOMAIN public.fp_dom ADD CONSTRAINT fp_dom_pos CHECK (VALUE > 0)'),
        pg_temp.unseen(%1$L, 'ALTER TYPE public.fp_enum ADD VALUE ''b'''),
        pg_temp.unseen(%1$L, 'CREATE EXTENSION citext'),
        pg_temp.unseen(%1$L, 'CREATE SCHEMA fp_schema'),
        pg_temp.unseen(%1$L, 'CREATE FUNCTION fp_schema.fp_fn2() RETURNS int LANGUAGE sql AS ''SELECT 1'''),
        pg_temp.unseen(%1$L, 'ALTER TABLE public.fp_t ALTER COLUMN b DROP DEFAULT'),
        pg_temp.unseen(%1$L, 'CREATE OR REPLACE VIEW public.fp_view AS SELECT 2 AS one')]) d$$, :'dir'),
    $$VALUES ('changed table public.fp_t.'), ('changed table public.fp_t.'), ('changed table public.fp_t.'),
             ('changed table public.fp_t.'), ('changed table public.fp_t.'), ('changed table public.fp_t.'),
             ('changed table public.fp_t.'), ('changed table public.fp_t.'), ('changed table public.fp_t.'),
             ('changed table public.fp_part_1.'), ('changed view public.fp_view.'),
             ('changed function public.fp_fn(integer).'), ('changed aggregate public.fp_agg(integer).'),
             ('changed domain public.fp_dom.'), ('changed type public.fp_enum.'),
             ('added extension citext.'), ('added schema fp_schema.'), ('added function fp_schema.fp_fn2().'),
             ('changed table public.fp_t.'), ('no change found')$$,
    'a column''s type, NOT NULL, default and name, a constraint, row security, a policy and its change, '
    'a parent, a partition bound, a view, a function, an aggregate, a domain, an enum, an extension '
    '(not its members), a schema and a function in a second schema: each change is found, and only it');

-- ---- a broken trigger condition is a warning, the DDL succeeds --------------
ALTER TABLE migrate.drift ADD COLUMN broken int;
SELECT lives_ok('CREATE TABLE public.despite_broken (a int)', 'DDL succeeds while migrate.drift cannot take rows');
SELECT has_table('public', 'despite_broken', 'and its table exists');
ALTER TABLE migrate.drift DROP COLUMN broken;
CREATE TABLE public.recorded_again (a int);
SELECT is((SELECT object_identity FROM migrate.drift ORDER BY id DESC LIMIT 1), 'public.recorded_again',
          'with the column gone again, recording goes on');
-- the table gone altogether (out of the extension first, as a DBA would have to)
ALTER EXTENSION migrate DROP TABLE migrate.drift;
ALTER TABLE migrate.drift RENAME TO drift_moved;
SELECT lives_ok('DROP TABLE public.despite_broken', 'DDL succeeds with migrate.drift gone');
SELECT hasnt_table('public', 'despite_broken', 'and did what it said');

SELECT * FROM finish();
ROLLBACK;
