#!/usr/bin/env bash
# Benchmark: N generated migrations applied by five runners, against the floor.
#
#   bash bench/migrations.sh                # N = 100 and 1000
#   bash bench/migrations.sh --large        # N = 100, 1000 and 10000 (about 30 min)
#   bash bench/migrations.sh 300 3000       # any list of N
#   REPEAT=7 NOOP=20 BENCH_FSYNC=off bash bench/migrations.sh 100
#
# Runs as root, like test/run: builds and installs the extension with
# PG_CONFIG (or PostgreSQL 15's own pg_config), starts one throwaway cluster
# with test/lib.sh and removes it at the end.  Not part of the test run: it
# asserts nothing about time, it prints tables.
#
# The migrations: for each N, N files V1__...sql .. V<N>__...sql (unpadded
# versions), each creating a table with a primary key and an index and
# inserting 10 rows; every tenth also alters an earlier table and creates a
# plpgsql function with a dollar-quoted body.  The runners, each into a
# fresh database cloned from one template, after a CHECKPOINT:
#   floor     the same migrations, each wrapped BEGIN; <file>; INSERT INTO
#             a tracking table; COMMIT;, all sent as ONE simple-query
#             message by a small libpq client (bench/floor.c): no client
#             round trip at all, what a runner inside the server must beat
#             (it reads no files)
#   bound     the floor without its INSERT: BEGIN; <file>; COMMIT; each, one
#             message.  It records nothing, so no runner that keeps a
#             history can be faster, and "bound x floor" is the lowest ratio
#             to the floor this machine allows (unless the runner ran the
#             migrations themselves more cheaply than the server does)
#   psql -1   psql -1 -f of all migrations in one file: one transaction
#   dbmate    dbmate migrate (npm package; each migration in a transaction
#             with its schema_migrations row, from a Go client)
#   migrate   CALL migrate.apply(dir)
# REPEAT times (default 5); within each repetition the runners run one
# after the other, in an order rotated every repetition, so that the
# machine's noise hits them alike.  Each figure is the median of the
# repetitions, with the lowest and highest in brackets; "x floor" is the
# median of the per-repetition ratios to the floor of the same repetition.
#
# Measures per run:
#   wall     the client's elapsed time, connection included
#   CPU      CPU time of the backend serving the run (/proc/self/schedstat,
#            read by the backend itself at the end of the session; dbmate's
#            is sampled from outside every millisecond): steadier than wall
#            time on a shared machine, since it leaves out waiting for the
#            disk and for other processes
#   memory   peak RssAnon (private memory) of that backend, sampled every
#            millisecond by bench/rss_sampler.pl (the kernel keeps no peak
#            of RssAnon alone)
#   schema   pg_dump --schema-only --schema=public of the last repetition's
#            databases (without dbmate's own table), compared with the floor's
# The no-op: with everything applied, CALL migrate.apply(dir) from a fresh
# connection against a bare psql -c 'SELECT 1', NOOP times each (default
# 15), interleaved, after the last repetition of each N.
#
# Settings: fsync = on, the default durability (BENCH_FSYNC=off to compare);
# autovacuum off (noise); everything else as initdb made it, in particular
# max_locks_per_transaction = 64, which a one-transaction runner exhausts
# at large N.
#
# Tools: libpq-dev (for bench/floor.c) is installed with apt-get if
# missing; dbmate with npm into BENCH_CACHE (default
# /tmp/migrate-bench-cache), never into the repository.  Without npm, or
# with BENCH_DBMATE=0, the dbmate column is left out.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export MIG_ROOT=$ROOT
# shellcheck source=test/lib.sh
. "$ROOT/test/lib.sh"

SIZES=()
for arg in "$@"; do
    case $arg in
        --large) SIZES+=(100 1000 10000) ;;
        -h | --help) sed -n '2,60p' "$0"; exit 0 ;;
        *) SIZES+=("$arg") ;;
    esac
