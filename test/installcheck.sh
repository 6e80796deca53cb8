#!/usr/bin/env bash
# `make installcheck` works the standard PGXS way against a cluster that has
# nothing of ours in its configuration (no migrate.allowed_dirs, none of the
# harness's settings), started by hand the way a DBA starts one; and
# `make tempcheck` runs the same tests on a server pg_regress starts itself.
# Both from a copy of the source tree that the server's OS user can read.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"
mig_ensure_cluster

fail() { echo "FAIL: $*"; exit 1; }

pgc=$(mig_pg_config)
ic=$MIG_WORK/installcheck
src=$ic/src
mkdir -p "$src" "$ic/sock"
# The tree without what a build or an earlier run left.
(cd "$MIG_ROOT" && tar --exclude=./results --exclude=./tmp_check --exclude=./log \
    --exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude=./.git \
    --exclude=regression.diffs --exclude=regression.out -cf - .) | tar -xf - -C "$src"
chown -R postgres:postgres "$ic"
nregress=$(find "$src/sql" -name '*.sql' | wc -l)
((nregress > 0)) || fail "no pg_regress tests in sql/"

as_pg() { (cd "$ic" && runuser -u postgres -- "$@"); }

# ---- a cluster started by hand: initdb, pg_ctl start, nothing else ----------
port=$((MIG_PORT + 100))
while ! _mig_port_free "$port"; do port=$((port + 1)); done
as_pg "$MIG_PGBIN/initdb" -D "$ic/data" -U postgres --auth=trust >"$ic/initdb.log" 2>&1 ||
    { cat "$ic/initdb.log"; fail "initdb"; }
printf "listen_addresses = ''\nunix_socket_directories = '%s'\nport = %d\n" "$ic/sock" "$port" \
    >>"$ic/data/postgresql.conf"
as_pg "$MIG_PGBIN/pg_ctl" -D "$ic/data" -l "$ic/server.log" -w -t 120 start >/dev/null ||
    { tail -n 30 "$ic/server.log"; fail "the hand-started cluster did not start"; }
stop_hand() { as_pg "$MIG_PGBIN/pg_ctl" -D "$ic/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true; }
trap 'stop_hand; mig_stop_cluster' EXIT

# What a DBA types: the cluster named by PGHOST/PGPORT, a superuser.
rc=0
env PGHOST="$ic/sock" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres \
    make -C "$src" -s installcheck PG_CONFIG="$pgc" >"$ic/installcheck.out" 2>&1 || rc=$?
if ((rc != 0)); then
    cat "$ic/installcheck.out"
    [[ -f $src/regression.diffs ]] && head -n 80 "$src/regression.diffs"
    fail "make installcheck against the hand-started cluster exited $rc"
fi
# pg_regress 15 says "All N tests passed.", 16 and later "# All N tests passed."
grep -Eq "All $nregress tests passed" "$ic/installcheck.out" ||
    { cat "$ic/installcheck.out"; fail "expected all $nregress pg_regress tests to pass"; }
stop_hand
echo "ok: make installcheck, $nregress tests, against a cluster started by hand"

# ---- make tempcheck: pg_regress --temp-instance --temp-config --------------
rm -rf "$src/results" "$src/regression.diffs" "$src/regression.out"
rc=0
as_pg env -u PGHOST -u PGPORT -u PGDATABASE make -C "$src" -s tempcheck PG_CONFIG="$pgc" \
    >"$ic/tempcheck.out" 2>&1 || rc=$?
if ((rc != 0)); then
    cat "$ic/tempcheck.out"
    [[ -f $src/regression.diffs ]] && head -n 80 "$src/regression.diffs"
    fail "make tempcheck exited $rc"
fi
grep -Eq "All $nregress tests passed" "$ic/tempcheck.out" ||
    { cat "$ic/tempcheck.out"; fail "expected all $nregress pg_regress tests to pass"; }
echo "ok: make tempcheck, $nregress tests, on a server pg_regress started"
