#!/usr/bin/env bash
# Eight sessions call apply on the same 50 new migrations at the same
# moment (released together from an advisory-lock barrier).  Each
# migration runs exactly once (its history row and its own log row), no
# session gets an error (waiting for the runner is a NOTICE), and the
# result is the schema a single run produces (pg_dump --schema-only of a
# database migrated by one apply).
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"
# shellcheck source=test/include/fault.sh
. "$(dirname "${BASH_SOURCE[0]}")/include/fault.sh"

DB=fault_eight
ONE=fault_eight_one
DIR=$MIG_FIXTURES/fault_eight
out=$MIG_WORK/fault_eight
rm -rf "$DIR" "$out"
mkdir -p "$DIR" "$out"
printf 'CREATE TABLE public.runs (version int NOT NULL, at timestamptz DEFAULT clock_timestamp());\n' >"$DIR/V1__runs.sql"
for v in $(seq 2 50); do
    {
        printf 'CREATE TABLE public.t%d (id bigint PRIMARY KEY, name text NOT NULL);\n' "$v"
        printf 'CREATE INDEX t%d_name_idx ON public.t%d (name);\n' "$v" "$v"
        printf "INSERT INTO public.t%d SELECT g, 'row ' || g FROM generate_series(1, 10) g;\n" "$v"
        if ((v % 10 == 0)); then
            printf 'ALTER TABLE public.t%d ADD COLUMN extra int;\n' $((v - 5))
            printf 'CREATE FUNCTION public.f%d() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n    RETURN %d; -- a semicolon; inside\nEND;\n$$;\n' "$v" "$v"
        fi
        printf 'INSERT INTO public.runs (version) VALUES (%d);\n' "$v"
    } >"$DIR/V${v}__step_$v.sql"
done
mig_own "$DIR" "$out"
mig_dropdb "$DB" >/dev/null 2>&1 || true
mig_dropdb "$ONE" >/dev/null 2>&1 || true
mig_newdb "$DB" >/dev/null
mig_newdb "$ONE" >/dev/null

# the barrier: a session holds the lock, the runners queue on it
coproc BARRIER { psql -X -q -At -d "$DB" 2>&1; }
# bash unsets BARRIER and BARRIER_PID as soon as the coprocess ends
barrier_pid=$BARRIER_PID
barrier_in=${BARRIER[1]}
echo "SELECT 'held' FROM (SELECT pg_catalog.pg_advisory_lock(4242)) l;" >&"${BARRIER[1]}"
read -r -t 60 line <&"${BARRIER[0]}" || fail "the barrier session did not answer"
[[ $line == held ]] || fail "the barrier session: $line"

pids=()
# (a runner may wait for all the others, longer than migrate.lock_wait's
# default 60 s on a loaded machine)
for i in $(seq 1 8); do
    PGOPTIONS='-c migrate.lock_wait=240s' psql -X -v ON_ERROR_STOP=1 -d "$DB" \
        -c "SELECT pg_catalog.pg_advisory_lock_shared(4242); SELECT pg_catalog.pg_advisory_unlock_shared(4242)" \
        -c "CALL migrate.apply('$DIR')" >"$out/r$i.log" 2>&1 &
    pids+=($!)
done
waiting() {
    [[ $(fault_q "$DB" "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted") == 8 ]]
}
fault_wait 120 waiting || fail "the eight sessions did not all reach the barrier"
echo "SELECT pg_catalog.pg_advisory_unlock(4242);" >&"$barrier_in"

for i in "${!pids[@]}"; do
    # bounded: each runner must end within 60 s
    for ((k = 0; k < 1200; k++)); do
        kill -0 "${pids[$i]}" 2>/dev/null || break
        sleep 0.05
    done
    wait "${pids[$i]}" || fail "runner $((i + 1)) failed: $(cat "$out/r$((i + 1)).log")"
done
# the barrier session ends
echo '\q' >&"$barrier_in"
wait "$barrier_pid" 2>/dev/null || true

# no session saw anything but notices (and the barrier's query output)
if grep -h -E 'ERROR|WARNING|FATAL' "$out"/r*.log; then
    fail "a runner got an error"
fi
waited=$(grep -l 'waiting for another migrate run on track "main"' "$out"/r*.log | wc -l)
((waited >= 1)) || fail "no runner waited for another: they did not meet"
applied=$(cat "$out"/r*.log | grep -c 'NOTICE:  applied V' || true)
[[ $applied == 50 ]] || fail "the eight runners applied $applied migrations, not 50"
got=$(fault_q "$DB" "SELECT count(*), count(DISTINCT version), count(*) FILTER (WHERE NOT success) FROM migrate.history")
[[ $got == "50|50|0" ]] || fail "history after eight runners (rows, versions, failures): $got"
got=$(fault_q "$DB" "SELECT count(*), count(DISTINCT version) FROM public.runs")
[[ $got == "49|49" ]] || fail "each migration's own log (rows, versions): $got"
fault_check_lock_free

# the same files applied by one run give the same schema
psql -X -v ON_ERROR_STOP=1 -q -d "$ONE" -c "CALL migrate.apply('$DIR')" >/dev/null 2>&1 || fail "the single run failed"
dump() { pg_dump --schema-only -d "$1" | grep -v -E '^\\(un)?restrict '; }
dump "$DB" >"$out/eight.sql"
dump "$ONE" >"$out/one.sql"
diff -u "$out/one.sql" "$out/eight.sql" >"$out/schema.diff" || fail "schemas differ: $(head -40 "$out/schema.diff")"
grep -q 'CREATE TABLE public.t50' "$out/one.sql" || fail "the dump lacks the migrated tables"

mig_dropdb "$DB" >/dev/null
mig_dropdb "$ONE" >/dev/null
echo ok
