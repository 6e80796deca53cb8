#!/usr/bin/env bash
# Benchmark: what linting the pending migrations costs next to applying them.
#
#   bash bench/lint.sh              # N = 1000
#   bash bench/lint.sh 200 2000     # any list of N
#   REPEAT=5 bash bench/lint.sh
#
# Runs as root, like test/run: builds and installs the extension with
# PG_CONFIG (or PostgreSQL 15's own pg_config), starts one throwaway cluster
# with test/lib.sh, and removes it at the end.  Not part of the test run.
#
# For each N it writes N migrations: each creates a table with a primary
# key and an index and inserts 10 rows; every tenth also adds a column
# with a constant default and a NOT VALID check to a table that existed
# before the run, and updates some of its rows (statements lint must look
# up in the catalog, none of them a finding).  Then, REPEAT times (default
# 3), from fresh databases cloned from one template:
#   lint        SELECT count(*) FROM migrate.lint(dir)
#   apply       CALL migrate.apply(dir) with migrate.lint = off
#   apply+lint  CALL migrate.apply(dir) with migrate.lint = warn (the default)
# Prints the medians (wall clock) and the ratios lint / apply and
# (apply+lint - apply) / apply; the target is under 0.20.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export MIG_ROOT=$ROOT
# shellcheck source=test/lib.sh
. "$ROOT/test/lib.sh"

SIZES=("$@")
((${#SIZES[@]} > 0)) || SIZES=(1000)
REPEAT=${REPEAT:-3}

for n in "${SIZES[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || mig_die "N must be a positive number, not \"$n\""
done
[[ $EUID -eq 0 ]] || mig_die "bench/lint.sh must run as root (it uses runuser)"

trap 'mig_stop_cluster' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -z ${BENCH_NO_BUILD:-} ]]; then
    mig_log "building and installing the extension ($(mig_pg_config))"
    mig_build_install >/dev/null
fi
mig_init_cluster "migrate.allowed_dirs = '@MIG_WORK@/bench'" \
    "fsync = off" "autovacuum = off" "log_min_messages = fatal"
mkdir -p "$MIG_WORK/bench"
mig_own "$MIG_WORK/bench"
mig_start_server
PSQL=("$MIG_PGBIN/psql" -X -q -v ON_ERROR_STOP=1)

now_us() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' "$t"; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
fmt_s() { awk -v u="$1" 'BEGIN { printf "%.3f", u / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }

# gen DIR N: the migrations
gen() {
    mkdir -p "$1"
    perl - "$1" "$2" <<'PERL'
use strict;
use warnings;
my ($dir, $n) = @ARGV;
for my $i (1 .. $n) {
    my $rows = join(",\n    ", map { "($_, 'item $i/$_', $_.25)" } 1 .. 10);
    my $old = '';
    if ($i % 10 == 0) {
        my $k = $i % 20;
        $old = "ALTER TABLE public.base_$k ADD COLUMN c_$i int NOT NULL DEFAULT 0,\n"
          . "    ADD CONSTRAINT base_${k}_c_${i}_ck CHECK (c_$i >= 0) NOT VALID;\n"
          . "UPDATE public.base_$k SET n = n + 1 WHERE id <= 10;\n";
    }
    open(my $f, '>', "$dir/V${i}__item_$i.sql") or die "$i: $!";
    print $f "-- migration $i\n"
      . "CREATE TABLE public.item_$i (\n"
      . "    id bigint PRIMARY KEY,\n"
      . "    name text NOT NULL,\n"
      . "    price numeric(12, 2) NOT NULL,\n"
      . "    created_at timestamptz NOT NULL DEFAULT now()\n"
      . ");\n"
      . "CREATE INDEX item_${i}_name_idx ON public.item_$i (name);\n"
      . "INSERT INTO public.item_$i (id, name, price) VALUES\n    $rows;\n"
      . $old;
    close $f;
}
PERL
    mig_own "$1"
}

"${PSQL[@]}" -d postgres <<'SQL'
CREATE DATABASE bench_tpl;
\c bench_tpl
CREATE EXTENSION migrate;
DO $$
BEGIN
    FOR k IN 0..19 LOOP
        EXECUTE format('CREATE TABLE public.base_%s (id bigint PRIMARY KEY, n int)', k);
        EXECUTE format('INSERT INTO public.base_%s SELECT g, g FROM generate_series(1, 20000) g', k);
    END LOOP;
END $$;
VACUUM ANALYZE;
SQL

fresh_db() {
    "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench TEMPLATE bench_tpl"
}

printf '| N | lint (s) | apply, lint off (s) | apply, lint warn (s) | lint / apply | added to apply |\n'
printf '|---|---|---|---|---|---|\n'
for N in "${SIZES[@]}"; do
    dir=$MIG_WORK/bench/n$N
    gen "$dir" "$N"
    lint=() apply=() both=()
    for ((r = 0; r < REPEAT; r++)); do
        fresh_db
        t0=$(now_us)
        "${PSQL[@]}" -d bench -At -c "SELECT count(*) FROM migrate.lint('$dir')" >"$MIG_WORK/lint.out"
        t1=$(now_us)
        [[ $(cat "$MIG_WORK/lint.out") == 0 ]] || mig_die "lint found something: $(cat "$MIG_WORK/lint.out")"
        lint+=($((t1 - t0)))

        t0=$(now_us)
        "${PSQL[@]}" -d bench -c "SET client_min_messages = warning" -c "SET migrate.lint = off" \
            -c "CALL migrate.apply('$dir')"
        t1=$(now_us)
        apply+=($((t1 - t0)))

        fresh_db
        t0=$(now_us)
        "${PSQL[@]}" -d bench -c "SET client_min_messages = warning" -c "CALL migrate.apply('$dir')"
        t1=$(now_us)
        both+=($((t1 - t0)))
    done
    l=$(median "${lint[@]}") a=$(median "${apply[@]}") b=$(median "${both[@]}")
    printf '| %s | %s | %s | %s | %s | %s |\n' "$N" "$(fmt_s "$l")" "$(fmt_s "$a")" "$(fmt_s "$b")" \
        "$(ratio "$l" "$a")" "$(ratio "$((b - a))" "$a")"
done
