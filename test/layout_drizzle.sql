-- Drizzle Kit: NNNN_<name>.sql in the order of meta/_journal.json,
-- statements separated by "--> statement-breakpoint" lines.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_drizzle') AS d \gset
SELECT pg_temp.fx('layout_cases') AS c \gset

SELECT plan(13);

SELECT results_eq(
    format('SELECT layout, version, description, type, script FROM migrate.scripts(%L)', :'d'),
    $$VALUES ('drizzle', '0', 'brave wolf', 'versioned', '0000_brave_wolf.sql'),
             ('drizzle', '1', 'tidy kestrel', 'versioned', '0001_tidy_kestrel.sql')$$,
    'the journal''s entries are the migrations, its position the version; meta/*.json are no scripts');

CALL migrate.apply(:'d');

SELECT results_eq(
    format('SELECT version, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('0', 'applied'), ('1', 'applied')$$,
    'apply runs them in journal order');

SELECT fk_ok('public', 'posts', 'author_id', 'public', 'users', 'id',
             'the DO block after a breakpoint ran');
SELECT has_index('public', 'users', 'users_email_idx',
                 'a statement after ";--> statement-breakpoint" on the same line ran');

-- without a journal, the NNNN_ files are Drizzle's, their number the version
SELECT results_eq(
    format('SELECT layout, version, script FROM migrate.scripts(%L)', :'c' || '/drizzle_nojournal'),
    $$VALUES ('drizzle', '0', '0000_brave_wolf.sql'), ('drizzle', '1', '0001_tidy_kestrel.sql')$$,
    'without meta/_journal.json the file numbers are the versions');

-- a .sql file the journal does not list is never run by Drizzle: ignored
DROP TABLE public.posts, public.users;
CALL migrate.apply(:'c' || '/drizzle_unlisted', track => 'unlisted');
SELECT results_eq(
    format('SELECT version, script, state FROM migrate.status(%L, %L)', :'c' || '/drizzle_unlisted', 'unlisted'),
    $$VALUES ('0', '0000_brave_wolf.sql', 'applied'), ('1', '0001_tidy_kestrel.sql', 'applied'),
             (NULL, '0002_hand_written.sql', 'ignored')$$,
    'the journal''s migrations apply; the unlisted file is an ignored row');
SELECT hasnt_table('public', 'extra', 'the unlisted file never ran');
SELECT is((SELECT description FROM migrate.status(:'c' || '/drizzle_unlisted', 'unlisted') WHERE state = 'ignored'),
          'Drizzle runs only the migrations that meta/_journal.json lists', 'its row says why');
SELECT results_eq(
    format('SELECT type, script FROM migrate.scripts(%L) WHERE version IS NULL', :'c' || '/drizzle_unlisted'),
    $$VALUES ('ignored', '0002_hand_written.sql')$$,
    'scripts() lists the ignored file');

-- "--> statement-breakpoint" ends a statement even without a ';' before it
CALL migrate.apply(:'c' || '/drizzle_breakpoint', track => 'breakpoint');
SELECT has_table('public', 'nests', 'the statement after a breakpoint without '';'' ran on its own');
SELECT has_index('public', 'nests', 'nests_owl_idx', 'and the one after it');

-- a journal entry whose file is gone
SELECT is(pg_temp.error_of(format('SELECT * FROM migrate.scripts(%L)', :'c' || '/drizzle_missing')),
          'Drizzle migration "0001_tidy_kestrel.sql" is missing', 'a journal entry without its file is an error');
SELECT is(pg_temp.error_of(format('SELECT * FROM migrate.scripts(%L)', :'c' || '/drizzle_missing'), 'detail'),
          'Entry 1 of meta/_journal.json names it.', 'the detail names the journal entry');

SELECT * FROM finish();
