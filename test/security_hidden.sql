-- What migrate.run and \i may read below an allowed directory (issue 11,
-- item 10).  An application's tree holds more than migrations: .env,
-- .git/config, config files.  Any of them, run as SQL, ends up in the
-- error's QUERY text.  So a path with a hidden component (a name starting
-- with ".") is refused everywhere, run and \i read only .sql files, and a
-- file to include is kept from being taken for a migration by a name (or
-- a directory) starting with "_".  A non-superuser is not shown where a
-- refused path resolves to.
SET client_min_messages = warning;
\i test/include/files.psql
SELECT pg_temp.fresh_dir('security_hidden') AS d \gset
SELECT pg_temp.fresh_dir('security_hidden_links') AS l \gset
SELECT pg_temp.fresh_dir('security_hidden_run') AS r \gset
SELECT pg_temp.outside() AS out \gset

SELECT plan(26);

SELECT pg_temp.write_file(:'d' || '/.env', E'SECRET=hunter2\n');
SELECT pg_temp.write_file(:'d' || '/.git/config', E'[remote "origin"]\n\turl = https://token@example.com/x\n');
SELECT pg_temp.write_file(:'d' || '/.hidden/V9__hidden.sql', E'CREATE TABLE public.hidden_ran ();\n');
SELECT pg_temp.write_file(:'d' || '/.secret.sql', E'SELECT ''hunter2'';\n');
SELECT pg_temp.write_file(:'d' || '/config.yml', E'password: hunter2\n');
SELECT pg_temp.write_file(:'d' || '/_lib/grants.sql', E'INSERT INTO public.hidden_log VALUES (''grants'');\n');
SELECT pg_temp.write_file(:'d' || '/_seed.sql', E'INSERT INTO public.hidden_log VALUES (''seed'');\n');
SELECT pg_temp.write_file(:'d' || '/V1__init.sql',
    E'CREATE TABLE public.hidden_log (what text);\n\\i _lib/grants.sql\n\\ir _seed.sql\n');
-- links named .sql to them, beside the migration directory
SELECT pg_temp.sh(format('ln -s %s/.env %s/env.sql && ln -s %s/config.yml %s/config.sql', :'d', :'r', :'d', :'r'));

