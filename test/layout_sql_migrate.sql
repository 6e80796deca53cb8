-- sql-migrate (github.com/rubenv/sql-migrate): any .sql file at the top of
-- the directory with "-- +migrate Up" / "-- +migrate Down" sections, named
-- and ordered as sql-migrate does; StatementBegin/StatementEnd blocks are
-- one statement; "notransaction" runs the section outside a transaction; a
-- file without a Down section has an empty undo.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_sql_migrate') AS d \gset
SELECT pg_temp.fx('layout_cases') AS c \gset

SELECT plan(20);

-- the whole context of the error a command raises
CREATE FUNCTION pg_temp.context_of(cmd text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE ctx text;
BEGIN
    EXECUTE cmd;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
    RETURN ctx;
END $$;

-- the file name is the version (what sql-migrate records in gorp_migrations),
-- in sql-migrate's order: by leading number, not as strings ("10_" < "1_")
SELECT results_eq(
    format('SELECT layout, version, description, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('sql-migrate', '1_create_accounts.sql', 'create accounts', 'versioned', '1_create_accounts.sql'),
             ('sql-migrate', '1_create_accounts.sql', 'create accounts', 'undo', '1_create_accounts.sql'),
             ('sql-migrate', '2_seed_accounts.sql', 'seed accounts', 'versioned', '2_seed_accounts.sql'),
             ('sql-migrate', '2_seed_accounts.sql', 'seed accounts', 'undo', '2_seed_accounts.sql'),
             ('sql-migrate', '10_index_email.sql', 'index email', 'versioned', '10_index_email.sql'),
             ('sql-migrate', '10_index_email.sql', 'index email', 'undo', '10_index_email.sql'),
             ('sql-migrate', '20240301120000-add-notes.sql', 'add-notes', 'versioned', '20240301120000-add-notes.sql'),
             ('sql-migrate', '20240301120000-add-notes.sql', 'add-notes', 'undo', '20240301120000-add-notes.sql'),
             ('sql-migrate', NULL, NULL, 'ignored', 'seeds/dev_accounts.sql')$$,
    'top-level .sql files with "-- +migrate Up" in sql-migrate''s order; a subdirectory''s file is ignored');

SELECT is((SELECT checksum FROM migrate.scripts(:'d') WHERE version = '2_seed_accounts.sql' AND type = 'undo'),
          pg_temp.sha(''), 'a file without a Down section has an empty undo script');

-- a bare number stands for the files that start with it, as sql-migrate's -version
CALL migrate.apply(:'d', target => '2');
SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('1_create_accounts.sql', 'applied'), ('2_seed_accounts.sql', 'applied'),
             ('10_index_email.sql', 'pending'), ('20240301120000-add-notes.sql', 'pending'),
             (NULL, 'ignored')$$,
    'target => ''2'' applies 1_ and 2_; status lists the ignored file');
SELECT is((SELECT description FROM migrate.status(:'d') WHERE state = 'ignored'),
          'sql-migrate reads only the files at the top of the migration directory',
          'the ignored row says why');
SELECT is((SELECT count(*)::int FROM public.sm_accounts WHERE id = 99), 0, 'the ignored file never ran');

-- the StatementBegin block (a function with ';' inside) ran as one statement
UPDATE public.sm_accounts SET email = 'ann@example.org' WHERE id = 1;
SELECT isnt((SELECT updated_at FROM public.sm_accounts WHERE id = 1), NULL,
            'the trigger function of the StatementBegin block works');

-- the rest: "-- +migrate Up notransaction" runs outside a transaction
CALL migrate.apply(:'d');
SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L) WHERE version IS NOT NULL', :'d'),
    $$VALUES ('1_create_accounts.sql', 'applied'), ('2_seed_accounts.sql', 'applied'),
             ('10_index_email.sql', 'applied'), ('20240301120000-add-notes.sql', 'applied')$$,
    'every migration applied');
SELECT has_index('public', 'sm_accounts', 'sm_accounts_email_idx', 'the concurrent index was built');
SELECT is((SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.sm_accounts_email_idx'::regclass),
          true, 'and it is valid');
SELECT is(public.sm_note(1), NULL, 'the function of the second StatementBegin block exists');

-- undo as sql-migrate: newest first, Down sections, an empty undo for 2_
CALL migrate.undo(:'d');
SELECT hasnt_column('public', 'sm_accounts', 'notes', 'undo ran the Down section of the newest');
CALL migrate.undo(:'d');
SELECT hasnt_index('public', 'sm_accounts', 'sm_accounts_email_idx',
                   'undo ran "-- +migrate Down notransaction" (DROP INDEX CONCURRENTLY)');
CALL migrate.undo(:'d');
SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L) WHERE version IS NOT NULL', :'d'),
    $$VALUES ('1_create_accounts.sql', 'applied'), ('2_seed_accounts.sql', 'undone'),
             ('10_index_email.sql', 'undone'), ('20240301120000-add-notes.sql', 'undone')$$,
    'the file without a Down section is undone');
SELECT is((SELECT count(*)::int FROM public.sm_accounts), 2, 'its empty undo ran nothing');
CALL migrate.undo(:'d', target => '0');
SELECT hasnt_table('public', 'sm_accounts', 'undo to 0 ran the first Down section');

-- and again, all the way up
CALL migrate.apply(:'d');
SELECT is((SELECT count(*)::int FROM migrate.status(:'d') WHERE state = 'applied'), 4,
          'applied again after the undo');

-- a StatementBegin block without its StatementEnd is refused, as sql-migrate does
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'c' || '/sql_migrate_unterminated', 'u')),
          '"-- +migrate StatementBegin" at line 2 has no matching "-- +migrate StatementEnd"',
          'an unterminated block is an error naming its line');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'c' || '/sql_migrate_unterminated', 'u'), 'sqlstate'),
          '42601', 'a syntax error');

-- the block is one statement: an error in it names the block's first line
SELECT alike(pg_temp.context_of(format('CALL migrate.apply(%L, track => %L)', :'c' || '/sql_migrate_block_line', 'b')),
             E'SQL statement "INSERT INTO smb VALUES (1);\nINSERT INTO smb VALUES (1 / 0);\n"%migration 1_block.sql, line 4%',
             'an error inside a block is reported for the block, from its first line');

-- undo(version =>) takes the file name
SELECT is(pg_temp.error_of(format('CALL migrate.undo(%L, version => %L)', :'d', 'nope.sql')),
          'migration version nope.sql is not applied on track "main"', 'a name that is no file');

SELECT * FROM finish();
