#!/usr/bin/env bash
# Stop the server with pg_ctl -m immediate (no shutdown checkpoint, every
# backend killed) while apply is in the middle of V2, start it again (crash
# recovery from the WAL), then: V2 left nothing, no history row claims it
# succeeded, the runner lock is free, status says V2 is pending, and a new
# apply completes with each version applied once.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"
# shellcheck source=test/include/fault.sh
. "$(dirname "${BASH_SOURCE[0]}")/include/fault.sh"

fault_setup fault_immediate
log=$MIG_WORK/fault_immediate.log
fault_start_apply "$log"

# V1 is committed, V2 is running: stop everything at once
(cd "$MIG_WORK" && timeout 60 runuser -u postgres -- "$MIG_PGBIN/pg_ctl" -D "$MIG_DATA" -m immediate -w stop) >/dev/null ||
    fail "pg_ctl -m immediate stop failed"
fault_wait_client
timeout 120 bash -c '. "$MIG_LIB"; mig_restart_cluster' || fail "the server did not start again"
fault_wait_up

fault_check_interrupted pending
fault_check_rerun
mig_dropdb "$DB" >/dev/null
echo ok
