#!/usr/bin/env bash
# README "Fleets": the one dblink query gives a row per database, at 50
# databases (issue 16): migrate.summary in each, over contrib's dblink; a
# database without migrate gives no row and does not end the query; the
# row of a database behind the others shows it (pending, version, the last
# run failed and its error).
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

n=50
dir=$MIG_WORK/allowed2/fleets_summary
fail() { echo "FAIL: $*" >&2; exit 1; }
pg() { mig_psql -d postgres -At "$@"; }
dbs=()
for ((i = 1; i <= n; i++)); do
    dbs+=("$(printf 'fleetsum_%02d' "$i")")
done

created_dblink=$(pg -c "SELECT count(*) = 0 FROM pg_extension WHERE extname = 'dblink'")
cleanup() {
    local d
    [[ $created_dblink == t ]] && pg -q -c "DROP EXTENSION IF EXISTS dblink" 2>/dev/null
    for d in "${dbs[@]}" fleetsum_none; do
        mig_dropdb "$d" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT
pg -q -c "CREATE EXTENSION IF NOT EXISTS dblink"

mkdir -p "$dir"
printf 'CREATE TABLE public.items (id bigint PRIMARY KEY);\n' >"$dir/V1__items.sql"
printf 'ALTER TABLE public.items ADD COLUMN name text;\n' >"$dir/V2__name.sql"
mig_own "$dir"
for d in "${dbs[@]}"; do
    mig_newdb "$d" >/dev/null
done
mig_psql -d postgres -q -c "CREATE DATABASE fleetsum_none"

# every database applies; the last one only up to version 1, then fails
for d in "${dbs[@]}"; do
    if [[ $d == fleetsum_50 ]]; then
        mig_psql -d "$d" -q -c "SET client_min_messages = warning" \
            -c "CALL migrate.apply('$dir', target => '1')"
        mig_psql -d "$d" -q -c "SET client_min_messages = warning" -c "ALTER TABLE public.items ADD COLUMN name text"
        if mig_psql -d "$d" -q -c "SET client_min_messages = error" -c "CALL migrate.apply('$dir')" 2>/dev/null; then
            fail "the apply on $d should have failed (its column exists)"
        fi
    else
        mig_psql -d "$d" -q -c "SET client_min_messages = warning" -c "CALL migrate.apply('$dir')"
    fi
done

# README's query, with this cluster's socket and port, and the directory
rows=$(pg -F '|' -c "
SELECT d.datname, s.*
  FROM pg_database d
 CROSS JOIN LATERAL dblink(format('host=%s port=%s dbname=%s',
                                  current_setting('unix_socket_directories'),
                                  current_setting('port'), d.datname),
                           format('SELECT * FROM migrate.summary(%L)', '$dir'), false)
       AS s(version text, pending integer, failed integer, dirty boolean,
            last_applied timestamptz, last_run timestamptz, last_call text,
            last_outcome text, last_error text)
 WHERE d.datallowconn AND NOT d.datistemplate AND d.datname LIKE 'fleetsum%'
 ORDER BY s.last_run NULLS FIRST, d.datname" 2>"$MIG_WORK/notices")
[[ $(wc -l <<<"$rows") == "$n" ]] || fail "not one row per database with migrate: $rows"
grep -q 'schema "migrate" does not exist' "$MIG_WORK/notices" ||
    fail "the database without migrate did not show as a notice: $(cat "$MIG_WORK/notices")"
ok=$(grep -v '^fleetsum_50|' <<<"$rows" | cut -d'|' -f2-5,8-10 | sort | uniq -c | sed 's/^ *//')
[[ $ok == "49 2|0|0|f|apply|success|" ]] || fail "the up-to-date databases: $ok"
behind=$(grep '^fleetsum_50|' <<<"$rows" | cut -d'|' -f2-5,8-10)
[[ $behind == '1|1|1|f|apply|failed|column "name" of relation "items" already exists' ]] ||
    fail "the database behind: $behind"
echo "fleets_summary: ok"
