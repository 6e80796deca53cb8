-- Flyway placeholders: ${name} replaced from the call, migrate.placeholders.*
-- settings and a flyway.conf / flyway.toml (in that order), Flyway's
-- built-ins, a missing value an error before anything of the migration
-- stays, placeholders cut by a read chunk and in COPY data, checksums of the
-- file as written, custom prefix and suffix, replacement turned off, and
-- other layouts' "${" left alone.
\i test/include/layouts.psql

SELECT plan(43);

CREATE SCHEMA app;
SELECT migrate.acknowledge_drift('the test''s own schema') IS NULL AS ack \gset

-- the call's value
SELECT pg_temp.work_dir('ph_call') AS a \gset
SELECT pg_temp.write_file(:'a' || '/V1__t.sql',
    E'-- in ${schema}\nCREATE TABLE ${schema}.t_call (id int);\nCOMMENT ON TABLE ${schema}.t_call IS ''in ${schema}'';\n');
SELECT pg_temp.write_file(:'a' || '/U1__t.sql', E'DROP TABLE ${schema}.t_call;\n');
CALL migrate.apply(:'a', track => 'a', placeholders => '{"schema": "app"}');
SELECT has_table('app', 't_call', 'the call''s value replaces ${schema}');
SELECT is(obj_description('app.t_call'::regclass), 'in app', 'inside a string too');
SELECT is((SELECT sql FROM migrate.history WHERE script = 'V1__t.sql'),
          E'-- in app\nCREATE TABLE app.t_call (id int);\nCOMMENT ON TABLE app.t_call IS ''in app'';\n',
          'the history keeps the replaced text, comments included');
SELECT is((SELECT checksum FROM migrate.history WHERE script = 'V1__t.sql'),
          pg_temp.sha(E'-- in ${schema}\nCREATE TABLE ${schema}.t_call (id int);\nCOMMENT ON TABLE ${schema}.t_call IS ''in ${schema}'';\n'),
          'the checksum is of the file as written');
SELECT is((SELECT state FROM migrate.status(:'a', 'a') WHERE version = '1' AND type = 'versioned'), 'applied',
          'status shows it applied, whatever the value');
SELECT lives_ok(format('SELECT migrate.validate(%L, %L)', :'a', 'a'), 'validate finds nothing changed');
SELECT lives_ok(format('CALL migrate.apply(%L, track => %L, placeholders => %L)', :'a', 'a', '{"schema": "other"}'),
                'another value does not make the applied file changed');
CALL migrate.undo(:'a', track => 'a', placeholders => '{"schema": "app"}');
SELECT hasnt_table('app', 't_call', 'undo replaces placeholders in its script too');

-- precedence: call > setting > config
SELECT pg_temp.work_dir('ph_prec') AS p \gset
SELECT pg_temp.write_file(:'p' || '/flyway.conf',
    E'# the config\nflyway.placeholders.who = config\nflyway.placeholders.only_conf=from conf\nflyway.url=jdbc:postgresql://x/y\n');
SELECT pg_temp.write_file(:'p' || '/V1__prec.sql',
    E'CREATE TABLE public.${tab} AS SELECT ''${who}''::text AS who, ''${only_conf}''::text AS c;\n');
CALL migrate.apply(:'p', track => 'p_conf', placeholders => '{"tab": "prec_conf"}');
SELECT results_eq('SELECT who, c FROM public.prec_conf', $$VALUES ('config', 'from conf')$$,
                  'flyway.conf gives the values the call and the settings do not');
SET migrate.placeholders.who = 'setting';
CALL migrate.apply(:'p', track => 'p_set', placeholders => '{"tab": "prec_set"}');
SELECT is((SELECT who FROM public.prec_set), 'setting', 'a migrate.placeholders.<name> setting beats the config');
CALL migrate.apply(:'p', track => 'p_call', placeholders => '{"tab": "prec_call", "who": "call"}');
SELECT is((SELECT who FROM public.prec_call), 'call', 'the call beats the setting');
RESET migrate.placeholders.who;
CALL migrate.apply(:'p', track => 'p_num', placeholders => '{"tab": "prec_num", "who": 42}');
SELECT is((SELECT who FROM public.prec_num), '42', 'a number is replaced by its text');

-- flyway.toml: [flyway] prefix, suffix and defaultSchema, [flyway.placeholders]
SELECT pg_temp.work_dir('ph_toml') AS t \gset
SELECT pg_temp.write_file(:'t' || '/flyway.toml', $toml$
[environments.dev.flyway.placeholders]
name = "not this one"

[flyway]
placeholderPrefix = "#["
placeholderSuffix = "]"
defaultSchema = "tschema" # a comment

[flyway.placeholders]
name = "from \"toml\""
$toml$);
SELECT pg_temp.write_file(:'t' || '/V1__toml.sql',
    E'CREATE TABLE public.toml_t AS SELECT ''#[name]''::text AS n, ''#[flyway:defaultSchema]''::text AS s, ''${name}''::text AS u;\n');
