#!/usr/bin/env bash
# Instructions per migration: what migrate.apply costs beyond the statements
# it runs, counted by callgrind (stable on a noisy machine, unlike time).
#
#   bash bench/instructions.sh                 # N = 100 and 200, fsync on
#   BENCH_FSYNC="on off" bash bench/instructions.sh 100
#   BENCH_KEEP=/tmp/cg bash bench/instructions.sh   # keep the callgrind files
#
# Runs as root, like test/run: builds and installs the extension with
# PG_CONFIG, makes a throwaway cluster (test/lib.sh) and starts its
# postmaster under valgrind --tool=callgrind, so that every backend it
# forks is counted into a file of its own (callgrind.<pid>).  Only the
# backend serving each run is read.  For each N (bench/gen_migrations.pl
# writes the migrations) and each fsync setting, two sessions, each into a
# fresh database cloned from one template:
#   floor     the migrations as ONE simple-query message, each wrapped
#             BEGIN; <file>; INSERT INTO a tracking table; COMMIT;
#             (bench/floor.c), then SELECT pg_backend_pid()
#   migrate   CALL migrate.apply(dir), then SELECT pg_backend_pid()
# (client_min_messages as initdb made it: apply's NOTICEs are sent).  The
# table gives each session's instructions (Ir, the whole backend: start,
# statements, exit), the difference divided by N, and, with two or more N,
# the marginal cost of one more migration, ((A2 - F2) - (A1 - F1)) /
# (N2 - N1), which leaves out what a run pays once (loading the library,
# preparing its plans, listing the directory).  Takes about a minute per
# session at N = 100 under valgrind.  Not part of the test run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export MIG_ROOT=$ROOT
# shellcheck source=test/lib.sh
. "$ROOT/test/lib.sh"

