-- Drizzle Kit: NNNN_<name>.sql in the order of meta/_journal.json,
-- statements separated by "--> statement-breakpoint" lines.
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_drizzle') AS d \gset
SELECT pg_temp.fx('layout_cases') AS c \gset

SELECT plan(10);

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

-- a .sql file the journal does not list is misnamed, not skipped
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/drizzle_unlisted')),
          'migration file "0002_hand_written.sql" is misnamed', 'a file missing from the journal is refused');
SELECT alike(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/drizzle_unlisted'), 'hint'),
            '%meta/_journal.json%', 'the hint says Drizzle migrations are listed in the journal');
SELECT results_eq(
    format('SELECT type, script FROM migrate.scripts(%L) WHERE type = ''misnamed''', :'c' || '/drizzle_unlisted'),
    $$VALUES ('misnamed', '0002_hand_written.sql')$$,
    'scripts() lists the misnamed file');

-- a journal entry whose file is gone
SELECT is(pg_temp.error_of(format('SELECT * FROM migrate.scripts(%L)', :'c' || '/drizzle_missing')),
          'Drizzle migration "0001_tidy_kestrel.sql" is missing', 'a journal entry without its file is an error');
SELECT is(pg_temp.error_of(format('SELECT * FROM migrate.scripts(%L)', :'c' || '/drizzle_missing'), 'detail'),
          'Entry 1 of meta/_journal.json names it.', 'the detail names the journal entry');

SELECT * FROM finish();
