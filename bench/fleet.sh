#!/usr/bin/env bash
# Benchmark (not a test): a fleet kept in step by pg_cron (README "Fleets").
#
#   bash bench/fleet.sh                  # 200 databases, 60 migrations
#   DBS=50 MIGRATIONS=20 bash bench/fleet.sh
#
# Runs as root, like test/run: builds and installs the extension with
# PG_CONFIG (or PostgreSQL 15's own pg_config), starts one throwaway cluster
# with test/lib.sh (autovacuum off, so nothing but the jobs runs) and
# removes it at the end.
#
# Every database gets a pg_cron job '* * * * *' running CALL
# migrate.apply(dir).  Measured, from migrate.runs of every database (read
# over dblink with migrate.summary's neighbour query):
#   converge   the first tick: from the first run's start to the last run's
#              end, and the CPU it took
#   no-op      the next tick, where every database has nothing to do: its
#              span and the CPU per database
# CPU is the cluster's: the user+system time of every backend that ended
# during the tick (a pg_cron job's session ends with its run; the
# postmaster collects its children's times, /proc/<postmaster>/stat
# cutime+cstime) plus that of the processes still running (pg_cron's
# launcher and the others, utime+stime), in clock ticks of 10 ms.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export MIG_ROOT=$ROOT
# shellcheck source=test/lib.sh
. "$ROOT/test/lib.sh"

DBS=${DBS:-200}
MIGRATIONS=${MIGRATIONS:-60}
JOBS=${JOBS:-32}

[[ $EUID -eq 0 ]] || mig_die "bench/fleet.sh must run as root"
mig_install_deps
mig_build_install >/dev/null
trap 'mig_stop_cluster' EXIT
mig_start_cluster "autovacuum = off" "max_connections = $((JOBS + 20))" \
    "cron.max_running_jobs = $JOBS"

pg() { mig_psql -d postgres -At "$@"; }
hz=$(getconf CLK_TCK)

dir=$MIG_WORK/allowed2/fleet
mkdir -p "$dir"
for ((i = 1; i <= MIGRATIONS; i++)); do
    printf 'CREATE TABLE public.t%d (id int PRIMARY KEY, v text);\nINSERT INTO public.t%d VALUES (1, %s);\n' \
        "$i" "$i" "'x'" >"$dir/V${i}__t$i.sql"
done
mig_own "$dir"

echo "creating $DBS databases"
for ((i = 1; i <= DBS; i++)); do
    mig_newdb "$(printf 'fleet_%03d' "$i")" >/dev/null
done
pg -q -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION dblink"

# CPU ticks of the whole cluster: ended children + the living processes
cluster_ticks() {
    local pm total=0 p f
    pm=$(head -1 "$MIG_DATA/postmaster.pid")
    # fields after the command: utime 14, stime 15, cutime 16, cstime 17
    read -r -a f < <(sed 's/^.*) //' "/proc/$pm/stat")
    total=$((f[11] + f[12] + f[13] + f[14]))
    for p in $(pgrep -P "$pm"); do
        if read -r -a f < <(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null); then
            total=$((total + f[11] + f[12]))
        fi
    done
    echo "$total"
}

# per database: its runs, over dblink
runs_sql="
SELECT r.*
FROM pg_database d
CROSS JOIN LATERAL dblink(
         format('host=%s port=%s dbname=%s', current_setting('unix_socket_directories'),
                current_setting('port'), d.datname),
         'SELECT id, started, ended, applied, outcome FROM migrate.runs')
     AS r(id bigint, started timestamptz, ended timestamptz, applied int, outcome text)
WHERE d.datname LIKE 'fleet\\_%'"

# wait until every database has N runs
wait_runs() {
    local t
    for ((t = 0; t < 3600; t++)); do
        [[ $(pg -c "SELECT count(*) FROM cron.job j JOIN cron.job_run_details d USING (jobid)
                    WHERE j.jobname LIKE 'fleet-%' AND d.status IN ('succeeded', 'failed')") -ge $(($1 * DBS)) ]] &&
            return 0
        sleep 1
    done
    mig_die "the jobs did not end"
}

{
    echo "BEGIN;"
    for ((i = 1; i <= DBS; i++)); do
        d=$(printf 'fleet_%03d' "$i")
        printf "SELECT cron.schedule_in_database('fleet-%s', '* * * * *', \$\$CALL migrate.apply('%s')\$\$, '%s');\n" \
            "$d" "$dir" "$d"
    done
    echo "COMMIT;"
} | mig_psql -d postgres -q >/dev/null

echo "scheduled; waiting for the first tick"
c0=$(cluster_ticks)
wait_runs 1
c1=$(cluster_ticks)
wait_runs 2
c2=$(cluster_ticks)

pg -c "SELECT 'failed job runs: ' || count(*) FROM cron.job_run_details WHERE status <> 'succeeded'"
pg -F ' ' -c "WITH r AS ($runs_sql)
SELECT 'converge: ' || count(*) || ' runs, ' || sum(applied) || ' migrations applied, span '
       || round(extract(epoch FROM max(ended) - min(started))::numeric, 1) || ' s'
FROM r WHERE applied > 0"
pg -F ' ' -c "WITH r AS ($runs_sql)
SELECT 'no-op: ' || count(*) || ' runs, span '
       || round(extract(epoch FROM max(ended) - min(started))::numeric, 1) || ' s, mean run '
       || round(avg(extract(epoch FROM ended - started) * 1000)::numeric, 1) || ' ms'
FROM r WHERE applied = 0"
awk -v a="$c0" -v b="$c1" -v c="$c2" -v hz="$hz" -v n="$DBS" 'BEGIN {
    printf "CPU converge tick: %.1f s (%.0f ms per database)\n", (b - a) / hz, (b - a) * 1000 / hz / n;
    printf "CPU no-op tick:    %.1f s (%.1f ms per database)\n", (c - b) / hz, (c - b) * 1000 / hz / n }'
