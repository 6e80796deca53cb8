-- Every call of migrate 1.0, made with this release's library against the
-- extension's objects as the database has them at this step (see
-- sql/oldextversions.sql).  Each pass uses its own tracks (:'track') and
-- bundle, and undoes what it applied, so that passes do not meet.
-- Needs :fx (test/fixtures/upgrade) and :track.
\set app :fx '/app'
\set seed :fx '/seed.sql'

-- apply to a target, then the rest (V3 in the background worker, R__ last)
CALL migrate.apply(:'app', target => '2', track => :'track');
CALL migrate.apply(:'app', dry_run => true, track => :'track');
CALL migrate.apply(:'app', track => :'track');
SELECT version, type, script, state, installed_on IS NOT NULL AS installed
FROM migrate.status(:'app', track => :'track');
SELECT name FROM public.up_account_names ORDER BY name;
SELECT migrate.validate(:'app', track => :'track');
SELECT * FROM migrate.repair(:'app', track => :'track');

-- undo the newest, then everything
CALL migrate.undo(:'app', track => :'track');
CALL migrate.undo(:'app', target => '0', track => :'track');
SELECT version, type, state FROM migrate.status(:'app', track => :'track');
SELECT to_regclass('public.up_accounts') IS NULL AS accounts_gone;

-- baseline on a track of its own
SELECT migrate.baseline('2', track => :'track' || '_base');
SELECT version, type, state FROM migrate.status(:'app', track => :'track' || '_base');

-- a staged bundle, applied and removed
SELECT migrate.stage(:'track', 'V1__staged.sql', 'CREATE TABLE public.up_staged (id int);') IS NOT NULL AS staged;
CALL migrate.apply(:'track', track => :'track' || '_staged');
SELECT version, state FROM migrate.status(:'track', track => :'track' || '_staged');
SELECT migrate.unstage(:'track');
DROP TABLE public.up_staged;

-- one untracked file
CALL migrate.run(:'seed');
DROP TABLE public.up_seeded;

-- reading files and text
SELECT layout, version, type, script FROM migrate.scripts(:'app') ORDER BY script;
SELECT * FROM migrate.statements('SELECT 1; SELECT $$a;b$$;');

-- another tool's history
CREATE TABLE public.schema_migrations (version varchar(128) PRIMARY KEY);
INSERT INTO public.schema_migrations VALUES ('20240101000000'), ('20240102000000');
SELECT migrate.adopt('dbmate', track => :'track' || '_adopted');
SELECT version, type, success FROM migrate.history
WHERE track = :'track' || '_adopted' ORDER BY rank;
DROP TABLE public.schema_migrations;
