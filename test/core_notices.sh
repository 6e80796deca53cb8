#!/usr/bin/env bash
# apply reports each migration with its time, then one summary line.
set -euo pipefail
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"

dir=$MIG_FIXTURES/core_notices
rm -rf "$dir"; mkdir -p "$dir"
printf 'SELECT 1;\n' > "$dir/V1__first.sql"
printf 'SELECT 2;\n' > "$dir/V2__second.sql"
mig_own "$dir"
mig_dropdb core_notices >/dev/null 2>&1 || true
mig_newdb core_notices >/dev/null

fail() { echo "FAIL: $*"; exit 1; }
out=$(psql -X -v ON_ERROR_STOP=1 -d core_notices -c "CALL migrate.apply('$dir')" 2>&1)
grep -Eq '^NOTICE:  applied V1__first\.sql \([0-9]+\.[0-9]{3} ms\)$' <<<"$out" || fail "no notice for V1: $out"
grep -Eq '^NOTICE:  applied V2__second\.sql \([0-9]+\.[0-9]{3} ms\)$' <<<"$out" || fail "no notice for V2: $out"
grep -q '^NOTICE:  migrate: applied 2 migration(s) on track "main", now at version 2$' <<<"$out" || fail "no summary: $out"
out=$(psql -X -v ON_ERROR_STOP=1 -d core_notices -c "CALL migrate.apply('$dir', dry_run => true)" 2>&1)
grep -q 'dry run on track "main": 0 migration(s) would be applied, then at version 2' <<<"$out" || fail "dry run summary: $out"
mig_dropdb core_notices >/dev/null
echo ok
