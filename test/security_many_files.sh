#!/usr/bin/env bash
# 100 000 files in one migration directory (issue 11): status lists and
# checksums every one of them and ends cleanly, and apply of the same
# directory with one misnamed file ends in a clean error before anything
# runs, in bounded memory.  What a backend must keep is a few hundred bytes
# per file (names, checksums, the plan); a reader or a 64 kB buffer kept per
# file would be gigabytes.  The peak is the backend's own VmHWM from
# /proc/self/status.  The files live in /dev/shm (allowed for these
# sessions only): on a disk, removing 100 000 files takes minutes.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"

fail() {
    echo "FAIL: $*"
    exit 1
}

DB=security_many_files
N=100000
BOUND_KB=$((320 * 1024))
DIR=$(mktemp -d /dev/shm/migrate-many.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
(
    cd "$DIR"
    awk -v n="$N" 'BEGIN {
        for (i = 1; i <= n; i++) {
            f = sprintf("V%d__file_%d.sql", i, i)
            printf "SELECT %d;\n", i > f
            close(f)
        }
    }'
)
mig_own "$DIR"
[[ $(find "$DIR" -type f | wc -l) == "$N" ]] || fail "the files were not all written"
mig_dropdb "$DB" >/dev/null 2>&1 || true
mig_newdb "$DB" >/dev/null

# peak SQL: run SQL in a fresh session allowed to read DIR; prints its
# result, then the backend's peak resident size in kB
peak() {
    psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
LOAD 'migrate';
SET migrate.allowed_dirs = '$DIR';
$1;
SELECT pg_catalog.substring(pg_catalog.pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)');
SQL
}

out=$(peak "SELECT count(*) || ' ' || count(DISTINCT checksum) || ' ' || count(*) FILTER (WHERE state = 'pending')
            FROM migrate.status('$DIR')") || fail "status failed: $out"
result=$(sed -n 1p <<<"$out")
kb=$(sed -n 2p <<<"$out")
[[ $result == "$N $N $N" ]] || fail "status: $result"
echo "status of $N files: peak ${kb} kB" >&2
((kb < BOUND_KB)) || fail "status peaked at $kb kB (bound $BOUND_KB kB)"

printf 'SELECT 1;\n' >"$DIR/v$((N + 1))-oops.sql"
mig_own "$DIR"
out=$(peak "CALL migrate.apply('$DIR')" 2>&1) && fail "apply of a misnamed file succeeded"
grep -q "ERROR:  migration file \"v$((N + 1))-oops.sql\" is misnamed" <<<"$out" || fail "apply: $out"
out=$(psql -X -At -d "$DB" -c "SELECT count(*) FROM migrate.history" \
          -c "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory'")
[[ $out == $'0\n0' ]] || fail "after the refused apply (history rows, advisory locks): $out"

mig_dropdb "$DB" >/dev/null
echo ok
