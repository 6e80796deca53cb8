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
