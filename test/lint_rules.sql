-- The lint rules (SPEC section 10), each on a table with data (large: an
-- error), on one without (an existing empty table: info), and on the
-- kinds of statement the rules allow (a new table, CONCURRENTLY, NOT VALID
-- then VALIDATE, a binary-coercible type change, a constant default, a
-- USING INDEX constraint): no finding.
SET client_min_messages = warning;
-- from 64 kB on a table is large here ("big" is ~250 kB, "empty" 0 bytes)
SET migrate.lint_large_table = '64kB';
SELECT plan(77);

CREATE TABLE big (id int PRIMARY KEY, ref int, n int, note varchar(20), t text);
INSERT INTO big SELECT g, g, g, 'x', 'y' FROM generate_series(1, 5000) g;
CREATE TABLE empty (id int PRIMARY KEY, ref int, n int, note varchar(20), t text);
CREATE INDEX big_n_idx ON big (n);
CREATE INDEX empty_n_idx ON empty (n);
CREATE MATERIALIZED VIEW big_mv AS SELECT * FROM big;
CREATE MATERIALIZED VIEW empty_mv AS SELECT * FROM empty;
CREATE UNIQUE INDEX big_mv_id ON big_mv (id);
CREATE TYPE mood AS ENUM ('sad', 'happy');
ANALYZE big, empty, big_mv;

-- The findings of sql as the only pending migration: "rule severity lock
-- rewrites" per finding, '; '-separated; '' when there is none.
CREATE FUNCTION pg_temp.f(sql text) RETURNS text LANGUAGE sql AS $$
    SELECT migrate.stage('t', 'V1__t.sql', sql);
    SELECT coalesce(string_agg(concat_ws(' ', rule, severity, lock, rewrites::text), '; '
                               ORDER BY line, rule), '')
    FROM migrate.lint_file('t/V1__t.sql');
$$;

-- create_index
SELECT is(pg_temp.f('CREATE INDEX ON big (t);'), 'create_index error ShareLock false', 'create_index: with data, an error');
SELECT is(pg_temp.f('CREATE INDEX ON empty (t);'), 'create_index info ShareLock false', 'create_index: without data, info');
SELECT is(pg_temp.f('CREATE INDEX CONCURRENTLY ON big (t);'), '', 'create_index: CONCURRENTLY is no finding');
SELECT is(pg_temp.f('CREATE TABLE fresh (a int); CREATE INDEX ON fresh (a);'), '', 'create_index: on a new table, none');

-- drop_index
SELECT is(pg_temp.f('DROP INDEX big_n_idx;'), 'drop_index error AccessExclusiveLock false', 'drop_index: with data');
SELECT is(pg_temp.f('DROP INDEX empty_n_idx;'), 'drop_index info AccessExclusiveLock false', 'drop_index: without data');
SELECT is(pg_temp.f('DROP INDEX CONCURRENTLY big_n_idx;'), '', 'drop_index: CONCURRENTLY is no finding');

-- reindex
SELECT is(pg_temp.f('REINDEX TABLE big;'), 'reindex error ShareLock false', 'reindex: a table with data');
SELECT is(pg_temp.f('REINDEX INDEX empty_n_idx;'), 'reindex info ShareLock false', 'reindex: an index of a table without data');
SELECT is(pg_temp.f('REINDEX TABLE CONCURRENTLY big;'), '', 'reindex: CONCURRENTLY is no finding');

-- add_column_volatile_default
SELECT is(pg_temp.f('ALTER TABLE big ADD COLUMN r float8 DEFAULT random();'),
          'add_column_volatile_default error AccessExclusiveLock true', 'volatile default: with data, a rewrite');
SELECT is(pg_temp.f('ALTER TABLE empty ADD COLUMN r float8 DEFAULT random();'),
          'add_column_volatile_default info AccessExclusiveLock true', 'volatile default: without data');
