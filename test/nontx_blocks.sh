#!/usr/bin/env bash
# BEGIN ... COMMIT blocks in the middle of a migration file (issue 15): the
# file runs outside a transaction, as psql runs it, with each block atomic
# and the statements outside blocks committed one by one.  Prisma's
# AlterEnum shape and a hand-written golang-migrate file with two blocks
# give what psql -f gives; a failure in the first block (nothing committed)
# is a plain failure that the next apply retries; a failure in a later
# block leaves the migration dirty with what committed kept, until repair;
# ROLLBACK, savepoints and a stray COMMIT behave as in psql; a block never
# closed is an error naming its BEGIN; undo files with blocks; apply in a
# transaction block refuses such a file; lint and the dry run read it.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

fx=$MIG_FIXTURES
out=$MIG_WORK/nontx_blocks.out

fail() {
    echo "FAIL: $*" >&2
    [[ -s $out ]] && sed 's/^/    > /' "$out" >&2
    exit 1
}
# expect FILE TEXT: the captured output contains TEXT
expect() {
    grep -qF -- "$2" "$1" || fail "expected \"$2\" in the output"
}
# expect_not FILE TEXT: the captured output does not contain TEXT
expect_not() {
    ! grep -qF -- "$2" "$1" || fail "did not expect \"$2\" in the output"
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
newdb_plain() {
    mig_psql -d postgres -v db="$1" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
CREATE DATABASE :"db";
SQL
}
# same_schema DB1 DB2: pg_dump of both (schema and data of public) is the same
same_schema() {
    "$MIG_PGBIN/pg_dump" -n public "$1" | grep -v '^\\\(un\)\?restrict ' >"$MIG_WORK/blocks_a.dump"
    "$MIG_PGBIN/pg_dump" -n public "$2" | grep -v '^\\\(un\)\?restrict ' >"$MIG_WORK/blocks_b.dump"
    diff -u "$MIG_WORK/blocks_a.dump" "$MIG_WORK/blocks_b.dump" >"$out" ||
        fail "$1 differs from $2 (psql -f)"
}
# psql_f DB FILE...: run the files as psql -f does
psql_f() {
    local db=$1 f
    shift
    for f in "$@"; do
        mig_psql -d "$db" -f "$f" >/dev/null 2>&1 || fail "psql -f $f"
    done
}

# ---- 1. Prisma's AlterEnum: a block, then more statements ----
db=blocks_prisma
newdb "$db"
apply "$db" "$fx/blocks_prisma" || fail "apply blocks_prisma"
expect "$out" 'NOTICE:  applied 20240101000000_init/migration.sql ('
expect "$out" 'NOTICE:  applied 20240201000000_remove_guest/migration.sql outside a transaction'
expect "$out" 'DETAIL:  It runs statement by statement: its own transaction control: "COMMIT" at line 16 is followed by more statements.'
[[ $(sql "$db" "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = '\"Role\"'::regtype") == USER,ADMIN ]] ||
    fail "the enum lost GUEST"
[[ $(sql "$db" "SELECT count(*) FROM pg_type WHERE typname IN ('Role_old', 'Role_new')") == 0 ]] ||
    fail "no temporary enum type is left"
[[ $(sql "$db" "SELECT string_agg(email || ':' || role, ',' ORDER BY id) FROM \"User\"") == ann@example.com:ADMIN,bob@example.com:USER ]] ||
    fail "the rows kept their roles"
[[ $(sql "$db" "SELECT count(*) FROM migrate.history WHERE success AND NOT dirty") == 2 ]] ||
    fail "two clean, successful history rows"
[[ $(sql "$db" "SELECT position('BEGIN;' IN sql) > 0 FROM migrate.history WHERE script LIKE '20240201%'") == t ]] ||
    fail "the history keeps the file's text, BEGIN included"
[[ $(sql "$db" "SELECT string_agg(state, ',' ORDER BY version) FROM migrate.status('$fx/blocks_prisma')") == applied,applied ]] ||
    fail "status: both applied"
# the same as psql -f of the two files
newdb_plain blocks_prisma_psql
psql_f blocks_prisma_psql "$fx"/blocks_prisma/2024*/migration.sql
same_schema blocks_prisma_psql "$db"
# a second apply is a no-op
apply "$db" "$fx/blocks_prisma" || fail "apply again"
expect_not "$out" 'applied 2024'

# ---- 2. golang-migrate, two blocks; undo with two blocks; dry run; lint ----
db=blocks_golang
newdb "$db"
mig_psql -d "$db" -c "CALL migrate.apply('$fx/blocks_golang', dry_run => true)" >"$out" 2>&1 ||
    fail "dry run"
expect "$out" 'NOTICE:  would apply 000002_ledger.up.sql'
mig_psql -d "$db" -At -c "SELECT count(*) FROM migrate.lint('$fx/blocks_golang')" >"$out" 2>&1 ||
    fail "lint reads a file with blocks"
apply "$db" "$fx/blocks_golang" || fail "apply blocks_golang"
expect "$out" 'NOTICE:  applied 000002_ledger.up.sql outside a transaction'
expect "$out" 'its own transaction control: "COMMIT" at line 5 is followed by more statements'
[[ $(sql "$db" "SELECT string_agg(owner || '=' || balance, ',' ORDER BY id) FROM accounts") == ann=100,bob=100 ]] ||
    fail "both blocks ran"
newdb_plain blocks_golang_psql
psql_f blocks_golang_psql "$fx"/blocks_golang/*.up.sql
same_schema blocks_golang_psql "$db"

mig_psql -d "$db" -c "CALL migrate.undo('$fx/blocks_golang')" >"$out" 2>&1 || fail "undo"
expect "$out" 'NOTICE:  undid 000002_ledger.down.sql outside a transaction'
[[ $(sql "$db" "SELECT to_regclass('ledger') IS NULL AND NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'balance')") == t ]] ||
    fail "the undo ran both blocks"
[[ $(sql "$db" "SELECT string_agg(state, ',' ORDER BY version) FROM migrate.status('$fx/blocks_golang')") == applied,undone ]] ||
    fail "status after the undo"
apply "$db" "$fx/blocks_golang" || fail "apply after the undo"
[[ $(sql "$db" "SELECT count(*) FROM ledger") == 2 ]] || fail "re-applied after the undo"

# a failing undo with blocks: the first block committed, the second fails: dirty
mig_psql -d "$db" -c "CREATE VIEW ledger_sum AS SELECT sum(amount) FROM ledger" >/dev/null
if mig_psql -d "$db" -c "CALL migrate.undo('$fx/blocks_golang')" >"$out" 2>&1; then
    fail "the undo must fail on the view that depends on ledger"
fi
expect "$out" 'WARNING:  migration "000002_ledger.down.sql" stopped part-way and is now dirty'
expect "$out" 'its statements up to line 3 were committed, the last one being "COMMIT;"'
expect "$out" 'CONTEXT:  migration 000002_ledger.down.sql, line 6'
[[ $(sql "$db" "SELECT to_regclass('ledger') IS NOT NULL AND NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'balance' AND NOT attisdropped)") == t ]] ||
    fail "the first block of the undo committed, the second rolled back"
[[ $(sql "$db" "SELECT type || ':' || dirty FROM migrate.history WHERE NOT success") == undo:true ]] ||
    fail "a dirty undo row"

# ---- 3. a failure in the first block, nothing committed: failed, retried ----
db=blocks_fail_first
newdb "$db"
if apply "$db" "$fx/blocks_fail_first"; then
    fail "the duplicate key must make V2 fail"
fi
expect "$out" 'ERROR:  duplicate key value violates unique constraint "item_pkey"'
expect "$out" 'CONTEXT:  migration V2__blocks.sql, line 3'
expect_not "$out" 'dirty'
[[ $(sql "$db" "SELECT string_agg(id::text, ',' ORDER BY id) FROM item") == 2 ]] ||
    fail "the first block rolled back, the second never ran"
[[ $(sql "$db" "SELECT state FROM migrate.status('$fx/blocks_fail_first') WHERE version = '2'") == failed ]] ||
    fail "V2 is failed, not dirty"
[[ $(sql "$db" "SELECT error_line || ':' || dirty FROM migrate.history WHERE NOT success") == 3:false ]] ||
    fail "the failure row names line 3 and is not dirty"
# no repair needed: fix the data, and the next apply runs V2 again
sql "$db" "DELETE FROM item WHERE id = 2" >/dev/null
apply "$db" "$fx/blocks_fail_first" || fail "the retry"
expect "$out" 'NOTICE:  applied V2__blocks.sql outside a transaction'
[[ $(sql "$db" "SELECT string_agg(id::text, ',' ORDER BY id) FROM item") == 1,2,3 ]] ||
    fail "the retry ran both blocks"

# ---- 4. a failure in a later block: dirty, what committed stays ----
db=blocks_fail_later
newdb "$db"
if apply "$db" "$fx/blocks_fail_later"; then
    fail "the duplicate key must make V2 fail"
fi
expect "$out" 'WARNING:  migration "V2__blocks.sql" stopped part-way and is now dirty'
expect "$out" 'its statements up to line 5 were committed, the last one being "COMMIT;"'
expect "$out" 'CONTEXT:  migration V2__blocks.sql, line 8'
[[ $(sql "$db" "SELECT string_agg(id::text, ',' ORDER BY id) FROM item") == 1,5 ]] ||
    fail "the first block committed, the second rolled back, the last statement never ran"
[[ $(sql "$db" "SELECT count(*) FROM audit") == 1 ]] || fail "the statement before the blocks committed"
[[ $(sql "$db" "SELECT state FROM migrate.status('$fx/blocks_fail_later') WHERE version = '2'") == dirty ]] ||
    fail "V2 is dirty"
if apply "$db" "$fx/blocks_fail_later"; then
    fail "apply must refuse the dirty migration"
fi
expect "$out" 'ERROR:  migration "V2__blocks.sql" is dirty'
[[ $(sql "$db" "SELECT count(*) FROM audit") == 1 ]] || fail "the refused run ran nothing"
# repair by hand: undo what committed, remove the conflict, clear the failed run
mig_psql -d "$db" >"$out" 2>&1 <<SQL || fail "repair"
DROP TABLE audit;
DELETE FROM item WHERE id IN (1, 5);
SELECT * FROM migrate.repair('$fx/blocks_fail_later');
SQL
apply "$db" "$fx/blocks_fail_later" || fail "apply after the repair"
[[ $(sql "$db" "SELECT string_agg(id::text, ',' ORDER BY id) FROM item") == 1,2,3,5 ]] ||
    fail "the whole file ran after the repair"
[[ $(sql "$db" "SELECT count(*) FROM audit") == 1 ]] || fail "the statement before the blocks ran again"
[[ $(sql "$db" "SELECT string_agg(state, ',' ORDER BY version) FROM migrate.status('$fx/blocks_fail_later')") == applied,applied ]] ||
    fail "both applied after the repair"

# ---- 5. ROLLBACK, savepoints, a stray COMMIT, BEGIN with options: as psql ----
db=blocks_psql
newdb "$db"
apply "$db" "$fx/blocks_psql" || fail "apply blocks_psql"
expect "$out" 'WARNING:  there is no transaction in progress'
expect "$out" 'its own transaction control: "BEGIN" at line 2 comes after other statements'
[[ $(sql "$db" "SELECT string_agg(a::text, ',' ORDER BY a) FROM p") == 2,4,5 ]] ||
    fail "ROLLBACK rolled its block back, ROLLBACK TO its savepoint, and the isolation level was the file's"
newdb_plain blocks_psql_psql
psql_f blocks_psql_psql "$fx"/blocks_psql/V1__psql.sql
same_schema blocks_psql_psql "$db"

# a block rolled back is not a commit: a failure after it is not dirty
db=blocks_rollback_fail
newdb "$db"
if apply "$db" "$fx/blocks_rollback_fail"; then
    fail "the division by zero must fail"
fi
expect "$out" 'ERROR:  division by zero'
expect_not "$out" 'dirty'
[[ $(sql "$db" "SELECT state FROM migrate.status('$fx/blocks_rollback_fail')") == failed ]] ||
    fail "failed, not dirty: nothing committed"
[[ $(sql "$db" "SELECT to_regclass('rb') IS NULL AND to_regclass('rb2') IS NULL") == t ]] ||
    fail "both blocks rolled back"

# ---- 6. a block never closed: an error naming its BEGIN ----
db=blocks_unclosed
newdb "$db"
if apply "$db" "$fx/blocks_unclosed"; then
    fail "a BEGIN without COMMIT must fail"
fi
expect "$out" 'ERROR:  migration "V1__unclosed.sql" ends inside a transaction block'
expect "$out" 'DETAIL:  The transaction block that BEGIN at line 2 opened was never ended'
expect "$out" 'WARNING:  migration "V1__unclosed.sql" stopped part-way and is now dirty'
[[ $(sql "$db" "SELECT to_regclass('u1') IS NOT NULL AND to_regclass('u2') IS NULL") == t ]] ||
    fail "u1 committed, the open block rolled back"
[[ $(sql "$db" "SELECT error_line || ':' || dirty FROM migrate.history WHERE NOT success") == 2:true ]] ||
    fail "the failure row names the BEGIN's line and is dirty"

# ---- 7. a statement that needs top level inside a block fails as in psql ----
db=blocks_cic
newdb "$db"
if apply "$db" "$fx/blocks_cic"; then
    fail "CREATE INDEX CONCURRENTLY in a block must fail"
fi
expect "$out" 'ERROR:  CREATE INDEX CONCURRENTLY cannot run inside a transaction block'
expect "$out" 'CONTEXT:  migration V2__cic_in_block.sql, line 3'
[[ $(sql "$db" "SELECT count(*) || ':' || (SELECT state FROM migrate.status('$fx/blocks_cic') WHERE version = '2') FROM c") == 0:failed ]] ||
    fail "the block rolled back; failed, not dirty"

# ---- 8. nothing runs twice: the first chunk of the file tells before anything runs ----
db=blocks_once
newdb "$db"
apply "$db" "$fx/blocks_once" || fail "apply blocks_once"
[[ $(sql "$db" "SELECT last_value FROM once_seq") == 2 ]] ||
    fail "each block ran once (nextval is not rolled back by a restart)"

# ... and a file that shows it past its first chunk (64 kB) ran its first
# block in a transaction: that is rolled back, and the file runs again from
# its start, each statement once in the end
d=$fx/blocks_late
mkdir -p "$d"
{
    echo "BEGIN;"
    echo "CREATE TABLE late (a int);"
    echo "INSERT INTO late VALUES (1);"
    echo "COMMIT;"
    for ((i = 0; i < 1200; i++)); do
        echo "-- padding line $i, padding line $i, padding line $i, padding line $i"
    done
    echo "INSERT INTO late VALUES (2);"
} >"$d/V1__late.sql"
chmod -R go+rX "$d"
apply "$db" "$d" late || fail "apply blocks_late"
expect "$out" '"COMMIT" at line 4 is followed by more statements'
[[ $(sql "$db" "SELECT string_agg(a::text, ',' ORDER BY a) FROM late") == 1,2 ]] ||
    fail "each statement of the late file counts once"

# ---- 9. apply in the caller's transaction block refuses such a file ----
db=blocks_atomic
newdb "$db"
if mig_psql -d "$db" >"$out" 2>&1 <<SQL; then
BEGIN;
CALL migrate.apply('$fx/blocks_golang');
COMMIT;
SQL
    fail "apply in a transaction block must refuse a file with blocks"
fi
expect "$out" 'ERROR:  migration "000002_ledger.up.sql" cannot run inside a transaction block'
expect "$out" 'DETAIL:  It must run outside a transaction, statement by statement: its own transaction control: "COMMIT" at line 5 is followed by more statements.'
[[ $(sql "$db" "SELECT to_regclass('accounts') IS NULL AND (SELECT count(*) FROM migrate.history) = 0") == t ]] ||
    fail "the caller's transaction rolled back whole"

echo "nontx_blocks: ok"
