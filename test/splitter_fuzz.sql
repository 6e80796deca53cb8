-- The splitter against the server's own parser, on generated scripts.
--
-- Thousands of random scripts built from tricky pieces (dollar quotes with
-- tags and other tags inside, E'' with \', U&'', quoted identifiers with
-- "" and ;, nested block comments, -- comments holding ; and quotes, --
-- comments ended by a lone \r (both psql and the server end them there),
-- BEGIN ATOMIC bodies with CASE, parentheses, $1 parameters, identifiers
-- with $, empty statements, a last statement without ;) are split by
-- pg_temp._split_check both ways: by the splitter, fed a few bytes at a
-- time so that every token straddles a read boundary, and by raw_parser.
-- Large scripts (over 64 kB) cross the splitter's real chunk boundary.
-- The seed is fixed, so a failure is reproducible; it is shown in full.

SET client_min_messages = warning;
SELECT plan(9);

-- the check is a C function of the library, no longer part of the
-- extension (1.1): declared here, for this session only
CREATE FUNCTION pg_temp._split_check(sql text, chunk integer DEFAULT 65536) RETURNS text
LANGUAGE c STABLE AS '$libdir/migrate', 'migrate_split_check';

-- whitespace or a comment between two tokens (never nothing: the caller
-- puts a space where tokens would otherwise merge)
CREATE FUNCTION pg_temp.gap() RETURNS text LANGUAGE sql VOLATILE AS $f$
    SELECT (ARRAY[
        ' ', ' ', ' ', E'\n', E'\t', E'  \n  ',
        E' -- a comment; with ''quotes'' and "dq" and $$ \n',
        ' /* block; ''not a string */ ',
        ' /* outer /* nested; */ still; */ ',
        E'\n--\n',
        ' /**/ ',
        '/*;*/',
        E' -- ends at a lone CR\r',
        E'\r',
        E'--\r \r\n'
    ])[1 + floor(random() * 15)::int]
$f$;

-- a value expression
CREATE FUNCTION pg_temp.expr(scs boolean) RETURNS text LANGUAGE plpgsql VOLATILE AS $f$
DECLARE
    pieces text[] := ARRAY[
        '1', '2.5e3', '$1', '$2::int', 'a$b', 'x$1$', '"q;""uote"',
        '''a;b''', '''it''''s; -- no comment''', E'E''\\'';''', E'e''back\\\\''',
        $p$E'\\'';'''$p$,
        'U&''d\0061t\+000061;''', 'U&"d;\0061"',
        '$$a;b$$', '$tag$ $$ ; $other$ '' $tag$', '$a$ /* x; */ $a$', '$_1$;$_1$',
        '$fn$ BEGIN ATOMIC; END; $fn$',
        'CASE WHEN true THEN ''x;'' ELSE ''y'' END',
        '(1 + (2 * (3)))', 'ARRAY[1, 2]', 'B''101''', 'X''1F''',
        'current_user', '"begin"', 'begin_x', 'end_y',
        'a$$b', '$q$$$q$', '$$ $ $$', '$a_b1$ $a_b$ $a_b1$', E'''a''\n''b;''',
        '''é;''', '"ñ;"', 'été', '1+/*;*/2', E'3*-- x;\n4'
    ];
    backslash_pieces text[] := ARRAY[E'''b\\'';c''', E'''\\\\''', E'''x\\\\\\'';'''];
    p text;
BEGIN
    IF scs THEN
        p := pieces[1 + floor(random() * array_length(pieces, 1))::int];
    ELSE
        -- standard_conforming_strings off: no U&'', and '' takes \'
        p := (array_cat(pieces[1:12] || pieces[15:], backslash_pieces))
             [1 + floor(random() * (array_length(pieces, 1) - 2 + 3))::int];
    END IF;
    IF random() < 0.15 THEN
        p := '(' || pg_temp.gap() || p || pg_temp.gap() || ')';
    END IF;
    RETURN p;
END
$f$;

-- one statement, without its terminating ;
CREATE FUNCTION pg_temp.stmt(scs boolean) RETURNS text LANGUAGE plpgsql VOLATILE AS $f$
DECLARE
    g text := pg_temp.gap();
    n int := floor(random() * 1000)::int;
