-- Layouts and adopt together with what main added: staged bundles read in
-- any layout, adopt refused on a protected database without confirm.
\i test/include/layouts.psql

SELECT plan(5);

-- a staged bundle of dbmate files: sections over staged text
SELECT migrate.stage('dbm', '20240101000000_create_t.sql',
    E'-- migrate:up\nCREATE TABLE staged_t (id int);\n\n-- migrate:down\nDROP TABLE staged_t;\n');
SELECT results_eq(
    $$SELECT layout, version, type, checksum FROM migrate.scripts('dbm')$$,
    $$VALUES ('dbmate', '20240101000000', 'versioned', pg_temp.sha(E'-- migrate:up\nCREATE TABLE staged_t (id int);\n\n')),
             ('dbmate', '20240101000000', 'undo', pg_temp.sha(E'-- migrate:down\nDROP TABLE staged_t;\n'))$$,
    'a staged bundle is read in its layout, sections and all');
CALL migrate.apply('dbm');
SELECT has_table('public', 'staged_t', 'its up section applied');
CALL migrate.undo('dbm');
SELECT hasnt_table('public', 'staged_t', 'its down section undid it');

-- adopt changes the history: a protected database wants confirm
CREATE TABLE public.schema_migrations (version varchar(128) PRIMARY KEY);
INSERT INTO public.schema_migrations VALUES ('1');
SET migrate.protected = on;
SELECT throws_ok($$SELECT migrate.adopt('dbmate')$$, '55000',
                 format('database "%s" is protected', current_database()),
                 'adopt is refused on a protected database without confirm');
SELECT is(migrate.adopt('dbmate', confirm => current_database()), 1, 'and runs with it');
RESET migrate.protected;

SELECT * FROM finish();
