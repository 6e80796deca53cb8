#!/usr/bin/env bash
# A database whose extension is still 1.0, dumped with pg_dump and restored
# into a server that has this release installed:
#   - restored as it comes (pg_dump records no extension version, so the
#     restore creates the current one and loads 1.0's rows into it);
#   - restored with the version kept at 1.0 (as pg_upgrade keeps it), used
#     with the new library, then ALTER EXTENSION migrate UPDATE.
# Each time the history and staged bundles arrive unchanged, every applied
# migration stays applied, nothing is re-run, new migrations continue, and a
# DBA's grants on the extension's objects survive (also through a second
# dump taken after the update, whose GRANT and REVOKE statements record
# install-time privileges that pg_dump compares against).
# (sql/oldextversions.sql tests the update without a dump.)
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"
mig_ensure_cluster

fail() { echo "FAIL: $*"; exit 1; }
q() { psql -X -v ON_ERROR_STOP=1 -Atq "$@"; }

current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$MIG_ROOT/migrate.control")
[[ -n $current && $current != 1.0 ]] || fail "cannot read default_version from migrate.control"

dir=$MIG_FIXTURES/upgrade_dump
rm -rf "$dir"
cp -a "$MIG_FIXTURES/upgrade/app" "$dir"
mig_own "$dir"
dump=$MIG_WORK/upgrade_dump
mkdir -p "$dump"
for d in up_old up_plain up_over up_again; do mig_dropdb "$d" >/dev/null; done
q -d postgres -c "DROP ROLE IF EXISTS up_reader" -c "CREATE ROLE up_reader"

# ---- a 1.0 database with history, a failure row and a staged bundle ---------
createdb up_old
q -d up_old -c "CREATE EXTENSION migrate VERSION '1.0'"
q -d up_old -c "CALL migrate.apply('$dir')" 2>/dev/null
q -d up_old -c "SELECT migrate.stage('bundle', 'V1__b.sql', 'CREATE TABLE public.up_bundle (id int);')" >/dev/null
q -d up_old -c "SELECT migrate.stage('bundle', 'V2__b.sql', 'SELECT 1/0;')" >/dev/null
if q -d up_old -c "CALL migrate.apply('bundle', track => 'staged')" 2>/dev/null; then
    fail "V2 of the bundle should have failed"
