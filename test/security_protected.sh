#!/usr/bin/env bash
# Security (issue 11, item 9): a protected database stays protected
# whatever the client sends.  A client's startup option (PGOPTIONS=-c
# migrate.protected=off), set before the library loads, used to replace
# the superuser's ALTER DATABASE value and then be refused itself, leaving
# the default, off.  Checked: startup options and SET before the first
# call, by a non-superuser and by a superuser; ALTER ROLE by each.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=sec_prot
open_db=sec_prot_open
role=sec_prot_migrator
out=$MIG_WORK/security_protected
mkdir -p "$out"

fail() { echo "FAIL: $*" >&2; exit 1; }
as_dba() { mig_psql -d "$db" -At "$@"; }
as_role() { mig_psql -d "$db" -U "$role" -At "$@"; }
refused() { mig_refused "$out/$1" "${@:2}"; }
# psql with a startup option switching protection off, as the role / the DBA
opts_role() { PGOPTIONS='-c migrate.protected=off' mig_psql -U "$role" -At "$@"; }
opts_dba() { PGOPTIONS='-c migrate.protected=off' mig_psql -At "$@"; }
# runs CMD...; fails the test with its output if it fails
works() {
    local f=$out/$1
    shift
    "$@" >"$f" 2>&1 || { cat "$f" >&2; fail "failed: $*"; }
}

cleanup() {
    mig_dropdb "$db" >/dev/null 2>&1 || true
    mig_dropdb "$open_db" >/dev/null 2>&1 || true
    mig_psql -d postgres -q -c "DROP ROLE IF EXISTS $role" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
mig_newdb "$db"
mig_newdb "$open_db"
mig_psql -d postgres -q -c "CREATE ROLE $role LOGIN"
for d in "$db" "$open_db"; do
    mig_psql -d "$d" -q -v role="$role" <<'SQL'
GRANT USAGE ON SCHEMA migrate TO :"role";
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO :"role";
GRANT SELECT ON migrate.history, migrate.staged TO :"role";
SQL
done
as_dba -q -c "ALTER DATABASE $db SET migrate.protected = on"
call="SELECT migrate.baseline('1', track => 'b')"

# the plain case
refused plain.out "database \"$db\" is protected" as_role -c "$call"

# a startup option, before the library is loaded
refused pgoptions.out "database \"$db\" is protected" \
    opts_role -d "$db" -c "$call"
refused connstr.out "database \"$db\" is protected" \
    mig_psql -d "dbname=$db user=$role options='-c migrate.protected=off'" -At -c "$call"
works pgoptions_show.out opts_role -d "$db" \
    -c "SELECT count(*) FROM migrate.statements('')" -c "SHOW migrate.protected"
grep -qx 'on' "$out/pgoptions_show.out" || { cat "$out/pgoptions_show.out" >&2; fail "SHOW does not say on"; }
# SET before the first call, and in the session
refused set.out "database \"$db\" is protected" as_role -c "SET migrate.protected = off" -c "$call"
refused set_after.out 'permission denied to set parameter "migrate.protected"' \
    as_role -c "SELECT count(*) FROM migrate.statements('')" -c "SET migrate.protected = off"
# both at once
refused both.out "database \"$db\" is protected" \
    opts_role -d "$db" \
    -c "SET migrate.protected = off" -c "$call"

# a non-superuser cannot unprotect itself with ALTER ROLE, loaded or not
refused alter_role.out 'permission denied to set parameter "migrate.protected"' \
    as_role -c "ALTER ROLE $role SET migrate.protected = off"
refused alter_role_loaded.out 'permission denied to set parameter "migrate.protected"' \
    as_role -c "SELECT count(*) FROM migrate.statements('')" -c "ALTER ROLE $role SET migrate.protected = off"
refused alter_role_in_db.out 'permission denied to set parameter "migrate.protected"' \
    as_role -c "ALTER ROLE $role IN DATABASE $db SET migrate.protected = off"
refused still.out "database \"$db\" is protected" as_role -c "$call"

# nothing was recorded by any of the refused calls
[[ $(as_dba -c "SELECT count(*) FROM migrate.history") == 0 ]] || fail "a refused call changed the history"

# a superuser may: its startup option, its SET, its ALTER ROLE for a role
works su_pgoptions.out opts_dba -d "$db" \
    -c "SELECT migrate.baseline('1', track => 'su1')"
works su_set.out as_dba -c "SET migrate.protected = off" -c "SELECT migrate.baseline('1', track => 'su2')"
as_dba -q -c "ALTER ROLE $role IN DATABASE $db SET migrate.protected = off"
works role_unprotected.out as_role -c "SELECT migrate.baseline('1', track => 'r1')"
as_dba -q -c "ALTER ROLE $role IN DATABASE $db RESET migrate.protected"
refused reprotected.out "database \"$db\" is protected" as_role -c "$call"
# confirm still works for the role
works confirm.out as_role -c "SELECT migrate.baseline('1', track => 'r2', confirm => '$db')"

# in a database that is not protected, a refused startup option makes the
# session count as protected (the configured value it replaced is unknown)
refused open.out "database \"$open_db\" is protected" \
    opts_role -d "$open_db" -c "$call"
grep -qF 'migrate.protected is on for this session' "$out/open.out" ||
    { cat "$out/open.out" >&2; fail "no warning saying why"; }
works open_plain.out mig_psql -d "$open_db" -U "$role" -At -c "$call"

echo "security_protected: ok"