SELECT is(pg_temp.f('ALTER TABLE big ADD COLUMN id2 bigint GENERATED ALWAYS AS IDENTITY;'),
          'add_column_volatile_default error AccessExclusiveLock true', 'an identity column rewrites');
SELECT is(pg_temp.f('ALTER TABLE big ADD COLUMN c int DEFAULT 5;'), '', 'a constant default is no finding');
SELECT is(pg_temp.f('ALTER TABLE big ADD COLUMN c timestamptz DEFAULT now();'), '', 'a stable default is no finding');
SELECT is(pg_temp.f('ALTER TABLE big ADD COLUMN c text;'), '', 'no default: no finding');

-- add_column_not_null
SELECT is(pg_temp.f('ALTER TABLE big ADD COLUMN c int NOT NULL;'),
          'add_column_not_null error AccessExclusiveLock false', 'NOT NULL without a default on rows will fail');
SELECT is(pg_temp.f('ALTER TABLE empty ADD COLUMN c int NOT NULL;'), '', 'NOT NULL without a default on no rows works');
SELECT is(pg_temp.f('ALTER TABLE big ADD COLUMN c int NOT NULL DEFAULT 0;'), '', 'NOT NULL with a constant default is no finding');

-- alter_column_type
SELECT is(pg_temp.f('ALTER TABLE big ALTER COLUMN n TYPE bigint;'),
          'alter_column_type error AccessExclusiveLock true', 'int to bigint: with data, a rewrite');
SELECT is(pg_temp.f('ALTER TABLE empty ALTER COLUMN n TYPE bigint;'),
          'alter_column_type info AccessExclusiveLock true', 'int to bigint: without data');
SELECT is(pg_temp.f('ALTER TABLE big ALTER COLUMN note TYPE varchar(50);'), '', 'varchar(n) to a larger n is no rewrite');
SELECT is(pg_temp.f('ALTER TABLE big ALTER COLUMN note TYPE text;'), '', 'varchar to text is no rewrite');
SELECT is(pg_temp.f('ALTER TABLE big ALTER COLUMN t TYPE varchar;'), '', 'text to varchar is no rewrite');
SELECT is(pg_temp.f('ALTER TABLE big ALTER COLUMN note TYPE varchar(10);'),
          'alter_column_type error AccessExclusiveLock true', 'varchar(n) to a smaller n rewrites');
SELECT is(pg_temp.f('ALTER TABLE big ALTER COLUMN t TYPE int USING t::int;'),
          'alter_column_type error AccessExclusiveLock true', 'a USING expression rewrites');

-- set_not_null
SELECT is(pg_temp.f('ALTER TABLE big ALTER COLUMN n SET NOT NULL;'),
          'set_not_null error AccessExclusiveLock false', 'SET NOT NULL: with data, a scan');
SELECT is(pg_temp.f('ALTER TABLE empty ALTER COLUMN n SET NOT NULL;'),
          'set_not_null info AccessExclusiveLock false', 'SET NOT NULL: without data');
SELECT is(pg_temp.f($$ALTER TABLE big ADD CONSTRAINT big_n_nn CHECK (n IS NOT NULL) NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT big_n_nn;
ALTER TABLE big ALTER COLUMN n SET NOT NULL;$$), '', 'SET NOT NULL after NOT VALID then VALIDATE of a CHECK: no finding');
ALTER TABLE big ADD CONSTRAINT big_ref_nn CHECK (ref IS NOT NULL AND ref > 0);
SELECT is(pg_temp.f('ALTER TABLE big ALTER COLUMN ref SET NOT NULL;'), '',
          'SET NOT NULL proven by a validated CHECK in the catalog: no finding');
SELECT is(pg_temp.f('ALTER TABLE big ALTER COLUMN id SET NOT NULL;'), '', 'SET NOT NULL on a NOT NULL column: no finding');

