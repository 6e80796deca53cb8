#!/usr/bin/env bash
# pg_cancel_backend and pg_terminate_backend on a running apply (in the
# middle of V2, after it created a table and wrote a row).
#   cancel:    V2 is rolled back and recorded as failed with SQLSTATE 57014
#              and the error; the session lives on and its runner lock is
#              released by apply itself; status says failed.
#   terminate: the session ends; nothing of V2 left, no row claims it
#              succeeded, the lock is gone; status says pending.
# After each, a new apply completes with every version applied once.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"
# shellcheck source=test/include/fault.sh
. "$(dirname "${BASH_SOURCE[0]}")/include/fault.sh"

# ---- cancel ------------------------------------------------------------
fault_setup fault_cancel
log=$MIG_WORK/fault_cancel.log
# The same session asks, after the failed CALL, whether it still holds an
# advisory lock: apply must release the runner lock itself, not only the
# end of the session.
psql -X -d "$DB" -c "CALL migrate.apply('$DIR')" \
    -c "SELECT 'locks held after the error: ' || count(*) FROM pg_catalog.pg_locks
        WHERE locktype = 'advisory' AND classid = $FAULT_LOCK_CLASSID AND pid = pg_catalog.pg_backend_pid()" \
    >"$log" 2>&1 &
APPLY_PID=$!  # read by fault_wait_client
fault_wait 60 fault_sleeper || fail "the run never reached the sleep in V2: $(cat "$log")"
BACKEND=$(fault_sleeper)
[[ $(fault_q postgres "SELECT pg_catalog.pg_cancel_backend($BACKEND)") == t ]] || fail "pg_cancel_backend failed"
fault_wait_client
grep -q 'ERROR:  canceling statement due to user request' "$log" || fail "no cancel error: $(cat "$log")"
grep -q 'migration V2__interrupted.sql, line 4' "$log" || fail "the error does not name the file and line: $(cat "$log")"
grep -q 'locks held after the error: 0' "$log" || fail "apply kept its runner lock after the cancel: $(cat "$log")"

fault_check_interrupted failed
got=$(fault_q "$DB" "SELECT version, success, sqlstate, error, error_line FROM migrate.history WHERE NOT success")
[[ $got == "2|f|57014|canceling statement due to user request|4" ]] || fail "failure row of the cancel: $got"
fault_check_rerun
mig_dropdb "$DB" >/dev/null

# ---- terminate ---------------------------------------------------------
fault_setup fault_terminate
log=$MIG_WORK/fault_terminate.log
fault_start_apply "$log"
[[ $(fault_q postgres "SELECT pg_catalog.pg_terminate_backend($BACKEND)") == t ]] || fail "pg_terminate_backend failed"
fault_wait_client
grep -q 'terminating connection due to administrator command' "$log" || fail "no termination error: $(cat "$log")"
# the backend is gone once its pid leaves pg_stat_activity
fault_wait 60 bash -c "[[ -z \$(psql -X -At -d postgres -c 'SELECT 1 FROM pg_stat_activity WHERE pid = $BACKEND') ]]" ||
    fail "the terminated backend did not exit"
fault_check_interrupted pending
fault_check_rerun
mig_dropdb "$DB" >/dev/null

# ---- background worker (non-transactional files) -----------------------
# Place for the worker branch: cancel and terminate an apply while its
# background worker runs a non-transactional file (CREATE INDEX
# CONCURRENTLY), then check that no worker is left (pg_stat_activity has
# no backend_type of the worker), the lock is released and the state is
# clear.  Added when the worker branch is merged.

echo ok