done
((${#SIZES[@]} > 0)) || SIZES=(100 1000)
REPEAT=${REPEAT:-5}
NOOP=${NOOP:-15}
BENCH_FSYNC=${BENCH_FSYNC:-on}
BENCH_CACHE=${BENCH_CACHE:-/tmp/migrate-bench-cache}
BENCH_DBMATE=${BENCH_DBMATE:-1}
SAMPLER=$ROOT/bench/rss_sampler.pl

for n in "${SIZES[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || mig_die "N must be a positive number, not \"$n\""
done
[[ $REPEAT =~ ^[1-9][0-9]*$ && $NOOP =~ ^[1-9][0-9]*$ ]] || mig_die "REPEAT and NOOP must be positive numbers"
[[ $EUID -eq 0 ]] || mig_die "bench/migrations.sh must run as root (it uses runuser)"

# ---- tools ----------------------------------------------------------------

mkdir -p "$BENCH_CACHE"
if [[ ! -f /usr/include/postgresql/libpq-fe.h ]]; then
    mig_log "installing libpq-dev (for the floor client)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq update </dev/null
    apt-get -qq install -y --no-install-recommends libpq-dev </dev/null >/dev/null
fi
FLOOR=$BENCH_CACHE/floor
gcc -O2 -Wall -I/usr/include/postgresql -o "$FLOOR" "$ROOT/bench/floor.c" -lpq ||
    mig_die "could not build bench/floor.c"

DBMATE=
if [[ $BENCH_DBMATE != 0 ]]; then
    DBMATE=$BENCH_CACHE/dbmate/node_modules/@dbmate/linux-x64/bin/dbmate
    if [[ ! -x $DBMATE ]]; then
        if command -v npm >/dev/null; then
            mig_log "installing dbmate with npm into $BENCH_CACHE/dbmate"
            mkdir -p "$BENCH_CACHE/dbmate"
            npm install --prefix "$BENCH_CACHE/dbmate" --no-audit --no-fund --loglevel=error \
                dbmate@2 >/dev/null 2>&1 </dev/null || true
        fi
        if [[ ! -x $DBMATE ]]; then
            mig_log "dbmate is not available (npm install dbmate failed): its column is left out"
            DBMATE=
        fi
    fi
fi
RUNNERS=(floor bound psql1)
[[ -z $DBMATE ]] || RUNNERS+=(dbmate)
RUNNERS+=(migrate)

# ---- cluster ----------------------------------------------------------------

trap 'mig_stop_cluster' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z ${BENCH_NO_BUILD:-} ]]; then
    mig_log "building and installing the extension ($(mig_pg_config))"
    mig_build_install >/dev/null
fi

mig_init_cluster "migrate.allowed_dirs = '@MIG_WORK@/bench'" \
    "fsync = $BENCH_FSYNC" "autovacuum = off" "log_min_messages = fatal"
mkdir -p "$MIG_WORK/bench"
mig_own "$MIG_WORK/bench"
mig_start_server
PSQL=("$MIG_PGBIN/psql" -X -q -v ON_ERROR_STOP=1)
# the backend's own CPU time so far, in nanoseconds
CPU_SQL="SELECT pg_catalog.split_part(pg_catalog.pg_read_file('/proc/self/schedstat'), ' ', 1)"

# ---- helpers ----------------------------------------------------------------

# now in microseconds, without forking
now_us() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' "$t"; }

# stats NUMBER...: "median min max"
stats() {
    printf '%s\n' "$@" | sort -g |
        awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}

# gen DIR N: the migrations, all.sql and permig.sql (bench/gen_migrations.pl)
gen() {
    mkdir -p "$1/migrations" "$1/dbmate"
    perl "$ROOT/bench/gen_migrations.pl" "$1" "$2"
    mig_own "$1"
}

# fresh_db NAME: a database cloned from the template, then a checkpoint
fresh_db() {
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $1" \
        -c "CREATE DATABASE $1 TEMPLATE bench_tpl" -c CHECKPOINT
}

# timed DB NAME CMD...: run CMD (a client of DB) while sampling its backend;
# sets T_US (wall, microseconds), PEAK_KB, CPU_NS (the last line CMD
# printed, else the sampler's last reading) and RC; output in $OUT/NAME.*
timed() {
    local db=$1 name=$2 s t0 t1 out
    shift 2
    rm -f "$OUT/$name.peak" "$OUT/$name.peak.cpu" "$OUT/$name.done"
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
    out=$(tail -n 1 "$OUT/$name.out")
    if [[ $out =~ ^[0-9]+$ ]]; then
        CPU_NS=$out
    else
        CPU_NS=$(cat "$OUT/$name.peak.cpu" 2>/dev/null || echo 0)
    fi
}

# run_one RUNNER DB NAME: one run of RUNNER into DB
run_one() {
    local runner=$1 db=$2 name=$3
    case $runner in
        floor) timed "$db" "$name" "$FLOOR" "dbname=$db" "$BASE/permig.sql" "$CPU_SQL" ;;
        bound) timed "$db" "$name" "$FLOOR" "dbname=$db" "$BASE/bare.sql" "$CPU_SQL" ;;
        psql1) timed "$db" "$name" "${PSQL[@]}" -At -d "$db" -1 -f "$BASE/all.sql" -c "$CPU_SQL" ;;
        dbmate) timed "$db" "$name" "$DBMATE" --no-dump-schema --migrations-dir "$BASE/dbmate" \
                    --url "postgres://postgres@localhost:$MIG_PORT/$db?socket=$MIG_SOCK&sslmode=disable" migrate ;;
        migrate) timed "$db" "$name" "${PSQL[@]}" -At -d "$db" -c "CALL migrate.apply('$DIR')" -c "$CPU_SQL" ;;
    esac
}

