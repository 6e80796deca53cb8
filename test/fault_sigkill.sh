#!/usr/bin/env bash
# SIGKILL the backend running apply while it is in the middle of V2 (after
# V2 created a table and wrote a row).  The postmaster restarts every
# backend after the crash; then: V2 left nothing, no history row claims it
# succeeded, the runner lock is free, status says V2 is pending, and a new
# apply completes with each version applied once.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"
# shellcheck source=test/include/fault.sh
. "$(dirname "${BASH_SOURCE[0]}")/include/fault.sh"

fault_setup fault_sigkill
log=$MIG_WORK/fault_sigkill.log
fault_start_apply "$log"

kill -KILL "$BACKEND"
fault_wait_client
grep -q 'server closed the connection unexpectedly\|connection to server was lost' "$log" ||
    fail "the client did not see its backend die: $(cat "$log")"
fault_wait_up

fault_check_interrupted pending
fault_check_rerun
mig_dropdb "$DB" >/dev/null
echo ok
