-- The timestamped layout: <YYYYMMDD_HHMMSS>_<name>.sql with
-- <YYYYMMDD_HHMMSS>_<name>_rollback.sql as its undo script.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_timestamped') AS d \gset

SELECT plan(5);

SELECT results_eq(
    format('SELECT layout, version, description, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('timestamped', '20240131120000', 'create accounts', 'versioned', '20240131_120000_create_accounts.sql'),
             ('timestamped', '20240131120000', 'create accounts', 'undo', '20240131_120000_create_accounts_rollback.sql'),
             ('timestamped', '20240207153000', 'create invoices', 'versioned', '20240207_153000_create_invoices.sql'),
             ('timestamped', '20240207153000', 'create invoices', 'undo', '20240207_153000_create_invoices_rollback.sql'),
             ('timestamped', '20240212090000', 'add account status', 'versioned', '20240212_090000_add_account_status.sql'),
             ('timestamped', '20240212090000', 'add account status', 'undo', '20240212_090000_add_account_status_rollback.sql')$$,
    'the 14 digits of the timestamp are the version; _rollback files are undo scripts');

CALL migrate.apply(:'d', target => '20240207153000');

SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('20240131120000', 'applied'), ('20240207153000', 'applied'), ('20240212090000', 'pending')$$,
    'target stops at a timestamp version');

CALL migrate.apply(:'d');

SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('20240131120000', 'applied'), ('20240207153000', 'applied'), ('20240212090000', 'applied')$$,
    'the rest applies next');

SELECT has_column('public', 'accounts', 'status', 'accounts has its status column');
SELECT has_index('public', 'invoices', 'invoices_account_id_idx', 'invoices index created');

SELECT * FROM finish();
