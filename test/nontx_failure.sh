#!/usr/bin/env bash
# Non-transactional migrations seen from psql: a failure part-way leaves the
# migration dirty and later runs refuse with a message naming the last
# statement that succeeded and the invalid index left behind, until it is
# repaired; the enum hint; notices from the worker; a cancelled caller
# leaves no worker behind; and the schema is the one psql -f gives.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

fx=$MIG_FIXTURES
out=$MIG_WORK/nontx_failure.out

fail() {
    echo "FAIL: $*" >&2
    [[ -s $out ]] && sed 's/^/    > /' "$out" >&2
    exit 1
}
# expect FILE TEXT: the captured output contains TEXT
expect() {
    grep -qF -- "$2" "$1" || fail "expected \"$2\" in the output"
}
sql() {  # DB SQL: one value
    mig_psql -d "$1" -At -c "$2"
}
apply() {  # DB DIR [TRACK]: CALL migrate.apply, output in $out, returns its status
    mig_psql -d "$1" -c "CALL migrate.apply('$2', track => '${3:-main}')" >"$out" 2>&1
}
newdb() {
    mig_psql -d postgres -v db="$1" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
CREATE DATABASE :"db";
SQL
    mig_psql -d "$1" -c 'CREATE EXTENSION migrate'
}

# ---- 1. a failure after the first of three concurrent builds: dirty ----
db=nontx_dirty
newdb "$db"
if apply "$db" "$fx/nontx_dirty"; then
    fail "the duplicate e-mail must make V2 fail"
fi
expect "$out" 'WARNING:  migration "V2__three_indexes.sql" stopped part-way and is now dirty'
expect "$out" 'ERROR:  could not create unique index "account_email_key"'
expect "$out" 'CONTEXT:  migration V2__three_indexes.sql, line 3'

[[ $(sql "$db" "SELECT state FROM migrate.status('$fx/nontx_dirty') WHERE version = '2'") == dirty ]] ||
    fail "V2 must be dirty"
[[ $(sql "$db" "SELECT indisvalid FROM pg_index WHERE indexrelid = 'account_region_idx'::regclass") == t ]] ||
    fail "the first build committed a valid index"
[[ $(sql "$db" "SELECT indisvalid FROM pg_index WHERE indexrelid = 'account_email_key'::regclass") == f ]] ||
    fail "the failed build left an invalid index, as in psql"
[[ $(sql "$db" "SELECT to_regclass('account_id_region_idx') IS NULL") == t ]] ||
    fail "the third build must not have run"
[[ $(sql "$db" "SELECT error_line FROM migrate.history WHERE NOT success") == 3 ]] ||
    fail "the failure row names line 3"

# the next apply refuses, naming the last good statement and the invalid index
if apply "$db" "$fx/nontx_dirty"; then
    fail "apply must refuse a dirty migration"
fi
expect "$out" 'ERROR:  migration "V2__three_indexes.sql" is dirty'
expect "$out" 'its statements up to line 1 were committed'
expect "$out" 'the last one being "CREATE INDEX CONCURRENTLY account_region_idx ON account (region);"'
expect "$out" 'it left the invalid index public.account_email_key'
expect "$out" 'SELECT migrate.repair(dir)'
[[ $(sql "$db" "SELECT count(*) FROM migrate.history") == 2 ]] ||
    fail "a refused run records nothing"

# repair by hand, clear the failure (what migrate.repair does), apply again
mig_psql -d "$db" <<'SQL'
DROP INDEX account_region_idx, account_email_key;
DELETE FROM account WHERE id = 301;
DELETE FROM migrate.history WHERE NOT success;
SQL
apply "$db" "$fx/nontx_dirty" || fail "apply after the repair"
expect "$out" 'applied V2__three_indexes.sql outside a transaction'
[[ $(sql "$db" "SELECT count(*) FROM pg_index WHERE indrelid = 'account'::regclass AND indisvalid") == 4 ]] ||
    fail "the primary key and the three built indexes are valid"
[[ $(sql "$db" "SELECT string_agg(state, ',' ORDER BY version) FROM migrate.status('$fx/nontx_dirty')") == applied,applied ]] ||
    fail "both migrations applied after the repair"

