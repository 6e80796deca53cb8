#!/usr/bin/env bash
# The allow-list itself (issue 11, item 5).  An allowed directory whose path
# runs through a symbolic link follows the link as it is at each call, so
# whoever owns the link can re-point it, up to "/".  "/" is refused
# outright, as written and when an entry resolves to it; and the first use
# of an allowed directory in a backend warns when an OS user other than
# root and the server's can change it or a directory above it.  The warning
# names directories, so only a superuser caller sees it; for anyone else it
# goes to the server log.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"

fail() {
    echo "FAIL: $*"
    exit 1
}

DB=security_allowed_dirs
W=$MIG_WORK/security_allowed_dirs
ROLE=security_allowed_dirs_role
rm -rf "$W"
mkdir -p "$W/release1" "$W/release2"
printf 'CREATE TABLE public.r1 ();\n' >"$W/release1/V1__r1.sql"
printf 'CREATE TABLE public.r2 ();\n' >"$W/release2/V2__r2.sql"
cp "$W/release1/V1__r1.sql" "$W/release2/"
ln -s "$W/release1" "$W/current"
mig_own "$W"
mig_dropdb "$DB" >/dev/null 2>&1 || true
mig_newdb "$DB" >/dev/null

# sql ALLOWED SQL...: psql as the superuser with migrate.allowed_dirs set to
# ALLOWED for the session; output and errors together
sql() {
    local allowed=$1
    shift
    local args=(-X -q -v ON_ERROR_STOP=1 -d "$DB" -c "LOAD 'migrate'" -c "SET migrate.allowed_dirs = '$allowed'")
    for s in "$@"; do args+=(-c "$s"); done
    psql "${args[@]}" 2>&1
}

# ---- "/" -----------------------------------------------------------------
out=$(sql "/" "SELECT 1") && fail "'/' was accepted: $out"
grep -q 'invalid value for parameter "migrate.allowed_dirs": "/"' <<<"$out" || fail "'/': $out"
grep -q '"/" would allow every file of the server' <<<"$out" || fail "'/' detail: $out"
out=$(sql "$MIG_FIXTURES,//" "SELECT 1") && fail "'//' was accepted: $out"

# an entry that is a link: followed as it is at each call
out=$(sql "$W/current" "CALL migrate.apply('$W/current')") || fail "apply through the link: $out"
ln -sfn "$W/release2" "$W/current"
out=$(sql "$W/current" "CALL migrate.apply('$W/current')") || fail "apply after re-pointing: $out"
got=$(psql -X -At -d "$DB" -c "SELECT string_agg(version, ',' ORDER BY rank) FROM migrate.history")
[[ $got == "1,2" ]] || fail "the re-pointed link was not followed at the next call: $got"

# re-pointed to "/": every call is refused, whatever it names
ln -sfn / "$W/current"
out=$(sql "$MIG_FIXTURES,$W/current" "SELECT * FROM migrate.status('$MIG_FIXTURES/layout_flyway')") &&
    fail "an entry resolving to / was accepted: $out"
grep -q 'ERROR:  migrate.allowed_dirs allows the whole file system' <<<"$out" || fail "resolves to /: $out"
grep -q "DETAIL:  The entry \"$W/current\" resolves to \"/\"." <<<"$out" || fail "resolves to / (detail): $out"

# ---- the warning ---------------------------------------------------------
mkdir -p "$W/open" "$W/foreign" "$W/groupw/app" "$W/sticky/app" "$W/tidy"
for d in open foreign groupw/app sticky/app tidy; do
    printf 'SELECT 1;\n' >"$W/$d/V1__x.sql"
done
mig_own "$W"
chmod 0777 "$W/open"                       # anyone may add a migration
chown nobody "$W/foreign"                  # another OS user owns it
chgrp users "$W/groupw" && chmod 0775 "$W/groupw"   # a group may swap app
chmod 1777 "$W/sticky"                     # sticky, app owned by postgres: fine
chmod 0755 "$W/tidy"

# warnings ALLOWED DIR: the WARNING lines two status calls in one session print
warnings() {
    sql "$1" "SELECT count(*) FROM migrate.status('$2')" "SELECT count(*) FROM migrate.status('$2')" |
        grep -A1 '^WARNING' || true
}

out=$(warnings "$W/open" "$W/open")
[[ $(grep -c '^WARNING' <<<"$out") == 1 ]] || fail "world-writable: not one warning per backend: $out"
grep -q "WARNING:  allowed directory \"$W/open\" can be changed by OS users other than root and \"postgres\"" <<<"$out" ||
    fail "world-writable: $out"
grep -q "DETAIL:  \"$W/open\" is writable by every OS user." <<<"$out" || fail "world-writable (detail): $out"

out=$(warnings "$W/foreign" "$W/foreign")
grep -q "DETAIL:  \"$W/foreign\" is owned by the OS user \"nobody\"." <<<"$out" || fail "foreign owner: $out"

out=$(warnings "$W/groupw/app" "$W/groupw/app")
grep -q "DETAIL:  \"$W/groupw\" is writable by its group." <<<"$out" || fail "group-writable parent: $out"

out=$(warnings "$W/sticky/app" "$W/sticky/app")
[[ -z $out ]] || fail "a sticky parent with a child owned by postgres warned: $out"
out=$(warnings "$W/tidy" "$W/tidy")
[[ -z $out ]] || fail "a tidy directory warned: $out"
out=$(warnings "$MIG_FIXTURES" "$MIG_FIXTURES/layout_flyway")
[[ -z $out ]] || fail "the test's fixtures warned: $out"

# a link on the way counts by the directory that holds it
ln -sfn "$W/tidy" "$W/open/link"
out=$(warnings "$W/open/link" "$W/open/link")
grep -q "DETAIL:  \"$W/open\" is writable by every OS user." <<<"$out" || fail "link in an open directory: $out"

# a non-superuser is not told; the server log is
PGOPTIONS="-c client_min_messages=warning" psql -X -q -d "$DB" -v ON_ERROR_STOP=1 <<SQL >/dev/null
DROP ROLE IF EXISTS $ROLE;
CREATE ROLE $ROLE LOGIN;
GRANT USAGE ON SCHEMA migrate TO $ROLE;
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO $ROLE;
GRANT SELECT ON migrate.history TO $ROLE;
ALTER ROLE $ROLE SET migrate.allowed_dirs = '$W/foreign';
SQL
before=$(wc -l <"$MIG_LOG")
out=$(psql -X -q -d "$DB" -U "$ROLE" -c "SELECT count(*) FROM migrate.status('$W/foreign')" 2>&1) ||
    fail "status as the role: $out"
grep -q WARNING <<<"$out" && fail "the role was shown the warning: $out"
logged() { tail -n +"$((before + 1))" "$MIG_LOG" | grep -q "allowed directory \"$W/foreign\" can be changed"; }
for _ in $(seq 1 100); do logged && break; sleep 0.1; done
logged || fail "the warning for the role's call is not in the server log"

psql -X -q -d "$DB" -c "DROP OWNED BY $ROLE" -c "DROP ROLE $ROLE" >/dev/null
mig_dropdb "$DB" >/dev/null
rm -rf "$W"
echo ok