fi
[[ $(q -d up_old -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'") == 1.0 ]] ||
    fail "the old database is not at 1.0"
# What a DBA grants a reporting role (README: status and the history)
q -d up_old -c "GRANT USAGE ON SCHEMA migrate TO up_reader" \
    -c "GRANT EXECUTE ON FUNCTION migrate.status(text, text) TO up_reader" \
    -c "GRANT SELECT ON migrate.history TO up_reader"

history="SELECT rank, track, version, description, type, script, checksum, installed_by, installed_on,
                execution_ms, success, dirty, error, sqlstate, error_line, sql
         FROM migrate.history ORDER BY rank"
staged="SELECT bundle, filename, sql, checksum, staged_at, staged_by FROM migrate.staged ORDER BY 1, 2"
states="SELECT string_agg(coalesce(version, 'R') || ':' || state, ' ' ORDER BY version)
        FROM migrate.status('$dir')"
old_history=$(q -d up_old -c "$history")
old_staged=$(q -d up_old -c "$staged")
[[ $(q -d up_old -c "SELECT count(*) FROM migrate.history") == 6 ]] || fail "expected 6 history rows"
[[ $(q -d up_old -c "$states") == "1:applied 2:applied 3:applied R:applied" ]] ||
    fail "status before the dump: $(q -d up_old -c "$states")"

pg_dump -d up_old -f "$dump/plain.sql"
pg_dump -d up_old -Fc -f "$dump/custom.dump"
grep -q 'CREATE EXTENSION IF NOT EXISTS migrate' "$dump/plain.sql" || fail "the dump does not create the extension"

# same_data DB WHEN: the history and bundles are those of the old database,
# the migrations still applied, the DBA's grants there, and a second apply
# runs nothing.
same_data() {
    local db=$1 when=$2 out
    [[ $(q -d "$db" -c "SELECT has_function_privilege('up_reader', 'migrate.status(text, text)', 'EXECUTE')
                           AND has_table_privilege('up_reader', 'migrate.history', 'SELECT')") == t ]] ||
        fail "the DBA's grants to up_reader are lost $when"
    [[ $(q -d "$db" -c "$history") == "$old_history" ]] || fail "history differs $when"
    [[ $(q -d "$db" -c "$staged") == "$old_staged" ]] || fail "staged bundles differ $when"
    [[ $(q -d "$db" -c "$states") == "1:applied 2:applied 3:applied R:applied" ]] ||
        fail "status $when: $(q -d "$db" -c "$states")"
    [[ $(q -d "$db" -c "SELECT state FROM migrate.status('bundle', track => 'staged') WHERE version = '2'") == failed ]] ||
        fail "the bundle's failed V2 is not failed $when"
    out=$(psql -X -v ON_ERROR_STOP=1 -d "$db" -c "CALL migrate.apply('$dir')" 2>&1) ||
        fail "apply $when: $out"
    grep -q 'nothing to apply' <<<"$out" || fail "apply re-ran something $when: $out"
}

# new_migration DB N: a new file applies after the restored rows.
new_migration() {
    local db=$1 n=$2 max
    max=$(q -d "$db" -c "SELECT max(rank) FROM migrate.history")
    printf 'CREATE TABLE public.up_new_%s (id int);\n' "$n" >"$dir/V${n}__new_$n.sql"
    mig_own "$dir"
    q -d "$db" -c "CALL migrate.apply('$dir')" 2>/dev/null || fail "apply of V$n in $db"
    [[ $(q -d "$db" -c "SELECT rank > $max FROM migrate.history WHERE version = '$n' AND success") == t ]] ||
        fail "V$n's rank does not continue after the restored rows in $db"
    rm -f "$dir/V${n}__new_$n.sql"
}

# ---- restored as it comes: the current version, holding 1.0's rows ---------
createdb up_plain
pg_restore -d up_plain --exit-on-error "$dump/custom.dump" 2>"$dump/custom.err" ||
    { cat "$dump/custom.err"; fail "pg_restore"; }
[[ $(q -d up_plain -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'") == "$current" ]] ||
    fail "the restore did not create version $current"
same_data up_plain "after the restore into $current"
new_migration up_plain 4
echo "ok: a 1.0 dump restores into $current with its history"

# ---- kept at 1.0 (as pg_upgrade keeps it), used, then updated --------------
# The dump with the version pinned, which is what pg_upgrade's binary dump
# does: the objects stay those of 1.0 while the library is this release's.
createdb up_over
sed "s/^CREATE EXTENSION IF NOT EXISTS migrate WITH SCHEMA migrate;/CREATE EXTENSION IF NOT EXISTS migrate WITH SCHEMA migrate VERSION '1.0';/" \
    "$dump/plain.sql" >"$dump/pinned.sql"
grep -q "VERSION '1.0'" "$dump/pinned.sql" || fail "could not pin the version in the dump"
q -d up_over -f "$dump/pinned.sql" >/dev/null 2>"$dump/pinned.err" || { cat "$dump/pinned.err"; fail "restore at 1.0"; }
[[ $(q -d up_over -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'") == 1.0 ]] ||
    fail "the pinned restore is not at 1.0"
same_data up_over "on 1.0 objects with the new library"
q -d up_over -c "ALTER EXTENSION migrate UPDATE"
[[ $(q -d up_over -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'") == "$current" ]] ||
    fail "ALTER EXTENSION migrate UPDATE did not reach $current"
same_data up_over "after ALTER EXTENSION migrate UPDATE"
# Dumped again now, and restored: the update's GRANT/REVOKE statements must
# not have turned the DBA's grants into install-time ones that pg_dump skips.
pg_dump -d up_over -Fc -f "$dump/updated.dump"
createdb up_again
pg_restore -d up_again --exit-on-error "$dump/updated.dump" 2>"$dump/updated.err" ||
    { cat "$dump/updated.err"; fail "pg_restore of the updated database"; }
same_data up_again "after a dump of the updated database"
new_migration up_over 5
echo "ok: a 1.0 dump kept at 1.0 works with the new library and updates to $current"


for d in up_old up_plain up_over up_again; do mig_dropdb "$d" >/dev/null; done
q -d postgres -c "DROP ROLE IF EXISTS up_reader"
rm -rf "$dir"