# ---- 2. enum value added and used in one transactional file: the hint ----
if apply "$db" "$fx/nontx_enum_same_file" enum; then
    fail "using a new enum value in the same transaction must fail"
fi
expect "$out" 'ERROR:  unsafe use of new value "happy" of enum type mood'
expect "$out" 'or let this migration run outside a transaction by adding the line "-- migrate:up transaction:false" to it'
expect "$out" 'CONTEXT:  migration V2__add_and_use.sql, line 2'
[[ $(sql "$db" "SELECT state FROM migrate.status('$fx/nontx_enum_same_file', 'enum') WHERE version = '2'") == failed ]] ||
    fail "a transactional failure is failed, not dirty"

# ---- 2b. a repeatable script that fails part-way is dirty too ----
if apply "$db" "$fx/nontx_repeatable" rep; then
    fail "the division by zero must fail"
fi
expect "$out" 'ERROR:  division by zero'
if apply "$db" "$fx/nontx_repeatable" rep; then
    fail "apply must refuse the dirty repeatable script"
fi
expect "$out" 'ERROR:  migration "R__refresh.sql" is dirty'
expect "$out" 'its statements up to line 3 were committed'
[[ $(sql "$db" "SELECT count(*) FROM refresh_log") == 1 ]] ||
    fail "the refused run did not run the script again"

# ---- 3. notices from the worker reach the caller, with its search_path ----
db=nontx_notice
newdb "$db"
mig_psql -d "$db" -c "SET search_path = public, pg_temp" \
    -c "CALL migrate.apply('$fx/nontx_cic')" >"$out" 2>&1 || fail "apply nontx_cic"
expect "$out" 'NOTICE:  nontx worker says hello, search_path is public, pg_temp'
expect "$out" 'NOTICE:  applied V2__two_concurrent_indexes.sql outside a transaction'

# ---- 4. the same files through psql -f give the same schema ----
mig_psql -d postgres <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS nontx_psql;
CREATE DATABASE nontx_psql;
SQL
for f in "$fx"/nontx_cic/V*.sql; do
    mig_psql -d nontx_psql -v ON_ERROR_STOP=1 -f "$f" >/dev/null 2>&1 || fail "psql -f $f"
done
# (recent pg_dump writes a random key on its \restrict lines)
"$MIG_PGBIN/pg_dump" --schema-only -n public "$db" | grep -v '^\\\(un\)\?restrict ' >"$MIG_WORK/nontx_migrate.dump"
"$MIG_PGBIN/pg_dump" --schema-only -n public nontx_psql | grep -v '^\\\(un\)\?restrict ' >"$MIG_WORK/nontx_psql.dump"
diff -u "$MIG_WORK/nontx_psql.dump" "$MIG_WORK/nontx_migrate.dump" >"$out" ||
    fail "schema differs from psql -f"
grep -q 'item_sku_price_idx' "$MIG_WORK/nontx_migrate.dump" || fail "the dump has the indexes"

# ---- 5. cancelling a caller that waits on its worker leaves no worker ----
mig_psql -d "$db" -c "SET application_name = 'nontx_cancel'" \
    -c "CALL migrate.apply('$fx/nontx_sleep', track => 'sleep')" >"$out" 2>&1 &
caller=$!
for ((i = 0; i < 600; i++)); do
    [[ $(sql "$db" "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migrate worker' AND query LIKE 'SELECT pg_sleep%'") == 1 ]] && break
    sleep 0.1
done
((i < 600)) || fail "the worker did not start"
[[ $(sql "$db" "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'nontx_cancel'") == t ]] ||
    fail "cancel the caller"
if wait "$caller"; then
    fail "the cancelled call must fail"
fi
expect "$out" 'ERROR:  canceling statement due to user request'
expect "$out" 'CONTEXT:  migration V1__sleep.sql, line 2'
# the caller returns only once its worker has exited
[[ $(sql "$db" "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migrate worker'") == 0 ]] ||
    fail "a worker outlived its cancelled caller"
[[ $(sql "$db" "SELECT success::text || dirty::text FROM migrate.history WHERE track = 'sleep'") == falsefalse ]] ||
    fail "the cancelled run is recorded as failed, not dirty (nothing was committed)"

echo "nontx_failure: ok"
