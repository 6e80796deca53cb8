#!/usr/bin/env bash
# Permission denied (issue 10): the server reads migration files as its own
# OS user, not as the role that calls apply, which surprises people who
# prepared the files as themselves.  Every permission-denied error on a
# file or directory gets a hint naming that OS user.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"

fail() {
    echo "FAIL: $*"
    exit 1
}

DB=security_unreadable
DIR=$MIG_FIXTURES/security_unreadable
LOCKED=$MIG_FIXTURES/security_unreadable_locked
HINT='HINT:  The server runs as the OS user "postgres", which must be able to read the file and to enter (x) every directory on its path.'
rm -rf "$DIR" "$LOCKED"
mkdir -p "$DIR/sub" "$LOCKED/app"
printf 'CREATE TABLE public.one ();\n' >"$DIR/V1__one.sql"
printf 'CREATE TABLE public.two ();\n' >"$DIR/V2__two.sql"
printf 'SELECT 1;\n' >"$DIR/sub/V3__three.sql"
printf 'SELECT 1;\n' >"$LOCKED/app/V1__x.sql"
mig_own "$DIR" "$LOCKED"
mig_dropdb "$DB" >/dev/null 2>&1 || true
mig_newdb "$DB" >/dev/null

# expect CMD MESSAGE: CMD fails with MESSAGE and the hint
expect() {
    local out
    out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "$1" 2>&1) && fail "succeeded: $1"
    grep -qF "ERROR:  $2" <<<"$out" || fail "$1: $out"
    grep -qF "$HINT" <<<"$out" || fail "$1: no hint naming the OS user: $out"
}

# a file
chown root:root "$DIR/V2__two.sql"
chmod 000 "$DIR/V2__two.sql"
runuser -u postgres -- test -r "$DIR/V2__two.sql" && fail "postgres can still read the file"
expect "CALL migrate.apply('$DIR')" 'could not open migration file "V2__two.sql": Permission denied'
expect "SELECT * FROM migrate.status('$DIR')" 'could not open migration file "V2__two.sql": Permission denied'
expect "CALL migrate.run('$DIR/V2__two.sql')" "could not open migration file \"$DIR/V2__two.sql\": Permission denied"
chmod 644 "$DIR/V2__two.sql"

# a subdirectory
chown root:root "$DIR/sub"
chmod 000 "$DIR/sub"
expect "CALL migrate.apply('$DIR')" "could not open directory \"$DIR/sub\": Permission denied"
chmod 755 "$DIR/sub"

# a directory above the migration directory
chown root:root "$LOCKED"
chmod 700 "$LOCKED"
expect "CALL migrate.apply('$LOCKED/app')" "could not access migration directory \"$LOCKED/app\": Permission denied"

# and no hint where permission is not the matter
out=$(psql -X -q -d "$DB" -c "CALL migrate.apply('$DIR/nope')" 2>&1) && fail "a missing directory applied"
grep -q 'HINT' <<<"$out" && fail "a missing directory got a hint: $out"

mig_own "$DIR" "$LOCKED"
chmod 755 "$LOCKED"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CALL migrate.apply('$DIR')" >/dev/null 2>&1 || fail "apply once readable"
mig_dropdb "$DB" >/dev/null
rm -rf "$DIR" "$LOCKED"
echo ok
