#!/usr/bin/env bash
# pg_dump of a migrated database, restored elsewhere, still knows every
# applied migration (the history is registered with pg_extension_config_dump).
set -euo pipefail
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"

dir=$MIG_FIXTURES/core_dump_restore
rm -rf "$dir"; mkdir -p "$dir"
printf 'CREATE TABLE public.customers (id int PRIMARY KEY, name text);\n' > "$dir/V1__customers.sql"
printf 'INSERT INTO public.customers VALUES (1, $$a;b$$);\n' > "$dir/V2__seed.sql"
printf 'SELECT 1/0;\n' > "$dir/V3__broken.sql"
mig_own "$dir"
for d in core_dump_a core_dump_b; do mig_dropdb "$d" >/dev/null 2>&1 || true; done
mig_newdb core_dump_a >/dev/null

fail() { echo "FAIL: $*"; exit 1; }

psql -X -d core_dump_a -c "CALL migrate.apply('$dir')" >/dev/null 2>&1 && fail "V3 should fail"
printf 'SELECT 3;\n' > "$dir/V3__broken.sql"; mig_own "$dir"
psql -X -v ON_ERROR_STOP=1 -d core_dump_a -c "CALL migrate.apply('$dir')" >/dev/null 2>&1

createdb core_dump_b
pg_dump -d core_dump_a | psql -X -q -v ON_ERROR_STOP=1 -d core_dump_b >/dev/null 2>&1 || fail "restore failed"

q="SELECT rank, track, version, description, type, script, checksum, installed_by, installed_on, execution_ms, success, error, sqlstate, error_line, sql FROM migrate.history ORDER BY rank"
a=$(psql -XAtq -d core_dump_a -c "$q")
b=$(psql -XAtq -d core_dump_b -c "$q")
[[ -n $a && $a == "$b" ]] || fail "history differs after restore"
[[ $(psql -XAtq -d core_dump_b -c "SELECT count(*) FROM migrate.history") == 4 ]] || fail "expected 4 history rows"

st=$(psql -XAtq -d core_dump_b -c "SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM migrate.status('$dir')")
[[ $st == "1:applied,2:applied,3:applied" ]] || fail "status after restore: $st"

out=$(psql -X -v ON_ERROR_STOP=1 -d core_dump_b -c "CALL migrate.apply('$dir')" 2>&1)
grep -q 'nothing to apply' <<<"$out" || fail "the restored database re-applied something: $out"

# the rank sequence was restored too: a new migration continues after it
printf 'SELECT 4;\n' > "$dir/V4__next.sql"; mig_own "$dir"
psql -X -q -v ON_ERROR_STOP=1 -d core_dump_b -c "CALL migrate.apply('$dir')" >/dev/null 2>&1
[[ $(psql -XAtq -d core_dump_b -c "SELECT rank FROM migrate.history WHERE version = '4'") == 5 ]] || fail "rank did not continue"

mig_dropdb core_dump_a >/dev/null; mig_dropdb core_dump_b >/dev/null
echo ok
