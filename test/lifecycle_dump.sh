#!/usr/bin/env bash
# apply -> undo everything -> the schema-only dump equals the empty one;
# undo down to a target equals applying up to that target; applying again
# gives the full schema back.  The Flyway shop directory
# (test/fixtures/lifecycle_shop): schema, tables, identity, enum, foreign
# key, indexes, a SQL function, a view, a trigger, a comment, data.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

db=lifecycle_dump
dir=$MIG_FIXTURES/lifecycle_shop
out=$(mktemp -d "$MIG_WORK/lifecycle_dump.XXXXXX")
fail() { echo "FAIL: $*" >&2; exit 1; }

mig_psql -d postgres -v db="$db" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
CREATE DATABASE :"db";
SQL
mig_psql -d "$db" -c 'CREATE EXTENSION migrate'

sql() { mig_psql -d "$db" -v dir="$dir" -c "SET client_min_messages = warning" -f - ; }
# \restrict lines carry a random key (pg_dump since 15.14): not schema
dump() { pg_dump --schema-only --no-owner -d "$db" | grep -v '^\\\(un\)\?restrict ' >"$out/$1.sql"; }
same() {
    if ! diff -u "$out/$1.sql" "$out/$2.sql"; then
        fail "schema after $2 differs from $1 (diff above)"
    fi
    echo "ok: $2 = $1"
}

dump empty
echo "CALL migrate.apply(:'dir', target => '2');" | sql
dump at2
echo "CALL migrate.apply(:'dir');" | sql
dump full
if diff -q "$out/empty.sql" "$out/full.sql" >/dev/null || ! grep -q 'CREATE VIEW shop.customer_totals' "$out/full.sql"; then
    fail "the shop migrations did not change the schema"
fi

echo "CALL migrate.undo(:'dir', target => '2');" | sql
dump undone_to_2
same at2 undone_to_2

echo "CALL migrate.undo(:'dir', target => '0');" | sql
dump undone_all
same empty undone_all

n=$(mig_psql -d "$db" -At -v dir="$dir" -c "SELECT count(*) FROM migrate.status('$dir') WHERE state = 'undone'")
[[ $n == 5 ]] || fail "expected 5 undone migrations, status says $n"

echo "CALL migrate.apply(:'dir');" | sql
dump reapplied
same full reapplied

mig_psql -d postgres -v db="$db" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE :"db" WITH (FORCE);
SQL
echo "lifecycle_dump: all ok"
