#!/usr/bin/env bash
# Benchmark: the no-op (everything applied) against a bare connection.
#
#   bash bench/noop.sh                  # N = 1000 and 10000
#   NOOP=31 bash bench/noop.sh 100 1000
#
# Runs as root, like test/run: builds and installs the extension with
# PG_CONFIG (or PostgreSQL 15's own pg_config), starts one throwaway cluster
# with test/lib.sh and removes it at the end.  Not part of the test run: it
# asserts nothing about time, it prints a table.
#
# bench/migrations.sh measures the no-op too, but only after applying N
# migrations with four runners REPEAT times, which at N = 10000 takes hours
# on a shared machine.  This applies the same generated migrations
# (bench/gen_migrations.pl) once, with CALL migrate.apply, then NOOP times
# (default 21), interleaved, each from a fresh connection:
#   SELECT 1     psql -c 'SELECT 1'
#   no-op        psql -c "CALL migrate.apply(dir)" (must say nothing to apply)
#   always       the same with migrate.verify_checksums = 'always' (every
#                applied file read and hashed again, as before 1.1)
#   listing      bench/listing.c: readdir and one fstatat per file, timed
#                inside an already running process -- the identity check
#                alone, with no connection, allocation, sort or hash
# "bound" is (SELECT 1 + listing) / SELECT 1 of the same round: the lowest
# no-op ratio any runner that looks at every file's identity can reach on
# this machine (a runner in the server pays the connection and the listing).
# Wall time is the client's, connection included; memory is the serving
# backend's peak RssAnon (bench/rss_sampler.pl).  Each figure is the median
# with the lowest and highest in brackets; "x SELECT 1" is the median of the
# ratios within each round.  fsync on, autovacuum off.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export MIG_ROOT=$ROOT
# shellcheck source=test/lib.sh
. "$ROOT/test/lib.sh"

