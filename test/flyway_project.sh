#!/usr/bin/env bash
# A Flyway project as teams have them (issue 15): placeholders from the
# call, a per-database setting and flyway.conf; an afterMigrate callback
# granting on what the run created; a migration with BEGIN ... COMMIT blocks
# in the middle (run outside a transaction, block by block); one that
# builds an index concurrently with a placeholder in it (the worker gets the
# replaced text); a dry run; undo; and migrate.run of a seed file that
# needs the worker, with placeholders.  Each piece is tested on its own
# elsewhere: here they meet in one directory, as they do in a real project.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=flyway_project
role=fp_reader
dir=$MIG_FIXTURES/flyway_project
out=$MIG_WORK/flyway_project.out

fail() { echo "FAIL: $*" >&2; [[ -s ${out:-} ]] && sed 's/^/    > /' "$out" >&2; exit 1; }
q() { mig_psql -d "$db" -At -c "$1"; }
expect() { grep -qF -- "$1" "$out" || fail "$2 (expected: $1)"; }

rm -rf "$dir"
mkdir -p "$dir/sql" "$dir/seed"
cat >"$dir/flyway.conf" <<'EOF'
flyway.placeholders.app_schema=shop
flyway.placeholders.reader=fp_reader
EOF
cat >"$dir/sql/V1__schema.sql" <<'EOF'
CREATE SCHEMA ${app_schema};
CREATE TYPE ${app_schema}.status AS ENUM ('new', 'paid', 'gone');
CREATE TABLE ${app_schema}.orders (id int PRIMARY KEY, status ${app_schema}.status, note text);
INSERT INTO ${app_schema}.orders VALUES (1, 'new', '${greeting}'), (2, 'paid', '${greeting}');
EOF
cat >"$dir/sql/U1__schema.sql" <<'EOF'
DROP SCHEMA ${app_schema} CASCADE;
EOF
# Prisma's shape for a removed enum value, then more statements
cat >"$dir/sql/V2__drop_status_gone.sql" <<'EOF'
-- AlterEnum
BEGIN;
CREATE TYPE ${app_schema}.status_new AS ENUM ('new', 'paid');
ALTER TABLE ${app_schema}.orders ALTER COLUMN status TYPE ${app_schema}.status_new
    USING (status::text::${app_schema}.status_new);
ALTER TYPE ${app_schema}.status RENAME TO status_old;
ALTER TYPE ${app_schema}.status_new RENAME TO status;
DROP TYPE ${app_schema}.status_old;
COMMIT;

CREATE TABLE ${app_schema}.audit (at timestamptz DEFAULT now(), what text);
INSERT INTO ${app_schema}.audit (what) VALUES ('status narrowed by ${flyway:user}');
EOF
cat >"$dir/sql/U2__drop_status_gone.sql" <<'EOF'
DROP TABLE ${app_schema}.audit;
ALTER TYPE ${app_schema}.status ADD VALUE 'gone';
EOF
cat >"$dir/sql/V3__orders_note_index.sql" <<'EOF'
CREATE INDEX CONCURRENTLY orders_note_idx ON ${app_schema}.orders (note);
EOF
cat >"$dir/sql/U3__orders_note_index.sql" <<'EOF'
DROP INDEX CONCURRENTLY ${app_schema}.orders_note_idx;
EOF
cat >"$dir/sql/afterMigrate__grants.sql" <<'EOF'
GRANT USAGE ON SCHEMA ${app_schema} TO ${reader};
GRANT SELECT ON ALL TABLES IN SCHEMA ${app_schema} TO ${reader};
EOF
cat >"$dir/seed/seed.sql" <<'EOF'
INSERT INTO ${app_schema}.orders VALUES (3, 'new', 'seeded for ${who}');
CREATE INDEX CONCURRENTLY orders_status_idx ON ${app_schema}.orders (status);
EOF
mig_own "$dir"

