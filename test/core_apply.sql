-- Applying Flyway-style migrations: order, one transaction each, history,
-- status, idempotence, target.
\i test/include/files.psql
SELECT pg_temp.fresh_dir('core_apply') AS d \gset

-- numeric order: V2 before V10, V1.2 before V1.10; each appends to a log
SELECT pg_temp.write_file(:'d' || '/V1__create_log.sql',
    E'CREATE TABLE public.log (n serial, v text);\nINSERT INTO public.log (v) VALUES (''1'');\n');
SELECT pg_temp.write_file(:'d' || '/V1.2__a.sql', E'INSERT INTO public.log (v) VALUES (''1.2'');\n');
SELECT pg_temp.write_file(:'d' || '/V1.10__b.sql', E'INSERT INTO public.log (v) VALUES (''1.10'');\n');
SELECT pg_temp.write_file(:'d' || '/V2__c.sql', E'INSERT INTO public.log (v) VALUES (''2'');\n');
SELECT pg_temp.write_file(:'d' || '/V10__d.sql', E'INSERT INTO public.log (v) VALUES (''10'');\n');
-- a dollar-quoted body with ; and quotes inside, nested dollar tags
SELECT pg_temp.write_file(:'d' || '/sub/V11__function.sql', $f$
CREATE FUNCTION public.greet(who text) RETURNS text LANGUAGE plpgsql AS $body$
DECLARE
    s text := 'it''s; ';
BEGIN
    RETURN s || $q$a;"b"$q$ || who;  -- ; in a comment
END;
$body$;
/* a block comment; with /* nesting */ ; */
INSERT INTO public.log (v) VALUES ('11');
$f$);
-- files that are not migrations are ignored
SELECT pg_temp.write_file(:'d' || '/README.md', E'# not a migration\n');
SELECT pg_temp.write_file(:'d' || '/.hidden.sql', E'not sql at all\n');

SELECT plan(16);

CALL migrate.apply(:'d');

SELECT is(array_agg(v ORDER BY n), ARRAY['1', '1.2', '1.10', '2', '10', '11'],
          'versions run in numeric order, subdirectories included')
FROM public.log;

SELECT is(public.greet('x'), 'it''s; a;"b"x', 'dollar-quoted body with ; and quotes is one statement');

SELECT results_eq(
    $$SELECT version, description, type, script, success FROM migrate.history ORDER BY rank$$,
    $$VALUES ('1', 'create log', 'versioned', 'V1__create_log.sql', true),
             ('1.2', 'a', 'versioned', 'V1.2__a.sql', true),
             ('1.10', 'b', 'versioned', 'V1.10__b.sql', true),
             ('2', 'c', 'versioned', 'V2__c.sql', true),
             ('10', 'd', 'versioned', 'V10__d.sql', true),
             ('11', 'function', 'versioned', 'sub/V11__function.sql', true)$$,
    'one history row per migration, in order');

-- each migration committed in its own transaction (distinct xmin)
SELECT is(count(DISTINCT xmin::text)::int, 6, 'each migration committed in its own transaction')
FROM migrate.history;

SELECT is(sql, E'INSERT INTO public.log (v) VALUES (''2'');\n', 'the history keeps the SQL text that ran')
FROM migrate.history WHERE version = '2';

SELECT is(installed_by, current_user::text, 'installed_by is the caller')
FROM migrate.history WHERE version = '2';

SELECT ok(bool_and(checksum ~ '^[0-9a-f]{64}$') AND bool_and(execution_ms >= 0),
          'checksums and execution times are recorded')
FROM migrate.history;

SELECT results_eq(
    format('SELECT version, type, script, state FROM migrate.status(%L)', :'d'),
    $$VALUES ('1', 'versioned', 'V1__create_log.sql', 'applied'),
             ('1.2', 'versioned', 'V1.2__a.sql', 'applied'),
             ('1.10', 'versioned', 'V1.10__b.sql', 'applied'),
             ('2', 'versioned', 'V2__c.sql', 'applied'),
             ('10', 'versioned', 'V10__d.sql', 'applied'),
             ('11', 'versioned', 'sub/V11__function.sql', 'applied')$$,
    'status shows every migration applied, in order');

SELECT ok((SELECT bool_and(s.checksum = h.checksum AND s.installed_on = h.installed_on
                           AND s.execution_ms = h.execution_ms)
           FROM migrate.status(:'d') s JOIN migrate.history h USING (version)),
          'status reports the checksum, time and duration of the history');

-- a second run applies nothing
CALL migrate.apply(:'d');
SELECT is(count(*)::int, 6, 'a second apply changes nothing') FROM migrate.history;

-- new files: pending, then applied up to a target only
SELECT pg_temp.write_file(:'d' || '/V12__e.sql', E'INSERT INTO public.log (v) VALUES (''12'');\n');
SELECT pg_temp.write_file(:'d' || '/V13__f.sql', E'INSERT INTO public.log (v) VALUES (''13'')');
SELECT results_eq(
    format('SELECT version, state, installed_on IS NULL FROM migrate.status(%L) WHERE state <> %L', :'d', 'applied'),
    $$VALUES ('12', 'pending', true), ('13', 'pending', true)$$,
    'new files are pending');

CALL migrate.apply(:'d', target => '12');
SELECT is((SELECT max(n) FROM public.log WHERE v = '12') IS NOT NULL AND
          NOT EXISTS (SELECT FROM public.log WHERE v = '13'), true,
          'target stops after the target version');

CALL migrate.apply(:'d');
SELECT is((SELECT v FROM public.log ORDER BY n DESC LIMIT 1), '13',
          'a last statement without a final ; still runs');

-- an empty file and a file of comments are valid migrations
SELECT pg_temp.write_file(:'d' || '/V14__empty.sql', '');
SELECT pg_temp.write_file(:'d' || '/V15__comments.sql', E'-- nothing to do\n/* really */\n');
CALL migrate.apply(:'d');
SELECT is(count(*)::int, 2, 'empty and comment-only files are recorded as applied')
FROM migrate.history WHERE version IN ('14', '15') AND success;

-- the SQL text is not kept above migrate.history_sql_limit
SET migrate.history_sql_limit = 10;
SELECT pg_temp.write_file(:'d' || '/V16__big.sql', E'INSERT INTO public.log (v) VALUES (''16'');\n');
CALL migrate.apply(:'d');
RESET migrate.history_sql_limit;
SELECT ok(sql IS NULL AND checksum IS NOT NULL, 'SQL text above the size limit is not kept')
FROM migrate.history WHERE version = '16';

-- a failed apply of an unknown track directory leaves other tracks alone
SELECT is((SELECT count(*)::int FROM migrate.status(:'d', track => 'other') WHERE state = 'pending'), 11,
          'another track has its own history: everything is pending there');

SELECT * FROM finish();