SIZES=("$@")
((${#SIZES[@]} > 0)) || SIZES=(100 200)
read -r -a FSYNCS <<<"${BENCH_FSYNC:-on}"
BENCH_CACHE=${BENCH_CACHE:-/tmp/migrate-bench-cache}
for n in "${SIZES[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || mig_die "N must be a positive number, not \"$n\""
done
[[ $EUID -eq 0 ]] || mig_die "bench/instructions.sh must run as root (it uses runuser)"
command -v valgrind >/dev/null || {
    mig_log "installing valgrind"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq update </dev/null
    apt-get -qq install -y --no-install-recommends valgrind </dev/null >/dev/null
}
if [[ ! -f /usr/include/postgresql/libpq-fe.h ]]; then
    mig_log "installing libpq-dev (for the floor client)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -qq update </dev/null
    apt-get -qq install -y --no-install-recommends libpq-dev </dev/null >/dev/null
fi
mkdir -p "$BENCH_CACHE"
FLOOR=$BENCH_CACHE/floor
gcc -O2 -Wall -I/usr/include/postgresql -o "$FLOOR" "$ROOT/bench/floor.c" -lpq ||
    mig_die "could not build bench/floor.c"

VG_PID=
stop_all() {
    if [[ -n $VG_PID ]]; then
        _mig_as_postgres "$MIG_PGBIN/pg_ctl" -D "$MIG_DATA" -m fast -w -t 120 stop >/dev/null 2>&1 ||
            kill "$VG_PID" 2>/dev/null || true
        wait "$VG_PID" 2>/dev/null || true
        VG_PID=
    fi
    mig_stop_cluster
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z ${BENCH_NO_BUILD:-} ]]; then
    mig_log "building and installing the extension ($(mig_pg_config))"
    mig_build_install >/dev/null
fi

mig_init_cluster "migrate.allowed_dirs = '@MIG_WORK@/bench'" "autovacuum = off" \
    "shared_preload_libraries = ''" "listen_addresses = ''" "log_min_messages = fatal"
CG=$MIG_WORK/callgrind
mkdir -p "$MIG_WORK/bench" "$CG"
mig_own "$MIG_WORK/bench" "$CG"
PORT=$((56400 + RANDOM % 500))
(cd "$MIG_WORK" && exec runuser -u postgres -- valgrind --tool=callgrind --dump-instr=no \
    --callgrind-out-file="$CG/callgrind.%p" "$MIG_PGBIN/postgres" -D "$MIG_DATA" -p "$PORT") \
    >"$MIG_WORK/valgrind.log" 2>&1 </dev/null &
VG_PID=$!
export PGHOST=$MIG_SOCK PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
for ((i = 0; i < 240; i++)); do
    "$MIG_PGBIN/pg_isready" -q && break
    kill -0 "$VG_PID" 2>/dev/null || { tail -20 "$MIG_WORK/valgrind.log" >&2; mig_die "postgres under valgrind did not start"; }
    sleep 0.5
done
"$MIG_PGBIN/pg_isready" -q || mig_die "postgres under valgrind did not accept connections"
PSQL=("$MIG_PGBIN/psql" -X -q -v ON_ERROR_STOP=1)

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

# ir PID: the instructions of that backend, once it has exited
ir() {
    local f=$CG/callgrind.$1 i
    for ((i = 0; i < 600; i++)); do
        [[ ! -d /proc/$1 && -s $f ]] && grep -q '^totals:' "$f" && break
        sleep 0.2
    done
    awk '/^summary:/ { print $2 }' "$f"
}

# session RUNNER DB: run it; prints the backend's instructions
session() {
    local pid
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $2" \
        -c "CREATE DATABASE $2 TEMPLATE bench_tpl" -c CHECKPOINT
    case $1 in
        floor) pid=$("$FLOOR" "dbname=$2" "$BASE/permig.sql" 'SELECT pg_backend_pid()') ;;
        migrate) pid=$("${PSQL[@]}" -At -d "$2" -c "CALL migrate.apply('$BASE/migrations')" \
                     -c 'SELECT pg_backend_pid()' 2>"$MIG_WORK/apply.err") ;;
    esac
    [[ $pid =~ ^[0-9]+$ ]] || mig_die "$1 at N = $N failed"
    # a run that warned (a drift fingerprint that failed, say) did less than
    # a real one: its count would flatter it
    if [[ $1 == migrate ]] && grep -q WARNING "$MIG_WORK/apply.err"; then
        mig_die "apply at N = $N warned: $(grep -A2 WARNING "$MIG_WORK/apply.err" | head -5)"
    fi
    if [[ -n ${BENCH_KEEP:-} ]]; then
        mkdir -p "$BENCH_KEEP"
        ir "$pid" >/dev/null
        cp "$CG/callgrind.$pid" "$BENCH_KEEP/$1.n$N.fsync_$FS.callgrind"
    fi
    ir "$pid"
}

ROWS=()
for FS in "${FSYNCS[@]}"; do
    "${PSQL[@]}" -c "ALTER SYSTEM SET fsync = $FS" -c 'SELECT pg_reload_conf()' >/dev/null
    prev_n='' prev_d=''
    for N in "${SIZES[@]}"; do
        BASE=$MIG_WORK/bench/n$N
        if [[ ! -d $BASE ]]; then
            mkdir -p "$BASE/migrations" "$BASE/dbmate"
            perl "$ROOT/bench/gen_migrations.pl" "$BASE" "$N"
            mig_own "$BASE"
        fi
        mig_log "fsync = $FS, N = $N: floor"
        f=$(session floor b_floor)
        mig_log "fsync = $FS, N = $N: migrate.apply"
        a=$(session migrate b_migrate)
        d=$((a - f))
        marginal=-
        if [[ -n $prev_n ]]; then
            marginal=$(( (d - prev_d) / (N - prev_n) ))
        fi
        ROWS+=("| $FS | $N | $f | $a | $((d / N)) | $marginal | $(awk -v f="$f" -v n="$N" 'BEGIN { printf "%.0f", f / n }') |")
        prev_n=$N prev_d=$d
    done
done

echo
echo "Instructions (callgrind Ir) of the backend serving each session; $("$MIG_PGBIN/postgres" --version)"
echo
echo "| fsync | N | floor | migrate.apply | (apply - floor) / N | marginal per migration | floor / N |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
