-- What apply does with lint findings (SPEC section 10): migrate.lint = warn
-- applies, error stops before anything runs (the finding in the DETAIL),
-- off does not lint; the dry run fails as apply would; lint-ignore
-- directives silence a rule for a statement or a whole file, and apply
-- records what was silenced with the history row; against the objects of
-- 1.0 apply works without recording.  (What apply prints is pinned by
-- the pg_regress test sql/lint_messages.sql.)
SET client_min_messages = warning;
SET migrate.lint_large_table = '64kB';
SELECT plan(22);

CREATE FUNCTION pg_temp.error_of(sql text, OUT msg text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
END $$;

CREATE TABLE acc (id int PRIMARY KEY, n int, k int);
INSERT INTO acc SELECT g, g, g FROM generate_series(1, 5000) g;
ANALYZE acc;

SELECT migrate.stage('a', 'V1__new.sql', 'CREATE TABLE acc_log (id bigint PRIMARY KEY, at timestamptz);');
SELECT migrate.stage('a', 'V2__index.sql', E'CREATE INDEX acc_n_idx ON acc (n);\n');

-- error: nothing runs, not even the clean V1
SET migrate.lint = error;
SELECT is((pg_temp.error_of($$CALL migrate.apply('a')$$)).msg,
          'lint found 1 error(s) in the pending migrations; nothing was applied',
          'lint = error: the run stops');
SELECT matches((pg_temp.error_of($$CALL migrate.apply('a')$$)).detail,
               '^V2__index\.sql, line 1 \[create_index\]: CREATE INDEX on public\.acc \(\d+ kB, ~5000 rows\) '
               'blocks writes to it while the index builds\.$',
               'the finding is in the DETAIL');
SELECT is((SELECT count(*) FROM migrate.history), 0::bigint, 'nothing was applied or recorded');
SELECT hasnt_table('acc_log', 'not even the migration before the one with the finding');
SELECT is(pg_temp.error_of($$CALL migrate.apply('a', dry_run => true)$$),
          pg_temp.error_of($$CALL migrate.apply('a')$$),
          'the dry run fails with apply''s very error');
SELECT is((pg_temp.error_of($$CALL migrate.apply('a', target => '1')$$)).msg, NULL,
          'a target below the migration with the finding applies');
SELECT has_table('acc_log', 'V1 applied');

-- warn (the default): findings are printed, and the run goes on
RESET migrate.lint;
SELECT is(current_setting('migrate.lint'), 'warn', 'migrate.lint is warn by default');
SELECT is((pg_temp.error_of($$CALL migrate.apply('a')$$)).msg, NULL, 'lint = warn: apply goes on');
SELECT has_index('acc', 'acc_n_idx', 'V2 applied');

-- off: apply does not even read the files for lint
SET migrate.lint = error;
SELECT migrate.stage('a', 'V3__check.sql', 'ALTER TABLE acc ADD CONSTRAINT acc_n_pos CHECK (n > 0);');
SET migrate.lint = off;
SELECT is((pg_temp.error_of($$CALL migrate.apply('a')$$)).msg, NULL, 'lint = off: no check');
SET migrate.lint = error;

-- directives: for a statement, for the file, with squawk's names; silenced
-- findings are recorded with the history row of the run that applied them
SELECT migrate.stage('a', 'V4__ignored.sql', $$-- migrate:lint-ignore set_not_null -- acc is checked by V3
ALTER TABLE acc ALTER COLUMN k SET NOT NULL;
-- migrate:lint-ignore require-concurrent-index-creation: built off-peak
CREATE INDEX acc_n2_idx ON acc (n, id);
$$);
SELECT migrate.stage('a', 'V5__file.sql', $$-- migrate:lint-ignore create_index, add_check because acc is small in every environment

CREATE INDEX acc_n3_idx ON acc (n);
ALTER TABLE acc ADD CONSTRAINT acc_n_small CHECK (n < 1000000);
$$);
SELECT is((SELECT count(*) FROM migrate.lint('a')), 0::bigint, 'silenced findings are not reported');
SELECT is((pg_temp.error_of($$CALL migrate.apply('a')$$)).msg, NULL, 'lint = error: silenced findings do not stop it');
SELECT results_eq(
    $$SELECT h.script, i.line, i.rule, i.severity, i.reason, i.statement
      FROM migrate.lint_ignored i JOIN migrate.history h USING (rank) ORDER BY i.rank, i.line$$,
    $$VALUES ('V4__ignored.sql', 2, 'set_not_null', 'error', 'acc is checked by V3',
              'ALTER TABLE acc ALTER COLUMN k SET NOT NULL;'),
             ('V4__ignored.sql', 4, 'create_index', 'error', 'built off-peak',
              'CREATE INDEX acc_n2_idx ON acc (n, id);'),
             ('V5__file.sql', 3, 'create_index', 'error', 'because acc is small in every environment',
              'CREATE INDEX acc_n3_idx ON acc (n);'),
             ('V5__file.sql', 4, 'add_check', 'error', 'because acc is small in every environment',
              'ALTER TABLE acc ADD CONSTRAINT acc_n_small CHECK (n < 1000000);')$$,
    'the silenced findings are in the history, with their reasons');
SELECT alike((SELECT message FROM migrate.lint_ignored WHERE line = 2),
            'SET NOT NULL on k of public.acc%', 'with the message of the finding');

-- a directive only covers the statement right after it
SELECT migrate.stage('b', 'V1__two.sql', $$CREATE TABLE b_t (a int);
-- migrate:lint-ignore create_index
CREATE INDEX ON acc (id, n);
CREATE INDEX ON acc (n, id);
$$);
SELECT results_eq($$SELECT line, rule FROM migrate.lint('b', track => 'b')$$, $$VALUES (4, 'create_index')$$,
                  'the directive silences the next statement only');
-- a directive where it applies to nothing, and an unknown rule, are findings
SELECT migrate.stage('b', 'V1__two.sql', $$CREATE TABLE b_t (a int);
-- migrate:lint-ignore create_index

CREATE INDEX ON acc (id, n);
-- migrate:lint-ignore create_idx
CREATE INDEX ON acc (n, id);
$$);
SELECT results_eq($$SELECT line, rule, severity FROM migrate.lint('b', track => 'b') ORDER BY line, rule$$,
                  $$VALUES (2, 'lint_ignore', 'warning'), (4, 'create_index', 'error'),
                           (5, 'lint_ignore', 'warning'), (6, 'create_index', 'error')$$,
                  'a stray directive and an unknown rule are findings');
SELECT is((SELECT message FROM migrate.lint('b', track => 'b') WHERE line = 5),
          'the lint-ignore directive names "create_idx", which is no lint rule', 'naming the rule');

-- the library against the objects of 1.0: apply lints and silences, records nothing
DROP EXTENSION migrate;
CREATE EXTENSION migrate VERSION '1.0';
SELECT migrate.stage('a', 'V1__old.sql', $$-- migrate:lint-ignore create_index
CREATE INDEX acc_old_idx ON acc (n);
$$);
SELECT is((pg_temp.error_of($$CALL migrate.apply('a')$$)).msg, NULL,
          'with the 1.0 objects apply works, silenced findings included');
SELECT has_index('acc', 'acc_old_idx', 'and applied the migration');
SELECT hasnt_table('migrate', 'lint_ignored', 'without the 1.1 table to record them in');
SELECT is(pg_temp.error_of($$CALL migrate.apply('a', dry_run => true)$$),
          ROW(NULL::text, NULL::text)::record, 'and the dry run works there too');

SELECT * FROM finish();
