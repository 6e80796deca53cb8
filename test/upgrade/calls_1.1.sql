-- The calls that 1.1 adds to those of 1.0 (test/upgrade/calls_1.0.sql),
-- made at the 1.1 step of sql/oldextversions.sql and at every later one.
-- Each engineer whose piece adds a call to 1.1 adds it here, with :track
-- for its history and cleaning up what it creates.

-- Fleets (issue 16): each changing call of calls_1.0.sql left its run in
-- migrate.runs (the dry run none), and migrate.summary gives one row
SELECT track, call, applied, version, outcome FROM migrate.runs
WHERE track LIKE :'track' || '%' ORDER BY id;
SELECT version, pending, failed, dirty, last_call, last_outcome, last_error
FROM migrate.summary(:'app', track => :'track');

-- Flyway placeholders (issue 15): apply, undo and run take placeholders =>
\set seed_placeholders :fx '/seed_placeholders.sql'
CALL migrate.run(:'seed_placeholders', placeholders => '{"table": "up_placeholder"}');
SELECT to_regclass('public.up_placeholder') IS NOT NULL AS placeholder_replaced;
DROP TABLE public.up_placeholder;
CALL migrate.apply(:'app', track => :'track' || '_ph', placeholders => '{"unused": "x"}');
CALL migrate.undo(:'app', target => '0', track => :'track' || '_ph', placeholders => '{"unused": "x"}');
