#!/usr/bin/env bash
# Benchmark: what the drift event trigger costs DDL.
#
#   bash bench/drift.sh                 # 40 blocks of 10 rounds of 6 DDL statements
#   BLOCKS=60 ROUNDS=10 bash bench/drift.sh
#
# Runs as root, like test/run: builds and installs the extension with
# PG_CONFIG (or PostgreSQL 15's own pg_config), starts one throwaway cluster
# with test/lib.sh (fsync off, autovacuum off) and removes it at the end.
# Not part of the test run.
#
# A round is: CREATE TABLE (serial primary key), CREATE INDEX, ALTER TABLE
# ADD COLUMN, COMMENT, CREATE VIEW, DROP VIEW.  Two workloads:
#   by hand   rounds sent by psql, each statement its own transaction: every
#             statement is recorded in migrate.drift (one row each)
#   apply     the same rounds as migrations (one round each), CALL
#             migrate.apply: the trigger fires and returns at once
# Without the trigger is session_replication_role = replica, in which the
# server fires no event trigger at all (as if the extension had none).
# Last, the CPU time of acknowledge_drift on the schema by_hand made (it
# computes and stores the schema fingerprint, as every apply that runs
# migrations does twice: before its first migration and after its last).
#
# On a shared machine the time a backend needs for the same work swings by
# a factor of two between runs (other load, and the kernel's cost of
# creating relation files, which depends on the inodes deleted recently).
# So both modes run in ONE backend, in alternating blocks (off, on, on,
# off, ...), and each block's CPU time is read from /proc/self/schedstat
# (all of it) and /proc/self/stat (user time, 10 ms ticks) before and after
# it, and its wall time (clock_timestamp(), which includes the client's
# round trips and, with BENCH_FSYNC=on, the commits' flushes): whatever
# disturbs the machine disturbs both modes alike.  The result is the sum
# over the blocks of each mode, and the ratio on/off.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export MIG_ROOT=$ROOT
# shellcheck source=test/lib.sh
. "$ROOT/test/lib.sh"

BLOCKS=${BLOCKS:-40}
ROUNDS=${ROUNDS:-10}
BENCH_FSYNC=${BENCH_FSYNC:-off}

[[ $EUID -eq 0 ]] || mig_die "bench/drift.sh must run as root"
mig_install_deps
mig_build_install >/dev/null
trap 'mig_stop_cluster' EXIT
mig_start_cluster "autovacuum = off" "fsync = $BENCH_FSYNC"
work=$MIG_WORK/bench_drift
mkdir -p "$work"

# the DDL of round i
round() {
    local i=$1
    cat <<SQL
CREATE TABLE public.t_$i (id serial PRIMARY KEY, a int, b text);
CREATE INDEX t_${i}_a ON public.t_$i (a);
ALTER TABLE public.t_$i ADD COLUMN c int;
COMMENT ON TABLE public.t_$i IS 'round $i';
CREATE VIEW public.v_$i AS SELECT id, a FROM public.t_$i;
DROP VIEW public.v_$i;
SQL
}

# the mode of block b: off, on, on, off, off, on, on, off, ...
mode_of() { if (((($1 + 1) / 2) % 2 == 0)); then echo off; else echo on; fi; }