-- the error of a command as "SQLSTATE: message", every field of it checked for the secret
CREATE FUNCTION pg_temp.refusal(cmd text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hnt text; ctx text;
BEGIN
    EXECUTE cmd;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
    IF concat(msg, det, hnt, ctx) ~ 'hunter2|token@' THEN
        RETURN 'the secret leaked: ' || concat_ws(' / ', msg, det, ctx);
    END IF;
    RETURN st || ': ' || msg;
END $$;

-- migrate.run
SELECT is(pg_temp.refusal(format('CALL migrate.run(%L)', :'d' || '/.env')),
          format('42501: migration file "%s/.env" is not a .sql file', :'d'), 'run refuses .env');
SELECT is(pg_temp.refusal(format('CALL migrate.run(%L)', :'d' || '/.git/config')),
          format('42501: migration file "%s/.git/config" is not a .sql file', :'d'), 'run refuses .git/config');
SELECT is(pg_temp.refusal(format('CALL migrate.run(%L)', :'d' || '/config.yml')),
          format('42501: migration file "%s/config.yml" is not a .sql file', :'d'), 'run refuses a file that is not .sql');
SELECT is(pg_temp.refusal(format('CALL migrate.run(%L)', :'d' || '/.secret.sql')),
          format('42501: migration file "%s/.secret.sql" is hidden', :'d'), 'run refuses a hidden .sql file');
SELECT is(pg_temp.refusal(format('CALL migrate.run(%L)', :'d' || '/.hidden/V9__hidden.sql')),
          format('42501: migration file "%s/.hidden/V9__hidden.sql" is hidden', :'d'),
          'run refuses a file in a hidden directory');
SELECT is(pg_temp.refusal(format('CALL migrate.run(%L)', :'r' || '/env.sql')),
          format('42501: migration file "%s/env.sql" is hidden', :'r'), 'run refuses a .sql link to a hidden file');
SELECT is(pg_temp.refusal(format('CALL migrate.run(%L)', :'r' || '/config.sql')),
          format('42501: migration file "%s/config.sql" is not a .sql file', :'r'),
          'run refuses a .sql link to a file that is not .sql');
SELECT is(pg_temp.refusal(format('CALL migrate.run(%L)', :'d' || '/.nope.sql')),
          format('42501: migration file "%s/.nope.sql" is hidden', :'d'),
          'a hidden path that does not exist is refused the same way, not reported missing');
SELECT is(pg_temp.refusal(format('CALL migrate.apply(%L)', :'d' || '/.hidden')),
          format('42501: migration directory "%s/.hidden" is hidden', :'d'), 'apply refuses a hidden directory');
SELECT is(pg_temp.refusal(format('SELECT * FROM migrate.status(%L)', :'d' || '/.git')),
          format('42501: migration directory "%s/.git" is hidden', :'d'), 'so does status');

-- a migration: hidden entries are skipped, files starting with "_" are for \i
SELECT is((SELECT string_agg(script, ',') FROM migrate.scripts(:'d')), 'V1__init.sql',
          'the directory has one migration: nothing hidden, nothing starting with "_", no .yml');
CALL migrate.apply(:'d');
SELECT results_eq('SELECT what FROM public.hidden_log ORDER BY what', ARRAY['grants', 'seed'],
                  '\i and \ir of _-prefixed .sql files run them');
SELECT hasnt_table('public', 'hidden_ran', 'the migration in a hidden directory was not run');
CALL migrate.run(:'d' || '/_seed.sql');
SELECT is((SELECT count(*)::int FROM public.hidden_log WHERE what = 'seed'), 2, 'run reads a _-prefixed .sql file');

-- \i and \ir of what run refuses
SELECT pg_temp.write_file(:'l' || '/V1__env.sql', E'\\ir ../security_hidden/.env\n');
SELECT is(pg_temp.refusal(format('CALL migrate.apply(%L, track => ''links'')', :'l')),
          format('42501: migration file "%s/.env" is not a .sql file', :'d'),
          '\ir of .env is refused');
SELECT pg_temp.write_file(:'l' || '/V1__env.sql', E'\\i ' || :'d' || E'/.git/config\n');
SELECT is(pg_temp.refusal(format('CALL migrate.apply(%L, track => ''links'')', :'l')),
          format('42501: migration file "%s/.git/config" is not a .sql file', :'d'), '\i of .git/config is refused');
SELECT pg_temp.write_file(:'l' || '/V1__env.sql', E'\\i ' || :'d' || E'/.hidden/V9__hidden.sql\n');
SELECT is(pg_temp.refusal(format('CALL migrate.apply(%L, track => ''links'')', :'l')),
          format('42501: migration file "%s/.hidden/V9__hidden.sql" is hidden', :'d'), '\i of a hidden .sql file is refused');
SELECT pg_temp.write_file(:'l' || '/V1__env.sql', E'\\i ' || :'r' || E'/env.sql\n');
SELECT is(pg_temp.refusal(format('CALL migrate.apply(%L, track => ''links'')', :'l')),
          format('42501: migration file "%s/env.sql" is hidden', :'r'), '\i of a link to .env is refused');
SELECT pg_temp.write_file(:'l' || '/V1__env.sql', E'\\ir old.psql\n');
SELECT pg_temp.write_file(:'l' || '/old.psql', E'SELECT 1;\n');
SELECT is(pg_temp.refusal(format('CALL migrate.apply(%L, track => ''links'')', :'l')),
          format('42501: migration file "%s/old.psql" is not a .sql file', :'l'), '\ir of a .psql file is refused');
SELECT hasnt_table('public', 'hidden_ran', 'none of them ran anything');

-- a listed migration that links to a hidden file
SELECT pg_temp.fresh_dir('security_hidden_links') AS l \gset
SELECT pg_temp.sh(format('ln -s %s/.secret.sql %s/V1__secret.sql', :'d', :'l'));
SELECT is(pg_temp.refusal(format('CALL migrate.apply(%L, track => ''links'')', :'l')),
          '42501: migration file "V1__secret.sql" links to a hidden file', 'a migration linking to a hidden file is refused');

-- where a refused path leads is shown to a superuser only
SELECT pg_temp.fresh_dir('security_hidden_links') AS l \gset
SELECT pg_temp.write_file(:'out' || '/security_hidden/x.sql', E'SELECT 1;\n');
SELECT pg_temp.sh(format('ln -s %s/security_hidden/x.sql %s/out.sql', :'out', :'l'));
SELECT pg_temp.sh(format('ln -s %s/security_hidden/x.sql %s/V2__out.sql', :'out', :'d'));
SELECT is(pg_temp.error_of(format('CALL migrate.run(%L)', :'l' || '/out.sql'), 'detail'),
          format('It resolves to "%s/security_hidden/x.sql".', :'out'), 'a superuser sees where a link leads');
DROP ROLE IF EXISTS security_hidden_role;
CREATE ROLE security_hidden_role;
GRANT USAGE ON SCHEMA migrate TO security_hidden_role;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO security_hidden_role;
GRANT SELECT ON migrate.history TO security_hidden_role;
SET ROLE security_hidden_role;
SELECT is(pg_temp.error_of(format('CALL migrate.run(%L)', :'l' || '/out.sql'), 'detail'), '',
          'a non-superuser is not told where a link leads (run)');
SELECT is(pg_temp.error_of(format('SELECT * FROM migrate.status(%L)', :'d'), 'detail'), '',
          'nor where a listed link leads (status)');
SELECT is(pg_temp.error_of(format('CALL migrate.run(%L)', :'r' || '/env.sql'), 'detail'),
          'Files and directories whose names start with "." are never read.',
          'nor what hidden file a link leads to');
RESET ROLE;
SELECT is(pg_temp.error_of(format('SELECT * FROM migrate.status(%L)', :'d'), 'detail'),
          format('It resolves to "%s/security_hidden/x.sql".', :'out'), 'a superuser is (status)');
DROP OWNED BY security_hidden_role;
DROP ROLE security_hidden_role;

SELECT * FROM finish();
