#!/usr/bin/env bash
# Benchmark: N generated migrations through psql and through migrate.apply.
#
#   bash bench/migrations.sh              # N = 100 and 1000
#   bash bench/migrations.sh 10000        # any list of N
#   REPEAT=3 bash bench/migrations.sh 1000
#
# Runs as root, like test/run: builds and installs the extension with
# PG_CONFIG (or PostgreSQL 15's own pg_config), starts one throwaway cluster
# with test/lib.sh, and removes it at the end.  Not part of the test run.
#
# For each N it writes N migrations V1__...sql .. V<N>__...sql (unpadded
# versions): each creates a table with a primary key and an index and
# inserts 10 rows; every tenth also alters an earlier table and creates a
# plpgsql function with a dollar-quoted body.  Then, REPEAT times (default
# 5), each runner starts from a fresh database cloned from one template
# (the extension and the psql runner's tracking table in it, so that the
# three schemas can be compared whole):
#   psql -1       psql -1 -f all.sql: every migration in one transaction,
#                 the floor of any client-side runner
#   psql -f       psql -f with BEGIN; <migration>; INSERT INTO tracking
#                 table; COMMIT; per migration, what client tools do
#   migrate       CALL migrate.apply(dir)
# and the no-op second run of each, NOOP times (default 15) from a fresh
# connection: psql -c 'SELECT 1' for the psql runners (the floor: a real
# client would still have to read its files and its table), and
# CALL migrate.apply(dir) for migrate.  Times are wall-clock medians.
#
# Backend memory: peak RssAnon (private memory) of the backend serving the
# run.  The kernel keeps no high-water mark of RssAnon alone (VmHWM counts
# the shared buffers the backend touched as well), so bench/rss_sampler.pl
# reads /proc/PID/status every millisecond while the backend lives and
# keeps the largest value.
#
# Schema: pg_dump --schema-only of the three databases of the last
# repetition, compared whole (only pg_dump's random \restrict key lines
# are dropped).  At large N, pg_dump itself needs a lock per table: if it
# runs out of lock table, the cluster is restarted with a larger
# max_locks_per_transaction for the comparison only, after all timings.
#
# Settings: fsync = off by default (BENCH_FSYNC=on to change it), as in the
# test cluster: with fsync on, PostgreSQL flushes every new index file when
# its build ends (in every runner alike) and each commit, so the disk, not
# the runner, sets the times, and on a shared machine it is the noisiest
# part.  autovacuum off (noise).  Everything else as initdb made it, in
# particular max_locks_per_transaction = 64.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export MIG_ROOT=$ROOT
# shellcheck source=test/lib.sh
. "$ROOT/test/lib.sh"

