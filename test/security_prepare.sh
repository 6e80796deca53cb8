#!/usr/bin/env bash
# Security (issue 11, item 12): PREPARE TRANSACTION is refused in every
# path a migration runs in.  In the background worker (a file that runs
# outside a transaction) it used to leave an orphan prepared transaction
# holding its locks while the migration was recorded as applied.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=sec_prep
dir=$MIG_FIXTURES/security_prepare
out=$MIG_WORK/security_prepare
mkdir -p "$out"

fail() { echo "FAIL: $*" >&2; exit 1; }
as_dba() { mig_psql -d "$db" -At "$@"; }
refused() { mig_refused "$out/$1" "${@:2}"; }
# roll back what a failed check left, so the cluster stays clean
cleanup() {
    local gid
    for gid in $(mig_psql -d postgres -At -c "SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'sec_prep_%'" 2>/dev/null); do
        mig_psql -d "$db" -q -c "ROLLBACK PREPARED '$gid'" >/dev/null 2>&1 || true
    done
    mig_dropdb "$db" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

# prepared transactions must be possible for the attack to be real
if [[ $(mig_psql -d postgres -At -c "SHOW max_prepared_transactions") == 0 ]]; then
    mig_conf "max_prepared_transactions = 4"
    mig_restart_cluster
fi
mig_newdb "$db"

rm -rf "$dir"
mkdir -p "$dir/worker" "$dir/tx"
# runs in the worker (".autocommit." in its name), its BEGIN a real one
printf "BEGIN;\nCREATE TABLE sec_prep_w (id int);\nPREPARE TRANSACTION 'sec_prep_w';\n" \
    >"$dir/worker/V1__prepare.autocommit.sql"
# runs in the migration's transaction
printf "CREATE TABLE sec_prep_t (id int);\nPREPARE TRANSACTION 'sec_prep_t';\n" >"$dir/tx/V1__prepare.sql"
mig_own "$dir"

refused worker.out 'PREPARE TRANSACTION is not allowed in a migration' \
    as_dba -c "CALL migrate.apply('$dir/worker', track => 'worker')"
[[ $(as_dba -c "SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'sec_prep_%'") == 0 ]] ||
    fail "the worker left a prepared transaction: $(as_dba -c "SELECT gid FROM pg_prepared_xacts")"
[[ $(as_dba -c "SELECT count(*) FROM migrate.history WHERE track = 'worker' AND success") == 0 ]] ||
    fail "the migration is recorded as applied"
[[ $(as_dba -c "SELECT to_regclass('sec_prep_w') IS NULL") == t ]] || fail "the worker's table exists"

refused tx.out 'PREPARE TRANSACTION is not allowed in a migration' \
    as_dba -c "CALL migrate.apply('$dir/tx', track => 'tx')"
refused tx_block.out 'PREPARE TRANSACTION is not allowed in a migration' \
    as_dba -c "BEGIN" -c "CALL migrate.apply('$dir/tx', track => 'tx_block')" -c "COMMIT"
[[ $(as_dba -c "SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'sec_prep_%'") == 0 ]] ||
    fail "a prepared transaction was left"
[[ $(as_dba -c "SELECT count(*) FROM migrate.history WHERE success") == 0 ]] ||
    fail "a migration is recorded as applied"

echo "security_prepare: ok"