-- add_foreign_key
SELECT is(pg_temp.f('ALTER TABLE big ADD CONSTRAINT big_ref_fk FOREIGN KEY (ref) REFERENCES big (id);'),
          'add_foreign_key error ShareRowExclusiveLock false', 'FOREIGN KEY: with data, a scan');
SELECT is(pg_temp.f('ALTER TABLE empty ADD FOREIGN KEY (ref) REFERENCES big (id);'),
          'add_foreign_key info ShareRowExclusiveLock false', 'FOREIGN KEY: without data');
SELECT is(pg_temp.f($$ALTER TABLE big ADD CONSTRAINT big_ref_fk FOREIGN KEY (ref) REFERENCES big (id) NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT big_ref_fk;$$), '', 'FOREIGN KEY NOT VALID then VALIDATE: no finding');

-- add_check
SELECT is(pg_temp.f('ALTER TABLE big ADD CONSTRAINT big_n_pos CHECK (n > 0);'),
          'add_check error AccessExclusiveLock false', 'CHECK: with data, a scan');
SELECT is(pg_temp.f('ALTER TABLE empty ADD CHECK (n > 0);'), 'add_check info AccessExclusiveLock false', 'CHECK: without data');
SELECT is(pg_temp.f($$ALTER TABLE big ADD CONSTRAINT big_n_pos CHECK (n > 0) NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT big_n_pos;$$), '', 'CHECK NOT VALID then VALIDATE: no finding');

-- add_unique, add_primary_key
SELECT is(pg_temp.f('ALTER TABLE big ADD UNIQUE (n);'), 'add_unique error AccessExclusiveLock false', 'UNIQUE: with data, an index build');
SELECT is(pg_temp.f('ALTER TABLE empty ADD CONSTRAINT empty_n_key UNIQUE (n);'),
          'add_unique info AccessExclusiveLock false', 'UNIQUE: without data');
SELECT is(pg_temp.f($$CREATE UNIQUE INDEX CONCURRENTLY big_n_key ON big (n);
ALTER TABLE big ADD CONSTRAINT big_n_key UNIQUE USING INDEX big_n_key;$$), '', 'UNIQUE USING INDEX: no finding');
CREATE TABLE nopk (a int NOT NULL, b int);
INSERT INTO nopk SELECT g, g FROM generate_series(1, 5000) g;
ANALYZE nopk;
SELECT is(pg_temp.f('ALTER TABLE nopk ADD PRIMARY KEY (a);'),
          'add_primary_key error AccessExclusiveLock false', 'PRIMARY KEY: with data, an index build');
SELECT is(pg_temp.f($$CREATE UNIQUE INDEX CONCURRENTLY nopk_a ON nopk (a);
ALTER TABLE nopk ADD CONSTRAINT nopk_pkey PRIMARY KEY USING INDEX nopk_a;$$), '',
          'PRIMARY KEY USING INDEX on a NOT NULL column: no finding');
SELECT is(pg_temp.f($$CREATE UNIQUE INDEX CONCURRENTLY nopk_b ON nopk (b);
ALTER TABLE nopk ADD CONSTRAINT nopk_pkey PRIMARY KEY USING INDEX nopk_b;$$),
          'set_not_null error AccessExclusiveLock false',
          'PRIMARY KEY USING INDEX on a nullable column: the NOT NULL it sets scans');

-- table_rewrite
SELECT is(pg_temp.f('ALTER TABLE big SET UNLOGGED;'), 'table_rewrite error AccessExclusiveLock true', 'SET UNLOGGED rewrites');

