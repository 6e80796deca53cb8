#!/usr/bin/env bash
# Two CREATE INDEX CONCURRENTLY in one migration must finish, not hang,
# while another session holds a long open transaction on a different
# table and a second apply is waiting for the migrate lock.  A concurrent
# build waits for every transaction holding a snapshot older than its own:
# if the caller kept its snapshot while its worker runs, or the second
# apply waited inside a transaction, the build would wait forever (the
# hang client tools run into).  Every wait here is bounded.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

fx=$MIG_FIXTURES/nontx_hang
db=nontx_hang
out=$MIG_WORK/nontx_concurrency.out
gate_fifo=$MIG_WORK/nontx_gate.fifo
idle_fifo=$MIG_WORK/nontx_idle.fifo
pids=()

fail() {
    echo "FAIL: $*" >&2
    for f in "$out" "$MIG_WORK"/nontx_apply_*.out; do
        [[ -s $f ]] && { echo "  $f:" >&2; sed 's/^/    > /' "$f" >&2; }
    done
    mig_psql -d postgres -c "SELECT pid, backend_type, application_name, state, wait_event, query
                             FROM pg_stat_activity WHERE datname = '$db'" >&2 || true
    exit 1
}
sql() {
    mig_psql -d "$db" -At -c "$1"
}
# wait_for SQL SECONDS: poll until SQL returns t
wait_for() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [[ $(sql "$1") == t ]] && return 0
        sleep 0.1
    done
    return 1
}
cleanup() {
    exec 3>&- 4>&- 2>/dev/null || true
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT

mig_psql -d postgres -v db="$db" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
CREATE DATABASE :"db";
SQL
mig_psql -d "$db" -c 'CREATE EXTENSION migrate'
mig_psql -d "$db" -c "CALL migrate.apply('$fx', target => '1')" >"$out" 2>&1 || fail "apply V1"

# a long open transaction on another table, idle between statements
rm -f "$idle_fifo" "$gate_fifo"
mkfifo "$idle_fifo" "$gate_fifo"
mig_psql -d "$db" -c "SET application_name = 'nontx_idle'" -f - <"$idle_fifo" >/dev/null 2>&1 &
pids+=($!)
exec 3>"$idle_fifo"
printf 'BEGIN;\nINSERT INTO other VALUES (1);\n' >&3
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'nontx_idle'
                         AND state = 'idle in transaction' AND backend_xid IS NOT NULL)" 30 ||
    fail "the long transaction did not start"

# a gate the migration's first statement waits for, so that the second
# apply is surely queued before the concurrent builds start
mig_psql -d "$db" -c "SET application_name = 'nontx_gate'" -f - <"$gate_fifo" >/dev/null 2>&1 &
pids+=($!)
exec 4>"$gate_fifo"
printf 'SELECT pg_advisory_lock(4242);\n' >&4
wait_for "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted)" 30 ||
    fail "the gate lock was not taken"

# the first apply: its worker waits at the gate, as long as the steps below
# take on a loaded machine (migrate.lock_timeout = 0: no lock timeout ends
# the wait; the default 5 s did, failing the apply)
timeout 240 "$MIG_PGBIN/psql" -X -v ON_ERROR_STOP=1 -d "$db" -c "SET application_name = 'nontx_a'" \
    -c "SET migrate.lock_timeout = 0" \
    -c "CALL migrate.apply('$fx')" >"$MIG_WORK/nontx_apply_a.out" 2>&1 &
apply_a=$!
pids+=("$apply_a")
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'migrate worker'
                         AND wait_event_type = 'Lock' AND query LIKE '%4242%')" 30 ||
    fail "the worker of the first apply did not reach the gate"

# the second apply: waits for the migrate lock (as long as the first takes:
# migrate.lock_wait is raised past the default 60 s, bounded by timeout)
timeout 240 "$MIG_PGBIN/psql" -X -v ON_ERROR_STOP=1 -d "$db" -c "SET application_name = 'nontx_b'" \
    -c "SET migrate.lock_wait = '240s'" \
    -c "CALL migrate.apply('$fx')" >"$MIG_WORK/nontx_apply_b.out" 2>&1 &
apply_b=$!
pids+=("$apply_b")
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'nontx_b'
                         AND wait_event = 'Extension')" 30 ||
    fail "the second apply is not waiting for the migrate lock"

# open the gate: the two concurrent builds run now, with both waiters around
printf 'SELECT pg_advisory_unlock(4242);\n' >&4
rc=0
wait "$apply_a" || rc=$?
((rc == 0)) || fail "the first apply failed (exit status $rc; 124 means it hung)"
wait "$apply_b" || rc=$?
((rc == 0)) || fail "the second apply failed (exit status $rc; 124 means it hung)"

grep -qF 'applied V2__indexes.sql outside a transaction' "$MIG_WORK/nontx_apply_a.out" ||
    fail "the first apply applied V2"
grep -qF 'waiting for another migrate run' "$MIG_WORK/nontx_apply_b.out" ||
    fail "the second apply waited for the first"
grep -qF 'nothing to apply' "$MIG_WORK/nontx_apply_b.out" ||
    fail "the second apply found nothing left to do"
[[ $(sql "SELECT count(*) FROM pg_index WHERE indrelid = 'busy'::regclass AND indisvalid") == 3 ]] ||
    fail "the primary key and both concurrent indexes are valid"
[[ $(sql "SELECT state FROM pg_stat_activity WHERE application_name = 'nontx_idle'") == 'idle in transaction' ]] ||
    fail "the long transaction is still open: nothing waited for it to end"

printf 'ROLLBACK;\n' >&3
echo "nontx_concurrency: ok"
