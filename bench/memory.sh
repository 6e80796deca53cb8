#!/usr/bin/env bash
# Memory and time of a large data migration: migrate.apply against psql -f.
#
#   bash bench/memory.sh                 # 100 MB of multi-row INSERTs
#   bash bench/memory.sh --size 1024     # 1 GB
#   bash bench/memory.sh --gb            # the same
#   bash bench/memory.sh --kind copy     # COPY ... FROM stdin data instead
#   bash bench/memory.sh --rows 1000     # rows per INSERT (default 1000)
#   bash bench/memory.sh --only migrate  # skip the psql -f run (for 1 GB)
#
# Generates one migration file (awk), starts a throwaway cluster through
# test/lib.sh (PG_CONFIG is respected; run as root, like test/run), then
# loads the file twice into fresh databases: once with CALL migrate.apply,
# once with psql -v ON_ERROR_STOP=1 -f.  While each runs, the serving
# backend's RssAnon (its private memory) is sampled from /proc/<pid>/status
# every 20 ms.  Prints a markdown table: elapsed time, ratio to psql, peak
# RssAnon.  Not part of the test run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export MIG_ROOT=$ROOT
# shellcheck source=test/lib.sh
. "$ROOT/test/lib.sh"

SIZE_MB=100
KIND=insert
ROWS=1000
ONLY=
while (($#)); do
    case $1 in
        --size) SIZE_MB=$2; shift 2 ;;
        --gb) SIZE_MB=1024; shift ;;
        --kind) KIND=$2; shift 2 ;;
        --rows) ROWS=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) mig_die "unknown option $1 (see --help)" ;;
    esac
done
[[ $KIND == insert || $KIND == copy ]] || mig_die "--kind is insert or copy"
[[ $EUID -eq 0 ]] || mig_die "bench/memory.sh must run as root (the server runs as postgres)"

trap 'mig_stop_cluster' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "building and installing the extension" >&2
mig_build_install >/dev/null
mig_init_cluster "max_wal_size = '4GB'" "checkpoint_timeout = '30min'"
mig_start_server
dir=$MIG_WORK/allowed2/bench
mkdir -p "$dir"
file=$dir/V1__bulk_load.sql

# gen_file PATH: the migration, SIZE_MB megabytes of data after a CREATE
# TABLE; rows are printed as they are made (linear time even for 1 GB)
gen_file() {
    awk -v limit=$((SIZE_MB * 1024 * 1024)) -v rows="$ROWS" -v kind="$KIND" '
    BEGIN {
        print "CREATE TABLE bulk (id bigint PRIMARY KEY, name text, note text, amount numeric(12,2));"
        size = 100; id = 0; q = "\047"
        if (kind == "copy") print "COPY bulk (id, name, note, amount) FROM stdin;"
        while (size < limit) {
            if (kind == "copy") {
                id++
                line = id "\tname " id "\tnote with\\ttab; and " q "quote" q " " (id * 7919) % 100003 "\t" (id % 100000) / 100
                print line; size += length(line) + 1
                continue
            }
            print "INSERT INTO bulk (id, name, note, amount) VALUES"
            size += 49
            for (r = 1; r <= rows; r++) {
                id++
                line = "(" id ", " q "name " id q ", " q "note; with " q q "quote" q q " " (id * 7919) % 100003 q ", " (id % 100000) / 100 ")" (r < rows ? "," : ";")
                print line; size += length(line) + 1
            }
        }
        if (kind == "copy") print "\\."
    }' >"$1"
}

# sample PIDFILE OUTFILE: wait for the backend pid, then record its peak
# RssAnon (kB) until it exits or STOPFILE appears
sample() {
    local pidfile=$1 out=$2 pid='' peak=0 kb
    local tries=0
    while [[ -z $pid ]] && ((tries++ < 6000)); do
        [[ -s $pidfile ]] && pid=$(tr -dc '0-9' <"$pidfile")
        sleep 0.01
    done
    while [[ -r /proc/$pid/status && ! -e $out.stop ]]; do
        kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        if [[ -n $kb ]] && ((kb > peak)); then peak=$kb; fi
        sleep 0.02
    done
    echo "$peak" >"$out"
}

# run NAME: load the file the NAME way into a fresh database; prints
# "seconds peak_kB rows"
run() {
    local name=$1 db=bench_$1 pidfile=$MIG_WORK/$1.pid out=$MIG_WORK/$1.peak t0 t1 spid rows
    mig_psql -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    mig_psql -d "$db" -c 'CREATE EXTENSION migrate'
    rm -f "$pidfile" "$out" "$out.stop"
    sample "$pidfile" "$out" &
    spid=$!
    t0=$(date +%s%N)
    if [[ $name == migrate ]]; then
        mig_psql -d "$db" -v dir="$dir" -v pidfile="$pidfile" >/dev/null <<'SQL'
\pset tuples_only on
\pset format unaligned
SELECT pg_backend_pid() \g :pidfile
SET client_min_messages = warning;
CALL migrate.apply(:'dir');
SQL
    else
        mig_psql -d "$db" -At -c "\\o $pidfile" -c 'SELECT pg_backend_pid()' -c '\o' -f "$file" >/dev/null
    fi
    t1=$(date +%s%N)
    touch "$out.stop"
    wait "$spid"
    rows=$(mig_psql -d "$db" -At -c 'SELECT count(*) FROM bulk')
    mig_psql -d postgres -c "DROP DATABASE $db"
    echo "$(( (t1 - t0) / 1000000 )) $(cat "$out") $rows"
}

echo "generating a ${SIZE_MB} MB $KIND migration" >&2
gen_file "$file"
mig_own "$dir"
bytes=$(stat -c %s "$file")

psql_ms='' psql_kb=''
if [[ $ONLY != migrate ]]; then
    echo "loading with psql -f" >&2
    read -r psql_ms psql_kb psql_rows < <(run psql)
fi
echo "loading with migrate.apply" >&2
read -r mig_ms mig_kb mig_rows < <(run migrate)
rm -f "$file"

if [[ -n $psql_ms && $psql_rows != "$mig_rows" ]]; then
    mig_die "row counts differ: psql $psql_rows, migrate $mig_rows"
fi
ratio=$(awk -v a="$mig_ms" -v b="${psql_ms:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
printf '\n%s MB of %s (%s bytes, %s rows%s), PostgreSQL %s\n\n' "$SIZE_MB" \
    "$([[ $KIND == insert ]] && echo "multi-row INSERTs" || echo "COPY ... FROM stdin data")" \
    "$bytes" "$mig_rows" "$([[ $KIND == insert ]] && echo ", $ROWS rows per INSERT")" \
    "$("$MIG_PGBIN/postgres" --version | awk '{ print $3 }')"
echo "| loader | time (s) | time vs psql | peak backend RssAnon (MB) |"
echo "|---|---:|---:|---:|"
[[ -z $psql_ms ]] || printf '| psql -f | %.1f | 1.00 | %.1f |\n' "$(awk -v m="$psql_ms" 'BEGIN { print m / 1000 }')" \
    "$(awk -v k="$psql_kb" 'BEGIN { print k / 1024 }')"
printf '| migrate.apply | %.1f | %s | %.1f |\n' "$(awk -v m="$mig_ms" 'BEGIN { print m / 1000 }')" \
    "$ratio" "$(awk -v k="$mig_kb" 'BEGIN { print k / 1024 }')"