BEGIN
    CASE floor(random() * 14)::int
    WHEN 0 THEN
        RETURN 'SELECT' || g || pg_temp.expr(scs) || ',' || pg_temp.gap() || pg_temp.expr(scs);
    WHEN 1 THEN
        RETURN 'SELECT ' || pg_temp.expr(scs) || ' AS "c;""' || n || '"' || g || 'FROM t$' || n
            || ' WHERE (' || pg_temp.expr(scs) || ' = ' || pg_temp.expr(scs) || ')';
    WHEN 2 THEN
        RETURN 'INSERT INTO "t;x"' || g || 'VALUES (' || pg_temp.expr(scs) || ',' || pg_temp.gap()
            || pg_temp.expr(scs) || ')';
    WHEN 3 THEN
        RETURN 'CREATE FUNCTION f' || n || '() RETURNS int LANGUAGE sql' || g || 'BEGIN ATOMIC'
            || pg_temp.gap() || 'SELECT ' || pg_temp.expr(scs) || ';' || pg_temp.gap()
            || 'SELECT CASE WHEN true THEN 1 ELSE 2 END;' || pg_temp.gap() || 'END';
    WHEN 4 THEN
        RETURN 'create or replace procedure p' || n || '(a int)' || g || 'language sql begin atomic '
            || 'insert into t values (a);' || pg_temp.gap()
            || 'select case a when 1 then (select 1) end;' || g || 'end';
    WHEN 5 THEN
        RETURN 'CREATE FUNCTION g' || n || '() RETURNS int LANGUAGE plpgsql AS $body$'
            || E'\nBEGIN\n  RETURN 1; -- ; '' "\nEND\n$body$';
    WHEN 6 THEN
        RETURN 'CREATE FUNCTION h' || n || '(begin int) RETURNS int LANGUAGE sql'
            || g || 'RETURN CASE WHEN begin > 0 THEN ' || pg_temp.expr(scs) || ' END';
    WHEN 7 THEN
        RETURN 'DO $$ BEGIN PERFORM 1; END $$';
    WHEN 8 THEN
        RETURN (ARRAY['BEGIN', 'COMMIT', 'START TRANSACTION', 'END', 'ROLLBACK'])
               [1 + floor(random() * 5)::int];
    WHEN 9 THEN
        RETURN 'CREATE TABLE "a;b' || n || '" (x int,' || g || '"y""z" text DEFAULT '
            || pg_temp.expr(scs) || ', "end" int)';
    WHEN 10 THEN
        RETURN 'PREPARE q' || n || '(int) AS SELECT $1 + ' || pg_temp.expr(scs);
    WHEN 11 THEN
        RETURN 'COMMENT ON TABLE t IS ' || (ARRAY['''a;b''', E'E''\\'';''', '$$a;b$$',
                                                  '$c$ $$; $c$', 'U&''\0061;'''])
                                           [1 + floor(random() * (CASE WHEN scs THEN 5 ELSE 4 END))::int];
    WHEN 12 THEN
        RETURN 'SELECT 1 -' || g || '- 2 + 3--' || E' tail ;\n';
    ELSE
        RETURN 'CREATE PROCEDURE pp' || n || '() BEGIN ATOMIC' || g || 'SELECT 1;'
            || ' SELECT CASE WHEN true THEN CASE WHEN false THEN 1 END END;' || g || 'END';
    END CASE;
END
$f$;

-- a script of 1 to nstmt statements, with empty statements and comments
-- around them, the last one with or without its ;
CREATE FUNCTION pg_temp.script(nstmt int, scs boolean) RETURNS text LANGUAGE plpgsql VOLATILE AS $f$
DECLARE
    s text := '';
    i int;
    k int := 1 + floor(random() * nstmt)::int;
BEGIN
    IF random() < 0.2 THEN
        s := pg_temp.gap();
    END IF;
    FOR i IN 1 .. k LOOP
        s := s || pg_temp.stmt(scs);
        IF i < k OR random() < 0.7 THEN
            s := s || ';';
        END IF;
        IF random() < 0.1 THEN
            s := s || ';;';
        END IF;
        IF i < k OR random() < 0.5 THEN
            s := s || pg_temp.gap();
        END IF;
        IF i < k THEN
            s := s || E'\n';
        END IF;
    END LOOP;
    RETURN s;
