#!/usr/bin/env bash
# On a hot standby (SPEC section 8) every changing call fails at once with
# a clear error, while status and dry runs still work.  The standby is a
# pg_basebackup of the test cluster, started next to it for a few seconds.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=ops_standby
sb=$MIG_WORK/ops_standby
fail() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
    if [[ -f $sb/postmaster.pid ]]; then
        _mig_as_postgres "$MIG_PGBIN/pg_ctl" -D "$sb" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$sb"
    mig_dropdb "$db" >/dev/null 2>&1 || true
}
trap cleanup EXIT

mig_newdb "$db"
mig_psql -d "$db" -q >/dev/null <<'SQL'
SELECT migrate.stage('b', 'V1__one.sql', E'CREATE TABLE one (id int);\n');
CALL migrate.apply('b');
SELECT migrate.stage('b', 'V2__two.sql', E'CREATE TABLE two (id int);\n');
SQL

# The standby listens on no TCP port, only on a socket in the primary's
# private socket directory: no other cluster on this machine (another
# test/run at the same time) can take its port between a check and the start.
port=$((MIG_PORT + 1))
rm -rf "$sb"
_mig_as_postgres "$MIG_PGBIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres \
    -D "$sb" -R -X stream -c fast --no-sync >/dev/null
_mig_as_postgres "$MIG_PGBIN/pg_ctl" -D "$sb" -l "$sb.log" -o "-p $port -c listen_addresses=''" -w -t 60 start >/dev/null ||
    { cat "$sb.log" >&2; fail "the standby did not start"; }

on_standby() { mig_psql -p "$port" -d "$db" -At "$@"; }
[[ $(on_standby -c "SELECT pg_is_in_recovery()") == t ]] || fail "not a standby"

for call in "CALL migrate.apply('b')" "CALL migrate.apply('b', confirm => '$db')"; do
    if on_standby -c "$call" >"$sb.out" 2>&1; then fail "$call ran on the standby"; fi
    grep -qF 'ERROR:  migrate.apply cannot run on a hot standby' "$sb.out" || { cat "$sb.out" >&2; fail "$call"; }
    grep -qF 'HINT:  Run migrate.apply on the primary server.' "$sb.out" || { cat "$sb.out" >&2; fail "$call hint"; }
done
if on_standby -c "SELECT migrate.stage('b', 'V3__x.sql', '')" >"$sb.out" 2>&1; then fail "stage ran on the standby"; fi
grep -qF 'ERROR:  migrate.stage cannot run on a hot standby' "$sb.out" || { cat "$sb.out" >&2; fail "stage"; }

[[ $(on_standby -c "SELECT string_agg(state, ',' ORDER BY version) FROM migrate.status('b')") == applied,pending ]] ||
    fail "status does not work on the standby"
on_standby -c "CALL migrate.apply('b', dry_run => true)" >"$sb.out" 2>&1 || { cat "$sb.out" >&2; fail "dry run on the standby"; }
grep -qF 'would apply V2__two.sql' "$sb.out" || { cat "$sb.out" >&2; fail "dry run output"; }

echo "ops_standby: ok"
