# shellcheck shell=bash
# Helpers for the fault-injection tests (test/fault_*.sh).
#
# Sourced after test/lib.sh.  Every wait here has a deadline, so a test
# that goes wrong fails in seconds instead of hanging until test/run's
# timeout.  A fault test builds a migration directory where V2 sleeps in
# the middle of its work for as long as the table public.fault_ctl says:
# the test sets 30 s, interrupts the run while V2 sleeps, then sets 0 so
# that the run after the fault is fast.  Nothing here is a timed assertion:
# the sleep only holds V2 open while the fault is injected.

# the runner lock's classid in pg_locks ("migr")
FAULT_LOCK_CLASSID=1835624306

fail() {
    echo "FAIL: $*"
    exit 1
}

# fault_q DB SQL: one value, unaligned, quiet
fault_q() {
    psql -X -At -q -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# fault_wait SECONDS CMD...: run CMD every 50 ms until it succeeds; false
# if it never did within SECONDS
fault_wait() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
}

# the server accepts connections again (after a crash or a restart)
fault_server_up() {
    psql -X -At -d postgres -c 'SELECT 1' >/dev/null 2>&1
}

# fault_wait_up: wait (at most 60 s) until the server accepts connections
fault_wait_up() {
    fault_wait 60 fault_server_up || fail "the server did not come back"
}

# fault_setup NAME: database NAME and directory $MIG_FIXTURES/NAME with
# V1 (a table), V2 (a table, a row, a sleep, an index) and V3 (a table);
# sets DB and DIR
fault_setup() {
    DB=$1
    DIR=$MIG_FIXTURES/$1
    rm -rf "$DIR"
    mkdir -p "$DIR"
    cat >"$DIR/V1__first.sql" <<'SQL'
CREATE TABLE public.a (id int PRIMARY KEY);
INSERT INTO public.a VALUES (1);
SQL
    cat >"$DIR/V2__interrupted.sql" <<'SQL'
CREATE TABLE public.b (id int PRIMARY KEY, note text);
INSERT INTO public.b VALUES (1, 'written before the fault');
-- held open here while the test injects its fault
SELECT pg_catalog.pg_sleep(sleep_s) FROM public.fault_ctl;
CREATE INDEX b_note_idx ON public.b (note);
SQL
    cat >"$DIR/V3__last.sql" <<'SQL'
CREATE TABLE public.c (id int PRIMARY KEY);
SQL
    mig_own "$DIR"
    mig_dropdb "$DB" >/dev/null 2>&1 || true
    mig_newdb "$DB" >/dev/null
    fault_q "$DB" "CREATE TABLE public.fault_ctl (sleep_s float8 NOT NULL); INSERT INTO public.fault_ctl VALUES (600)" >/dev/null
}

# the pid of the backend of DB sleeping in V2 (prints it; false if none)
fault_sleeper() {
    local pid
    pid=$(fault_q postgres "SELECT pid FROM pg_catalog.pg_stat_activity
                           WHERE datname = '$DB' AND wait_event = 'PgSleep'
                             AND (query LIKE 'CALL migrate.apply%'
                                  OR query LIKE '/* migrate apply %')") || return 1
    [[ -n $pid ]] && printf '%s\n' "$pid"
}

# fault_start_apply LOG: start CALL migrate.apply in the background (its
# psql's pid in APPLY_PID), wait until it sleeps in V2 (backend pid in
# BACKEND)
fault_start_apply() {
    psql -X -d "$DB" -c "CALL migrate.apply('$DIR')" >"$1" 2>&1 &
    APPLY_PID=$!
    fault_wait 60 fault_sleeper || fail "the run never reached the sleep in V2: $(cat "$1")"
    # shellcheck disable=SC2034  # read by the tests
    BACKEND=$(fault_sleeper)
}

# fault_wait_client: the background psql ends (at most 60 s); its status
# is not checked (after a fault it is an error)
fault_wait_client() {
    local i
    for ((i = 0; i < 1200; i++)); do
        kill -0 "$APPLY_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$APPLY_PID" 2>/dev/null && fail "the interrupted client did not end"
    wait "$APPLY_PID" 2>/dev/null || true
}

# the runner lock of DB is free: no advisory lock with its classid
fault_check_lock_free() {
    local n
    n=$(fault_q "$DB" "SELECT count(*) FROM pg_catalog.pg_locks
                       WHERE locktype = 'advisory' AND classid = $FAULT_LOCK_CLASSID")
    [[ $n == 0 ]] || fail "the runner lock is still held ($n)"
}

# After a fault in V2: V1 applied, nothing of V2 left, no success row for
# V2 or V3, lock free, status agrees.  V2_STATE: what status must say of
# V2 (pending after a crash, failed after a recorded failure).
fault_check_interrupted() {
    local v2_state=$1 got
    got=$(fault_q "$DB" "SELECT pg_catalog.to_regclass('public.a') IS NOT NULL,
                                pg_catalog.to_regclass('public.b') IS NULL,
                                pg_catalog.to_regclass('public.b_note_idx') IS NULL,
                                pg_catalog.to_regclass('public.c') IS NULL")
    [[ $got == "t|t|t|t" ]] || fail "tables after the fault (a exists, b, b_note_idx, c do not): $got"
    got=$(fault_q "$DB" "SELECT string_agg(version, ',' ORDER BY rank) FROM migrate.history WHERE success")
    [[ $got == 1 ]] || fail "history rows claiming success after the fault: $got (only 1 expected)"
    fault_check_lock_free
    got=$(fault_q "$DB" "SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM migrate.status('$DIR')")
    [[ $got == "1:applied,2:$v2_state,3:pending" ]] || fail "status after the fault: $got"
}

# A new apply (V2 no longer sleeps) completes, each version applied once,
# and status agrees.
fault_check_rerun() {
    local out got
    fault_q "$DB" "UPDATE public.fault_ctl SET sleep_s = 0" >/dev/null
    out=$(psql -X -v ON_ERROR_STOP=1 -d "$DB" -c "CALL migrate.apply('$DIR')" 2>&1) ||
        fail "the apply after the fault failed: $out"
    grep -q 'applied 2 migration(s) on track "main", now at version 3' <<<"$out" ||
        fail "the apply after the fault did not apply V2 and V3: $out"
    got=$(fault_q "$DB" "SELECT string_agg(version, ',' ORDER BY rank) FROM migrate.history WHERE success")
    [[ $got == "1,2,3" ]] || fail "success rows after the rerun: $got"
    got=$(fault_q "$DB" "SELECT count(*) FROM public.b")
    [[ $got == 1 ]] || fail "rows of public.b after the rerun: $got"
    got=$(fault_q "$DB" "SELECT string_agg(state, ',' ORDER BY version) FROM migrate.status('$DIR')")
    [[ $got == "applied,applied,applied" ]] || fail "status after the rerun: $got"
    fault_check_lock_free
}