END
$f$;

-- run n cases; the first failure, with its script, or NULL
CREATE FUNCTION pg_temp.run(n int, nstmt int, scs boolean, chunks int[]) RETURNS text
LANGUAGE plpgsql VOLATILE AS $f$
DECLARE
    i int;
    sql text;
    chunk int;
    diff text;
BEGIN
    FOR i IN 1 .. n LOOP
        sql := pg_temp.script(nstmt, scs);
        chunk := chunks[1 + floor(random() * array_length(chunks, 1))::int];
        diff := pg_temp._split_check(sql, chunk);
        IF diff IS NOT NULL THEN
            RETURN format(E'case %s, chunk %s: %s\n--- script ---\n%s\n--------------', i, chunk, diff, sql);
        END IF;
    END LOOP;
    RETURN NULL;
END
$f$;

-- the check itself must see a difference.  psql's BEGIN ... END heuristic
-- (which the splitter follows, as psql -f would) takes a parameter named
-- begin for the start of a body; the server does not
SELECT isnt(pg_temp._split_check(
              E'CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql RETURN begin;\nSELECT 1;'),
            NULL, 'the check reports a split that differs from the server''s');

SELECT setseed(0.42);

SELECT is(pg_temp.run(3000, 8, true, ARRAY[1, 2, 3, 5, 7, 13, 64, 65536]), NULL,
          '3000 generated scripts split as the server splits them, read 1 to 64 bytes at a time');

-- scripts larger than the splitter's 64 kB read size: tokens straddle it
CREATE TEMP TABLE big AS
SELECT g, string_agg(pg_temp.script(8, true), E';\n') AS sql
FROM generate_series(1, 5) AS g, generate_series(1, 400) AS i
GROUP BY g;
SELECT cmp_ok((SELECT min(length(sql)) FROM big), '>', 2 * 65536,
              'each large generated script spans several 64 kB reads');
SELECT is((SELECT string_agg(pg_temp._split_check(sql, 65536), E'\n') FROM big), NULL,
          'generated scripts over 64 kB split as the server splits them');

-- a dollar quote, a comment and a string across the 64 kB boundary
SELECT is(string_agg(pg_temp._split_check(
              'SELECT ''' || repeat('x', 65536 - pad - 9) || ''';' || body, 65536), E'\n'), NULL,
          'tokens straddling the 64 kB boundary at every offset')
FROM generate_series(0, 24) AS pad,
     (VALUES (E'SELECT $tag$ a; $x$ $tag$;\n/* c; /* n */ */ SELECT E''\\'';'' ; -- c;\nSELECT 1')) AS b(body);

SET standard_conforming_strings = off;
SET escape_string_warning = off;
SELECT is(pg_temp.run(500, 6, false, ARRAY[1, 3, 65536]), NULL,
          'with standard_conforming_strings off, '''' strings take backslash escapes as in the server');
RESET standard_conforming_strings;

SELECT results_eq(
    $$SELECT line, statement FROM migrate.statements(
        E'-- setup\nCREATE TABLE t (a int);;\n\nCOPY t FROM stdin;\n1\n\\.\nINSERT INTO t\n  VALUES (2)\n\\echo hi\nSELECT 3')$$,
    $$VALUES (2, 'CREATE TABLE t (a int);'), (4, 'COPY t FROM stdin;'),
             (7, E'INSERT INTO t\n  VALUES (2)\n'), (9, '\echo hi'), (10, 'SELECT 3')$$,
    'migrate.statements shows each statement with its line, without COPY data');

-- a -- comment ends at a lone \r: the statement after it on that line runs
SELECT is(pg_temp._split_check(E'-- a comment\rCREATE TABLE t (a int);\nSELECT 1 -- x\r;'), NULL,
          'a -- comment ends at a lone carriage return, as in the server');
SELECT results_eq(
    $$SELECT line, statement FROM migrate.statements(E'-- comment\rCREATE TABLE cr (a int);\n')$$,
    $$VALUES (1, 'CREATE TABLE cr (a int);')$$,
    'migrate.statements sees the statement after a comment ended by a lone carriage return');

SELECT * FROM finish();
