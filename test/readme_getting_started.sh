#!/usr/bin/env bash
# README's Getting started works exactly as written, on the first try, on a
# fresh cluster: its shell lines (run as root from the repository, with
# /srv/app moved into this test's own directory), then its SQL lines in one
# psql session -- ALTER SYSTEM, pg_reload_conf() and, as the very next
# statement, the apply that needs the new migrate.allowed_dirs -- and what
# psql prints is the output README shows, times and timestamps aside (and
# the width of the column that holds them).  The blocks are found by their
# markers, <!-- readme-test: shell|sql|output -->, wherever the section is.
# Then the same race made certain (pg_reload_conf() and the call in one
# query string, which failed every time before migrate caught up with the
# reload), and a list SET in a session stays that session's.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"

readme=$MIG_ROOT/README.md
fail() { echo "FAIL: $*" >&2; exit 1; }

# block NAME: the fenced code block after the marker <!-- readme-test: NAME -->
block() {
    awk -v marker="<!-- readme-test: $1 -->" '
        $0 == marker { found = 1; next }
        found == 1 && /^```/ { found = 2; next }
        found == 2 && /^```/ { exit }
        found == 2 { print }
    ' "$readme"
}
# normalize: times, timestamps and the padding of table columns vary
normalize() {
    sed -E -e 's/\([0-9]+\.[0-9]+ ms\)/(TIME)/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?[+-][0-9]{2}/TIMESTAMP/g' \
        -e 's/-{2,}/--/g' -e 's/ +/ /g' -e 's/ $//'
}

shell_lines=$(block shell)
sql_lines=$(block sql)
expected=$(block output)
[[ -n $shell_lines && -n $sql_lines && -n $expected ]] ||
    fail "README lacks one of the blocks marked readme-test: shell, sql, output"
grep -q '/srv/app' <<<"$shell_lines" || fail "the shell lines no longer use /srv/app"

# A fresh cluster of its own: the shared one has migrate.allowed_dirs set in
# postgresql.conf, and ALTER SYSTEM would change it for every other test.
(
    unset MIG_WORK MIG_DATA MIG_LOG MIG_SOCK MIG_FIXTURES PGHOST PGPORT
    export MIG_PORT_BASE=$((MIG_PORT + 100))
    trap 'mig_stop_cluster' EXIT
    mig_init_cluster "migrate.allowed_dirs = ''" >/dev/null || fail "initdb"
    mig_start_server >/dev/null || fail "the cluster did not start"
    srv=$MIG_WORK/srv
    [[ -z $(mig_psql -d postgres -Atc "SELECT setting FROM pg_settings WHERE name = 'migrate.allowed_dirs'") ]] ||
        fail "the fresh cluster allows a directory already"
    mig_psql -d postgres -c "CREATE DATABASE app"

    # the README's lines, /srv/app moved below this cluster's work dir
    (cd "$MIG_ROOT" && bash -euo pipefail -c "${shell_lines//\/srv\/app/$srv/app}") ||
        fail "the shell lines failed"
    "$MIG_PGBIN/psql" -X -v ON_ERROR_STOP=1 -d app >"$MIG_WORK/got.out" 2>&1 \
        <<<"${sql_lines//\/srv\/app/$srv/app}" || {
        cat "$MIG_WORK/got.out" >&2
        fail "the SQL lines failed in one psql session"
    }
    # (through $(...): trailing empty lines do not count)
    want=$(normalize <<<"$expected")
    got=$(normalize <"$MIG_WORK/got.out")
    if [[ $want != "$got" ]]; then
        diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$got") >&2 || true
        fail "README's output (-) is not what the lines print (+)"
    fi

    # The race made certain: pg_reload_conf() and the call in one query
    # string, between whose statements a session never reloads by itself.
    mkdir -p "$srv/second"
    cp "$MIG_ROOT"/examples/migrations/*.sql "$srv/second/"
    chmod -R a+rX "$srv"
    mig_psql -d postgres -c "CREATE DATABASE app2"
    mig_psql -d app2 -c "CREATE EXTENSION migrate" \
        -c "ALTER SYSTEM SET migrate.allowed_dirs = '$srv/app/migrations,$srv/second'"
    mig_psql -d app2 -c "SELECT pg_reload_conf(); CALL migrate.apply('$srv/second')" >"$MIG_WORK/second.out" 2>&1 || {
        cat "$MIG_WORK/second.out" >&2
        fail "the call in the query string of pg_reload_conf() did not see the new list"
    }
    grep -q 'migrate: applied 4 migration(s) on track "main", now at version 3' "$MIG_WORK/second.out" ||
        { cat "$MIG_WORK/second.out" >&2; fail "the second apply did not apply the examples"; }
    # a session that SET its own list keeps it: a reload does not change it
    if mig_psql -d app2 -c "SET migrate.allowed_dirs = '$srv/app/migrations'" \
        -c "SELECT * FROM migrate.status('$srv/second')" >"$MIG_WORK/set.out" 2>&1; then
        fail "a list SET in the session was replaced by the files' one"
    fi
    grep -q 'is not in an allowed directory' "$MIG_WORK/set.out" ||
        { cat "$MIG_WORK/set.out" >&2; fail "expected the refusal under the session's own list"; }
)
echo "readme_getting_started: ok"
