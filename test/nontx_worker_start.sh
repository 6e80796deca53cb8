#!/usr/bin/env bash
# A background worker that the server cannot start is a clear error, not a
# worker that "ended unexpectedly": apply waits for the worker's start-up,
# and when the postmaster could not start it (here: it cannot fork, its
# soft process limit lowered to one while a session is already
# connected), the call fails with insufficient_resources naming the
# migration, a hint that points at the server log, and a failure row that is
# not dirty (none of the statements ran); once the server can fork again,
# the same apply succeeds.  The same error when the worker's process starts
# but cannot load the library (dynamic_library_path leads nowhere).
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=nontx_worker_start
dir=$MIG_WORK/allowed2/nontx_worker_start
out=$MIG_WORK/nontx_worker_start.out
pm=$(head -n 1 "$MIG_DATA/postmaster.pid")
# prlimit as the server's OS user: lowering a limit and raising the soft one
# back up to the hard one need no capability (root may lack CAP_SYS_RESOURCE
# in a container)
limit() { runuser -u postgres -- prlimit --pid "$pm" "$@"; }
nproc_before=$(limit --nproc --noheadings --output SOFT)

fail() {
    echo "FAIL: $*" >&2
    [[ -s $out ]] && sed 's/^/    > /' "$out" >&2
    exit 1
}
# the postmaster must be able to fork again whatever happens here
restore() { limit --nproc="$nproc_before:" || true; }
trap 'restore; mig_dropdb "$db" >/dev/null 2>&1 || true' EXIT

mkdir -p "$dir"
printf 'CREATE TABLE thing (id int PRIMARY KEY, name text);\n' >"$dir/V1__thing.sql"
printf 'CREATE INDEX CONCURRENTLY thing_name_idx ON thing (name);\n' >"$dir/V2__index.sql"
mig_own "$dir"
mig_newdb "$db" >/dev/null

# One session: it connects (its backend is forked) before the limit drops,
# so only the worker's fork meets it.  Each \! runs as root.
# (\! takes its line as it is: the values are put in by the shell here.)
mark=$(mig_server_log_mark)
mig_psql -d "$db" -v dir="$dir" >"$out" 2>&1 <<SQL || true
\set ON_ERROR_STOP 0
\set VERBOSITY verbose
\! runuser -u postgres -- prlimit --pid $pm --nproc=1:
CALL migrate.apply(:'dir');
\! runuser -u postgres -- prlimit --pid $pm --nproc=$nproc_before:
SQL
restore
tail -c "+$((mark + 1))" "$MIG_LOG" >"$MIG_WORK/nontx_worker_start.log"

grep -q 'applied V1__thing.sql' "$out" || fail "V1 (in a transaction) must apply"
grep -q 'ERROR:  53000: could not start the background worker for migration "V2__index.sql"' "$out" ||
    fail "expected the start-up error of V2's worker"
grep -q 'none of the migration.s statements ran' "$out" || fail "expected the detail"
grep -q 'HINT:  The server log says why' "$out" || fail "expected the hint"
# (18 says "could not fork background worker process")
grep -qE 'could not fork (background )?worker process' "$MIG_WORK/nontx_worker_start.log" ||
    fail "the server log does not say that the fork failed"
[[ $(mig_psql -d "$db" -At -c "SELECT state FROM migrate.status('$dir') WHERE version = '2'") == failed ]] ||
    fail "V2 must be failed (not dirty: none of its statements ran)"
[[ $(mig_psql -d "$db" -At -c "SELECT sqlstate FROM migrate.history WHERE NOT success") == 53000 ]] ||
    fail "the failure row has SQLSTATE 53000"

# the server can fork again: the same apply succeeds
mig_psql -d "$db" -c "CALL migrate.apply('$dir')" >"$out" 2>&1 || fail "apply after the limit was lifted"
grep -q 'applied V2__index.sql outside a transaction' "$out" || fail "V2 applied outside a transaction"
[[ $(mig_psql -d "$db" -At -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'thing_name_idx'::regclass") == t ]] ||
    fail "the concurrent build made a valid index"
# ---- a worker whose process starts but cannot load its library ----------
# dynamic_library_path is the postmaster's (ALTER SYSTEM and a reload): the
# worker loads "migrate" by name through it, before any of its code runs.
# The calling session has loaded the library, and called apply once (PG 18
# looks up even '$libdir/migrate' through dynamic_library_path, so a session
# finds a function it has not called yet no more than the worker does).
# A cluster of its own, since the shared one must keep finding the library.
(
    unset MIG_WORK MIG_DATA MIG_LOG MIG_SOCK MIG_FIXTURES PGHOST PGPORT
    export MIG_PORT_BASE=$((MIG_PORT + 200))
    trap 'mig_stop_cluster' EXIT
    mig_start_cluster >/dev/null || fail "the second cluster did not start"
    dir2=$MIG_WORK/allowed2/lib
    mkdir -p "$dir2"
    printf 'CREATE TABLE thing (id int);\nCREATE INDEX CONCURRENTLY thing_id_idx ON thing (id);\n' >"$dir2/V1__cic.sql"
    mig_own "$dir2"
    mig_psql -d postgres -c "CREATE EXTENSION migrate" >/dev/null
    out2=$MIG_WORK/lib.out
    # (\! runs its line in a shell: it waits until new sessions, forked by
    # the postmaster, have the new value)
    mig_psql -d postgres -v dir="$dir2" >"$out2" 2>&1 <<'SQL' || true
\set ON_ERROR_STOP 0
\set VERBOSITY verbose
CALL migrate.apply(:'dir', dry_run => true);
ALTER SYSTEM SET dynamic_library_path = '/nonexistent';
SELECT pg_reload_conf();
\! for i in $(seq 600); do [ "$(psql -X -At -d postgres -c 'SHOW dynamic_library_path')" = /nonexistent ] && break; sleep 0.1; done
CALL migrate.apply(:'dir');
SQL
    grep -q 'ERROR:  53000: could not start the background worker for migration "V1__cic.sql"' "$out2" ||
        { cat "$out2" >&2; fail "expected the start-up error when the worker cannot load its library"; }
    grep -q 'could not access file "migrate"' "$MIG_LOG" ||
        fail "the server log does not say that the library was not found"
)
echo "nontx_worker_start: ok"
