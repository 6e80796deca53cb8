#!/usr/bin/env bash
# A FIFO put where a migration file was (issue 11, item 2).  Between the
# read that checksums every file and the read that runs it, V2 is replaced
# by a FIFO with the same name.  Opening a FIFO for reading blocks until a
# writer comes, inside open(), where neither cancel nor terminate reaches
# the backend.  apply must open without blocking, see that V2 is no longer
# a regular file, and fail with an error naming it; the backend stays
# responsive.  The moment is chosen, not raced: V1 waits on an advisory
# lock the test holds while it swaps V2.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"
# shellcheck source=test/include/fault.sh
. "$(dirname "${BASH_SOURCE[0]}")/include/fault.sh"

DB=security_fifo
DIR=$MIG_FIXTURES/security_fifo
HOLDER_PID=
APPLY_PID=

cleanup() {
    # a backend still blocked in open() is released by a writer
    if [[ -p $DIR/V2__next.sql ]]; then
        timeout 5 bash -c ": >'$DIR/V2__next.sql'" 2>/dev/null || true
    fi
    for p in $HOLDER_PID $APPLY_PID; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT

rm -rf "$DIR"
mkdir -p "$DIR"
cat >"$DIR/V1__wait.sql" <<'SQL'
CREATE TABLE public.one (id int);
-- held here until the test has replaced V2
SELECT pg_catalog.pg_advisory_xact_lock(7007);
SQL
cat >"$DIR/V2__next.sql" <<'SQL'
CREATE TABLE public.two (id int);
SQL
mig_own "$DIR"
mig_dropdb "$DB" >/dev/null 2>&1 || true
mig_newdb "$DB" >/dev/null

# the lock holder: a session that takes the lock and sleeps until terminated
psql -X -q -d "$DB" -c "SET application_name = 'fifo_holder'" \
    -c "SELECT pg_catalog.pg_advisory_lock(7007)" -c "SELECT pg_catalog.pg_sleep(300)" >/dev/null 2>&1 &
HOLDER_PID=$!
holder_has_lock() {
    [[ $(fault_q "$DB" "SELECT count(*) FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a USING (pid)
                        WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'fifo_holder'") == 1 ]]
}
fault_wait 60 holder_has_lock || fail "the holder did not take the lock"

psql -X -v ON_ERROR_STOP=1 -d "$DB" -c "SET application_name = 'fifo_apply'" \
    -c "CALL migrate.apply('$DIR')" >"$MIG_WORK/fifo_apply.out" 2>&1 &
APPLY_PID=$!
apply_waits() {
    [[ $(fault_q "$DB" "SELECT count(*) FROM pg_catalog.pg_stat_activity
                        WHERE application_name = 'fifo_apply' AND wait_event = 'advisory'") == 1 ]]
}
fault_wait 60 apply_waits || fail "apply did not reach V1's lock: $(cat "$MIG_WORK/fifo_apply.out")"
apply_pid=$(fault_q "$DB" "SELECT pid FROM pg_catalog.pg_stat_activity WHERE application_name = 'fifo_apply'")

# V2 has been checksummed; now it becomes a FIFO, and V1 may go on
rm "$DIR/V2__next.sql"
mkfifo "$DIR/V2__next.sql"
chown postgres:postgres "$DIR/V2__next.sql"
fault_q "$DB" "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity
               WHERE application_name = 'fifo_holder'" >/dev/null
wait "$HOLDER_PID" 2>/dev/null || true
HOLDER_PID=

apply_done() { ! kill -0 "$APPLY_PID" 2>/dev/null; }
backend_gone() { [[ $(fault_q postgres "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE pid = $apply_pid") == 0 ]]; }
if ! fault_wait 60 apply_done; then
    # blocked in open(): cancel and terminate do not reach it
    fault_q postgres "SELECT pg_catalog.pg_cancel_backend($apply_pid)" >/dev/null
    fault_q postgres "SELECT pg_catalog.pg_terminate_backend($apply_pid)" >/dev/null
    if fault_wait 30 backend_gone; then
        fail "apply hung on the FIFO until it was terminated"
    fi
    fail "apply hangs in open() of a FIFO and ignores cancel and terminate"
fi
APPLY_PID=

out=$(cat "$MIG_WORK/fifo_apply.out")
grep -q 'ERROR:  migration file "V2__next.sql" is not a regular file' <<<"$out" ||
    fail "apply did not refuse the FIFO by name: $out"
got=$(fault_q "$DB" "SELECT string_agg(version || ':' || success, ',' ORDER BY rank) FROM migrate.history")
[[ $got == "1:true" || $got == "1:true,2:false" ]] || fail "history after the refused V2: $got"
got=$(fault_q "$DB" "SELECT pg_catalog.to_regclass('public.two') IS NULL")
[[ $got == t ]] || fail "something of V2 ran"
fault_check_lock_free

# status and apply go on refusing it, at once
out=$(psql -X -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT * FROM migrate.status('$DIR')" 2>&1) && fail "status read a FIFO: $out"
grep -q 'is not a regular file' <<<"$out" || fail "status: $out"

mig_dropdb "$DB" >/dev/null
echo ok
