-- What the lifecycle calls say, as a DBA sees it in psql: the dry run's
-- notices in order and what would stop it, undo's warning and refusals,
-- validate's list, repair's lines, status after an undo.  (Behaviour is
-- tested by test/lifecycle_*.sql; this pins the wording.)  Notices of
-- real runs carry timings, so they are hidden with client_min_messages.
CREATE EXTENSION migrate;
-- Fixtures from this source tree, allowed for this session (see core_status).
\getenv abs_srcdir PG_ABS_SRCDIR
\set fx :abs_srcdir '/test/fixtures'
SET migrate.allowed_dirs = :'fx';
\set d :fx/lifecycle_undo
\set rep :fx/lifecycle_repeatable/v1
\set good :fx/lifecycle_validate/good
\set bad :fx/lifecycle_validate/bad

-- dry run: what would run, in order, and why
CALL migrate.apply(:'rep', dry_run => true, track => 'rep');
CALL migrate.apply(:'d', dry_run => true, target => '2');

SET client_min_messages = warning;
CALL migrate.apply(:'d');
CALL migrate.undo(:'d', version => '2');
CALL migrate.undo(:'d');
SELECT version, description, type, script, state FROM migrate.status(:'d');
RESET client_min_messages;

-- dry run with problems: what would run, then apply's error
CALL migrate.apply(:'d', dry_run => true);
CALL migrate.apply(:'d', dry_run => true, out_of_order => true);

-- undo refusals
CALL migrate.undo(:'d', target => '0');
CALL migrate.undo(:'d', version => '3');
CALL migrate.undo(:'d', version => '2');
CALL migrate.undo(:'d', target => '1', version => '2');

-- validate: silent when clean, else every problem
SELECT migrate.validate(:'d', 'nothing applied');
SET client_min_messages = warning;
CALL migrate.apply(:'good', track => 'v');
INSERT INTO migrate.history (track, version, description, type, script, success, dirty, error, error_line)
VALUES ('v', '5', 'dirty', 'versioned', 'V5__dirty.sql', false, true, 'canceling statement due to user request', 1);
RESET client_min_messages;
SELECT migrate.validate(:'bad', 'v');

-- repair: one line per action
SELECT * FROM migrate.repair(:'bad', 'v');
SELECT * FROM migrate.repair(:'bad', 'v');

-- baseline
SELECT migrate.baseline('2', track => 'b');
SELECT migrate.baseline('1', track => 'v');
SELECT version, description, type, script, state FROM migrate.status(:'d', 'b');

DROP TABLE public.lc_one, public.lc_three, public.lv_one, public.lv_two, public.lv_three;
DROP EXTENSION migrate;