SIZES=("$@")
((${#SIZES[@]} > 0)) || SIZES=(100 1000)
REPEAT=${REPEAT:-5}
NOOP=${NOOP:-15}
BENCH_FSYNC=${BENCH_FSYNC:-off}
SAMPLER=$ROOT/bench/rss_sampler.pl

for n in "${SIZES[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || mig_die "N must be a positive number, not \"$n\""
done
[[ $EUID -eq 0 ]] || mig_die "bench/migrations.sh must run as root (it uses runuser)"

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

# ---- helpers -------------------------------------------------------------

# now in microseconds, without forking
now_us() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' "$t"; }

# median of the numbers given
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# gen DIR N: the migrations, all.sql and permig.sql (one perl process:
# forking a cat per file takes minutes at N = 10000)
gen() {
    mkdir -p "$1/migrations"
    perl - "$1" "$2" <<'PERL'
use strict;
use warnings;
my ($dir, $n) = @ARGV;
open(my $all, '>', "$dir/all.sql") or die "$dir/all.sql: $!";
open(my $per, '>', "$dir/permig.sql") or die "$dir/permig.sql: $!";
for my $i (1 .. $n) {
    my $name = "V${i}__create_item_$i.sql";
    my $rows = join(",\n    ", map { "($_, 'item $i/$_', $_.25, '{\"batch\": $i}')" } 1 .. 10);
    my ($alter, $fn) = ('', '');
    if ($i % 10 == 0) {
        my $k = $i - 5;
        $alter = "\nALTER TABLE public.item_$k ADD COLUMN note text DEFAULT 'none',\n"
          . "    ADD CONSTRAINT item_${k}_price_ck CHECK (price >= 0);\n";
        $fn = "\nCREATE FUNCTION public.item_${i}_label(p_id bigint) RETURNS text\n"
          . "LANGUAGE plpgsql STABLE AS \$body\$\n"
          . "DECLARE\n    v_name text;\nBEGIN\n"
          . "    SELECT name INTO v_name FROM public.item_$i WHERE id = p_id;\n"
          . "    IF v_name IS NULL THEN\n"
          . "        RAISE EXCEPTION 'item % not found; check the id', p_id;\n"
          . "    END IF;\n"
          . "    RETURN v_name || ' (' || p_id || ')';\n"
          . "END;\n\$body\$;\n";
    }
    my $sql = "-- migration $i: the items of batch $i\n"
      . "CREATE TABLE public.item_$i (\n"
      . "    id bigint PRIMARY KEY,\n"
      . "    name text NOT NULL,\n"
      . "    price numeric(12, 2) NOT NULL,\n"
      . "    attrs jsonb NOT NULL DEFAULT '{}',\n"
      . "    created_at timestamptz NOT NULL DEFAULT now()\n"
      . ");\n"
      . "CREATE INDEX item_${i}_name_idx ON public.item_$i (name);\n"
      . "INSERT INTO public.item_$i (id, name, price, attrs) VALUES\n"
      . "    $rows;\n"
      . "$alter$fn\n";
    open(my $f, '>', "$dir/migrations/$name") or die "$name: $!";
    print $f $sql;
    close $f;
    print $all $sql;
    print $per "BEGIN;\n", $sql,
      "INSERT INTO tracking.history (version, script) VALUES ('$i', '$name');\n", "COMMIT;\n";
}
close $all;
close $per;
PERL
    mig_own "$1"
}

# fresh_db NAME: a database cloned from the template
fresh_db() {
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 TEMPLATE bench_tpl"
}

# timed DB NAME CMD...: run CMD (a psql connecting to DB) while sampling its
# backend; sets T_US (microseconds), PEAK_KB, RC; output to $OUT/NAME.log
timed() {
    local db=$1 name=$2 s t0 t1
    shift 2
    rm -f "$OUT/$name.peak" "$OUT/$name.done"
    perl "$SAMPLER" "$db" "$OUT/$name.peak" "$OUT/$name.done" &
    s=$!
    RC=0
    t0=$(now_us)
    "$@" >"$OUT/$name.log" 2>&1 || RC=$?
    t1=$(now_us)
    touch "$OUT/$name.done"
    wait "$s" || true
    T_US=$((t1 - t0))
    PEAK_KB=$(cat "$OUT/$name.peak" 2>/dev/null || echo 0)
}

# failure LOG: the error of a failed run, and at which migration psql was
failure() {
    local msg line file mig=
    msg=$(grep -m1 -oE '(ERROR|FATAL):.*' "$1" || head -1 "$1")
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

checkpoint() { "${PSQL[@]}" -d postgres -c CHECKPOINT; }

fmt_s() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; }
fmt_ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1e3 }'; }
fmt_mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# schema DB FILE: the schema-only dump, pg_dump's random restrict key dropped
schema() {
    "$MIG_PGBIN/pg_dump" --schema-only -d "$1" 2>"$2.err" | grep -v -E '^\\(un)?restrict ' >"$2"
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

RESULTS=()
for N in "${SIZES[@]}"; do
    BASE=$MIG_WORK/bench/n$N
    OUT=$MIG_WORK/out_$N
    mkdir -p "$OUT"
    mig_log "N=$N: generating"
    gen "$BASE" "$N"
    DIR=$BASE/migrations

    declare -A T=() M=() F=()
    noop_sel=() noop_mig=() mem_noop_sel=() mem_noop_mig=()
    for ((r = 1; r <= REPEAT; r++)); do
        mig_log "N=$N: repetition $r of $REPEAT"
        for runner in one permig migrate; do
            db=b_${runner}
            fresh_db "$db"
            checkpoint
            case $runner in
                one) timed "$db" "$runner.$r" "${PSQL[@]}" -d "$db" -1 -f "$BASE/all.sql" ;;
                permig) timed "$db" "$runner.$r" "${PSQL[@]}" -d "$db" -f "$BASE/permig.sql" ;;
                migrate) timed "$db" "$runner.$r" "${PSQL[@]}" -d "$db" -c "CALL migrate.apply('$DIR')" ;;
            esac
            if ((RC != 0)); then
                F[$runner]=$(failure "$OUT/$runner.$r.log")
                mig_log "N=$N: $runner failed: ${F[$runner]}"
                continue
            fi
            T[$runner]+=" $T_US"
            M[$runner]+=" $PEAK_KB"
        done

        # the no-op second runs, each from a fresh connection
        for ((k = 1; k <= NOOP; k++)); do
            timed b_permig "noop_sel.$r.$k" "${PSQL[@]}" -d b_permig -c 'SELECT 1'
            noop_sel+=("$T_US")
            mem_noop_sel+=("$PEAK_KB")
            if [[ -z ${F[migrate]:-} ]]; then
                timed b_migrate "noop_mig.$r.$k" "${PSQL[@]}" -d b_migrate -c "CALL migrate.apply('$DIR')"
                ((RC == 0)) || mig_die "no-op apply failed: $(cat "$OUT/noop_mig.$r.$k.log")"
                noop_mig+=("$T_US")
                mem_noop_mig+=("$PEAK_KB")
            fi
        done
        [[ -n ${F[migrate]:-} ]] || grep -q 'nothing to apply' "$OUT/noop_mig.$r.1.log" ||
            mig_die "the second apply found work: $(cat "$OUT/noop_mig.$r.1.log")"
    done

    # the schemas of the last repetition
    declare -A S=()
    for runner in one permig migrate; do
        [[ -z ${F[$runner]:-} ]] || continue
        if ! schema "b_$runner" "$OUT/schema_$runner.sql"; then
            if grep -q max_locks_per_transaction "$OUT/schema_$runner.sql.err"; then
                mig_log "pg_dump ran out of lock table: restarting with more, for the comparison only"
                mig_conf "max_locks_per_transaction = $((N / 10 + 64))"
                mig_restart_cluster
                schema "b_$runner" "$OUT/schema_$runner.sql" ||
                    mig_die "pg_dump failed: $(cat "$OUT/schema_$runner.sql.err")"
            else
                mig_die "pg_dump failed: $(cat "$OUT/schema_$runner.sql.err")"
            fi
        fi
    done
    ref=
    for runner in one permig migrate; do
        [[ -z ${F[$runner]:-} ]] || continue
        [[ -n $ref ]] || ref=$runner
    done
    for runner in one permig migrate; do
        if [[ -n ${F[$runner]:-} ]]; then
            S[$runner]="-"
        elif cmp -s "$OUT/schema_$ref.sql" "$OUT/schema_$runner.sql"; then
            S[$runner]="identical"
        else
            S[$runner]="DIFFERS"
            diff "$OUT/schema_$ref.sql" "$OUT/schema_$runner.sql" | head -20 >&2 || true
        fi
    done
    tables=$("${PSQL[@]}" -At -d "b_$ref" -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'")
    [[ $tables == "$N" ]] || mig_die "b_$ref has $tables tables, not $N"

    # the table
    sel=$(median "${noop_sel[@]}")
    base=
    [[ -n ${F[one]:-} ]] || base=$(median ${T[one]})
    {
        echo
        echo "N = $N migrations (median of $REPEAT runs; no-op: median of $((REPEAT * NOOP)) runs)"
        echo
        echo "| runner | time (s) | × psql -1 | no-op second run (ms) | × SELECT 1 | schema | backend peak RssAnon (MB) |"
        echo "|---|---:|---:|---:|---:|---|---:|"
        for runner in one permig migrate; do
            case $runner in
                one) label='`psql -1 -f all.sql`' ;;
                permig) label='`psql -f`, one transaction per migration' ;;
                migrate) label='`CALL migrate.apply(dir)`' ;;
            esac
            if [[ $runner == migrate && -z ${F[migrate]:-} ]]; then
                nm=$(median "${noop_mig[@]}")
                noop="$(fmt_ms "$nm") | $(ratio "$nm" "$sel")"
            else
                noop="$(fmt_ms "$sel") (\`SELECT 1\`) | 1.00"
            fi
            if [[ -n ${F[$runner]:-} ]]; then
                echo "| $label | fails: ${F[$runner]//|/\\|} | - | $noop | - | - |"
                continue
            fi
            t=$(median ${T[$runner]})
            rel=-
            [[ -z $base ]] || rel=$(ratio "$t" "$base")
            echo "| $label | $(fmt_s "$t") | $rel | $noop | ${S[$runner]} | $(fmt_mb "$(median ${M[$runner]})") |"
        done
        echo
        echo "No-op backend peak RssAnon: SELECT 1 $(fmt_mb "$(median "${mem_noop_sel[@]}")") MB${noop_mig:+, migrate.apply $(fmt_mb "$(median "${mem_noop_mig[@]}")") MB}."
    } >"$OUT/table.md"
    cat "$OUT/table.md"
    RESULTS+=("$OUT/table.md")
    unset T M F S
    "${PSQL[@]}" -d postgres -c 'DROP DATABASE b_one' -c 'DROP DATABASE b_permig' -c 'DROP DATABASE b_migrate' 2>/dev/null || true
    rm -rf "$BASE"
done

echo
echo "Machine: $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), $(free -g | awk '/^Mem:/ { print $2 }') GB RAM;" \
    "$("$MIG_PGBIN/postgres" --version); fsync = $BENCH_FSYNC."
