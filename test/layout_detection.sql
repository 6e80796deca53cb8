-- Which layout a directory is read as: mixed and ambiguous directories,
-- misnamed files in a layout, sections (markers, checksums, line numbers,
-- long lines).
\i test/include/layouts.psql
SELECT pg_temp.fx('layout_cases') AS c \gset

SELECT plan(24);

-- files of two tools in one directory
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/mixed')),
          'migration directory mixes the layouts of flyway and golang-migrate',
          'a directory mixing Flyway and golang-migrate files is refused');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/mixed'), 'detail'),
          E'"V1__create_a.sql" is a flyway file.\n"000002_create_b.down.sql" is a golang-migrate file.',
          'the error names a file of each layout');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/mixed'), 'sqlstate'), '42602',
          'with SQLSTATE invalid_name');
SELECT is(pg_temp.error_of(format('SELECT * FROM migrate.status(%L)', :'c' || '/mixed')),
          'migration directory mixes the layouts of flyway and golang-migrate',
          'status refuses it too');
SELECT is((SELECT count(*)::int FROM migrate.history), 0, 'nothing ran');

-- the marker files of two tools
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/two_tools')),
          'migration directory mixes the layouts of drizzle and sqitch',
          'sqitch.plan next to a Drizzle journal is refused');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/two_tools'), 'detail'),
          E'"meta/_journal.json" is a drizzle file.\n"deploy/a.sql" is a sqitch file.',
          'naming the files');

-- a file with the markers of dbmate and of node-pg-migrate fits both
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/ambiguous')),
          'migration directory is ambiguous: it fits the layouts of dbmate and node-pg-migrate',
          'a file with both tools'' markers is ambiguous');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/ambiguous'), 'detail'),
          'These files fit each of them: "20240101000000_create_a.sql".',
          'naming the file');

-- a misnamed file in a golang-migrate directory, with golang-migrate's rules
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/misnamed_golang')),
          'migration file "seed.sql" is misnamed', 'a .sql file fitting no name of the layout is refused');
SELECT alike(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/misnamed_golang'), 'hint'),
            'golang-migrate files are named <version>_<name>.up.sql%',
            'the hint gives the naming rules of the layout detected');

-- an empty directory reads as Flyway's (nothing to do)
SELECT is((SELECT count(*)::int FROM migrate.scripts(pg_temp.work_dir('empty'))), 0,
          'an empty directory has no scripts');

-- each section has its own checksum; CRLF and a BOM do not change it
SELECT is((SELECT checksum FROM migrate.scripts(:'c' || '/sections_b') WHERE type = 'versioned'),
          (SELECT checksum FROM migrate.scripts(:'c' || '/sections_a') WHERE type = 'versioned'),
          'editing the down section leaves the up checksum alone (CRLF and BOM ignored)');
SELECT isnt((SELECT checksum FROM migrate.scripts(:'c' || '/sections_b') WHERE type = 'undo'),
            (SELECT checksum FROM migrate.scripts(:'c' || '/sections_a') WHERE type = 'undo'),
            'the down checksum changes with the down section');

-- errors in a section name the line of the file
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/errors_dbmate'), 'context'),
          'migration 20240101000000_widgets.sql, line 8',
          'an error in the up section names its line in the file (preamble counted)');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L, track => ''node'')', :'c' || '/errors_node'), 'context'),
          'migration 1704153600000_broken.sql, line 4',
          'node-pg-migrate: the line of the file, marker in capitals');
-- outside a transaction block the failure is recorded with that line
\set ON_ERROR_STOP 0
CALL migrate.apply(:'c' || '/errors_node', track => 'node');
\set ON_ERROR_STOP 1
SELECT results_eq(
    $$SELECT script, success, error_line FROM migrate.history WHERE track = 'node' ORDER BY rank$$,
    $$VALUES ('1704067200000_gadgets.sql', true, NULL::int), ('1704153600000_broken.sql', false, 4)$$,
    'the migration before it applied, the failure row has the file line');

-- section markers that are not where they must be
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/bad_preamble')),
          'dbmate migration "20240101000000_t.sql" has SQL outside its sections',
          'SQL before the up marker is refused, never skipped');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/bad_preamble'), 'detail'),
          'Line 1 of "20240101000000_t.sql" comes before the "-- migrate:up" line, so it belongs to neither the up nor the down migration.',
          'naming its line');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/bad_down_first')),
          'dbmate migration "20240101000000_t.sql" has a misplaced "-- migrate:down" line',
          'a down section before the up section is refused');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/bad_no_up')),
          'dbmate migration "20240101000000_t.sql" has no "-- migrate:up" line',
          'a file with only a down section is refused');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L)', :'c' || '/bad_two_up')),
          'dbmate migration "20240101000000_t.sql" has 2 "-- migrate:up" lines',
          'a second up section (which no script would read) is refused');

-- lines much longer than a read chunk, inside and before a section
SELECT pg_temp.work_dir('long_lines') AS long \gset
SELECT pg_temp.write_file(:'long' || '/20240101000000_long.sql',
    '-- ' || repeat('x', 100000) || E'\n-- migrate:up\nCREATE TABLE long_values (v text);\nINSERT INTO long_values VALUES (''' ||
    repeat('ab', 150000) || E''');\n-- migrate:down\nDROP TABLE long_values;\n');
CALL migrate.apply(:'long', track => 'long');
SELECT is((SELECT length(v) FROM long_values), 300000, 'a 300 kB line in a section is read whole');
SELECT is((SELECT checksum FROM migrate.scripts(:'long') WHERE type = 'undo'),
          pg_temp.sha(E'-- migrate:down\nDROP TABLE long_values;\n'),
          'the section after it is found');

SELECT * FROM finish();
