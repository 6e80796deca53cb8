#!/usr/bin/env bash
# migrate.progress (SPEC section 12): a second session watches running
# migrate calls: the migration, its number in the run, the statement and
# its line, the phase (waiting for the runner lock, running, waiting for a
# lock on a relation, retrying after a lock timeout, in the background
# worker) and the times; pg_stat_activity.query shows the migration too;
# nothing is shown once a call has ended, normally, by an error or by a
# cancel.  Every wait is on a condition, with a bound; no timing is asserted.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=progress
dir=$MIG_FIXTURES/progress
out=$MIG_WORK/progress
mkdir -p "$out"

fail() { echo "FAIL: $*" >&2; exit 1; }
sql() { mig_psql -d "$db" -At "$@"; }

wait_for() { mig_wait_for "$db" "$1" "$2" 60; }
# wait_match SQL REGEX: poll until SQL's result matches REGEX (at most 60 s)
wait_match() {
    local i got=
    for ((i = 0; i < 600; i++)); do
        got=$(sql -c "$1" 2>&1) || true
        [[ $got =~ $2 ]] && return 0
        sleep 0.1
    done
    fail "timed out waiting for: $1 =~ $2 (got: $got)"
}

cleanup() {
    exec 7>&- 8>&- 9>&- 2>/dev/null || true
    mig_dropdb "$db" >/dev/null 2>&1 || true
}
trap cleanup EXIT
mig_newdb "$db"

sql -q <<'SQL'
CREATE TABLE public.go (step int);
CREATE TABLE public.locked (a int);
CREATE TABLE public.other (a int);
-- waits until the test inserts step n into public.go: a migration that "sleeps"
CREATE FUNCTION public.wait_step(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WHILE NOT EXISTS (SELECT FROM public.go WHERE step = n) LOOP
        PERFORM pg_sleep(0.02);
    END LOOP;
END $$;
SQL

rm -rf "$dir"
mkdir -p "$dir/main" "$dir/worker" "$dir/fails"
printf 'CREATE TABLE public.t1 (a int);\n\n-- sleeps until step 1\nSELECT public.wait_step(1);\n' >"$dir/main/V1__sleep.sql"
printf '%s\n' '-- needs every other session off the table' 'LOCK TABLE public.locked IN ACCESS EXCLUSIVE MODE;' \
    >"$dir/main/V2__lock.sql"
printf 'ALTER TABLE public.locked ADD COLUMN b int;\n' >"$dir/main/V3__retry.sql"
printf 'CREATE INDEX CONCURRENTLY other_a ON public.other (a);\n' >"$dir/worker/V1__index.sql"
printf 'SELECT public.wait_step(9);\n' >"$dir/fails/V1__forever.sql"
mig_own "$dir"

# a session driven through a fifo on fd FD: start_session NAME FD
start_session() {
    rm -f "$out/$1.fifo"
    mkfifo "$out/$1.fifo"
    mig_psql -d "$db" -v ON_ERROR_STOP=0 <"$out/$1.fifo" >"$out/$1.out" 2>&1 &
    eval "exec $2>\"$out/$1.fifo\""
}

# the row of migrate.progress for track T, fields joined by |
row() {
    sql -c "SELECT concat_ws('|', call, track, dir, script, version, migration, migrations,
                             statement, line, statement_text, phase)
            FROM migrate.progress WHERE track = '$1'"
}

# ---- 1. a migration that sleeps ----------------------------------------
[[ $(sql -c "SELECT count(*) FROM migrate.progress") == 0 ]] || fail "progress is not empty before any call"
start_session runner 7
echo "SET migrate.lock_timeout = 0;" >&7
echo "SET application_name = 'progress-runner';" >&7
echo "CALL migrate.apply('$dir/main');" >&7
wait_for "SELECT script FROM migrate.progress WHERE track = 'main'" V1__sleep.sql
wait_for "SELECT statement FROM migrate.progress WHERE track = 'main'" 2
[[ $(row main) == "apply|main|$dir/main|V1__sleep.sql|1|1|3|2|4|SELECT public.wait_step(1);|running" ]] ||
    fail "progress while V1 sleeps: $(row main)"