# CPU and wall time now: "all_ns user_ticks wall_us" into psql variables
# c0/u0/w0 or c1/u1/w1
cpu_gset() {
    echo "SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint AS c$1,
                 split_part(regexp_replace(pg_read_file('/proc/self/stat'), '^.*\\) ', ''), ' ', 12)::int AS u$1,
                 (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS w$1 \\gset"
}

# one psql script per workload: blocks with the CPU time of each
{
    echo "\\set QUIET 1"
    echo "SET client_min_messages = warning;"
    i=0
    for ((b = 0; b < BLOCKS; b++)); do
        mode=$(mode_of "$b")
        [[ $mode == on ]] && role=origin || role=replica
        echo "SET session_replication_role = $role;"
        cpu_gset 0
        for ((r = 0; r < ROUNDS; r++)); do
            i=$((i + 1))
            round "$i"
        done
        cpu_gset 1
        echo "SELECT '$mode ' || (:c1 - :c0) / 1000 || ' ' || (:u1 - :u0) * 10000 || ' ' || (:w1 - :w0);"
    done
    # the fingerprint of the schema made (acknowledge_drift computes and stores it)
    for ((k = 0; k < 5; k++)); do
        cpu_gset 0
        echo "SELECT migrate.acknowledge_drift() \\g /dev/null"
        cpu_gset 1
        echo "SELECT 'fingerprint ' || (:c1 - :c0) / 1000 || ' ' || (:u1 - :u0) * 10000;"
    done
} >"$work/by_hand.sql"

{
    echo "\\set QUIET 1"
    echo "SET client_min_messages = warning;"
    i=0
    for ((b = 0; b < BLOCKS; b++)); do
        mode=$(mode_of "$b")
        [[ $mode == on ]] && role=origin || role=replica
        mkdir -p "$work/apply/b$b"
        for ((r = 0; r < ROUNDS; r++)); do
            i=$((i + 1))
            round "$i" >"$work/apply/b$b/V$((r + 1))__round_$i.sql"
        done
        echo "SET session_replication_role = $role;"
        cpu_gset 0
        echo "CALL migrate.apply('$work/apply/b$b', track => 'b$b');"
        cpu_gset 1
        echo "SELECT '$mode ' || (:c1 - :c0) / 1000 || ' ' || (:u1 - :u0) * 10000 || ' ' || (:w1 - :w0);"
    done
} >"$work/apply.sql"
mig_own "$work"
mig_psql -d postgres -c "ALTER SYSTEM SET migrate.allowed_dirs = '$work'" -c "SELECT pg_reload_conf()" >/dev/null

echo "PostgreSQL $MIG_PG_VERSION, fsync = $BENCH_FSYNC: $BLOCKS blocks of $ROUNDS rounds of 6 DDL statements, trigger on and off alternately"
printf '%-8s %10s %10s %10s %10s %10s %10s %8s %8s %8s\n' workload "cpu off" "cpu on" "user off" "user on" "wall off" "wall on" "cpu" "user" "wall"
for workload in by_hand apply; do
    db=bench_drift_$workload
    mig_psql -d postgres -q -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    mig_psql -d "$db" -q -c "CREATE EXTENSION migrate" >/dev/null
    mig_psql -d "$db" -At -f "$work/$workload.sql" >"$work/$workload.out"
    FP_OBJECTS=$(mig_psql -d "$db" -At -c "SELECT cardinality(objects) FROM migrate.schema_fingerprint")
    export FP_OBJECTS
    # every statement by hand is one drift row, none of apply's
    want=0
    [[ $workload == by_hand ]] && want=$((BLOCKS / 2 * ROUNDS * 6))
    rows=$(mig_psql -d "$db" -At -c "SELECT count(*) FROM migrate.drift")
    [[ $workload == by_hand ]] && rows=$(mig_psql -d "$db" -At -c "SELECT count(*) FROM migrate.drift WHERE acknowledged_at IS NOT NULL")
    ((rows == want)) || mig_die "$workload: expected $want drift rows, found $rows"
    # microseconds per mode, summed over its blocks
    awk -v w="$workload" '
        $1 == "fingerprint" { next }
        { c[$1] += $2; u[$1] += $3; t[$1] += $4 }
        END {
            printf "%-8s %8.0fms %8.0fms %8.0fms %8.0fms %8.0fms %8.0fms %+7.1f%% %+7.1f%% %+7.1f%%\n", w,
                c["off"] / 1000, c["on"] / 1000, u["off"] / 1000, u["on"] / 1000,
                t["off"] / 1000, t["on"] / 1000,
                (c["on"] / c["off"] - 1) * 100, (u["on"] / u["off"] - 1) * 100,
                (t["on"] / t["off"] - 1) * 100
        }' "$work/$workload.out"
    if [[ $workload == by_hand ]]; then
        fp=$(awk '$1 == "fingerprint" {print $2}' "$work/$workload.out" | sort -n | sed -n 3p)
        fingerprint="acknowledge_drift (computes and stores the fingerprint) of the $FP_OBJECTS objects made: median $((fp / 1000)) ms CPU"
    fi
    mig_dropdb "$db" >/dev/null
done
echo "$fingerprint"
