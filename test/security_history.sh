#!/usr/bin/env bash
# Security (issue 11, item 4): only the extension writes migrate.history.
# No role holds a write privilege on it, yet the migration role of the
# README (USAGE, EXECUTE, SELECT) runs every lifecycle call: apply, undo,
# repair, baseline, validate, adopt.  Rows name the real caller.  A
# trigger on the history (which would run with the owner's rights) stops
# every write.  An upgraded 1.0 database ends with the privileges of a
# fresh 1.1 one.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=sec_hist
db10=sec_hist10
role=sec_hist_migrator
dir=$MIG_FIXTURES/security_history
out=$MIG_WORK/security_history
mkdir -p "$out"

fail() { echo "FAIL: $*" >&2; exit 1; }
as_dba() { mig_psql -d "$db" -At "$@"; }
as_role() { mig_psql -d "$db" -U "$role" -At "$@"; }
# refused FILE TEXT CMD...: CMD fails and its output has TEXT
refused() { mig_refused "$out/$1" "${@:2}"; }

cleanup() {
    mig_dropdb "$db" >/dev/null 2>&1 || true
    mig_dropdb "$db10" >/dev/null 2>&1 || true
    mig_dropdb "${db10}_fresh" >/dev/null 2>&1 || true
    mig_psql -d postgres -q -c "DROP ROLE IF EXISTS $role" 2>/dev/null || true
}
trap cleanup EXIT
cleanup

rm -rf "$dir"
mkdir -p "$dir"
printf 'CREATE TABLE app.items (id int);\n' >"$dir/V1__items.sql"
printf 'INSERT INTO app.items VALUES (1), (2);\n' >"$dir/V2__seed.sql"
printf 'DELETE FROM app.items;\n' >"$dir/U2__seed.sql"
printf 'SELECT 1 / 0;\n' >"$dir/V3__fails.sql"
mig_own "$dir"

mig_newdb "$db"
mig_psql -d postgres -q -c "CREATE ROLE $role LOGIN"
# the grants of README's "Least privilege" section, and nothing more
as_dba -q -v role="$role" <<'SQL'
GRANT USAGE ON SCHEMA migrate TO :"role";
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO :"role";
GRANT SELECT ON migrate.history, migrate.staged TO :"role";
CREATE SCHEMA app AUTHORIZATION :"role";
-- the set-up is DDL by hand: accepted, so that validate speaks of the history only
SELECT migrate.acknowledge_drift('test set-up');
SQL

# ---- no direct write -------------------------------------------------------
refused insert.out 'permission denied for table history' \
    as_role -c "INSERT INTO migrate.history (track, type, success, installed_by) VALUES ('main', 'versioned', false, 'postgres')"
refused update.out 'permission denied for table history' as_role -c "UPDATE migrate.history SET dirty = true"
refused delete.out 'permission denied for table history' as_role -c "DELETE FROM migrate.history"
refused truncate.out 'permission denied for table history' as_role -c "TRUNCATE migrate.history"
refused trigger.out 'permission denied for table history' \
    as_role -c "CREATE TRIGGER t BEFORE INSERT ON migrate.history EXECUTE FUNCTION suppress_redundant_updates_trigger()"

# ---- every lifecycle call, with those grants -------------------------------
refused apply.out 'division by zero' as_role -c "CALL migrate.apply('$dir')"
[[ $(as_role -c "SELECT count(*) FROM app.items") == 2 ]] || fail "V1 and V2 were not applied"
[[ $(as_dba -c "SELECT string_agg(DISTINCT installed_by, ',') FROM migrate.history") == "$role" ]] ||
    fail "installed_by is not the calling role: $(as_dba -c "SELECT string_agg(DISTINCT installed_by, ',') FROM migrate.history")"
[[ $(as_dba -c "SELECT count(*) FROM migrate.history WHERE NOT success AND version = '3'") == 1 ]] ||
    fail "the failure of V3 was not recorded"
refused validate.out 'failed at line 1: division by zero' as_role -c "SELECT migrate.validate('$dir')"
as_role -c "SELECT * FROM migrate.repair('$dir')" >"$out/repair.out" 2>&1 ||
    { cat "$out/repair.out" >&2; fail "the role cannot repair"; }
grep -q 'removed the failed run of V3__fails.sql' "$out/repair.out" || { cat "$out/repair.out" >&2; fail "repair removed nothing"; }
rm "$dir/V3__fails.sql"
as_role -c "SELECT migrate.validate('$dir')" >/dev/null 2>&1 || fail "validate fails after repair"
as_role -c "CALL migrate.undo('$dir')" >/dev/null 2>&1 || fail "the role cannot undo"
[[ $(as_role -c "SELECT count(*) FROM app.items") == 0 ]] || fail "the undo script did not run"
as_role -c "SELECT migrate.baseline('7', track => 'other')" >/dev/null 2>&1 || fail "the role cannot baseline"
as_role -q -c "CREATE TABLE app.schema_migrations (version varchar(128) PRIMARY KEY)" \
    -c "INSERT INTO app.schema_migrations VALUES ('20240131120000')"
[[ $(as_role -c "SELECT migrate.adopt('dbmate', track => 'adopted', schema => 'app')" 2>/dev/null) == 1 ]] ||
    fail "the role cannot adopt a table it owns"
[[ $(as_dba -c "SELECT string_agg(DISTINCT installed_by, ',') FROM migrate.history") == "$role" ]] ||
    fail "a row does not name the calling role: $(as_dba -c "SELECT string_agg(DISTINCT installed_by || '/' || type, ',') FROM migrate.history")"

