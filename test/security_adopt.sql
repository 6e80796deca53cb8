-- Security (issue 11, item 6): adopt reads the old tool's table by schema
-- and name, never through search_path; only an ordinary or partitioned
-- table; only one owned by the caller or a role it is a member of, unless
-- a superuser says trust_table_owner => true.
BEGIN;
SET client_min_messages = warning;
SELECT plan(12);

CREATE TABLE public.calls (what text);
GRANT ALL ON public.calls TO PUBLIC;

-- a trojan: a view named like Flyway's table, earlier on the path, whose
-- column runs a function with the rights of whoever reads it
CREATE SCHEMA evil;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
CREATE FUNCTION evil.spy() RETURNS text LANGUAGE sql AS
  $$ INSERT INTO public.calls VALUES (current_user) RETURNING '1' $$;
CREATE VIEW evil.flyway_schema_history AS
SELECT 1 AS installed_rank, evil.spy()::varchar AS version, 'x'::varchar AS description,
       'SQL'::varchar AS type, 'V1__x.sql'::varchar AS script, 0 AS checksum,
       'app'::varchar AS installed_by, now()::timestamp AS installed_on, 1 AS execution_time,
       true AS success;

SET search_path = evil, public;
SELECT throws_ok($$SELECT migrate.adopt('flyway')$$, '42P01',
                 'flyway history table public.flyway_schema_history does not exist',
                 'the default table is looked for in public, not through search_path');
RESET search_path;
SELECT is((SELECT count(*)::int FROM public.calls), 0, 'the view earlier on the path was never read');

SELECT throws_ok($$SELECT migrate.adopt('flyway', schema => 'evil')$$, '42809',
                 'flyway history table evil.flyway_schema_history is a view',
                 'a view is refused');
SELECT throws_ok($$SELECT migrate.adopt('flyway', history_table => 'evil.flyway_schema_history')$$, '42809',
                 'flyway history table evil.flyway_schema_history is a view',
                 'a view named with history_table is refused');
SELECT is((SELECT count(*)::int FROM public.calls), 0, 'no function of the view ran');

-- the real table, in the schema Flyway was told to use
CREATE SCHEMA app;
CREATE TABLE app.flyway_schema_history (
    installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
    type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int,
    installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
    execution_time int NOT NULL, success boolean NOT NULL);
INSERT INTO app.flyway_schema_history VALUES
 (1, '1', 'one', 'SQL', 'V1__one.sql', 1, 'app', '2024-01-31 12:00:01', 3, true),
 (2, '2', 'two', 'SQL', 'V2__two.sql', 2, 'app', '2024-01-31 12:00:02', 4, true);
SELECT is(migrate.adopt('flyway', track => 'app', schema => 'app'), 2, 'schema => names the schema');

-- a partitioned table is a table
CREATE TABLE public.schema_migrations (version varchar(128) NOT NULL) PARTITION BY LIST (version);
CREATE TABLE public.schema_migrations_all PARTITION OF public.schema_migrations DEFAULT;
INSERT INTO public.schema_migrations VALUES ('20240131120000');
SELECT is(migrate.adopt('dbmate', track => 'part'), 1, 'a partitioned table is read');

-- a table owned by a role the caller is not a member of
CREATE ROLE sec_adopt_owner;
CREATE ROLE sec_adopt_caller;
GRANT USAGE ON SCHEMA migrate, app TO sec_adopt_caller;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO sec_adopt_caller;
GRANT SELECT ON migrate.history TO sec_adopt_caller;
CREATE TABLE app.other_history (LIKE app.flyway_schema_history);
INSERT INTO app.other_history SELECT * FROM app.flyway_schema_history;
ALTER TABLE app.other_history OWNER TO sec_adopt_owner;
GRANT SELECT ON app.other_history TO PUBLIC;

SELECT throws_ok($$SELECT migrate.adopt('flyway', track => 'su', history_table => 'app.other_history')$$,
                 '42501', 'flyway history table app.other_history belongs to role "sec_adopt_owner"',
                 'a superuser does not read another role''s table unasked');
SELECT is(migrate.adopt('flyway', track => 'su', history_table => 'app.other_history',
                        trust_table_owner => true), 2,
          'a superuser reads it with trust_table_owner => true');

SET ROLE sec_adopt_caller;
SELECT throws_ok($$SELECT migrate.adopt('flyway', track => 'c', history_table => 'app.other_history',
                                        trust_table_owner => true)$$,
                 '42501', 'flyway history table app.other_history belongs to role "sec_adopt_owner"',
                 'a role that is not a member of the owner cannot, trust_table_owner or not');
RESET ROLE;
GRANT sec_adopt_owner TO sec_adopt_caller;
SET ROLE sec_adopt_caller;
SELECT is(migrate.adopt('flyway', track => 'c', history_table => 'app.other_history'), 2,
          'a member of the owner reads it');
RESET ROLE;
SELECT is((SELECT installed_by FROM migrate.history WHERE track = 'c' LIMIT 1), 'app',
          'the old tool''s installed_by is kept');

SELECT * FROM finish();
ROLLBACK;