cleanup() {
    mig_dropdb "$db" >/dev/null 2>&1 || true
    mig_psql -d postgres -q -c "DROP ROLE IF EXISTS $role" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
mig_newdb "$db"
q "CREATE ROLE $role LOGIN" >/dev/null
# the per-database value, as a DBA sets it
mig_psql -d postgres -q -c "ALTER DATABASE $db SET migrate.placeholders.greeting = 'hello from the database'"

# the dry run: every migration, V2 and V3 outside a transaction, the callback
mig_psql -d "$db" -c "CALL migrate.apply('$dir/sql', dry_run => true)" >"$out" 2>&1 || fail "the dry run failed"
expect 'would apply V1__schema.sql' "the dry run lists V1"
grep -q 'would apply V1__schema.sql outside' "$out" && fail "V1 runs in a transaction"
expect 'would apply V2__drop_status_gone.sql outside a transaction' "V2's blocks run outside a transaction"
expect 'would apply V3__orders_note_index.sql outside a transaction' "V3 runs in the worker"
expect 'would run callback afterMigrate__grants.sql' "the dry run lists the callback"
[[ $(q "SELECT count(*) FROM migrate.history") == 0 ]] || fail "the dry run recorded something"
[[ $(q "SELECT to_regnamespace('shop') IS NULL") == t ]] || fail "the dry run ran something"

# apply: the call's value is missing at first (no ${who} needed by migrations,
# so it applies); the values come from flyway.conf and the database's setting
mig_psql -d "$db" -c "CALL migrate.apply('$dir/sql')" >"$out" 2>&1 || fail "apply failed"
expect 'applied V2__drop_status_gone.sql outside a transaction' "V2 did not run block by block"
expect 'applied V3__orders_note_index.sql outside a transaction' "V3 did not run in the worker"
expect 'ran callback afterMigrate__grants.sql' "the callback did not run"
[[ $(q "SELECT string_agg(note, ',' ORDER BY id) FROM shop.orders") == "hello from the database,hello from the database" ]] ||
    fail "the database's setting did not give \${greeting}"
[[ $(q "SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'status'") == new,paid ]] ||
    fail "the block did not narrow the enum"
[[ $(q "SELECT what FROM shop.audit") == "status narrowed by postgres" ]] || fail "\${flyway:user} was not replaced"
[[ $(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'shop.orders_note_idx'::regclass") == t ]] ||
    fail "the worker did not build the index under the replaced schema"
[[ $(mig_psql -d "$db" -U "$role" -At -c "SELECT count(*) FROM shop.orders, shop.audit") == 2 ]] ||
    fail "afterMigrate's grants do not cover what the run created"
[[ $(q "SELECT string_agg(script || ':' || success, ',' ORDER BY rank) FROM migrate.history") == \
    "V1__schema.sql:true,V2__drop_status_gone.sql:true,V3__orders_note_index.sql:true" ]] ||
    fail "the history is not three applied migrations (callbacks are not migrations)"
[[ $(q "SELECT count(*) FROM migrate.status('$dir/sql') WHERE state = 'applied'") == 3 ]] ||
    fail "status does not show three applied"
[[ $(q "SELECT count(*) FROM migrate.status('$dir/sql') WHERE script LIKE 'afterMigrate%'") == 0 ]] ||
    fail "status lists the callback"

# a new value changes nothing applied: nothing pending, afterMigrate runs again
mig_psql -d "$db" -c "CALL migrate.apply('$dir/sql', placeholders => '{\"greeting\": \"other\"}')" >"$out" 2>&1 ||
    fail "a second apply with another value failed"
expect 'ran callback afterMigrate__grants.sql' "afterMigrate runs on every apply"
grep -q 'has changed' "$out" && fail "a new value made an applied file changed"

# migrate.run of a seed file that needs the worker, with the call's value
if mig_psql -d "$db" -c "CALL migrate.run('$dir/seed/seed.sql')" >"$out" 2>&1; then
    fail "a seed file with a placeholder that has no value must fail"
fi
# shellcheck disable=SC2016  # the placeholder itself, not a shell expansion
expect 'no value provided for placeholder ${who}' "the missing value is not named"
[[ $(q "SELECT count(*) FROM shop.orders WHERE id = 3") == 0 ]] || fail "the seed ran in part"
mig_psql -d "$db" -c "CALL migrate.run('$dir/seed/seed.sql', placeholders => '{\"who\": \"qa\"}')" >"$out" 2>&1 ||
    fail "migrate.run failed"
expect 'outside a transaction' "the seed did not run in the worker"
[[ $(q "SELECT note FROM shop.orders WHERE id = 3") == "seeded for qa" ]] || fail "the seed's value is wrong"
[[ $(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'shop.orders_status_idx'::regclass") == t ]] ||
    fail "the seed's concurrent index is missing"

# undo everything: U3 in the worker, U2, U1, each with the placeholders
mig_psql -d "$db" -c "CALL migrate.undo('$dir/sql', target => '0')" >"$out" 2>&1 || fail "undo failed"
[[ $(q "SELECT to_regnamespace('shop') IS NULL") == t ]] || fail "undo left the schema"
[[ $(q "SELECT count(*) FROM migrate.status('$dir/sql') WHERE state = 'undone'") == 3 ]] ||
    fail "after undo, status does not show three undone: $(q "SELECT string_agg(version || ' ' || type || ' ' || state, ', ') FROM migrate.status('$dir/sql')")"
echo "ok"
