#!/usr/bin/env bash
# pg_cron runs migrate for real (SPEC section 9): jobs scheduled with
# cron.schedule (in the cron database) and cron.schedule_in_database (in
# others) run CALL migrate.apply(...) at top level, so it commits per
# migration; a good run is `succeeded`, a bad one `failed` with the
# migration's file, line and error in cron.job_run_details.
#
# Jobs are scheduled '@reboot' and the server restarted, so they run within
# seconds instead of at the next minute (pg_cron 1.4 has no seconds).
# pg_cron keeps the command tag ("CALL") as the return_message of a good run,
# not its notices; with cron.use_background_workers = on the job's worker
# logs its notices, the summary line too, which is checked last.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=ops_cron
other=ops_cron_other
fx=$MIG_FIXTURES/ops_cron

fail() { echo "FAIL: $*" >&2; exit 1; }
pg() { mig_psql -d postgres -At "$@"; }

mig_newdb "$db"
mig_newdb "$other"

# The cron database is postgres: pg_cron and, for the job scheduled there,
# migrate.  Whatever this test adds there it removes again.
created_cron=$(pg -c "SELECT count(*) = 0 FROM pg_extension WHERE extname = 'pg_cron'")
created_migrate=$(pg -c "SELECT count(*) = 0 FROM pg_extension WHERE extname = 'migrate'")
cleanup() {
    pg -q -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'ops-cron-%'" >/dev/null 2>&1 || true
    [[ $created_migrate == t ]] && pg -q -c "DROP EXTENSION IF EXISTS migrate" 2>/dev/null
    [[ $created_cron == t ]] && pg -q -c "DROP EXTENSION IF EXISTS pg_cron" 2>/dev/null
    mig_dropdb "$db" >/dev/null 2>&1 || true
    mig_dropdb "$other" >/dev/null 2>&1 || true
}
trap cleanup EXIT
pg -q -c "CREATE EXTENSION IF NOT EXISTS pg_cron" -c "CREATE EXTENSION IF NOT EXISTS migrate"

mig_psql -d "$db" -q >/dev/null <<'SQL'
SELECT migrate.stage('app', 'V1__create.sql', E'CREATE TABLE staged_items (id int);\n');
SELECT migrate.stage('app', 'V2__seed.sql', E'INSERT INTO staged_items VALUES (1);\n');
SQL

mig_psql -d postgres -q -v db="$db" -v other="$other" -v fx="$fx" >/dev/null <<'SQL'
-- a staged bundle in another database
SELECT cron.schedule_in_database('ops-cron-bundle', '@reboot',
                                 $$CALL migrate.apply('app')$$, :'db');
-- a directory in another database
SELECT cron.schedule_in_database('ops-cron-good', '@reboot',
                                 format('CALL migrate.apply(%L)', :'fx' || '/good'), :'other');
-- a failing migration, in the cron database itself
SELECT cron.schedule('ops-cron-bad', '@reboot',
                     format('CALL migrate.apply(%L)', :'fx' || '/bad'));
SQL