# failure LOG: the error of a failed run, and at which migration psql was
failure() {
    local msg line file mig=
    msg=$(grep -m1 -oE '(ERROR|FATAL|WARNING|[Ee]rror):.*' "$1" || head -1 "$1")
    if grep -q max_locks_per_transaction "$1"; then
        msg+=" (lock table full: max_locks_per_transaction)"
    fi
    if [[ $(grep -m1 -oE '[a-z]+\.sql:[0-9]+:' "$1") =~ ^([a-z]+\.sql):([0-9]+):$ ]]; then
        file=${BASH_REMATCH[1]} line=${BASH_REMATCH[2]}
        mig=$(head -n "$line" "$BASE/$file" | grep -c '^-- migration ')
        msg+=" at migration $mig of $N"
    fi
    printf '%s\n' "$msg"
}

s3() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; }      # us -> s
ms1() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1e3 }'; }     # us -> ms
nsms() { awk -v u="$1" 'BEGIN { printf "%.0f", u / 1e6 }'; }    # ns -> ms
mb1() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }    # kB -> MB
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# cell FMT "median min max": "median [min-max]"
cell() {
    local f=$1 med lo hi
    read -r med lo hi <<<"$2"
    printf '%s [%s–%s]' "$($f "$med")" "$($f "$lo")" "$($f "$hi")"
}
plain() { printf '%s' "$1"; }
r2() { awk -v r="$1" 'BEGIN { printf "%.2f", r }'; }

# schema DB FILE: the public schema, pg_dump's random restrict key dropped
schema() {
    "$MIG_PGBIN/pg_dump" --schema-only --schema=public -T public.schema_migrations -d "$1" 2>"$2.err" |
        grep -v -E '^\\(un)?restrict ' >"$2"
}

# shellcheck disable=SC2016  # backquotes are markdown here
label() {
    case $1 in
        floor) echo 'floor: one message, `BEGIN; <file>; INSERT; COMMIT;` each' ;;
        bound) echo 'bound: the floor without its INSERT (records nothing)' ;;
        psql1) echo '`psql -1 -f all.sql`' ;;
        dbmate) echo '`dbmate migrate`' ;;
        migrate) echo '`CALL migrate.apply(dir)`' ;;
    esac
}

