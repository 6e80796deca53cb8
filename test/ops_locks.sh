#!/usr/bin/env bash
# Lock safety (SPEC section 8): a migration that waits for a lock longer
# than migrate.lock_timeout is rolled back and retried with back-off, each
# attempt a NOTICE and a failure row; between attempts the runner holds no
# snapshot (a concurrent index build elsewhere finishes); after the last
# attempt the error names the blocking process and its query; the caller's
# settings are restored whatever happened.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=ops_locks
out=$MIG_WORK/ops_locks
mkdir -p "$out"
mig_newdb "$db"

fail() { echo "FAIL: $*" >&2; exit 1; }
sql() { mig_psql -d "$db" -At "$@"; }

wait_for() { mig_wait_for "$db" "$1" "$2" 60; }

expect() { mig_expect "$@"; }

sql -q >/dev/null <<'SQL'
CREATE TABLE locked (a int);
CREATE TABLE other (a int);
INSERT INTO other SELECT generate_series(1, 1000);
SELECT migrate.stage('locks', 'V1__add_b.sql', E'-- needs an exclusive lock\nALTER TABLE locked ADD COLUMN b int;\n');
SQL

# The blocker: a session idle in a transaction that holds ACCESS SHARE on
# "locked" (no snapshot: LOCK takes none), until stop_blocker commits.
BLOCKER_PID=
start_blocker() {
    rm -f "$out/fifo"
    mkfifo "$out/fifo"
    mig_psql -d "$db" <"$out/fifo" >"$out/blocker.out" 2>&1 &
    BLOCKER_PID=$!
    exec 7>"$out/fifo"
    echo "BEGIN; LOCK TABLE /* ops-locks-blocker */ locked IN ACCESS SHARE MODE;" >&7
    wait_for "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'
              AND query LIKE 'LOCK TABLE /* ops-locks-blocker */%'" 1
}
stop_blocker() {
    echo "COMMIT;" >&7
    exec 7>&-
    wait "$BLOCKER_PID"
}
blocker_backend_pid() {
    sql -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LOCK TABLE /* ops-locks-blocker */%'"
}

# ---- 1. retried, and applied once the lock is released ----------------
start_blocker
sql >"$out/run1.out" 2>&1 <<'SQL' &
SET migrate.lock_timeout = '200ms';
SET migrate.lock_retries = 50;
CALL migrate.apply('locks');
SQL
run1=$!
# the runner is in its retry cycle once a failure row is committed
wait_for "SELECT count(*) > 0 FROM migrate.history WHERE sqlstate = '55P03'" t

# between attempts it holds no snapshot: a concurrent index build on another
# table finishes while the migration is still blocked
sql -c "SET statement_timeout = '60s'" -c "CREATE INDEX CONCURRENTLY other_a ON other (a)" >/dev/null ||
    fail "CREATE INDEX CONCURRENTLY did not finish while the runner was retrying"
[[ $(sql -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'other_a'::regclass") == t ]] ||
    fail "the concurrent index is not valid"
[[ $(sql -c "SELECT count(*) FROM migrate.history WHERE success") == 0 ]] ||
    fail "the migration was applied while the lock was still held"

stop_blocker
wait "$run1" || { cat "$out/run1.out" >&2; fail "apply failed although the lock was released"; }
expect "$out/run1.out" "NOTICE:  lock timeout in V1__add_b.sql, line 2 (attempt 1 of 51); retrying in 200 ms"
expect "$out/run1.out" "NOTICE:  applied V1__add_b.sql"
[[ $(sql -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'locked' AND column_name = 'b'") == 1 ]] ||
    fail "column b was not added"
# every attempt is in the history: failures (55P03, line 2), then the success
[[ $(sql -c "SELECT bool_and(NOT success AND sqlstate = '55P03' AND error_line = 2)
               FROM migrate.history WHERE rank < (SELECT max(rank) FROM migrate.history)") == t ]] ||
    fail "the failed attempts are not recorded as lock failures"
[[ $(sql -c "SELECT success FROM migrate.history ORDER BY rank DESC LIMIT 1") == t ]] ||
    fail "the last attempt is not recorded as applied"
[[ $(sql -c "SELECT state FROM migrate.status('locks') WHERE version = '1'") == applied ]] ||
    fail "status does not show V1 applied"

# ---- 2. after the last retry the error names the blocker ---------------
sql -q -c "SELECT migrate.stage('locks', 'V2__add_c.sql', E'ALTER TABLE locked ADD COLUMN c int;\n')" >/dev/null
start_blocker
bpid=$(blocker_backend_pid)
mig_psql -d "$db" -v ON_ERROR_STOP=0 >"$out/run2.out" 2>&1 <<'SQL' || true
SET lock_timeout = '4s';
SET statement_timeout = '9min';
SET search_path = public, pg_catalog;
SET migrate.lock_timeout = '100ms';
SET migrate.lock_retries = 2;
CALL migrate.apply('locks');
\echo last error: :LAST_ERROR_SQLSTATE
SELECT 'settings after: ' || current_setting('lock_timeout') || ' ' || current_setting('statement_timeout')
       || ' ' || current_setting('search_path');
SQL
stop_blocker
expect "$out/run2.out" "NOTICE:  lock timeout in V2__add_c.sql, line 1 (attempt 1 of 3); retrying in 100 ms"
expect "$out/run2.out" "NOTICE:  lock timeout in V2__add_c.sql, line 1 (attempt 2 of 3); retrying in 200 ms"
expect "$out/run2.out" "ERROR:  canceling statement due to lock timeout (3 attempts)"
expect "$out/run2.out" "DETAIL:  The migration waited for AccessExclusiveLock on table public.locked; process $bpid holds a conflicting lock (query: LOCK TABLE /* ops-locks-blocker */ locked IN ACCESS SHARE MODE;)."
expect "$out/run2.out" "migration V2__add_c.sql, line 1"
expect "$out/run2.out" "last error: 55P03"
expect "$out/run2.out" "settings after: 4s 9min public, pg_catalog"
[[ $(sql -c "SELECT count(*) FROM migrate.history WHERE script = 'V2__add_c.sql' AND NOT success
               AND sqlstate = '55P03' AND error LIKE '%process $bpid holds a conflicting lock%'") == 3 ]] ||
    fail "the three attempts are not recorded with the blocker"
[[ $(sql -c "SELECT state FROM migrate.status('locks') WHERE version = '2'") == failed ]] ||
    fail "status does not show V2 failed"

# the next run simply applies it
sql -c "CALL migrate.apply('locks')" >/dev/null 2>&1 || fail "V2 is not applied once the lock is free"

# ---- 3. a statement timeout fails the migration, settings restored -----
sql -q -c "SELECT migrate.stage('locks', 'V3__slow.sql', E'SELECT pg_sleep(30);\n')" >/dev/null
mig_psql -d "$db" -v ON_ERROR_STOP=0 >"$out/run3.out" 2>&1 <<'SQL' || true
SET statement_timeout = '9min';
CALL migrate.apply('locks', statement_timeout => '200ms');
SELECT 'settings after: ' || current_setting('statement_timeout');
SQL
expect "$out/run3.out" "ERROR:  canceling statement due to statement timeout"
expect "$out/run3.out" "migration V3__slow.sql, line 1"
expect "$out/run3.out" "settings after: 9min"
[[ $(sql -c "SELECT sqlstate FROM migrate.history ORDER BY rank DESC LIMIT 1") == 57014 ]] ||
    fail "the statement timeout is not recorded"

mig_dropdb "$db"
echo "ops_locks: ok"