CALL migrate.apply(:'t', track => 't');
SELECT results_eq('SELECT n, s, u FROM public.toml_t',
                  $$VALUES ('from "toml"', 'tschema', '${name}')$$,
                  'flyway.toml: its values, its prefix and suffix, its defaultSchema; ${...} is text then');

-- Flyway's built-ins
SELECT pg_temp.work_dir('ph_builtin') AS b \gset
SELECT pg_temp.write_file(:'b' || '/sub/V1__builtins.sql',
    E'CREATE TABLE public.builtins AS SELECT ''${flyway:user}''::text AS u, ''${flyway:database}''::text AS d,\n'
    '  ''${flyway:defaultSchema}''::text AS s, ''${flyway:filename}''::text AS f, ''${flyway:table}''::text AS t,\n'
    '  ''${flyway:timestamp}''::text AS ts;\n');
CALL migrate.apply(:'b', track => 'b');
SELECT results_eq('SELECT u, d, s, f, t FROM public.builtins',
                  format('VALUES (%L, %L, %L, %L, %L)', current_user, current_database(), current_schema(),
                         'V1__builtins.sql', 'history'),
                  'flyway:user, flyway:database, flyway:defaultSchema, flyway:filename, flyway:table');
SELECT matches((SELECT ts FROM public.builtins), '^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$',
               'flyway:timestamp in Flyway''s format');

-- a missing value: an error naming it, the file and the line; nothing of it stays
SELECT pg_temp.work_dir('ph_missing') AS m \gset
SELECT pg_temp.write_file(:'m' || '/V1__ok.sql', E'CREATE TABLE public.m_ok (id int);\n');
SELECT pg_temp.write_file(:'m' || '/V2__missing.sql',
    E'CREATE TABLE public.m_two (id int);\nINSERT INTO public.m_two VALUES (1);\n-- no value:\nSELECT ''${nope}'';\n');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L, dry_run => true)', :'m', 'm')),
          'no value provided for placeholder ${nope}', 'a dry run finds the missing value');
\set ON_ERROR_STOP 0
CALL migrate.apply(:'m', track => 'm');
\set ON_ERROR_STOP 1
SELECT has_table('public', 'm_ok', 'the migration before it is applied');
SELECT hasnt_table('public', 'm_two', 'nothing of the migration with a missing value stays');
SELECT results_eq(
    $$SELECT version, success, sqlstate, error, error_line FROM migrate.history WHERE track = 'm' AND version = '2'$$,
    $$VALUES ('2', false, '42704', 'no value provided for placeholder ${nope}', 4)$$,
    'its failure record: SQLSTATE, message and line');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'m', 'm'), 'detail'),
          'In migration file "V2__missing.sql", line 4.', 'the error names the file and the line');
SELECT matches(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'m', 'm'), 'hint'),
               'placeholders => .*migrate\.placeholders\.nope.*flyway\.placeholders\.nope',
               'the hint names the three places a value can come from');

-- ... and in a file that runs outside a transaction, before its worker runs anything
SELECT pg_temp.work_dir('ph_nontx') AS n \gset
SELECT pg_temp.write_file(:'n' || '/V1__cic.sql',
    E'CREATE TABLE public.n_t (id int);\nCREATE INDEX CONCURRENTLY n_i ON public.n_t (id);\nSELECT ''${nope}'';\n');
\set ON_ERROR_STOP 0
CALL migrate.apply(:'n', track => 'nontx');
\set ON_ERROR_STOP 1
SELECT hasnt_table('public', 'n_t', 'outside a transaction, nothing runs before the missing value is found');
SELECT results_eq($$SELECT success, dirty, sqlstate FROM migrate.history WHERE track = 'nontx'$$,
                  $$VALUES (false, false, '42704')$$, 'only its failure record, not dirty');

-- a placeholder cut by the reader's 64 kB chunk, in its prefix and in its name
SELECT pg_temp.work_dir('ph_chunk') AS c \gset
SELECT pg_temp.write_file(:'c' || '/V1__prefix_cut.sql',
    '-- ' || repeat('x', 65511) || E'\nCREATE TABLE public.${tab1} (id int);\n');
SELECT pg_temp.write_file(:'c' || '/V2__name_cut.sql',
    '-- ' || repeat('x', 65509) || E'\nCREATE TABLE public.${tab2} (id int);\n');
