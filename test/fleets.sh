#!/usr/bin/env bash
# A fleet kept in step by pg_cron (issue 16, README "Fleets"): 20 databases,
# each with a pg_cron job '* * * * *' running CALL migrate.apply(dir).
#
#  - at the first tick every database converges to the same version, each
#    migration applied exactly once in each;
#  - migrate.runs is the heartbeat: the next tick leaves a no-op run (0
#    applied, success) in every database whose job runs;
#  - the README's one dblink query (migrate.summary in every database)
#    gives a row per database;
#  - a database whose job was deactivated shows a stale last run: older
#    than the tick that ran everywhere else.
#
# Jobs tick at the minute (pg_cron 1.4 has no seconds), so this takes two
# ticks: about one to two minutes.  Every wait has a deadline; times are
# compared with each other (a run after another), never with a duration.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

n=20
dir=$MIG_WORK/allowed2/fleets
stale=fleet_20

fail() { echo "FAIL: $*" >&2; exit 1; }
pg() { mig_psql -d postgres -At "$@"; }
dbs=()
for ((i = 1; i <= n; i++)); do
    dbs+=("$(printf 'fleet_%02d' "$i")")
done

created_cron=$(pg -c "SELECT count(*) = 0 FROM pg_extension WHERE extname = 'pg_cron'")
created_dblink=$(pg -c "SELECT count(*) = 0 FROM pg_extension WHERE extname = 'dblink'")
cleanup() {
    local d
    pg -q -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'fleets-%'" >/dev/null 2>&1 || true
    [[ $created_dblink == t ]] && pg -q -c "DROP EXTENSION IF EXISTS dblink" 2>/dev/null
    [[ $created_cron == t ]] && pg -q -c "DROP EXTENSION IF EXISTS pg_cron" 2>/dev/null
    for d in "${dbs[@]}"; do
        mig_dropdb "$d" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT
pg -q -c "CREATE EXTENSION IF NOT EXISTS pg_cron" -c "CREATE EXTENSION IF NOT EXISTS dblink"

mkdir -p "$dir"
printf 'CREATE TABLE public.tenant_items (id bigint PRIMARY KEY, name text);\n' >"$dir/V1__items.sql"
printf "INSERT INTO public.tenant_items VALUES (1, 'first');\n" >"$dir/V2__seed.sql"
printf 'ALTER TABLE public.tenant_items ADD COLUMN price numeric;\n' >"$dir/V3__price.sql"
mig_own "$dir"
for d in "${dbs[@]}"; do
    mig_newdb "$d" >/dev/null
done

# The README's query (section "Fleets"), with this cluster's socket and
# port (the server's libpq default is not the test cluster), over the
# fleet's databases: one row per database.
summary_sql="
SELECT d.datname, s.*
FROM pg_database d
CROSS JOIN LATERAL dblink(
         format('host=%s port=%s dbname=%s', current_setting('unix_socket_directories'),
                current_setting('port'), d.datname),
         format('SELECT * FROM migrate.summary(%L)', '$dir'), false)
     AS s(version text, pending integer, failed integer, dirty boolean,
          last_applied timestamptz, last_run timestamptz, last_call text,
          last_outcome text, last_error text)
WHERE d.datallowconn AND NOT d.datistemplate AND d.datname LIKE 'fleet\_%'
ORDER BY d.datname"
# every database, one query: COLS of summary, and SQL of its own over dblink
over_fleet() {
    pg -F ' ' -c "
SELECT d.datname, r.*
FROM pg_database d
CROSS JOIN LATERAL dblink(
         format('host=%s port=%s dbname=%s', current_setting('unix_socket_directories'),
                current_setting('port'), d.datname), \$q\$$1\$q\$) AS r($2)
WHERE d.datname LIKE 'fleet\_%' ORDER BY d.datname"
}

# one job per database, in one transaction (pg_cron picks them up together)
{
    echo "BEGIN;"
    for d in "${dbs[@]}"; do
        printf "SELECT cron.schedule_in_database('fleets-%s', '* * * * *', %s, '%s');\n" \
            "$d" "format('CALL migrate.apply(%L)', '$dir')" "$d"
    done
    echo "COMMIT;"
} | mig_psql -d postgres -q >/dev/null

# finished_runs_after TIME [active]: how many jobs have a finished run that
# started after TIME (not counting the stale one's with "active")
finished_runs_after() {
    local but=''
    [[ -n ${2:-} ]] && but="AND j.jobname <> 'fleets-$stale'"
    pg -c "SELECT count(DISTINCT j.jobid) FROM cron.job j JOIN cron.job_run_details d USING (jobid)
           WHERE j.jobname LIKE 'fleets-%' AND d.start_time > '$1'
             AND d.status IN ('succeeded', 'failed') $but"
}
# wait_runs TIME WANT [active]: until WANT jobs ran after TIME (deadline 200 s:
# the next tick is at most a minute away; a loaded machine starts jobs late)
wait_runs() {
    local t
    for ((t = 0; t < 400; t++)); do
        [[ $(finished_runs_after "$1" "${3:-}") -ge $2 ]] && return 0
        sleep 0.5
    done
    pg -c "SELECT j.jobname, d.status, d.start_time, d.return_message FROM cron.job j
           LEFT JOIN cron.job_run_details d USING (jobid) WHERE j.jobname LIKE 'fleets-%'" >&2
    fail "$2 jobs did not run after $1 within 200 s"
}

# ---- tick 1: every database converges -------------------------------------
epoch=$(pg -c "SELECT '-infinity'")
wait_runs "$epoch" "$n"
[[ $(pg -c "SELECT count(*) FROM cron.job j JOIN cron.job_run_details d USING (jobid)
            WHERE j.jobname LIKE 'fleets-%' AND d.status <> 'succeeded'") == 0 ]] ||
    fail "a job failed: $(pg -c "SELECT return_message FROM cron.job_run_details WHERE status <> 'succeeded'")"
# the same version everywhere, each migration applied once, no failure
conv=$(over_fleet "SELECT (SELECT string_agg(version || ':' || success, ',' ORDER BY rank) FROM migrate.history),
                          (SELECT count(*) FROM public.tenant_items)" "history text, items bigint")
want=$(for d in "${dbs[@]}"; do echo "$d 1:true,2:true,3:true 1"; done)
[[ $conv == "$want" ]] || fail "the fleet did not converge, each migration once: $conv"

# ---- the stale database: its job is deactivated now --------------------------
pg -c "UPDATE cron.job SET active = false WHERE jobname = 'fleets-$stale'" >/dev/null
# runs that started a few seconds after this were scheduled with the job off
off=$(pg -c "SELECT now() + interval '5 seconds'")

# ---- the next tick: a no-op run in every active database --------------------
wait_runs "$off" $((n - 1)) active
[[ $(finished_runs_after "$off") == $((n - 1)) ]] || fail "the deactivated job ran"
runs=$(over_fleet "SELECT call, applied, outcome, version FROM migrate.runs ORDER BY id DESC LIMIT 1" \
                  "call text, applied int, outcome text, version text" | grep -v "^$stale ")
want=$(for d in "${dbs[@]}"; do [[ $d == "$stale" ]] || echo "$d apply 0 success 3"; done)
[[ $runs == "$want" ]] || fail "the last run of an active database is not a no-op: $runs"
# the converging run is in every database's heartbeat too
conv_runs=$(over_fleet "SELECT count(*) FROM migrate.runs WHERE applied = 3 AND outcome = 'success'" "n bigint")
want=$(for d in "${dbs[@]}"; do echo "$d 1"; done)
[[ $conv_runs == "$want" ]] || fail "a database lacks its converging run: $conv_runs"

# ---- the one query: a row per database; the stale one stands out ------------
rows=$(pg -F '|' -c "$summary_sql")
[[ $(wc -l <<<"$rows") == "$n" ]] || fail "the summary query did not give $n rows: $rows"
[[ $(cut -d'|' -f2-5,8,9 <<<"$rows" | sort -u) == '3|0|0|f|apply|success' ]] ||
    fail "the summary is not the same converged state everywhere: $rows"
stale_check=$(pg -c "WITH s AS ($summary_sql)
    SELECT (SELECT last_run FROM s WHERE datname = '$stale')
         < (SELECT min(last_run) FROM s WHERE datname <> '$stale')")
[[ $stale_check == t ]] || fail "the deactivated database's last run is not older than every other's: $rows"
echo "fleets: ok"
