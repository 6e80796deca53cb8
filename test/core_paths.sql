-- The allow-list: only real paths in or below migrate.allowed_dirs are read.
\i test/include/files.psql
SELECT pg_temp.fresh_dir('core_paths') AS d \gset
SELECT pg_temp.outside() AS out \gset
SELECT current_setting('migrate_test.work') || '/allowed2' AS a2 \gset

SELECT pg_temp.write_file(:'d' || '/V1__one.sql', E'CREATE TABLE public.one ();\n');
SELECT pg_temp.write_file(:'out' || '/core_paths/V1__evil.sql', E'CREATE TABLE public.evil ();\n');

SELECT plan(18);

SELECT throws_ok($$CALL migrate.apply('relative/dir')$$, '42501',
                 'migration path "relative/dir" is not absolute', 'relative paths are refused');
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d' || '/../core_paths'), '42501', NULL,
                 '".." is refused even when it stays inside');
SELECT throws_ok(format('CALL migrate.apply(%L)', :'out' || '/core_paths'), '42501', NULL,
                 'a directory outside the allow-list is refused');
SELECT throws_ok(format('CALL migrate.apply(%L)', '/etc'), '42501', NULL, 'so is /etc');
SELECT throws_ok(format('CALL migrate.apply(%L)', '/no/such/dir'), '42501', NULL,
                 'a missing path outside the allow-list is refused, not reported missing');
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d' || '/nope'), '58P01', NULL,
                 'a missing directory inside the allow-list is reported missing');
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d' || '/V1__one.sql'), '42809', NULL,
                 'a file is not a migration directory');

-- symlinks: inside the tree is fine, leaving it is not
SELECT pg_temp.sh(format('ln -sfn %s %s', :'out' || '/core_paths', pg_temp.fx() || '/core_paths_escape'));
SELECT throws_ok(format('CALL migrate.apply(%L)', pg_temp.fx() || '/core_paths_escape'), '42501', NULL,
                 'a directory symlink leaving the allowed tree is refused');
SELECT pg_temp.fresh_dir('core_paths_files') AS f \gset
SELECT pg_temp.sh(format('ln -s %s %s', :'out' || '/core_paths/V1__evil.sql', :'f' || '/V1__evil.sql'));
SELECT throws_ok(format('CALL migrate.apply(%L)', :'f'), '42501',
                 'migration file "V1__evil.sql" links outside the allowed directories',
                 'a file symlink leaving the allowed tree is refused');
SELECT hasnt_table('public', 'evil', 'and nothing of it ran');
SELECT pg_temp.sh(format('rm %s/V1__evil.sql && ln -s %s %s', :'f', :'d' || '/V1__one.sql', :'f' || '/V1__one.sql'));
SELECT lives_ok(format('CALL migrate.apply(%L)', :'f'), 'a symlink within the allowed tree is followed');

-- names below the directory: through a subdirectory, a linked one, a linked file
SELECT pg_temp.fresh_dir('core_paths_nested') AS n \gset
-- (the targets' names as long as the links': only their text tells them apart)
SELECT pg_temp.fresh_dir('cp_lnk') AS l \gset
SELECT pg_temp.fresh_dir('core_paths_targets') AS t \gset
SELECT pg_temp.write_file(:'n' || '/plain/V1__plain_nested.sql', E'CREATE TABLE public.plain_nested ();\n');
SELECT pg_temp.write_file(:'l' || '/V2__linked_nested.sql', E'CREATE TABLE public.linked_nested ();\n');
SELECT pg_temp.write_file(:'t' || '/target_file_x.sql', E'CREATE TABLE public.file_link ();\n');
SELECT pg_temp.sh(format('ln -s %s %s/linked && ln -s %s/target_file_x.sql %s/V3__file_link.sql', :'l', :'n', :'t', :'n'));
CALL migrate.apply(:'n', track => 'nested');
SELECT results_eq($$SELECT script FROM migrate.history WHERE track = 'nested' ORDER BY rank$$,
                  ARRAY['plain/V1__plain_nested.sql', 'linked/V2__linked_nested.sql', 'V3__file_link.sql'],
                  'files below subdirectories and links are named by their path below the directory');

-- a non-regular file named like a migration
SELECT pg_temp.fresh_dir('core_paths_fifo') AS p \gset
SELECT pg_temp.sh(format('mkfifo %s/V1__pipe.sql', :'p'));
SELECT throws_ok(format('CALL migrate.apply(%L)', :'p'), '42501',
                 'migration file "V1__pipe.sql" is not a regular file', 'a FIFO is refused');

-- a second allowed directory
SELECT pg_temp.write_file(:'a2' || '/core_paths/V1__two.sql', E'CREATE TABLE public.two ();\n');
SELECT lives_ok(format('CALL migrate.apply(%L, track => %L)', :'a2' || '/core_paths', 'second'),
                'every directory of the list is allowed');

-- status reads files too, under the same rules
SELECT throws_ok(format('SELECT * FROM migrate.status(%L)', :'out' || '/core_paths'), '42501', NULL,
                 'status is bound by the allow-list as well');

-- an empty list allows nothing, with a hint
SET migrate.allowed_dirs = '';
SELECT throws_ok(format('CALL migrate.apply(%L)', :'d'), '42501',
                 'no directory is allowed for migration files', 'an empty allow-list allows nothing');
RESET migrate.allowed_dirs;
SELECT throws_ok($$SET migrate.allowed_dirs = 'not/absolute'$$, '22023', NULL,
                 'allow-list entries must be absolute');
SELECT ok(current_setting('migrate.allowed_dirs') LIKE '%fixtures%', 'the setting is back');

SELECT * FROM finish();
