-- migrate.adopt('flyway'): flyway_schema_history becomes our history.
\i test/include/layouts.psql
SELECT pg_temp.fx('adopt_flyway') AS d \gset

SELECT plan(14);

-- the database as Flyway left it: V1, V1.1, V2 and both repeatables ran,
-- V3 failed once; R__customer_count.sql changed since Flyway ran it
CALL migrate.apply(:'d', target => '2', track => 'setup');
DELETE FROM migrate.history WHERE track = 'setup';
CREATE VIEW customer_names AS SELECT id, name FROM customers;
CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");
INSERT INTO flyway_schema_history VALUES
 (1, '1', 'create customers', 'SQL', 'V1__create_customers.sql', 1425989718, 'app', '2024-01-31 12:00:01', 12, true),
 (2, '1.1', 'seed customers', 'SQL', 'V1.1__seed_customers.sql', 2046521881, 'app', '2024-01-31 12:00:02', 3, true),
 (3, '2', 'add customer email', 'SQL', 'V2__add_customer_email.sql', 1963055688, 'app', '2024-02-02 09:00:00', 5, true),
 (4, NULL, 'customer names', 'SQL', 'R__customer_names.sql', -1982825731, 'app', '2024-02-02 09:00:01', 2, true),
 (5, NULL, 'customer count', 'SQL', 'R__customer_count.sql', 1234567, 'app', '2024-02-02 09:00:01', 2, true),
 (6, '3', 'create orders', 'SQL', 'V3__create_orders.sql', 357457387, 'app', '2024-02-09 09:00:00', 2, false);
SELECT md5(string_agg(t::text, ',' ORDER BY installed_rank)) AS before FROM flyway_schema_history t \gset

SELECT is(migrate.adopt('flyway', dir => :'d'), 4, 'adopt returns the number of migrations adopted');
SELECT max(rank) AS adopted FROM migrate.history \gset

SELECT results_eq(
    $$SELECT version, type, description, script, checksum IS NULL, installed_by, installed_on, execution_ms, success
      FROM migrate.history ORDER BY rank$$,
    $$VALUES ('1', 'versioned', 'create customers', 'V1__create_customers.sql', true, 'app', '2024-01-31 12:00:01'::timestamptz, 12::bigint, true),
             ('1.1', 'versioned', 'seed customers', 'V1.1__seed_customers.sql', true, 'app', '2024-01-31 12:00:02', 3, true),
             ('2', 'versioned', 'add customer email', 'V2__add_customer_email.sql', true, 'app', '2024-02-02 09:00:00', 5, true),
             (NULL, 'repeatable', 'customer names', 'sql/R__customer_names.sql', false, 'app', '2024-02-02 09:00:01', NULL, true)$$,
    'successful versions adopted as Flyway recorded them; the unchanged repeatable with our checksum');

SELECT results_eq(
    format('SELECT version, script, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('1', 'sql/V1__create_customers.sql', 'applied'),
             ('1.1', 'sql/V1.1__seed_customers.sql', 'applied'),
             ('2', 'sql/V2__add_customer_email.sql', 'applied'),
             ('3', 'sql/V3__create_orders.sql', 'pending'),
             (NULL, 'sql/R__customer_count.sql', 'pending'),
             (NULL, 'sql/R__customer_names.sql', 'applied')$$,
    'status: adopted versions applied (no checksum is no change), the failed one pending');

CALL migrate.apply(:'d');
SELECT results_eq(
    format('SELECT script FROM migrate.history WHERE rank > %s ORDER BY rank', :adopted),
    $$VALUES ('sql/V3__create_orders.sql'), ('sql/R__customer_count.sql')$$,
    'the next apply runs only what Flyway had not run (and the repeatable that changed)');
SELECT has_table('public', 'orders', 'V3 ran');

SELECT is(md5(string_agg(t::text, ',' ORDER BY installed_rank)), :'before', 'flyway_schema_history is untouched')
FROM flyway_schema_history t;
SELECT is(migrate.adopt('flyway', dir => :'d'), 0, 'adopting twice adds nothing');
SELECT is(count(*)::int, 6, 'no row added') FROM migrate.history;

-- without dir, versions only: repeatables cannot be compared
SELECT is(migrate.adopt('flyway', track => 'plain'), 3, 'without dir the versioned migrations are adopted');

-- a schema-qualified table with a baseline, a schema creation row and an undone version
CREATE SCHEMA legacy;
CREATE TABLE legacy.flyway_schema_history (LIKE public.flyway_schema_history INCLUDING ALL);
INSERT INTO legacy.flyway_schema_history VALUES
 (1, '0', '<< Flyway Schema Creation >>', 'SCHEMA', '"legacy"', NULL, 'app', '2024-01-01 00:00:00', 0, true),
 (2, '1.1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'app', '2024-01-01 00:00:01', 0, true),
 (3, '2', 'add customer email', 'SQL', 'V2__add_customer_email.sql', 1963055688, 'app', '2024-02-02 09:00:00', 5, true),
 (4, '3', 'create orders', 'SQL', 'V3__create_orders.sql', 357457387, 'app', '2024-02-09 09:00:00', 2, true),
 (5, '3', 'create orders', 'UNDO_SQL', 'U3__create_orders.sql', 1, 'app', '2024-02-10 09:00:00', 2, true);
SELECT is(migrate.adopt('flyway', track => 'legacy', history_table => 'legacy.flyway_schema_history'), 2,
          'a table given as schema.table');
SELECT results_eq(
    $$SELECT version, type, description FROM migrate.history WHERE track = 'legacy' ORDER BY rank$$,
    $$VALUES ('1.1', 'baseline', '<< Flyway Baseline >>'), ('2', 'versioned', 'add customer email')$$,
    'the baseline row becomes a baseline, the schema row is skipped, an undone version is not applied');

-- errors
SELECT throws_ok($$SELECT migrate.adopt('flyway', history_table => 'nowhere.flyway_schema_history')$$,
                 '42P01', 'flyway history table nowhere.flyway_schema_history does not exist',
                 'an absent table is refused');
SELECT is(migrate.adopt('flyway', track => 'via_schema', schema => 'legacy'), 2,
          'the default table in another schema, named with schema =>');
SELECT throws_ok($$SELECT migrate.adopt('liquibase')$$, '22023', 'unknown migration tool "liquibase"',
                 'an unknown tool is refused');

SELECT * FROM finish();