[[ $(sql -c "SELECT call_started <= migration_started AND migration_started <= statement_started
                    AND statement_started <= now()
             FROM migrate.progress WHERE track = 'main'") == t ]] ||
    fail "the times are not call <= migration <= statement: $(sql -c 'SELECT * FROM migrate.progress')"
runner_pid=$(sql -c "SELECT pid FROM migrate.progress WHERE track = 'main'")
[[ $(sql -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'progress-runner'") == "$runner_pid" ]] ||
    fail "the pid is not the runner's"
# dashboards watching pg_stat_activity see the migration and the statement
q=$(sql -c "SELECT query FROM pg_stat_activity WHERE pid = $runner_pid")
[[ $q == '/* migrate apply phase="running" migration=1/3 statement=2 line=4 '* ]] ||
    fail "pg_stat_activity.query does not show the migration: $q"
[[ $q == *'script="V1__sleep.sql"'*'*/ SELECT public.wait_step(1);' ]] ||
    fail "pg_stat_activity.query does not show the script and the statement: $q"

# a second runner on the track waits for the runner lock, and says so
start_session second 8
echo "CALL migrate.apply('$dir/main');" >&8
wait_match "SELECT string_agg(phase, ',' ORDER BY pid) FROM migrate.progress WHERE track = 'main'" \
    '(^|,)waiting for runner lock(,|$)'
[[ $(sql -c "SELECT count(*) FROM migrate.progress WHERE phase = 'waiting for runner lock'
             AND script IS NULL AND migration IS NULL AND call_started IS NOT NULL") == 1 ]] ||
    fail "the waiting runner's row: $(sql -c 'SELECT * FROM migrate.progress')"

# ---- 2. waiting for a lock on a relation --------------------------------
start_session blocker 9
echo "BEGIN; LOCK TABLE public.locked IN ACCESS SHARE MODE; SELECT 'blocker holds the lock';" >&9
wait_for "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
          WHERE c.relname = 'locked' AND l.mode = 'AccessShareLock' AND l.granted" 1
sql -q -c "INSERT INTO public.go VALUES (1)"
wait_for "SELECT script || ' ' || phase FROM migrate.progress WHERE pid = $runner_pid" \
    "V2__lock.sql waiting for lock on public.locked"
[[ $(row main | grep -c '^apply|main|.*|V2__lock.sql|2|2|3|1|2|LOCK TABLE public.locked IN ACCESS EXCLUSIVE MODE;|waiting for lock on public.locked$') == 1 ]] ||
    fail "progress while V2 waits for the lock: $(row main)"
[[ $(sql -c "SELECT migration_started > call_started FROM migrate.progress WHERE pid = $runner_pid") == t ]] ||
    fail "migration_started did not move on"

# ---- 3. retrying after a lock timeout -----------------------------------
# V2 gets its lock; V3 then times out on the blocker's new lock and retries
echo "COMMIT;" >&9
wait_for "SELECT count(*) FROM migrate.progress WHERE track = 'main'" 0
echo "BEGIN; LOCK TABLE public.locked IN ACCESS SHARE MODE; SELECT 'blocker holds the lock again';" >&9
wait_for "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
          WHERE c.relname = 'locked' AND l.mode = 'AccessShareLock' AND l.granted" 1
# a staged bundle on its own track, run by the first session
echo "SET migrate.lock_timeout = '100ms';" >&7
echo "SET migrate.lock_retries = 1000;" >&7
echo "SELECT migrate.stage('retry', 'V1__retry.sql', E'ALTER TABLE public.locked ADD COLUMN c int;\n');" >&7
echo "CALL migrate.apply('retry', track => 'retry');" >&7
wait_match "SELECT phase FROM migrate.progress WHERE track = 'retry'" \
    '^retrying after lock timeout \(attempt [0-9]+ of 1001\)$'
[[ $(sql -c "SELECT concat_ws('|', dir, script, migration, migrations) FROM migrate.progress WHERE track = 'retry'") == \
   "retry|V1__retry.sql|1|1" ]] || fail "the retrying row: $(row retry)"
echo "COMMIT;" >&9
wait_for "SELECT count(*) FROM migrate.progress" 0
[[ $(sql -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'locked' AND column_name IN ('b', 'c')") == 2 ]] ||
    fail "the migrations did not all run: $(cat "$out/runner.out" "$out/second.out")"

# ---- 4. in the background worker ----------------------------------------
# a transaction with a snapshot keeps CREATE INDEX CONCURRENTLY waiting
echo "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM public.go;" >&9
wait_for "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND backend_xmin IS NOT NULL
          AND query LIKE 'SELECT count(*) FROM public.go%'" 1
echo "SET migrate.lock_timeout = 0;" >&7
echo "CALL migrate.apply('$dir/worker', track => 'worker');" >&7
wait_for "SELECT concat_ws('|', script, statement, line, statement_text, phase) FROM migrate.progress WHERE track = 'worker'" \
    "V1__index.sql|1|1|CREATE INDEX CONCURRENTLY other_a ON public.other (a);|in background worker"
echo "COMMIT;" >&9
wait_for "SELECT count(*) FROM migrate.progress" 0
[[ $(sql -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.other_a'::regclass") == t ]] ||
    fail "the worker did not build the index"

# ---- 5. nothing after the call ends: by an error, by a cancel -----------
echo "SET statement_timeout = '300ms';" >&7
echo "CALL migrate.apply('$dir/fails', track => 'fails');" >&7
echo "RESET statement_timeout;" >&7
echo "SELECT 'after the error';" >&7
wait_for "SELECT count(*) FROM migrate.history WHERE track = 'fails' AND NOT success" 1
wait_for "SELECT count(*) FROM migrate.progress" 0
[[ $(sql -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '/* migrate %'") == 0 ]] ||
    fail "an activity string outlived the failed call"

echo "CALL migrate.apply('$dir/fails', track => 'fails');" >&7
wait_for "SELECT script FROM migrate.progress WHERE track = 'fails'" V1__forever.sql
sql -q -c "SELECT pg_cancel_backend($runner_pid)" >/dev/null
wait_for "SELECT count(*) FROM migrate.history WHERE track = 'fails' AND NOT success" 2
wait_for "SELECT count(*) FROM migrate.progress" 0
echo "SELECT 'still connected';" >&7
wait_for "SELECT count(*) FROM pg_stat_activity WHERE pid = $runner_pid AND state = 'idle'
          AND query = 'SELECT ''still connected'';'" 1

# the run that failed shows its failure in the history, as before
[[ $(sql -c "SELECT string_agg(sqlstate, ',' ORDER BY rank) FROM migrate.history WHERE track = 'fails'") == "57014,57014" ]] ||
    fail "the failures are not in the history: $(sql -c "SELECT * FROM migrate.history WHERE track = 'fails'")"

exec 7>&- 8>&- 9>&-
wait
grep -q "after the error" "$out/runner.out" || { cat "$out/runner.out" >&2; fail "the runner session did not go on"; }
echo "progress: ok"