-- vacuum_full, cluster, refresh_matview, lock_table
SELECT is(pg_temp.f('VACUUM FULL big;'), 'vacuum_full error AccessExclusiveLock true', 'VACUUM FULL: with data');
SELECT is(pg_temp.f('VACUUM (FULL) empty;'), 'vacuum_full info AccessExclusiveLock true', 'VACUUM FULL: without data');
SELECT is(pg_temp.f('VACUUM big;'), '', 'plain VACUUM: no finding');
SELECT is(pg_temp.f('CLUSTER big USING big_pkey;'), 'cluster error AccessExclusiveLock true', 'CLUSTER: with data');
SELECT is(pg_temp.f('CLUSTER empty USING empty_pkey;'), 'cluster info AccessExclusiveLock true', 'CLUSTER: without data');
SELECT is(pg_temp.f('REFRESH MATERIALIZED VIEW big_mv;'), 'refresh_matview error AccessExclusiveLock true', 'REFRESH: with data');
SELECT is(pg_temp.f('REFRESH MATERIALIZED VIEW empty_mv;'), 'refresh_matview info AccessExclusiveLock true', 'REFRESH: without data');
SELECT is(pg_temp.f('REFRESH MATERIALIZED VIEW CONCURRENTLY big_mv;'), '', 'REFRESH CONCURRENTLY: no finding');
SELECT is(pg_temp.f('LOCK TABLE big;'), 'lock_table error AccessExclusiveLock false', 'LOCK TABLE: with data');
SELECT is(pg_temp.f('LOCK TABLE empty IN SHARE MODE;'), 'lock_table info ShareLock false', 'LOCK TABLE: without data');

-- backward-incompatible changes: warnings, whatever the size; none on a new table
SELECT is(pg_temp.f('ALTER TABLE big DROP COLUMN t;'), 'drop_column warning AccessExclusiveLock false', 'DROP COLUMN: with data');
SELECT is(pg_temp.f('ALTER TABLE empty DROP COLUMN t;'), 'drop_column warning AccessExclusiveLock false', 'DROP COLUMN: without data');
SELECT is(pg_temp.f('DROP TABLE big;'), 'drop_table warning AccessExclusiveLock false', 'DROP TABLE: with data');
SELECT is(pg_temp.f('DROP TABLE IF EXISTS empty, nothing_here;'), 'drop_table warning AccessExclusiveLock false', 'DROP TABLE: without data');
SELECT is(pg_temp.f('ALTER TABLE big RENAME TO big2;'), 'rename_table warning AccessExclusiveLock false', 'RENAME of a table');
SELECT is(pg_temp.f('ALTER TABLE empty RENAME COLUMN t TO t2;'), 'rename_column warning AccessExclusiveLock false', 'RENAME of a column');
SELECT is(pg_temp.f('ALTER TYPE mood RENAME VALUE ''sad'' TO ''blue'';'), 'rename_enum_value warning false', 'RENAME VALUE of an enum');
SELECT is(pg_temp.f($$CREATE TYPE mood2 AS ENUM ('a');
ALTER TYPE mood2 RENAME VALUE 'a' TO 'b';
CREATE TABLE fresh (a int, b int);
ALTER TABLE fresh DROP COLUMN b;
ALTER TABLE fresh RENAME COLUMN a TO c;
ALTER TABLE fresh RENAME TO fresh2;
ALTER TABLE fresh2 ADD COLUMN d int NOT NULL;
DROP TABLE fresh2;$$), '', 'on a new table or type none of these is a finding');

-- update_without_where, delete_without_where: on a large table only
SELECT is(pg_temp.f('UPDATE big SET n = n + 1;'), 'update_without_where warning RowExclusiveLock false', 'UPDATE without WHERE: with data');
SELECT is(pg_temp.f('UPDATE empty SET n = n + 1;'), '', 'UPDATE without WHERE: without data, none');
SELECT is(pg_temp.f('DELETE FROM big;'), 'delete_without_where warning RowExclusiveLock false', 'DELETE without WHERE: with data');
SELECT is(pg_temp.f('DELETE FROM empty;'), '', 'DELETE without WHERE: without data, none');
SELECT is(pg_temp.f('UPDATE big SET n = 0 WHERE id < 10;'), '', 'UPDATE with WHERE: none');

