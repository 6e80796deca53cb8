-- Flyway names stay the default layout: V, U and R files.  A misnamed
-- .sql file is refused (never ignored), named in status, and the error
-- says the name it probably meant; a missing undo script's hint names the
-- file to create.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_flyway') AS d \gset
SELECT pg_temp.fx('layout_cases') AS c \gset

SELECT plan(14);

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

-- a misnamed file: a status row, and apply's error says what it meant
SELECT results_eq(
    format('SELECT version, description, script, state FROM migrate.status(%L, %L)', :'c' || '/misnamed_flyway', 'mis'),
    $$VALUES ('1', 'one', 'V1__one.sql', 'pending'),
             (NULL, 'probably meant V5__add.sql', 'V5_add.sql', 'misnamed')$$,
    'status lists the misnamed file, and the name it probably meant');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'c' || '/misnamed_flyway', 'mis')),
          'migration file "V5_add.sql" is misnamed', 'apply refuses it');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'c' || '/misnamed_flyway', 'mis'), 'detail'),
          'File "V5_add.sql" is misnamed: it fits no migration name pattern; it was probably meant to be "V5__add.sql".',
          'the detail says the name it probably meant');
SELECT alike(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'c' || '/misnamed_flyway', 'mis'), 'hint'),
             'Rename it to V5__add.sql. Name versioned migrations %',
             'the hint says how to rename it');

-- the names a misnamed file probably meant
SELECT pg_temp.work_dir('guesses') AS g \gset
SELECT pg_temp.write_file(:'g' || '/' || n, 'SELECT 1;')
  FROM unnest(ARRAY['v6__lower.sql', 'V7__upper.SQL', 'V8-dash.sql', 'V9.1_minor.sql', '10__no_prefix.sql',
                    'R_view.sql', 'notes.sql', 'sub/U11_undo.sql']) n;
SELECT results_eq(
    format('SELECT script, description FROM migrate.status(%L, %L) WHERE state = %L ORDER BY script COLLATE "C"',
           :'g', 'guess', 'misnamed'),
    $$VALUES ('10__no_prefix.sql', 'probably meant V10__no_prefix.sql'),
             ('R_view.sql', 'probably meant R__view.sql'),
             ('V7__upper.SQL', 'probably meant V7__upper.sql'),
             ('V8-dash.sql', 'probably meant V8__dash.sql'),
             ('V9.1_minor.sql', 'probably meant V9.1__minor.sql'),
             ('notes.sql', ''),
             ('sub/U11_undo.sql', 'probably meant sub/U11__undo.sql'),
             ('v6__lower.sql', 'probably meant V6__lower.sql')$$,
    'each misnamed file gets the Flyway name it probably meant, when there is one');

-- a missing undo script: the hint names the file to create
SELECT pg_temp.work_dir('noundo') AS u \gset
SELECT pg_temp.write_file(:'u' || '/V4__add_order_notes.sql', 'CREATE TABLE public.order_notes (id int);');
CALL migrate.apply(:'u', track => 'noundo');
SELECT is(pg_temp.error_of(format('CALL migrate.undo(%L, track => %L)', :'u', 'noundo'), 'hint'),
          'Create the missing undo script: U4__add_order_notes.sql.',
          'the hint names the U file to create');
SELECT pg_temp.write_file(:'u' || '/V5__more.sql', 'SELECT 1;');
CALL migrate.apply(:'u', track => 'noundo');
SELECT is(pg_temp.error_of(format('CALL migrate.undo(%L, target => %L, track => %L)', :'u', '0', 'noundo'), 'hint'),
          'Create the missing undo scripts: U5__more.sql and U4__add_order_notes.sql; or undo to a higher target.',
          'with several, every file to create');

-- golang-migrate: its .down.sql
SELECT pg_temp.work_dir('noundo_go') AS ug \gset
SELECT pg_temp.write_file(:'ug' || '/000001_add_x.up.sql', 'CREATE TABLE public.go_x (id int);');
CALL migrate.apply(:'ug', track => 'noundo_go');
SELECT is(pg_temp.error_of(format('CALL migrate.undo(%L, track => %L)', :'ug', 'noundo_go'), 'hint'),
          'Create the missing undo script: 000001_add_x.down.sql.',
          'golang-migrate''s down file is named');

-- a failed undo outside a transaction: the error says it once, and what to
-- do after a failed undo (not "apply again")
CALL migrate.apply(:'c' || '/undo_dirty', track => 'ud');
\set ON_ERROR_STOP 0
CALL migrate.undo(:'c' || '/undo_dirty', track => 'ud');
\set ON_ERROR_STOP 1
SELECT is(pg_temp.error_of(format('CALL migrate.undo(%L, track => %L)', :'c' || '/undo_dirty', 'ud')),
          'migration "V1__accounts.sql" is dirty', 'the next undo refuses the dirty migration');
SELECT is(pg_temp.error_of(format('CALL migrate.undo(%L, track => %L)', :'c' || '/undo_dirty', 'ud'), 'detail'),
          'The undo of migration "V1__accounts.sql" (U1__accounts.sql) stopped part-way: could not create unique '
          'index "ud_account_email_key" (line 2). It ran outside a transaction: its statements up to line 1 were '
          'committed, the last one being "CREATE INDEX CONCURRENTLY ud_account_id_idx ON ud_account (id);"; it left '
          'the invalid index public.ud_account_email_key.',
          'the dirty undo''s error says what happened once');
SELECT is(pg_temp.error_of(format('CALL migrate.undo(%L, track => %L)', :'c' || '/undo_dirty', 'ud'), 'hint'),
          'Repair the database by hand: the undo stopped part-way and runs again from its first statement, so redo '
          'what its committed statements undid, or make them idempotent (e.g. DROP INDEX CONCURRENTLY IF EXISTS). '
          'Then run SELECT migrate.repair(dir), which leaves the migration applied, and undo again.',
          'its hint says what to do after a failed undo');

SELECT * FROM finish();
