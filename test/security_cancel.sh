#!/usr/bin/env bash
# Security (issue 11, item 11): cancel is honoured while a large input is
# read.  A sqitch plan's rework check compared every change with every
# later one (quadratic, no interrupt check): a plan of a few hundred
# thousand changes ignored cancel (and terminate) for minutes.  Now it is
# n log n and checks for interrupts; the call ends, cancelled or done,
# well within the bound below (which the quadratic check exceeds by far).
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=sec_cancel
dir=$MIG_FIXTURES/security_cancel
out=$MIG_WORK/security_cancel
mkdir -p "$out"
changes=300000

fail() { echo "FAIL: $*" >&2; exit 1; }
as_dba() { mig_psql -d "$db" -At "$@"; }

cleanup() {
    mig_dropdb "$db" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
cleanup
mig_newdb "$db"

rm -rf "$dir"
mkdir -p "$dir/deploy"
# change names with a long common prefix: each comparison is slow
{
    echo "%project=big"
    seq -f "a_change_name_with_a_rather_long_common_prefix_%06g 2024-01-31T12:00:00Z dev <dev@example.org>" \
        1 "$changes"
} >"$dir/sqitch.plan"
printf 'SELECT 1;\n' >"$dir/deploy/a_change_name_with_a_rather_long_common_prefix_000001.sql"
mig_own "$dir"

# run it in the background
PGAPPNAME=sec_cancel_call as_dba -c "SELECT count(*) FROM migrate.scripts('$dir')" >"$out/call.out" 2>&1 &
caller=$!

# cancel it once it is well inside the call: when its backend has used two
# seconds of CPU (the linear code is done long before; the quadratic
# check is then past the reading of the plan and in its loop)
pid=
for ((i = 0; i < 600; i++)); do
    pid=$(mig_psql -d postgres -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'sec_cancel_call' AND state = 'active' AND query LIKE '%migrate.scripts%'")
    [[ -n $pid ]] && break
    kill -0 "$caller" 2>/dev/null || break
    sleep 0.1
done
tick=$(getconf CLK_TCK)
if [[ -n $pid ]]; then
    for ((i = 0; i < 1200; i++)); do
        kill -0 "$caller" 2>/dev/null || break
        cpu=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo gone)
        [[ $cpu == gone ]] && break
        ((cpu >= 2 * tick)) && break
        sleep 0.1
    done
    mig_psql -d postgres -At -c "SELECT pg_cancel_backend($pid)" >/dev/null
fi

# the call must end: bounded wait (the quadratic check took far longer)
ended=
for ((i = 0; i < 900; i++)); do
    if ! kill -0 "$caller" 2>/dev/null; then
        ended=1
        break
    fi
    sleep 0.1
done
if [[ -z $ended ]]; then
    [[ -n $pid ]] && mig_psql -d postgres -At -c "SELECT pg_terminate_backend($pid)" >/dev/null || true
    fail "the call ignored cancel"
fi
wait "$caller" || true
# cancelled, or done before the cancel arrived: the plan names missing scripts
grep -qE 'canceling statement due to user request|has no deploy script' "$out/call.out" ||
    { cat "$out/call.out" >&2; fail "the call ended otherwise"; }

echo "security_cancel: ok"