# run_jobs N: restart (pg_cron then starts the @reboot jobs) and wait until
# N runs of our jobs have ended since
run_jobs() {
    local since i
    since=$(pg -c "SELECT now()")
    mig_restart_cluster
    # (a generous bound: on a loaded machine a restart and pg_cron's start-up
    # can take long, and only a job that never ends is a defect)
    for ((i = 0; i < 1200; i++)); do
        if [[ $(pg -c "SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                        WHERE j.jobname LIKE 'ops-cron-%' AND d.start_time >= '$since'
                          AND d.status IN ('succeeded', 'failed')") == "$1" ]]; then
            SINCE=$since
            return 0
        fi
        sleep 0.1
    done
    pg -c "SELECT * FROM cron.job_run_details" >&2
    fail "the cron jobs did not all end within 120 s"
}
# run_of JOB COLUMN: the latest run's status or return_message
run_of() {
    pg -c "SELECT d.$2 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
            WHERE j.jobname = '$1' AND d.start_time >= '$SINCE' ORDER BY d.runid DESC LIMIT 1"
}

run_jobs 3

[[ $(run_of ops-cron-bundle status) == succeeded ]] || fail "bundle job: $(run_of ops-cron-bundle return_message)"
[[ $(run_of ops-cron-bundle return_message) == CALL ]] || fail "bundle job message: $(run_of ops-cron-bundle return_message)"
[[ $(mig_psql -d "$db" -At -c "SELECT string_agg(state, ',') FROM migrate.status('app')") == applied,applied ]] ||
    fail "the bundle job did not apply both migrations"
[[ $(run_of ops-cron-good status) == succeeded ]] || fail "directory job: $(run_of ops-cron-good return_message)"
[[ $(mig_psql -d "$other" -At -c "SELECT count(*) FROM cron_items") == 2 ]] ||
    fail "the directory job did not apply its migrations"

[[ $(run_of ops-cron-bad status) == failed ]] || fail "the bad job did not fail"
msg=$(run_of ops-cron-bad return_message)
for want in "division by zero" 'migration V1__breaks.sql, line 3'; do
    [[ $msg == *"$want"* ]] || fail "the bad job's message lacks '$want': $msg"
done
[[ $(pg -c "SELECT count(*) FROM pg_class WHERE relname = 'ops_cron_never'") == 0 ]] ||
    fail "the failed migration left its table behind"
[[ $(pg -c "SELECT sqlstate || ' ' || error_line FROM migrate.history WHERE NOT success") == "22012 3" ]] ||
    fail "the failure is not recorded in the cron database's history"

# background-worker mode: the summary line reaches the server log.  Who
# writes it depends on pg_cron, not on migrate: up to 1.6.5 the scheduler
# logged every notice of a job itself ("cron job N: NOTICE: ..."), whatever
# log_min_messages says; 1.6.6 (pg_cron PR #378, "Stop logging notices")
# dropped that, leaving it to the job's own background worker, which logs a
# notice as any session does, when log_min_messages is notice or lower.  So
# this run sets log_min_messages = notice (as a DBA who wants the notices
# logged does) and looks for the line the job's worker wrote (its pid is the
# run's job_pid; the log_line_prefix is initdb's '%m [%p] '), which every
# pg_cron version writes.
mig_psql -d "$db" -q -c "SELECT migrate.stage('app', 'V3__more.sql', E'INSERT INTO staged_items VALUES (3);\n')" >/dev/null
log_bytes=$(stat -c %s "$MIG_LOG")
mig_conf "cron.use_background_workers = on" "log_min_messages = notice"
run_jobs 3
mig_conf "cron.use_background_workers = off" "log_min_messages = warning"
[[ $(run_of ops-cron-bundle status) == succeeded ]] || fail "bundle job (workers): $(run_of ops-cron-bundle return_message)"
job_pid=$(run_of ops-cron-bundle job_pid)
[[ $job_pid =~ ^[0-9]+$ ]] || fail "the bundle job's run has no job_pid: '$job_pid'"
# (grep reads a file: grep -q at the end of a pipe may quit before the writer
# is done, which then dies of SIGPIPE and fails the pipe under pipefail)
tail -c "+$((log_bytes + 1))" "$MIG_LOG" >"$MIG_WORK/ops_cron.log"
grep -qF "[$job_pid] NOTICE:  migrate: applied 1 migration(s) on track \"main\", now at version 3" "$MIG_WORK/ops_cron.log" ||
    fail "the summary line is not in the server log as the job's worker's (pid $job_pid) notice"
[[ $(run_of ops-cron-bad status) == failed ]] || fail "the bad job did not fail (workers)"

# back to the default mode, without running the jobs again
pg -q -c "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'ops-cron-%'" >/dev/null
mig_restart_cluster
echo "ops_cron: ok"
