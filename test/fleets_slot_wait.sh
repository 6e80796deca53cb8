#!/usr/bin/env bash
# A migration that must run outside a transaction needs a background
# worker.  When every slot of max_worker_processes is taken (on a fleet,
# by pg_cron's own workers), it waits up to migrate.worker_slot_wait for
# one: it applies when a slot frees within that bound, and fails with the
# clear "all background worker slots are in use" past it (issue 16).
#
# The slots are filled deterministically: max_worker_processes is lowered
# to 6 for this test, and "holder" migrations (VACUUM, so they run in a
# worker, then a wait for an advisory lock this test holds) are started
# one at a time until one of them finds no slot.  Nothing frees a slot
# until the test ends the session holding the lock.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=fleets_slots
base=$MIG_WORK/allowed2/fleets_slots
hold=$base/hold
app=$base/app
key=16016
pids=()

fail() { echo "FAIL: $*" >&2; exit 1; }
q() { mig_psql -d "$db" -At "$@"; }

cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    mig_conf "max_worker_processes = 32"
    mig_restart_cluster || true
    mig_dropdb "$db" >/dev/null 2>&1 || true
}
trap cleanup EXIT

mkdir -p "$hold" "$app"
printf 'VACUUM public.gate;\nSELECT pg_advisory_xact_lock_shared(%d);\n' "$key" >"$hold/V1__hold.sql"
printf 'CREATE INDEX CONCURRENTLY gate_id_idx ON public.gate (id);\n' >"$app/V1__index.sql"
mig_own "$base"

mig_conf "max_worker_processes = 6"
mig_restart_cluster
mig_newdb "$db"
q -c "CREATE TABLE public.gate (id int)"

# the session that holds the lock the holders wait for (until it is ended)
mig_psql -d "$db" -c "SELECT pg_advisory_lock($key)" -c "SELECT pg_sleep(600)" \
    >"$MIG_WORK/gate.out" 2>&1 </dev/null &
pids+=($!)
for ((t = 0; t < 600; t++)); do
    [[ $(q -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $key AND granted") == 1 ]] && break
    sleep 0.1
done
[[ $(q -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $key AND granted") == 1 ]] ||
    fail "the gate session did not take its lock"

# workers waiting on the gate
waiting_workers() {
    q -c "SELECT count(*) FROM pg_stat_activity
          WHERE backend_type = 'migrate worker' AND wait_event_type = 'Lock'"
}

# start holders until one finds every slot taken
holders=0
full=
for ((i = 1; i <= 6; i++)); do
    out=$MIG_WORK/holder_$i.out
    mig_psql -d "$db" -c "SET migrate.lock_timeout = 0" -c "SET migrate.worker_slot_wait = 0" \
        -c "CALL migrate.apply('$hold', track => 'hold_$i')" >"$out" 2>&1 </dev/null &
    pid=$!
    pids+=("$pid")
    # wait until its worker waits on the gate, or it failed
    for ((t = 0; t < 600; t++)); do
        if [[ $(waiting_workers) == "$i" ]]; then
            holders=$i
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if ((holders == i)); then
        continue
    fi
    wait "$pid" 2>/dev/null || true
    grep -q 'all background worker slots are in use' "$out" ||
        fail "holder $i neither waited on the gate nor found the slots full: $(cat "$out")"
    full=yes
    break
done
[[ $full == yes ]] || fail "6 holders did not fill max_worker_processes = 6"
((holders >= 1)) || fail "no holder got a worker"
echo "slots filled by $holders holder(s)"

# past the bound: the clear error, after waiting
out=$MIG_WORK/past.out
if mig_psql -d "$db" -c "SET migrate.worker_slot_wait = '1s'" -c "SET client_min_messages = notice" \
        -c "CALL migrate.apply('$app')" >"$out" 2>&1 </dev/null; then
    fail "the migration ran although every worker slot was taken: $(cat "$out")"
fi
grep -q 'waiting for a free background worker slot for migration "V1__index.sql"' "$out" ||
    fail "no notice that it waits for a slot: $(cat "$out")"
grep -q 'all background worker slots are in use (waited 1000 ms for one)' "$out" ||
    fail "not the clear error after waiting: $(cat "$out")"
[[ $(q -c "SELECT sqlstate || ' ' || dirty FROM migrate.history WHERE track = 'main'") == '53000 false' ]] ||
    fail "the failure is not recorded as one clean failed row"
[[ $(q -c "SELECT outcome || ' ' || sqlstate FROM migrate.runs WHERE track = 'main'") == 'failed 53000' ]] ||
    fail "the failed run is not in migrate.runs"
[[ $(q -c "SELECT count(*) FROM pg_indexes WHERE indexname = 'gate_id_idx'") == 0 ]] ||
    fail "the index exists after the failure"

# within the bound: it waits, a slot frees, it applies
out=$MIG_WORK/within.out
PGAPPNAME=fleets_waiter mig_psql -d "$db" -c "SET migrate.worker_slot_wait = '10min'" \
    -c "SET client_min_messages = notice" -c "CALL migrate.apply('$app')" >"$out" 2>&1 </dev/null &
waiter=$!
pids+=("$waiter")
# (its query text is migrate's progress line: find it by application_name)
for ((t = 0; t < 600; t++)); do
    [[ $(q -c "SELECT count(*) FROM pg_stat_activity
               WHERE application_name = 'fleets_waiter' AND wait_event = 'Extension'") == 1 ]] && break
    kill -0 "$waiter" 2>/dev/null || fail "the migration did not wait for a slot: $(cat "$out")"
    sleep 0.1
done
grep -q 'waiting for a free background worker slot' "$out" ||
    fail "the migration is not waiting for a slot: $(cat "$out")"
# end the gate: the holders finish and free their slots
q -c "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $key AND granted" >/dev/null
rc=0
for ((t = 0; t < 1800; t++)); do
    kill -0 "$waiter" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$waiter" 2>/dev/null && fail "the waiting migration did not end within 180 s of the slots freeing"
wait "$waiter" || rc=$?
((rc == 0)) || fail "the migration failed although a slot freed within the bound: $(cat "$out")"
grep -q 'applied V1__index.sql outside a transaction' "$out" ||
    fail "no applied notice: $(cat "$out")"
[[ $(q -c "SELECT count(*) FROM pg_indexes WHERE indexname = 'gate_id_idx'") == 1 ]] ||
    fail "the index was not built"
[[ $(q -c "SELECT string_agg(outcome || ' ' || applied, ',' ORDER BY id) FROM migrate.runs WHERE track = 'main'") == 'failed 0,success 1' ]] ||
    fail "migrate.runs does not show the failed and then the successful run"
echo "fleets_slot_wait: ok"