"${PSQL[@]}" -d postgres <<'SQL'
CREATE DATABASE bench_tpl;
\c bench_tpl
CREATE EXTENSION migrate;
CREATE SCHEMA tracking;
CREATE TABLE tracking.history (
    version text PRIMARY KEY,
    script text NOT NULL,
    installed_on timestamptz NOT NULL DEFAULT now()
);
SQL

TABLES=()
NOOP_ROWS=()
for N in "${SIZES[@]}"; do
    BASE=$MIG_WORK/bench/n$N
    OUT=$MIG_WORK/out_$N
    mkdir -p "$OUT"
    mig_log "N=$N: generating"
    gen "$BASE" "$N"
    DIR=$BASE/migrations

    declare -A W=() C=() M=() F=() RW=() RC_=()
    for ((r = 1; r <= REPEAT; r++)); do
        # rotate the order: repetition r starts with runner r
        order=()
        for ((k = 0; k < ${#RUNNERS[@]}; k++)); do
            order+=("${RUNNERS[(k + r - 1) % ${#RUNNERS[@]}]}")
        done
        mig_log "N=$N: repetition $r of $REPEAT (${order[*]})"
        declare -A wr=() cr=()
        for runner in "${order[@]}"; do
            [[ -z ${F[$runner]:-} ]] || continue
            db=b_$runner
            fresh_db "$db"
            run_one "$runner" "$db" "$runner.$r"
            # a run that warned (a drift fingerprint that failed, say) did
            # less than a real one: its time would flatter it
            if [[ $runner == migrate ]] && grep -q WARNING "$OUT/$runner.$r.log"; then
                RC=1
            fi
            if ((RC != 0)); then
                F[$runner]=$(failure "$OUT/$runner.$r.log")
                mig_log "N=$N: $runner failed: ${F[$runner]}"
                continue
            fi
            W[$runner]+=" $T_US"
            C[$runner]+=" $CPU_NS"
            M[$runner]+=" $PEAK_KB"
            wr[$runner]=$T_US
            cr[$runner]=$CPU_NS
        done
        # the ratios to the floor within this repetition
        for runner in "${RUNNERS[@]}"; do
            [[ -n ${wr[$runner]:-} && -n ${wr[floor]:-} ]] || continue
            RW[$runner]+=" $(awk -v a="${wr[$runner]}" -v b="${wr[floor]}" 'BEGIN { print a / b }')"
            RC_[$runner]+=" $(awk -v a="${cr[$runner]}" -v b="${cr[floor]}" 'BEGIN { print (b > 0) ? a / b : 0 }')"
        done
        unset wr cr
    done

    # the no-op, from a fresh connection each time, against SELECT 1
    declare -a nsel=() nmig=() nmem=() nrat=()
    if [[ -z ${F[migrate]:-} ]]; then
        for ((k = 1; k <= NOOP; k++)); do
            timed b_migrate "sel.$k" "${PSQL[@]}" -d b_migrate -c 'SELECT 1'
            sel=$T_US
            timed b_migrate "noop.$k" "${PSQL[@]}" -d b_migrate -c "CALL migrate.apply('$DIR')"
            ((RC == 0)) || mig_die "no-op apply failed: $(cat "$OUT/noop.$k.log")"
            grep -q 'nothing to apply' "$OUT/noop.$k.log" ||
                mig_die "the second apply found work: $(cat "$OUT/noop.$k.log")"
            nsel+=("$sel")
            nmig+=("$T_US")
            nmem+=("$PEAK_KB")
            nrat+=("$(awk -v a="$T_US" -v b="$sel" 'BEGIN { print a / b }')")
        done
        NOOP_ROWS+=("| $N | $(cell ms1 "$(stats "${nsel[@]}")") | $(cell ms1 "$(stats "${nmig[@]}")") | $(cell r2 "$(stats "${nrat[@]}")") | $(mb1 "$(stats "${nmem[@]}" | cut -d' ' -f1)") |")
    fi

    # the schemas of the last repetition, against the floor's
    declare -A S=()
    for runner in "${RUNNERS[@]}"; do
        [[ -z ${F[$runner]:-} ]] || continue
        if ! schema "b_$runner" "$OUT/schema_$runner.sql"; then
            grep -q max_locks_per_transaction "$OUT/schema_$runner.sql.err" ||
                mig_die "pg_dump failed: $(cat "$OUT/schema_$runner.sql.err")"
            mig_log "pg_dump ran out of lock table: restarting with more, for the comparison only"
            mig_conf "max_locks_per_transaction = $((N / 10 + 64))"
            mig_restart_cluster
            schema "b_$runner" "$OUT/schema_$runner.sql" ||
                mig_die "pg_dump failed: $(cat "$OUT/schema_$runner.sql.err")"
        fi
    done
    for runner in "${RUNNERS[@]}"; do
        if [[ -n ${F[$runner]:-} || -n ${F[floor]:-} ]]; then
            S[$runner]="-"
        elif cmp -s "$OUT/schema_floor.sql" "$OUT/schema_$runner.sql"; then
            S[$runner]="same"
        else
            S[$runner]="DIFFERS"
            diff "$OUT/schema_floor.sql" "$OUT/schema_$runner.sql" | head -20 >&2 || true
        fi
    done

    {
        echo
        echo "N = $N migrations, fsync = $BENCH_FSYNC: median [lowest–highest] of $REPEAT interleaved repetitions"
        echo
        echo "| runner | wall (s) | wall × floor | backend CPU (ms) | CPU × floor | backend peak RssAnon (MB) | schema |"
        echo "|---|---:|---:|---:|---:|---:|---|"
        for runner in "${RUNNERS[@]}"; do
            if [[ -n ${F[$runner]:-} ]]; then
                echo "| $(label "$runner") | fails: ${F[$runner]//|/\\|} | - | - | - | - | - |"
                continue
            fi
            # shellcheck disable=SC2086  # the lists are space-separated numbers
            echo "| $(label "$runner") | $(cell s3 "$(stats ${W[$runner]})") |" \
                "$(if [[ -n ${RW[$runner]:-} ]]; then cell r2 "$(stats ${RW[$runner]})"; else echo -; fi) |" \
                "$(cell nsms "$(stats ${C[$runner]})") |" \
                "$(if [[ -n ${RC_[$runner]:-} ]]; then cell r2 "$(stats ${RC_[$runner]})"; else echo -; fi) |" \
                "$(mb1 "$(stats ${M[$runner]} | cut -d' ' -f1)") | ${S[$runner]} |"
        done
        if [[ -n ${NOOP_ROWS[*]:-} && ${NOOP_ROWS[-1]} == "| $N |"* ]]; then
            echo
            echo "No-op over these $N applied migrations (median [lowest–highest] of $NOOP fresh connections each):"
            echo "\`SELECT 1\` / \`apply\` (ms) / ratio / no-op peak RssAnon (MB): ${NOOP_ROWS[-1]}"
        fi
    } >"$OUT/table.md"
    cat "$OUT/table.md"
    TABLES+=("$OUT/table.md")
    unset W C M F RW RC_ S nsel nmig nmem nrat
    for runner in "${RUNNERS[@]}"; do
        "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS b_$runner" 2>/dev/null || true
    done
    rm -rf "$BASE"
done

echo
echo "No-op: everything applied, a fresh connection each time; median [lowest–highest] of $NOOP runs"
echo
echo "| N | \`psql -c 'SELECT 1'\` (ms) | \`psql -c 'CALL migrate.apply(dir)'\` (ms) | × SELECT 1 | no-op backend peak RssAnon (MB) |"
echo "|---:|---:|---:|---:|---:|"
printf '%s\n' "${NOOP_ROWS[@]}"
echo
echo "Machine: $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), $(free -g | awk '/^Mem:/ { print $2 }') GB RAM," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $("$MIG_PGBIN/postgres" --version); fsync = $BENCH_FSYNC${DBMATE:+; $("$DBMATE" --version 2>/dev/null | head -1)}."
