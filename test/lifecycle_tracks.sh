#!/usr/bin/env bash
# Runner locks are per track: while a run holds track "gate" (its
# migration waits for an advisory lock this test holds), a run on another
# track goes through without waiting, and every changing call on "gate"
# itself fails at once with migrate.lock_wait = 0, naming the holder.
# No timing: the gate opens only when the test releases its lock.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

db=lifecycle_tracks_lock
fx=$MIG_FIXTURES/lifecycle_tracks
work=$(mktemp -d "$MIG_WORK/lifecycle_tracks.XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }

mig_psql -d postgres -v db="$db" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
CREATE DATABASE :"db";
SQL
mig_psql -d "$db" -c 'CREATE EXTENSION migrate'

q() { mig_psql -d "$db" -At "$@"; }

# wait_for SQL: poll until SQL returns t (bounded, not timed: ~60 s at most)
wait_for() {
    local i
    for ((i = 0; i < 600; i++)); do
        [[ $(q -c "$1") == t ]] && return 0
        sleep 0.1
    done
    fail "gave up waiting for: $1"
}

# 1. hold advisory lock 4242 in a session that stays open
mkfifo "$work/hold.in"
mig_psql -d "$db" -At <"$work/hold.in" >"$work/hold.out" 2>&1 &
holder=$!
exec 3>"$work/hold.in"
echo "SELECT pg_advisory_lock(4242);" >&3
wait_for "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted)"

# 2. a run on track gate: its migration waits for 4242 while holding the gate
# runner lock, however long the steps below take on a loaded machine: with
# migrate.lock_timeout = 0 no lock timeout ends the wait (the default 5 s
# did, then a retry applied it: a failure row before the success)
PGOPTIONS='-c migrate.lock_timeout=0' \
    mig_psql -d "$db" -c "CALL migrate.apply('$fx/gate', track => 'gate')" >"$work/gate.out" 2>&1 &
gate=$!
wait_for "SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted)"
gate_pid=$(q -c "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted")
runner=$(q -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = x'6d696772'::bigint::oid AND granted AND pid = $gate_pid")
[[ $runner == 1 ]] || fail "the gate run does not hold its runner lock (pg_locks shows $runner)"
echo "ok: track gate is running (pid $gate_pid) and holds its runner lock"

# 3. other tracks do not wait for it
export PGOPTIONS='-c migrate.lock_wait=0'
mig_psql -d "$db" -c "CALL migrate.apply('$fx/schema', track => 'schema')" ||
    fail "apply on track schema waited for track gate"
mig_psql -d "$db" -c "CALL migrate.undo('$fx/schema', track => 'schema')" ||
    fail "undo on track schema waited for track gate"
mig_psql -d "$db" -c "SELECT migrate.baseline('3', track => 'other')" >/dev/null ||
    fail "baseline on track other waited for track gate"
mig_psql -d "$db" -c "SELECT * FROM migrate.repair('$fx/schema', 'schema')" >/dev/null ||
    fail "repair on track schema waited for track gate"
echo "ok: apply, undo, baseline and repair on other tracks ran while gate was held"

# 4. the same track refuses at once, naming the holder
for call in "CALL migrate.apply('$fx/gate', track => 'gate')" \
            "CALL migrate.undo('$fx/gate', track => 'gate')" \
            "SELECT migrate.baseline('1', track => 'gate')" \
            "SELECT * FROM migrate.repair('$fx/gate', 'gate')"; do
    if mig_psql -d "$db" -v VERBOSITY=verbose -c "$call" >"$work/same.out" 2>&1; then
        fail "$call did not wait for the gate run"
    fi
    grep -q '55P03' "$work/same.out" || { cat "$work/same.out"; fail "$call: not lock_not_available"; }
    grep -q "Process $gate_pid is running migrations on this track" "$work/same.out" ||
        { cat "$work/same.out"; fail "$call: holder not named"; }
done
echo "ok: apply, undo, baseline and repair on track gate fail at once, naming pid $gate_pid"
unset PGOPTIONS

# 5. open the gate: the run finishes
echo "SELECT pg_advisory_unlock(4242);" >&3
exec 3>&-
wait "$holder" || true
wait "$gate" || { cat "$work/gate.out"; fail "the gate run failed"; }
[[ $(q -c "SELECT string_agg(track || ':' || version || ':' || type, ' ' ORDER BY rank) FROM migrate.history WHERE track IN ('gate', 'schema')") == \
   "schema:1:versioned schema:2:versioned schema:2:undo gate:1:versioned" ]] ||
    fail "unexpected history: $(q -c 'SELECT string_agg(track || version || type, $$ $$ ORDER BY rank) FROM migrate.history')"
echo "ok: both tracks recorded, schema while gate was still running"

mig_psql -d postgres -v db="$db" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE :"db" WITH (FORCE);
SQL
echo "lifecycle_tracks: all ok"
