-- Flyway names stay the default layout: V, U and R files.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_flyway') AS d \gset

SELECT plan(3);

SELECT results_eq(
    format('SELECT layout, version, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('flyway', '1', 'versioned', 'V1__create_customers.sql'),
             ('flyway', '1', 'undo', 'U1__create_customers.sql'),
             ('flyway', '1.1', 'versioned', 'V1.1__seed_customers.sql'),
             ('flyway', '1.1', 'undo', 'U1.1__seed_customers.sql'),
             ('flyway', '2', 'versioned', 'V2__create_orders.sql'),
             ('flyway', '2', 'undo', 'U2__create_orders.sql')$$,
    'V files are versioned, U files undo scripts');

CALL migrate.apply(:'d');

SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('1', 'applied'), ('1.1', 'applied'), ('2', 'applied')$$,
    'apply runs the V files in version order');

SELECT is(count(*)::int, 2, 'the seed migration ran') FROM public.customers;

SELECT * FROM finish();