-- type advice (squawk's), info even on a new table
SELECT is(pg_temp.f('CREATE TABLE typed (id int PRIMARY KEY, at timestamp, code char(3), n serial);'),
          'char_type info false; int_primary_key info false; serial info false; timestamp_without_time_zone info false',
          'int primary key, timestamp, char(n), serial');
SELECT is(pg_temp.f('CREATE TABLE typed (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz, code text);'),
          '', 'bigint identity, timestamptz, text: no advice');
SELECT is(pg_temp.f('ALTER TABLE empty ADD COLUMN at timestamp;'), 'timestamp_without_time_zone info false',
          'the advice applies to ADD COLUMN too');

-- what an earlier pending migration creates is new and empty
SELECT migrate.stage('two', 'V1__create.sql', 'CREATE TABLE public.later (a int);');
SELECT migrate.stage('two', 'V2__index.sql', 'CREATE INDEX ON later (a); ALTER TABLE later ALTER COLUMN a TYPE bigint;');
SELECT is((SELECT count(*) FROM migrate.lint('two')), 0::bigint, 'a table an earlier pending migration creates is new');

-- PostgreSQL 18: NOT NULL constraints of their own, which may be NOT VALID
SELECT CASE WHEN current_setting('server_version_num')::int >= 180000 THEN
    is(pg_temp.f($$ALTER TABLE big ADD CONSTRAINT big_t_nn NOT NULL t NOT VALID;
ALTER TABLE big VALIDATE CONSTRAINT big_t_nn;
ALTER TABLE big ALTER COLUMN t SET NOT NULL;$$), '', '18: NOT NULL NOT VALID, then VALIDATE: no finding')
    ELSE skip('PostgreSQL 18 has NOT VALID not-null constraints', 1) END;
SELECT CASE WHEN current_setting('server_version_num')::int >= 180000 THEN
    is(pg_temp.f('ALTER TABLE big ADD CONSTRAINT big_t_nn NOT NULL t;'),
       'set_not_null error AccessExclusiveLock false', '18: ADD CONSTRAINT ... NOT NULL scans like SET NOT NULL')
    ELSE skip('PostgreSQL 18 has not-null constraints of their own', 1) END;
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 180000 THEN
        EXECUTE 'ALTER TABLE big ADD CONSTRAINT big_t_nn NOT NULL t NOT VALID';
    END IF;
END $$;
SELECT CASE WHEN current_setting('server_version_num')::int >= 180000 THEN
    is(pg_temp.f('ALTER TABLE big ALTER COLUMN t SET NOT NULL;'),
       'set_not_null error AccessExclusiveLock false',
       '18: a NOT VALID not-null constraint sets attnotnull, but SET NOT NULL still scans to validate it')
    ELSE skip('PostgreSQL 18 has NOT VALID not-null constraints', 1) END;

-- the columns of a finding
SELECT migrate.stage('t', 'V1__t.sql', E'-- an index\n\nCREATE INDEX big_t_idx\n    ON public.big (t);\n');
SELECT results_eq(
    $$SELECT script, line, statement, rule, severity, relation, relation_bytes > 100000, estimated_rows, lock, rewrites
      FROM migrate.lint_file('t/V1__t.sql')$$,
    $$VALUES ('t/V1__t.sql', 3, 'CREATE INDEX big_t_idx', 'create_index', 'error', 'public.big', true, 5000::bigint,
              'ShareLock', false)$$,
    'script, line, first line of the statement, relation, its size and rows, lock');
SELECT alike((SELECT message FROM migrate.lint_file('t/V1__t.sql')),
            'CREATE INDEX on public.big (% kB, ~5000 rows) blocks writes to it while the index builds',
            'the message names the relation and its size in human units');
SELECT is((SELECT hint FROM migrate.lint_file('t/V1__t.sql')),
          E'CREATE INDEX CONCURRENTLY big_t_idx\n    ON public.big (t);',
          'the hint is the statement with CONCURRENTLY');

SELECT * FROM finish();