SELECT is(position('${' IN pg_read_file(:'c' || '/V1__prefix_cut.sql')), 65536,
          'the first file''s prefix starts on the chunk''s last byte');
CALL migrate.apply(:'c', track => 'c', placeholders => '{"tab1": "chunk_one", "tab2": "chunk_two"}');
SELECT has_table('public', 'chunk_one', 'a prefix cut by a chunk boundary is replaced');
SELECT has_table('public', 'chunk_two', 'a name cut by a chunk boundary is replaced');

-- COPY ... FROM stdin data is replaced too, as Flyway replaces the whole text
SELECT pg_temp.work_dir('ph_copy') AS cp \gset
SELECT pg_temp.write_file(:'cp' || '/V1__copy.sql',
    E'CREATE TABLE public.copied (a text, b text);\nCOPY public.copied FROM stdin;\n${v}\tplain\nx${v}y\t${v}\n\\.\n');
CALL migrate.apply(:'cp', track => 'cp', placeholders => '{"v": "value"}');
SELECT results_eq('SELECT a, b FROM public.copied ORDER BY a',
                  $$VALUES ('value', 'plain'), ('xvaluey', 'value')$$, 'in COPY data');

-- the parent directory's config, when it is allowed; never outside
SELECT pg_temp.work_dir('ph_parent') AS pp \gset
SELECT pg_temp.write_file(:'pp' || '/flyway.conf', E'flyway.placeholders.pv=parent\\\n  value\n');
SELECT pg_temp.write_file(:'pp' || '/db/V1__parent.sql', E'CREATE TABLE public.parent_t AS SELECT ''${pv}''::text AS v;\n');
CALL migrate.apply(:'pp' || '/db', track => 'parent');
SELECT is((SELECT v FROM public.parent_t), 'parentvalue', 'a flyway.conf in the parent directory (a continued line)');
SELECT set_config('migrate.allowed_dirs', :'pp' || '/db', false) IS NOT NULL AS allowed_set \gset
SELECT pg_temp.write_file(:'pp' || '/db/V2__parent.sql', E'SELECT ''${pv}'';\n');
SELECT is(pg_temp.error_of(format('CALL migrate.apply(%L, track => %L)', :'pp' || '/db', 'parent')),
          'no value provided for placeholder ${pv}', 'a config outside the allowed directories is not read');
RESET migrate.allowed_dirs;

-- placeholderReplacement = false
SELECT pg_temp.work_dir('ph_off') AS o \gset
SELECT pg_temp.write_file(:'o' || '/flyway.conf', E'flyway.placeholderReplacement=false\n');
SELECT pg_temp.write_file(:'o' || '/V1__off.sql', E'CREATE TABLE public.off_t AS SELECT ''${x}''::text AS v;\n');
CALL migrate.apply(:'o', track => 'o');
SELECT is((SELECT v FROM public.off_t), '${x}', 'placeholderReplacement=false replaces nothing');

-- other layouts: "${" in a string or a function body runs untouched
SELECT pg_temp.work_dir('ph_dbmate') AS d \gset
SELECT pg_temp.write_file(:'d' || '/20240101000000_fn.sql',
    E'-- migrate:up\nCREATE FUNCTION public.f_dbmate() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN ''${HOME}''; END $$;\n-- migrate:down\nDROP FUNCTION public.f_dbmate();\n');
SELECT pg_temp.work_dir('ph_golang') AS g \gset
SELECT pg_temp.write_file(:'g' || '/000001_s.up.sql', E'CREATE TABLE public.golang_t AS SELECT ''${x}''::text AS v;\n');
SELECT pg_temp.write_file(:'g' || '/000001_s.down.sql', E'DROP TABLE public.golang_t;\n');
SET migrate.placeholders.home = 'a setting alone does not turn replacement on';
CALL migrate.apply(:'d', track => 'dbmate');
CALL migrate.apply(:'g', track => 'golang');
RESET migrate.placeholders.home;
SELECT is(public.f_dbmate(), '${HOME}', 'a dbmate file is untouched');
SELECT is((SELECT v FROM public.golang_t), '${x}', 'a golang-migrate file is untouched');
SELECT pg_temp.work_dir('ph_dbmate_asked') AS da \gset
SELECT pg_temp.write_file(:'da' || '/20240101000000_v.sql',
    E'-- migrate:up\nCREATE TABLE public.asked AS SELECT ''${v}''::text AS v;\n');
CALL migrate.apply(:'da', track => 'asked', placeholders => '{"v": "asked"}');
SELECT is((SELECT v FROM public.asked), 'asked', 'another layout is replaced when the call asks');

