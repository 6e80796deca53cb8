#!/usr/bin/env bash
# Two sessions call apply at once: the second waits for the runner lock
# (holding no snapshot while it waits), then finds nothing pending; every
# version is applied exactly once.  A runner that waits longer than
# migrate.lock_wait fails with lock_not_available naming the holder.
# No timing: the first run holds its lock until the test opens a gate, and
# every wait for a condition is bounded (60 s), never a sleep-and-hope.
set -euo pipefail
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"

db=core_concurrency
dir=$MIG_FIXTURES/core_concurrency
out=$MIG_WORK/core_concurrency
rm -rf "$dir" "$out"; mkdir -p "$dir" "$out"
# V1 holds the runner lock until the test opens the gate (a row in
# public.gate; bounded, so that a failed test leaves nothing running)
cat >"$dir/V1__slow.sql" <<'SQL'
CREATE TABLE public.t (v int);
DO $$
BEGIN
    FOR i IN 1..6000 LOOP
        EXIT WHEN EXISTS (SELECT FROM public.gate);
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
SQL
for v in $(seq 2 20); do
    printf 'INSERT INTO public.t VALUES (%d);\n' "$v" > "$dir/V${v}__insert.sql"
done
mig_own "$dir" "$out"
mig_dropdb "$db" >/dev/null 2>&1 || true
mig_newdb "$db" >/dev/null

fail() { echo "FAIL: $*"; exit 1; }
# wait_until CMD...: poll CMD until it succeeds (at most 60 s)
wait_until() {
    local i
    for ((i = 0; i < 600; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
q() { psql -XAtq -d "$db" -c "$1"; }
q "CREATE TABLE public.gate ()"

psql -X -d "$db" -c "CALL migrate.apply('$dir')" >"$out/a.log" 2>&1 &
a=$!
# wait until the first runner holds the lock (classid 'migr')
holds_lock() {
    [[ $(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1835624306 AND granted") == 1 ]]
}
wait_until holds_lock || fail "the first runner never took the lock"
holder=$(psql -XAtq -d "$db" -c "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 1835624306 AND granted")

PGOPTIONS='-c migrate.lock_wait=240s' psql -X -d "$db" -c "CALL migrate.apply('$dir')" >"$out/b.log" 2>&1 &
b=$!
# a runner that will not wait long enough (the gate is closed: surely)
PGOPTIONS='-c migrate.lock_wait=200' psql -X -d "$db" -c "CALL migrate.apply('$dir')" >"$out/c.log" 2>&1 && fail "the impatient runner succeeded"
grep -q 'ERROR:  could not obtain the migrate lock of track "main"' "$out/c.log" || fail "no lock_not_available error: $(cat "$out/c.log")"
grep -q "Process $holder is running migrations on this track" "$out/c.log" || fail "the holder's pid is not named: $(cat "$out/c.log")"

# while B waits it holds no snapshot (a CREATE INDEX CONCURRENTLY would wait
# for one); it says it waits once it has committed and holds nothing
wait_until grep -q 'waiting for another migrate run on track "main"' "$out/b.log" ||
    fail "the second runner did not wait: $(cat "$out/b.log")"
waiting=$(q "SELECT count(*) FROM pg_stat_activity WHERE (query LIKE 'CALL migrate.apply%' OR query LIKE '/* migrate apply %') AND pid <> $holder AND backend_xmin IS NULL AND backend_xid IS NULL")
[[ $waiting == 1 ]] || fail "the waiting runner holds a snapshot or transaction id ($waiting)"
q "INSERT INTO public.gate DEFAULT VALUES"

wait "$a" || fail "first runner failed: $(cat "$out/a.log")"
wait "$b" || fail "second runner failed: $(cat "$out/b.log")"
grep -q 'waiting for another migrate run on track "main"' "$out/b.log" || fail "the second runner did not wait: $(cat "$out/b.log")"
grep -q 'nothing to apply on track "main", now at version 20' "$out/b.log" || fail "the second runner found work: $(cat "$out/b.log")"

rows=$(psql -XAtq -d "$db" -c "SELECT count(*), count(DISTINCT version) FROM migrate.history WHERE success")
[[ $rows == "20|20" ]] || fail "history is not one row per version: $rows"
vals=$(psql -XAtq -d "$db" -c "SELECT count(*) FROM public.t")
[[ $vals == 19 ]] || fail "rows inserted: $vals"
locks=$(psql -XAtq -d "$db" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1835624306")
[[ $locks == 0 ]] || fail "the runner lock was not released"

# eight sessions at once on 10 new migrations: each applied exactly once
for v in $(seq 21 30); do
    printf 'INSERT INTO public.t VALUES (%d);\nSELECT pg_sleep(0.05);\n' "$v" > "$dir/V${v}__more.sql"
done
mig_own "$dir"
pids=()
# (each may wait for all the others: migrate.lock_wait past its 60 s default)
for i in $(seq 1 8); do
    PGOPTIONS='-c migrate.lock_wait=240s' \
        psql -X -v ON_ERROR_STOP=1 -d "$db" -c "CALL migrate.apply('$dir')" >"$out/r$i.log" 2>&1 &
    pids+=($!)
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "runner $((i + 1)) failed: $(cat "$out/r$((i + 1)).log")"
done
rows=$(psql -XAtq -d "$db" -c "SELECT count(*), count(DISTINCT version) FROM migrate.history WHERE success")
[[ $rows == "30|30" ]] || fail "history after eight runners: $rows"
applied=$(cat "$out"/r*.log | grep -c 'NOTICE:  applied V' || true)
[[ $applied == 10 ]] || fail "the eight runners applied $applied migrations, not 10"

# a run in a transaction block keeps the lock until that transaction ends:
# a second runner must not read the history before the first one commits
printf 'INSERT INTO public.t VALUES (31);\n' > "$dir/V31__atomic.sql"
mig_own "$dir"
fifo=$out/atomic.fifo; mkfifo "$fifo"
psql -X -v ON_ERROR_STOP=1 -d "$db" <"$fifo" >"$out/t.log" 2>&1 &
t=$!
exec 7>"$fifo"
echo "BEGIN; CALL migrate.apply('$dir');" >&7
wait_until grep -q 'applied V31__atomic.sql' "$out/t.log" ||
    fail "the transaction block did not apply V31: $(cat "$out/t.log")"
PGOPTIONS='-c migrate.lock_wait=240s' \
    psql -X -v ON_ERROR_STOP=1 -d "$db" -c "CALL migrate.apply('$dir')" >"$out/u.log" 2>&1 &
u=$!
wait_until grep -q 'waiting for another migrate run' "$out/u.log" ||
    fail "the second runner did not wait for the open transaction: $(cat "$out/u.log")"
echo "COMMIT;" >&7
exec 7>&-
wait "$t" || fail "the transaction block failed: $(cat "$out/t.log")"
wait "$u" || fail "the runner after it failed: $(cat "$out/u.log")"
grep -q 'nothing to apply' "$out/u.log" || fail "V31 was applied twice: $(cat "$out/u.log")"
[[ $(psql -XAtq -d "$db" -c "SELECT count(*) FROM migrate.history WHERE version = '31'") == 1 ]] || fail "V31 recorded twice"

mig_dropdb "$db" >/dev/null
echo "ok"
