#!/usr/bin/env bash
# The directory-swap race (issue 11, item 1).  Whoever can write inside an
# allowed tree can exchange a directory on the way to a file for a
# symbolic link to anywhere (renameat2 RENAME_EXCHANGE), between the moment
# a path is checked and the moment it is opened.  Here a small C program
# does that in a loop, as fast as it can, while apply, status, run, \ir and
# the sqitch and Drizzle metadata files are read again and again.  Every
# file outside the allowed tree says so (it calls nextval on a sequence,
# which no rollback undoes, and contains the word OUTSIDE).  The verdict
# does not depend on timing: on every iteration the call either reads the
# files inside the tree or refuses; nothing outside is ever listed, read,
# run or stored in migrate.history.sql.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"

fail() {
    echo "FAIL: $*"
    exit 1
}

DB=security_swap
T=$MIG_FIXTURES/security_swap
OUT=$MIG_WORK/outside/security_swap
ITER=${SWAP_ITERATIONS:-150}
SWAPPER_PID=

cleanup() {
    if [[ -n $SWAPPER_PID ]]; then
        kill "$SWAPPER_PID" 2>/dev/null || true
        wait "$SWAPPER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

q() { PGOPTIONS="-c client_min_messages=warning" psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

# ---- the swapper ---------------------------------------------------------
# swapper A B SECONDS: exchange A and B until SIGTERM or SECONDS have passed
# (a bound of its own, should the test die), then leave A as it was.
cat >"$MIG_WORK/swapper.c" <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t stop = 0;
static void on_term(int sig) { (void) sig; stop = 1; }

static int exchange(const char *a, const char *b)
{
    return (int) syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

int main(int argc, char **argv)
{
    time_t end;
    long n = 0;
    struct stat st;

    if (argc != 4)
        return 2;
    end = time(NULL) + atoi(argv[3]);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    while (!stop && time(NULL) < end)
    {
        if (exchange(argv[1], argv[2]) != 0)
        {
            perror("renameat2");
            return 1;
        }
        n++;
    }
    /* back to the start: A the real directory */
    if (lstat(argv[1], &st) == 0 && S_ISLNK(st.st_mode) && exchange(argv[1], argv[2]) != 0)
        return 1;
    fprintf(stderr, "%ld exchanges\n", n);
    return 0;
}
C
gcc -O2 -o "$MIG_WORK/swapper" "$MIG_WORK/swapper.c" || fail "cannot compile the swapper"

# start_swap DIR: exchange DIR/sub (the real directory) and DIR/sub_swap (a
# link to the directory of the same files outside) until stop_swap
start_swap() {
    "$MIG_WORK/swapper" "$1/sub" "$1/sub_swap" 300 2>>"$MIG_WORK/swapper.log" &
    SWAPPER_PID=$!
}
stop_swap() {
    kill "$SWAPPER_PID"
    wait "$SWAPPER_PID" || fail "the swapper failed: $(cat "$MIG_WORK/swapper.log")"
    SWAPPER_PID=
}

# ---- the trees -----------------------------------------------------------
rm -rf "$T" "$OUT"
n=0
# pair CASE: $T/CASE/sub (inside) and $OUT/CASE (outside), with
# $T/CASE/sub_swap linking to the outside one
pair() {
    mkdir -p "$T/$1/sub" "$OUT/$1"
    ln -s "$OUT/$1" "$T/$1/sub_swap"
}
# inside FILE TEXT / outside FILE: a file inside, and its twin outside
inside() { mkdir -p "$(dirname "$1")"; printf '%s\n' "$2" >"$1"; }
outside() {
    n=$((n + 1))
    mkdir -p "$(dirname "$1")"
    printf -- "-- OUTSIDE\nSELECT pg_catalog.nextval('public.outside_reads');\nCREATE TABLE public.outside_%s ();\n" "$n" >"$1"
}

# apply and status: a Flyway directory
pair apply
inside "$T/apply/sub/V1__one.sql" "INSERT INTO public.inside_runs VALUES ('apply V1');"
inside "$T/apply/sub/V2__two.sql" "INSERT INTO public.inside_runs VALUES ('apply V2');"
outside "$OUT/apply/V1__one.sql"
outside "$OUT/apply/V2__two.sql"
outside "$OUT/apply/V3__only_outside.sql"

# run
pair run
inside "$T/run/sub/seed.sql" "INSERT INTO public.inside_runs VALUES ('run');"
outside "$OUT/run/seed.sql"

# \ir of a file in the swapped directory, from a migration beside it
pair include
inside "$T/include/mig/V1__include.sql" "\\ir ../sub/_part.sql"
inside "$T/include/sub/_part.sql" "INSERT INTO public.inside_runs VALUES ('include');"
outside "$OUT/include/_part.sql"

# sqitch: the project directory itself is swapped; the plan outside names
# a change of its own
pair sqitch
inside "$T/sqitch/sub/sqitch.plan" "%syntax-version=1.0.0
%project=swap

users 2024-01-01T00:00:00Z Dev <dev@example.com> # inside"
inside "$T/sqitch/sub/deploy/users.sql" "INSERT INTO public.inside_runs VALUES ('sqitch');"
inside "$T/sqitch/sub/revert/users.sql" "SELECT 1;"
printf '%s\n' "%syntax-version=1.0.0" "%project=swap" "" \
    "outsider 2024-01-01T00:00:00Z Dev <dev@example.com> # OUTSIDE" \
    "users 2024-01-01T00:00:00Z Dev <dev@example.com> # OUTSIDE" >"$OUT/sqitch/sqitch.plan"
outside "$OUT/sqitch/deploy/users.sql"
outside "$OUT/sqitch/deploy/outsider.sql"
outside "$OUT/sqitch/revert/users.sql"
outside "$OUT/sqitch/revert/outsider.sql"

# drizzle: meta/_journal.json lies in the swapped directory; the journal
# outside names a migration of its own
pair drizzle
inside "$T/drizzle/sub/0000_inside.sql" "INSERT INTO public.inside_runs VALUES ('drizzle');"
inside "$T/drizzle/sub/meta/_journal.json" '{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1700000000000,"tag":"0000_inside","breakpoints":true}]}'
outside "$OUT/drizzle/0000_inside.sql"
outside "$OUT/drizzle/0001_outsider.sql"
mkdir -p "$OUT/drizzle/meta"
printf '%s\n' '{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1700000000000,"tag":"0001_outsider","breakpoints":true}]}' >"$OUT/drizzle/meta/_journal.json"

chown -hR postgres:postgres "$T" "$OUT"

mig_dropdb "$DB" >/dev/null 2>&1 || true
mig_newdb "$DB" >/dev/null
q "CREATE TABLE public.inside_runs (what text);
   CREATE SEQUENCE public.outside_reads;" >/dev/null

# loop_* functions: ITER calls, each in its own subtransaction; a call
# either works or is refused with one of the expected errors.  Any other
# error, or anything OUTSIDE in a message, is returned for the verdict.
q "$(cat <<'SQL'
CREATE FUNCTION public.expected_refusal(msg text) RETURNS boolean LANGUAGE sql AS $$
    SELECT msg !~ 'OUTSIDE|outsider|only_outside'
       AND (msg LIKE '%was replaced while it was being read%'
            OR msg LIKE '%is not in an allowed directory%'
            OR msg LIKE '%links outside the allowed directories%')
$$;
-- what: apply, status, run; arg: the directory or file
CREATE FUNCTION public.swap_loop(what text, arg text, n int, tag text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    ok int := 0; refused int := 0; bad text := ''; msg text; i int;
    rows_seen int;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            IF what = 'apply' THEN
                CALL migrate.apply(arg, track => tag || i);
            ELSIF what = 'run' THEN
                CALL migrate.run(arg);
            ELSE
                -- status: every row must be one of the files inside
                SELECT count(*) INTO rows_seen FROM migrate.status(arg, track => tag) s
                 WHERE (s.script, s.checksum) NOT IN (SELECT script, checksum FROM public.inside_status);
                IF rows_seen > 0 THEN
                    bad := bad || format('status saw %s file(s) that are not the inside ones; ', rows_seen);
                END IF;
            END IF;
            ok := ok + 1;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            IF public.expected_refusal(msg) THEN
                refused := refused + 1;
            ELSIF length(bad) < 2000 THEN
                bad := bad || msg || '; ';
            END IF;
        END;
    END LOOP;
    RETURN format('%s ok, %s refused|%s', ok, refused, bad);
END $$;
SQL
)" >/dev/null

# the checksums status sees inside, with nothing swapped
q "CREATE TABLE public.inside_status AS SELECT script, checksum FROM migrate.status('$T/apply/sub', track => 'st')"
[[ $(q "SELECT count(*) FROM public.inside_status") == 2 ]] || fail "status does not see the two files inside"

# verdict LABEL RESULT READS: no unexpected error, nothing outside read
# (READS: how often files outside ran meanwhile); every case runs, and
# every failure is reported, before the test fails
FAILED=
verdict() {
    local label=$1 result=$2 reads=$3 counts bad
    counts=${result%%|*}
    bad=${result#*|}
    echo "$label: $counts" >&2
    if [[ -n $bad ]]; then
        echo "FAIL: $label: ${bad:0:600}"
        FAILED=1
    fi
    if [[ $reads != 0 ]]; then
        echo "FAIL: $label: files outside the allowed tree ran $reads time(s)"
        FAILED=1
    fi
}

outside_reads() { q "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.outside_reads"; }

run_case() {  # LABEL DIR-OF-PAIR WHAT ARG
    local result before
    before=$(outside_reads)
    start_swap "$2"
    result=$(q "SELECT public.swap_loop('$3', '$4', $ITER, '$1')") || { stop_swap; fail "$1: the loop failed"; }
    stop_swap
    verdict "$1" "$result" $(($(outside_reads) - before))
}

run_case apply "$T/apply" apply "$T/apply/sub"
run_case status "$T/apply" status "$T/apply/sub"
run_case run "$T/run" run "$T/run/sub/seed.sql"
run_case include "$T/include" apply "$T/include/mig"
run_case sqitch "$T/sqitch" apply "$T/sqitch/sub"
run_case drizzle "$T/drizzle" apply "$T/drizzle/sub"

# ---- the verdict ---------------------------------------------------------
got=$(q "SELECT count(*) FROM migrate.history WHERE sql LIKE '%OUTSIDE%' OR script LIKE '%outside%' OR description LIKE '%outsider%'")
[[ $got == 0 ]] || fail "migrate.history holds $got row(s) read from outside the allowed tree"
got=$(q "SELECT count(*) FROM pg_catalog.pg_class WHERE relname LIKE 'outside\_%' AND relkind = 'r'")
[[ $got == 0 ]] || fail "$got table(s) created by files outside the allowed tree"
[[ -z $FAILED ]] || fail "files outside the allowed tree were read"
got=$(q "SELECT count(*) FROM public.inside_runs WHERE what NOT IN ('apply V1', 'apply V2', 'run', 'include', 'sqitch', 'drizzle')")
[[ $got == 0 ]] || fail "unexpected rows in inside_runs"

# and with nothing swapped, every case still works
for c in apply include sqitch drizzle; do
    dir=$T/$c/sub
    [[ $c == include ]] && dir=$T/include/mig
    q "CALL migrate.apply('$dir', track => 'calm_$c')" >/dev/null 2>&1 || fail "$c: apply without a swap failed"
done
q "CALL migrate.run('$T/run/sub/seed.sql')" >/dev/null 2>&1 || fail "run without a swap failed"
got=$(q "SELECT string_agg(what, ',' ORDER BY what) FROM (SELECT DISTINCT what FROM public.inside_runs) s")
[[ $got == "apply V1,apply V2,drizzle,include,run,sqitch" ]] || fail "the files inside did not all run: $got"

mig_dropdb "$DB" >/dev/null
echo ok
