-- What the linter says, as a DBA sees it in psql: one example per rule
-- (the README shows these), the dry run's findings with the plan, apply's
-- warnings, and the error that stops a run with migrate.lint = error.
-- (Behaviour is tested by test/lint_*.sql; this pins the wording.)
CREATE EXTENSION migrate;
SET client_min_messages = warning;
SET migrate.lint_large_table = '64kB';
CREATE TABLE customers (id bigint PRIMARY KEY);
INSERT INTO customers SELECT g FROM generate_series(1, 1000) g;
CREATE TABLE orders (id int PRIMARY KEY, customer_id bigint, total numeric,
                     note varchar(100), status text, created_at timestamptz);
INSERT INTO orders SELECT g, g % 1000 + 1, g, 'n', 'paid', '2024-01-01' FROM generate_series(1, 5000) g;
CREATE INDEX orders_status_idx ON orders (status);
CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(total) FROM orders GROUP BY 1;
CREATE TYPE order_state AS ENUM ('new', 'paid');
VACUUM ANALYZE customers, orders, order_totals;
SELECT FROM migrate.stage('shop', 'V1__tables.sql', $$CREATE TABLE refunds (id serial PRIMARY KEY, at timestamp, currency char(3));
CREATE INDEX refunds_at_idx ON refunds (at);
$$);
SELECT FROM migrate.stage('shop', 'V2__orders.sql', $$CREATE INDEX orders_created_idx ON orders (created_at);
DROP INDEX orders_status_idx;
REINDEX TABLE orders;
ALTER TABLE orders ADD COLUMN uid uuid DEFAULT gen_random_uuid();
ALTER TABLE orders ADD COLUMN region text NOT NULL;
ALTER TABLE orders ALTER COLUMN total TYPE float8;
ALTER TABLE orders ALTER COLUMN note SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0);
ALTER TABLE orders ADD CONSTRAINT orders_note_key UNIQUE (note);
ALTER TABLE customers ADD COLUMN email text, ADD PRIMARY KEY (email);
ALTER TABLE orders SET UNLOGGED;
VACUUM FULL orders;
CLUSTER orders USING orders_pkey;
REFRESH MATERIALIZED VIEW order_totals;
LOCK TABLE orders IN SHARE MODE;
ALTER TABLE orders DROP COLUMN status;
DROP TABLE customers;
ALTER TABLE orders RENAME TO purchases;
ALTER TABLE purchases RENAME COLUMN note TO remark;
ALTER TYPE order_state RENAME VALUE 'paid' TO 'settled';
UPDATE purchases SET total = 0;
DELETE FROM purchases;
$$);
\x on
SELECT * FROM migrate.lint('shop');
\x off
-- the same, as apply's dry run prints it with the plan
RESET client_min_messages;
SELECT FROM migrate.stage('small', 'V1__index.sql', E'CREATE INDEX orders_total_idx ON orders (total);\n');
SELECT FROM migrate.stage('small', 'V2__both.sql', $$-- migrate:lint-ignore create_index -- built off-peak

CREATE INDEX orders_note_idx ON orders (note);
ALTER TABLE orders ALTER COLUMN note SET NOT NULL;
$$);
CALL migrate.apply('small', dry_run => true);
-- migrate.lint = error: nothing runs
SET migrate.lint = error;
CALL migrate.apply('small');
SELECT count(*) AS applied FROM migrate.history;

RESET migrate.lint;
DROP EXTENSION migrate;
DROP MATERIALIZED VIEW order_totals;
DROP TABLE customers, orders;
