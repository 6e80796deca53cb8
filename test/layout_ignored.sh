#!/usr/bin/env bash
# A file the directory's own tool would not run (a .sql file beside diesel's
# folders, one Drizzle's journal does not list, one below sql-migrate's
# directory) is said once per call: one NOTICE naming it and why, from
# apply, status and a dry run alike; the call goes on, and the file never runs.
set -euo pipefail
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"

db=layout_ignored
mig_dropdb "$db" >/dev/null 2>&1 || true
mig_newdb "$db" >/dev/null

fail() { echo "FAIL: $*"; exit 1; }
run() { psql -X -v ON_ERROR_STOP=1 -d "$db" -c "$1" 2>&1; }

# check DIR FILE TOOL WHY: every call says it once, and carries on
check() {
    local dir=$MIG_FIXTURES/$1 file=$2 tool=$3 why=$4 track=$1 out n call
    for call in "CALL migrate.apply('$dir', track => '$track', dry_run => true)" \
                "CALL migrate.apply('$dir', track => '$track')" \
                "SELECT state FROM migrate.status('$dir', '$track') WHERE script = '$file'"; do
        out=$(run "$call") || fail "$call failed: $out"
        n=$(grep -c "^NOTICE:  migrate: ignoring \"$file\", which $tool does not run\$" <<<"$out" || true)
        [[ $n == 1 ]] || fail "$call: $n notices for $file, not 1: $out"
        grep -qxF "DETAIL:  $why" <<<"$out" || fail "$call: no detail saying why: $out"
    done
    grep -qx ' ignored' <<<"$out" || fail "status row of $file is not ignored: $out"
}

check layout_cases/diesel_mixed seed.sql diesel \
    'diesel reads only migration folders, <version>_<name>/up.sql and down.sql, not files beside them.'
check layout_cases/drizzle_unlisted 0002_hand_written.sql drizzle \
    'Drizzle runs only the migrations that meta/_journal.json lists.'
check layout_sql_migrate seeds/dev_accounts.sql sql-migrate \
    'sql-migrate reads only the files at the top of the migration directory.'

# none of them ran
out=$(run "SELECT count(*) FROM migrate.history WHERE script IN ('seed.sql', '0002_hand_written.sql', 'seeds/dev_accounts.sql')")
grep -qx '     0' <<<"$out" || fail "an ignored file is in the history: $out"

mig_dropdb "$db" >/dev/null
echo ok
