#!/usr/bin/env bash
# Flyway's callbacks as a DBA sees them run (test/callbacks.sql has the
# rest): a NOTICE per callback script in its place among the migrations',
# the dry run listing them without running them, and a failing
# afterMigrateError reported as a WARNING under the run's own error.
set -euo pipefail
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"

dir=$MIG_FIXTURES/callbacks_notices
rm -rf "$dir"; mkdir -p "$dir"
printf 'CREATE TABLE public.one (id int);\n' > "$dir/V1__one.sql"
printf 'SELECT 1;\n' > "$dir/beforeMigrate.sql"
printf 'SELECT 1;\n' > "$dir/beforeEachMigrate.sql"
printf 'SELECT 1;\n' > "$dir/afterMigrate__grants.sql"
printf 'SELECT 1;\n' > "$dir/afterMigrateApplied.sql"
mig_own "$dir"
mig_dropdb callbacks_sh >/dev/null 2>&1 || true
mig_newdb callbacks_sh >/dev/null

fail() { echo "FAIL: $*"; exit 1; }
ms='\([0-9]+\.[0-9]{3} ms\)'

out=$(psql -X -v ON_ERROR_STOP=1 -d callbacks_sh -c "CALL migrate.apply('$dir', dry_run => true)" 2>&1)
want='NOTICE:  would run callback beforeMigrate.sql
NOTICE:  would run callback beforeEachMigrate.sql before each migration
NOTICE:  would apply V1__one.sql
NOTICE:  would run callback afterMigrate__grants.sql
NOTICE:  would run callback afterMigrateApplied.sql'
grep -q "^$(head -1 <<<"$want")" <<<"$out" || fail "dry run: $out"
[ "$(grep -E '^NOTICE:  would' <<<"$out")" = "$want" ] || fail "dry run lists callbacks in order: $out"

out=$(psql -X -v ON_ERROR_STOP=1 -d callbacks_sh -c "CALL migrate.apply('$dir')" 2>&1)
got=$(grep -E '^NOTICE:  (ran|applied|migrate:)' <<<"$out" | sed -E "s/ $ms$//")
want='NOTICE:  ran callback beforeMigrate.sql
NOTICE:  ran callback beforeEachMigrate.sql
NOTICE:  applied V1__one.sql
NOTICE:  ran callback afterMigrate__grants.sql
NOTICE:  ran callback afterMigrateApplied.sql
NOTICE:  migrate: applied 1 migration(s) on track "main", now at version 1'
[ "$got" = "$want" ] || fail "notices of a run: $out"
grep -Eq "^NOTICE:  ran callback beforeMigrate\.sql $ms$" <<<"$out" || fail "callback time: $out"

# a failing migration, then a failing afterMigrateError: its WARNING, then the run's error
printf 'SELECT 1/0;\n' > "$dir/V2__bad.sql"
printf 'SELECT 1;\nSELECT no_such_column;\n' > "$dir/afterMigrateError.sql"
out=$(psql -X -d callbacks_sh -c "CALL migrate.apply('$dir')" 2>&1 || true)
grep -q '^WARNING:  afterMigrateError callback failed: column "no_such_column" does not exist$' <<<"$out" \
    || fail "warning of the failed afterMigrateError: $out"
grep -q 'callback afterMigrateError.sql, line 2' <<<"$out" || fail "its file and line: $out"
grep -q '^ERROR:  division by zero$' <<<"$out" || fail "the run's error stands: $out"
[ "$(psql -X -Atq -d callbacks_sh -c "SELECT sqlstate FROM migrate.history WHERE version = '2'")" = 22012 ] \
    || fail "the failure row of V2 is committed"

# a working afterMigrateError runs after the failure row is committed
printf 'CREATE TABLE public.error_seen AS SELECT error FROM migrate.history WHERE NOT success;\n' \
    > "$dir/afterMigrateError.sql"
out=$(psql -X -d callbacks_sh -c "CALL migrate.apply('$dir')" 2>&1 || true)
grep -q '^NOTICE:  ran callback afterMigrateError.sql' <<<"$out" || fail "afterMigrateError ran: $out"
[ "$(psql -X -Atq -d callbacks_sh -c "SELECT count(*) FROM public.error_seen")" = 2 ] \
    || fail "afterMigrateError sees the committed failure rows"
mig_dropdb callbacks_sh >/dev/null
echo ok