# ---- a trigger on the history would run with the owner's rights ------------
# (a 1.0 DBA could have granted TRIGGER; here the DBA adds one directly)
as_dba -q -v role="$role" <<'SQL'
CREATE FUNCTION app.escalate() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', session_user); RETURN NEW; END $$;
ALTER FUNCTION app.escalate() OWNER TO :"role";
CREATE TRIGGER escalate BEFORE INSERT ON migrate.history FOR EACH ROW EXECUTE FUNCTION app.escalate();
SQL
refused trigger_apply.out 'table migrate.history has a trigger "escalate"' \
    as_role -c "SELECT migrate.baseline('8', track => 'other')"
[[ $(as_dba -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$role'") == f ]] ||
    fail "the trigger made the role a superuser"
as_dba -q -c "DROP TRIGGER escalate ON migrate.history"

# ---- an upgraded 1.0 database is as closed as a fresh 1.1 one --------------
mig_psql -d postgres -q -c "CREATE DATABASE $db10" -c "CREATE DATABASE ${db10}_fresh"
mig_psql -d "$db10" -q -c "CREATE EXTENSION migrate VERSION '1.0'"
# 1.0's README grants, and a TRIGGER that someone granted on top
mig_psql -d "$db10" -q -v role="$role" <<'SQL'
GRANT USAGE ON SCHEMA migrate TO :"role";
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO :"role";
GRANT SELECT, INSERT ON migrate.history TO :"role";
GRANT USAGE ON SEQUENCE migrate.history_rank_seq TO :"role";
GRANT SELECT, INSERT, UPDATE, DELETE ON migrate.staged TO :"role";
GRANT TRIGGER ON migrate.history TO PUBLIC;
SQL
# the 1.1 library on the 1.0 objects (before the update): the calls of 1.0 work
mig_psql -d "$db10" -q -c "CREATE SCHEMA app AUTHORIZATION $role"
mig_psql -d "$db10" -U "$role" -At >"$out/on10.out" 2>&1 <<SQL || { cat "$out/on10.out" >&2; fail "a 1.0 call failed on the 1.0 objects"; }
SELECT migrate.stage('b', 'V1__b.sql', E'CREATE TABLE app.b (id int);\n');
CALL migrate.apply('b', track => 'b');
SELECT migrate.unstage('b');
CALL migrate.apply('$dir', track => 'dir');
SELECT count(*) FROM migrate.repair('$dir', track => 'dir');
SELECT migrate.baseline('9', track => 'base');
CREATE TABLE app.schema_migrations (version varchar(128) PRIMARY KEY);
INSERT INTO app.schema_migrations VALUES ('20240131120000');
SELECT migrate.adopt('dbmate', track => 'adopted', history_table => 'app.schema_migrations');
SQL
[[ $(mig_psql -d "$db10" -At -c "SELECT count(*) FROM migrate.history WHERE success AND installed_by = '$role'") == 5 ]] ||
    fail "the calls on the 1.0 objects did not record what they did"
mig_psql -d "$db10" -c "ALTER EXTENSION migrate UPDATE" >"$out/update.out" 2>&1 ||
    { cat "$out/update.out" >&2; fail "the update failed"; }
grep -q "revoked INSERT on migrate.history from $role" "$out/update.out" ||
    { cat "$out/update.out" >&2; fail "the update did not say what it revoked"; }
mig_psql -d "${db10}_fresh" -q -c "CREATE EXTENSION migrate"
mig_psql -d "${db10}_fresh" -q -v role="$role" <<'SQL'
GRANT USAGE ON SCHEMA migrate TO :"role";
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO :"role";
GRANT SELECT ON migrate.history, migrate.staged TO :"role";
SQL
# the 1.1 grants on the upgraded database too: the calls 1.1 adds need
# EXECUTE like the others (README, Upgrading); adopt's carried over
mig_psql -d "$db10" -q -v role="$role" <<'SQL'
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO :"role";
GRANT SELECT ON migrate.history, migrate.staged TO :"role";
SQL
acls() {
    mig_psql -d "$1" -At <<'SQL'
SELECT c.relname || ' ' || coalesce(c.relacl::text, '')
FROM pg_class c WHERE c.relnamespace = 'migrate'::regnamespace AND c.relkind IN ('r', 'S')
UNION ALL
SELECT p.oid::regprocedure::text || ' ' || coalesce(p.proacl::text, '') || ' ' || p.prosecdef
FROM pg_proc p WHERE p.pronamespace = 'migrate'::regnamespace
UNION ALL
SELECT 'column ' || attrelid::regclass::text || '.' || attname || ' ' || format_type(atttypid, atttypmod)
FROM pg_attribute WHERE attrelid IN ('migrate.history'::regclass, 'migrate.staged'::regclass)
  AND attnum > 0 AND NOT attisdropped
ORDER BY 1
SQL
}
acls "$db10" >"$out/acl_upgraded"
acls "${db10}_fresh" >"$out/acl_fresh"
diff "$out/acl_fresh" "$out/acl_upgraded" >"$out/acl.diff" ||
    { cat "$out/acl.diff" >&2; fail "the upgraded 1.0 database differs from a fresh 1.1 one"; }
for priv in INSERT UPDATE DELETE TRUNCATE TRIGGER; do
    [[ $(mig_psql -d "$db10" -At -c "SELECT has_table_privilege('$role', 'migrate.history', '$priv') OR has_table_privilege('$role', 'migrate.staged', '$priv')") == f ]] ||
        fail "the role still has $priv after the update"
done

echo "security_history: ok"