-- migrate.run, and \i of a file
SELECT pg_temp.work_dir('ph_run') AS r \gset
SELECT pg_temp.write_file(:'r' || '/seed.sql', E'CREATE TABLE public.${t} (id int);\n\\ir part.sql\n');
SELECT pg_temp.write_file(:'r' || '/part.sql', E'CREATE TABLE public.${t}_part (id int);\n');
CALL migrate.run(:'r' || '/seed.sql', placeholders => '{"t": "run_t"}');
SELECT has_table('public', 'run_t', 'migrate.run replaces placeholders');
SELECT has_table('public', 'run_t_part', 'so does a file it includes');
SELECT pg_temp.write_file(:'r' || '/plain.sql', E'CREATE TABLE public.run_plain AS SELECT ''${t}''::text AS v;\n');
CALL migrate.run(:'r' || '/plain.sql');
SELECT is((SELECT v FROM public.run_plain), '${t}', 'without placeholders or a config, run replaces nothing');

-- lint judges the text that will run
SELECT pg_temp.work_dir('ph_lint') AS l \gset
SELECT pg_temp.write_file(:'l' || '/flyway.conf', E'flyway.placeholders.tab=public.prec_conf\n');
SELECT pg_temp.write_file(:'l' || '/V1__idx.sql', E'CREATE INDEX ON ${tab} (who);\n');
SELECT results_eq(format('SELECT line, rule FROM migrate.lint(%L, track => %L)', :'l', 'l'),
                  $$VALUES (1, 'create_index')$$, 'lint reads the replaced text');

-- what is not a placeholder, and a bad argument
SELECT pg_temp.work_dir('ph_text') AS x \gset
SELECT pg_temp.write_file(:'x' || '/V1__text.sql',
    E'CREATE TABLE public.text_t AS SELECT ''${}''::text AS a, ''${not\nclosed''::text AS b, ''$'' || ''{v}''::text AS c, ''${v}${v}''::text AS d;\n');
CALL migrate.apply(:'x', track => 'x', placeholders => '{"v": "V"}');
SELECT results_eq('SELECT a, b, c, d FROM public.text_t',
                  $$VALUES ('${}', E'${not\nclosed', '${v}', 'VV')$$,
                  'an empty name, or one cut by a newline, is text');
SELECT throws_ok(format('CALL migrate.apply(%L, placeholders => %L)', :'x', '["v"]'),
                 '22023', 'placeholders must be a JSON object', 'placeholders must be an object');
SELECT throws_ok(format('CALL migrate.apply(%L, placeholders => %L)', :'x', '{"v": {"a": 1}}'),
                 '22023', 'placeholder values must be strings, numbers or booleans',
                 'a value must be a scalar');
SELECT pg_temp.write_file(:'x' || '/flyway.conf', E'flyway.placeholderPrefix=\n');
SELECT pg_temp.write_file(:'x' || '/V2__more.sql', E'SELECT 1;\n');
SELECT throws_ok(format('CALL migrate.apply(%L, track => %L)', :'x', 'x'), 'F0000', NULL, 'an empty prefix in the config is an error');

-- callbacks replace as the migrations do: a run with nothing pending
-- (afterMigrate runs on every apply) and validate's callbacks, whose values
-- come from the settings and the config
SELECT pg_temp.work_dir('ph_cb') AS cb \gset
SELECT pg_temp.write_file(:'cb' || '/flyway.conf', E'flyway.placeholders.note=from conf\n');
SELECT pg_temp.write_file(:'cb' || '/V1__cb.sql', E'CREATE TABLE public.cb_log (what text);\n');
SELECT pg_temp.write_file(:'cb' || '/afterMigrate.sql', E'INSERT INTO public.cb_log VALUES (''${who} ${note}'');\n');
SELECT pg_temp.write_file(:'cb' || '/beforeValidate.sql', E'INSERT INTO public.cb_log VALUES (''validate ${note}'');\n');
CALL migrate.apply(:'cb', track => 'cb', placeholders => '{"who": "first"}');
CALL migrate.apply(:'cb', track => 'cb', placeholders => '{"who": "again"}');
SELECT migrate.validate(:'cb', 'cb') IS NULL AS validated \gset
SELECT results_eq('SELECT what FROM public.cb_log ORDER BY ctid',
                  $$VALUES ('first from conf'), ('again from conf'), ('validate from conf')$$,
                  'callbacks get the call''s and the config''s values, also with nothing pending and in validate');
SELECT throws_ok(format('CALL migrate.apply(%L, track => %L)', :'cb', 'cb'), '42704',
                 'no value provided for placeholder ${who}',
                 'a callback''s missing value is an error like a migration''s');

SELECT * FROM finish();