SIZES=("$@")
((${#SIZES[@]} > 0)) || SIZES=(1000 10000)
NOOP=${NOOP:-21}
SAMPLER=$ROOT/bench/rss_sampler.pl
for n in "${SIZES[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || mig_die "N must be a positive number, not \"$n\""
done
[[ $NOOP =~ ^[1-9][0-9]*$ ]] || mig_die "NOOP must be a positive number"
[[ $EUID -eq 0 ]] || mig_die "bench/noop.sh must run as root (it uses runuser)"

LISTING=$(mktemp -d)/listing
gcc -O2 -Wall -o "$LISTING" "$ROOT/bench/listing.c" || mig_die "could not build bench/listing.c"

trap 'mig_stop_cluster; rm -rf "$(dirname "$LISTING")"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z ${BENCH_NO_BUILD:-} ]]; then
    mig_log "building and installing the extension ($(mig_pg_config))"
    mig_build_install >/dev/null
fi
mig_init_cluster "migrate.allowed_dirs = '@MIG_WORK@/bench'" \
    "autovacuum = off" "log_min_messages = fatal"
mkdir -p "$MIG_WORK/bench"
mig_own "$MIG_WORK/bench"
mig_start_server
PSQL=("$MIG_PGBIN/psql" -X -q -v ON_ERROR_STOP=1)

now_us() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' "$t"; }
stats() {
    printf '%s\n' "$@" | sort -g |
        awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}
cell() {
    local f=$1 med lo hi
    read -r med lo hi <<<"$2"
    printf '%s [%s–%s]' "$($f "$med")" "$($f "$lo")" "$($f "$hi")"
}
ms1() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1e3 }'; }
mb1() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
r2() { awk -v r="$1" 'BEGIN { printf "%.2f", r }'; }

# timed DB NAME CMD...: run CMD while sampling its backend; sets T_US,
# PEAK_KB and RC; output in $OUT/NAME.*
timed() {
    local db=$1 name=$2 s t0 t1
    shift 2
    rm -f "$OUT/$name.peak" "$OUT/$name.done"
    perl "$SAMPLER" "$db" "$OUT/$name.peak" "$OUT/$name.done" &
    s=$!
    RC=0
    t0=$(now_us)
    "$@" >"$OUT/$name.out" 2>"$OUT/$name.log" || RC=$?
    t1=$(now_us)
    touch "$OUT/$name.done"
    wait "$s" || true
    T_US=$((t1 - t0))
    PEAK_KB=$(cat "$OUT/$name.peak" 2>/dev/null || echo 0)
}

ROWS=()
for N in "${SIZES[@]}"; do
    BASE=$MIG_WORK/bench/n$N
    OUT=$MIG_WORK/out_$N
    DIR=$BASE/migrations
    DB=noop_$N
    mkdir -p "$BASE/migrations" "$BASE/dbmate" "$OUT"
    perl "$ROOT/bench/gen_migrations.pl" "$BASE" "$N"
    mig_own "$BASE"
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" >/dev/null
    "${PSQL[@]}" -d "$DB" -c 'CREATE EXTENSION migrate' >/dev/null
    mig_log "N=$N: applying the migrations once"
    t0=$(now_us)
    "${PSQL[@]}" -d "$DB" -c "SET client_min_messages = warning" \
        -c "CALL migrate.apply('$DIR')" >/dev/null
    mig_log "N=$N: applied in $(ms1 $(($(now_us) - t0))) ms; $NOOP rounds"
    "${PSQL[@]}" -d "$DB" -c 'CHECKPOINT' >/dev/null
    sel=() nop=() alw=() rn=() ra=() mn=() ma=() lst=() rb=()
    for ((k = 1; k <= NOOP; k++)); do
        timed "$DB" "sel.$k" "${PSQL[@]}" -d "$DB" -c 'SELECT 1'
        s=$T_US
        timed "$DB" "noop.$k" "${PSQL[@]}" -d "$DB" -c "CALL migrate.apply('$DIR')"
        ((RC == 0)) || mig_die "no-op apply failed: $(cat "$OUT/noop.$k.log")"
        grep -q 'nothing to apply' "$OUT/noop.$k.log" ||
            mig_die "the no-op found work: $(cat "$OUT/noop.$k.log")"
        nop+=("$T_US") mn+=("$PEAK_KB")
        rn+=("$(awk -v a="$T_US" -v b="$s" 'BEGIN { print a / b }')")
        timed "$DB" "always.$k" "${PSQL[@]}" -d "$DB" -c "SET migrate.verify_checksums = 'always'" \
            -c "CALL migrate.apply('$DIR')"
        ((RC == 0)) || mig_die "apply with 'always' failed: $(cat "$OUT/always.$k.log")"
        alw+=("$T_US") ma+=("$PEAK_KB")
        ra+=("$(awk -v a="$T_US" -v b="$s" 'BEGIN { print a / b }')")
        l=$("$LISTING" "$DIR") || mig_die "bench/listing.c failed on $DIR"
        lst+=("$l")
        rb+=("$(awk -v l="$l" -v b="$s" 'BEGIN { print (b + l) / b }')")
        sel+=("$s")
    done
    ROWS+=("| $N | $(cell ms1 "$(stats "${sel[@]}")") | $(cell ms1 "$(stats "${nop[@]}")") | $(cell r2 "$(stats "${rn[@]}")") | $(cell mb1 "$(stats "${mn[@]}")") | $(cell ms1 "$(stats "${alw[@]}")") | $(cell r2 "$(stats "${ra[@]}")") | $(cell mb1 "$(stats "${ma[@]}")") | $(cell ms1 "$(stats "${lst[@]}")") | $(cell r2 "$(stats "${rb[@]}")") |")
    "${PSQL[@]}" -d postgres -c "DROP DATABASE $DB" >/dev/null
    rm -rf "$BASE"
done

echo
echo "No-op: N applied migrations, a fresh connection each time; median [lowest–highest] of $NOOP interleaved rounds"
echo
echo "| N | \`SELECT 1\` (ms) | no-op (ms) | no-op × SELECT 1 | no-op peak RssAnon (MB) | \`verify_checksums = 'always'\` (ms) | always × SELECT 1 | always peak RssAnon (MB) | listing (ms) | bound × SELECT 1 |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Machine: $(nproc) CPU, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $("$MIG_PGBIN/postgres" --version)."
