-- Security (issue 11, "also check"): what the catalog promises.  No
-- routine of the extension is SECURITY DEFINER without a pinned
-- search_path (none is SECURITY DEFINER at all: apply, undo and run must
-- commit); no role but the owner may write the extension's tables or
-- sequence; nothing is granted to PUBLIC.
BEGIN;
SELECT plan(5);

SELECT is((SELECT count(*)::int FROM pg_proc p
           WHERE p.pronamespace = 'migrate'::regnamespace AND p.prosecdef
             AND NOT EXISTS (SELECT FROM unnest(coalesce(p.proconfig, '{}')) AS c(setting)
                             WHERE c.setting LIKE 'search_path=%')),
          0, 'no SECURITY DEFINER routine without a pinned search_path');
SELECT is((SELECT count(*)::int FROM pg_proc p
           WHERE p.pronamespace = 'migrate'::regnamespace AND p.prosecdef),
          0, 'no routine of the extension is SECURITY DEFINER');
SELECT is((SELECT string_agg(c.relname || ': ' || a.privilege_type || ' to ' || a.grantee::regrole::text, ', ')
           FROM pg_class c, aclexplode(c.relacl) a
           WHERE c.relnamespace = 'migrate'::regnamespace AND a.grantee <> c.relowner),
          NULL, 'a fresh install grants nothing on the tables and the sequence');
SELECT is((SELECT count(*)::int FROM pg_proc p, aclexplode(p.proacl) a
           WHERE p.pronamespace = 'migrate'::regnamespace AND a.grantee = 0),
          0, 'no routine is granted to PUBLIC');
SELECT is((SELECT count(*)::int FROM pg_proc p
           WHERE p.pronamespace = 'migrate'::regnamespace
             AND (p.proname LIKE '\_%' OR p.proname LIKE '%check%')
             -- internal but no test routine: the drift event trigger's
             -- function and the one behind the migrate.progress view
             AND p.proname NOT IN ('_drift_record', '_progress')),
          0, 'no internal test routine is part of the extension');

SELECT * FROM finish();
ROLLBACK;
