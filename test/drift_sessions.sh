#!/usr/bin/env bash
# Drift across sessions (SPEC section 12): DDL by hand from a least-privilege
# migration role is recorded, its migrations' DDL (also in the background
# worker, a different backend) is not; status sums the drift up in a NOTICE;
# a broken migrate.drift turns into a WARNING while the user's DDL succeeds;
# pg_dump carries migrate.drift and the fingerprint, and the restore itself
# is not drift.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=drift_sessions
copy=drift_sessions_copy
role=drift_sessions_migrator
dir=$MIG_FIXTURES/drift_sessions
out=$MIG_WORK/drift_sessions
mkdir -p "$out"

fail() { echo "FAIL: $*" >&2; exit 1; }
as_dba() { mig_psql -d "$db" -At "$@"; }
as_role() { mig_psql -d "$db" -U "$role" -At "$@"; }
# expect FILE TEXT: FILE contains TEXT
expect() { mig_expect "$@"; }
open_rows() { as_dba -c "SELECT count(*) FROM migrate.drift WHERE acknowledged_at IS NULL"; }

cleanup() {
    mig_dropdb "$db" >/dev/null 2>&1 || true
    mig_dropdb "$copy" >/dev/null 2>&1 || true
    mig_psql -d postgres -q -c "DROP ROLE IF EXISTS $role" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
mig_newdb "$db"
mig_psql -d postgres -q -c "CREATE ROLE $role LOGIN"

rm -rf "$dir"
mkdir -p "$dir"
printf 'CREATE TABLE app.items (id int PRIMARY KEY, name text);\n' >"$dir/V1__items.sql"
printf 'CREATE INDEX CONCURRENTLY items_name ON app.items (name);\n' >"$dir/V2__index.sql"
mig_own "$dir"

# the grants README documents for a migration role, and its schema
as_dba -q -v role="$role" <<'SQL'
GRANT USAGE ON SCHEMA migrate TO :"role";
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO :"role";
GRANT SELECT, INSERT ON migrate.history TO :"role";
GRANT USAGE ON SEQUENCE migrate.history_rank_seq TO :"role";
CREATE SCHEMA app AUTHORIZATION :"role";
SQL
as_dba -q -c "SELECT migrate.acknowledge_drift('set-up')" >/dev/null

# ---- migrations are not drift, also in the background worker ----------
as_role -c "CALL migrate.apply('$dir')" >"$out/apply.out" 2>&1 || { cat "$out/apply.out" >&2; fail "apply failed"; }
expect "$out/apply.out" "applied V2__index.sql outside a transaction"
[[ $(as_dba -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'app.items_name'::regclass") == t ]] ||
    fail "the worker did not build the index"
[[ $(open_rows) == 0 ]] || fail "the migrations' DDL was recorded as drift: $(as_dba -c 'TABLE migrate.drift')"
[[ $(as_dba -c "SELECT reason || ' ' || recorded_by FROM migrate.schema_fingerprint") == "apply $role" ]] ||
    fail "no fingerprint was recorded after the run"

# a run that fails part-way records the schema its applied migrations left
rm -rf "$dir.fails"
mkdir -p "$dir.fails"
printf 'CREATE TABLE app.half_ok (a int);\n' >"$dir.fails/V1__ok.sql"
printf 'SELECT 1 / 0;\n' >"$dir.fails/V2__fails.sql"
mig_own "$dir.fails"
if as_role -c "CALL migrate.apply('$dir.fails', track => 'fails')" >"$out/fails.out" 2>&1; then
    fail "the failing run succeeded"
fi
[[ $(as_dba -c "SELECT 'table app.half_ok' = ANY (array(SELECT left(o, -17) FROM unnest(objects) o))
                FROM migrate.schema_fingerprint") == t ]] ||
    fail "the fingerprint after the failed run lacks V1's table"
[[ $(open_rows) == 0 ]] || fail "the failed run's DDL was recorded as drift"

# ---- the role's DDL by hand is drift, with who and where ---------------
PGAPPNAME=hotfix as_role -c "ALTER TABLE app.items ADD COLUMN tmp text" >/dev/null
PGAPPNAME=hotfix as_role -c "CREATE INDEX CONCURRENTLY items_tmp ON app.items (tmp)" >/dev/null
mig_psql -d "$db" -At -h 127.0.0.1 -c "DROP INDEX app.items_tmp" >/dev/null
[[ $(open_rows) == 3 ]] || fail "expected 3 drift rows: $(as_dba -c 'TABLE migrate.drift')"
[[ $(as_dba -c "SELECT string_agg(concat_ws('|', role_name, application_name, command_tag, object_identity), ',' ORDER BY id)
                FROM migrate.drift WHERE acknowledged_at IS NULL") == \
   "$role|hotfix|ALTER TABLE|app.items,$role|hotfix|CREATE INDEX|app.items_tmp,postgres|psql|DROP INDEX|app.items_tmp" ]] ||
    fail "the rows do not name role, application, command and object: $(as_dba -c 'TABLE migrate.drift')"
[[ $(as_dba -c "SELECT client_addr FROM migrate.drift ORDER BY id DESC LIMIT 1") == 127.0.0.1 ]] ||
    fail "the client address is not recorded"

# ---- status sums it up, validate lists it ------------------------------
as_role -c "SELECT count(*) FROM migrate.status('$dir')" >"$out/status.out" 2>&1
expect "$out/status.out" "NOTICE:  migrate: 3 schema changes made outside migrations are not acknowledged"
expect "$out/status.out" "DETAIL:  The latest: DROP INDEX index app.items_tmp by postgres at "
if as_role -c "SELECT migrate.validate('$dir')" >"$out/validate.out" 2>&1; then
    fail "validate passed despite drift"
fi
expect "$out/validate.out" "ERROR:  validation found 3 schema changes made outside migrations"
expect "$out/validate.out" "ALTER TABLE table app.items by $role at "
expect "$out/validate.out" "(hotfix): ALTER TABLE app.items ADD COLUMN tmp text."
expect "$out/validate.out" "HINT:  Write the changes as a migration"

# ---- a broken migrate.drift is a warning, the DDL succeeds -------------
as_dba -q -c "ALTER TABLE migrate.drift ADD COLUMN broken int" 2>/dev/null
as_role -c "CREATE TABLE app.despite (a int)" >"$out/broken.out" 2>&1 ||
    { cat "$out/broken.out" >&2; fail "DDL failed while migrate.drift was broken"; }
expect "$out/broken.out" "WARNING:  migrate could not record a schema change in migrate.drift: table migrate.drift does not have the columns the extension writes"
expect "$out/broken.out" "HINT:  The command itself succeeded."
[[ $(as_dba -c "SELECT to_regclass('app.despite') IS NOT NULL") == t ]] || fail "the table was not created"
as_dba -q -c "ALTER TABLE migrate.drift DROP COLUMN broken"

# ---- dump and restore --------------------------------------------------
before=$(as_dba -c "SELECT id, role_name, command_tag, object_identity, statement FROM migrate.drift ORDER BY id")
fp=$(as_dba -c "SELECT fingerprint FROM migrate.schema_fingerprint")
createdb "$copy"
pg_dump -d "$db" >"$out/dump.sql"
mig_psql -d "$copy" -f "$out/dump.sql" >"$out/restore.out" 2>&1 || { cat "$out/restore.out" >&2; fail "restore failed"; }
after=$(mig_psql -d "$copy" -At -c "SELECT id, role_name, command_tag, object_identity, statement FROM migrate.drift ORDER BY id")
[[ -n $before && $before == "$after" ]] || fail "migrate.drift differs after the restore: $after"
[[ $(mig_psql -d "$copy" -At -c "SELECT fingerprint FROM migrate.schema_fingerprint") == "$fp" ]] ||
    fail "the fingerprint was not restored"
# the restored schema is the same schema: validate reports the same drift, nothing more
mig_psql -d "$copy" -At -c "SELECT migrate.acknowledge_drift('restored copy')" >/dev/null 2>&1
as_dba -q -c "SELECT migrate.acknowledge_drift('source')" >/dev/null 2>&1
[[ $(mig_psql -d "$copy" -At -c "SELECT fingerprint FROM migrate.schema_fingerprint") == \
   $(as_dba -c "SELECT fingerprint FROM migrate.schema_fingerprint") ]] ||
    fail "the restored database's schema has another fingerprint"
# new drift in the copy continues the numbering
mig_psql -d "$copy" -q -c "CREATE TABLE public.later (a int)"
[[ $(mig_psql -d "$copy" -At -c "SELECT id > (SELECT max(id) FROM migrate.drift WHERE statement NOT LIKE 'CREATE TABLE public.later%')
                                  FROM migrate.drift WHERE statement LIKE 'CREATE TABLE public.later%'") == t ]] ||
    fail "drift ids do not continue after the restore"

echo "drift_sessions: ok"
