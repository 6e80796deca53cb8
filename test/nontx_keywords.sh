#!/usr/bin/env bash
# Which files must run outside a transaction, however their statements are
# written: each statement that only runs at top level is found with its
# keywords in any case, split over lines or around comments, and named in
# the refusal of an atomic call; statements that merely contain those words
# in names, strings or comments run in the caller's transaction.  (nontx.c
# parses a CREATE, DROP or ALTER statement only when one of those keywords
# is in its text; this is what keeps that shortcut honest.)
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

root=$MIG_WORK/allowed2/nontx_keywords
out=$MIG_WORK/nontx_keywords.out
db=nontx_keywords
mig_newdb "$db"

fail() {
    echo "FAIL: $*" >&2
    [[ -s $out ]] && sed 's/^/    > /' "$out" >&2
    exit 1
}

# case NAME SQL: a directory holding one migration made of SQL
case_dir() {
    mkdir -p "$root/$1"
    printf '%s\n' "$2" >"$root/$1/V1__$1.sql"
    mig_own "$root"
}

# refused NAME WHAT LINE SQL: in a transaction block, the migration is
# refused for WHAT at LINE, and nothing ran
refused() {
    local name=$1 what=$2 line=$3
    case_dir "$name" "$4"
    if mig_psql -d "$db" >"$out" 2>&1 <<SQL; then
BEGIN;
CALL migrate.apply('$root/$name', track => '$name');
COMMIT;
SQL
        fail "$name: an atomic call must refuse it"
    fi
    grep -qF "cannot run inside a transaction block" "$out" || fail "$name: not refused as top-level only"
    grep -qF "statement by statement: $what at line $line." "$out" ||
        fail "$name: expected \"$what at line $line\""
}

# accepted NAME SQL: in a transaction block, the migration applies
accepted() {
    local name=$1
    case_dir "$name" "$2"
    mig_psql -d "$db" >"$out" 2>&1 <<SQL || fail "$name: must run in the caller's transaction"
BEGIN;
CALL migrate.apply('$root/$name', track => '$name');
COMMIT;
SQL
}

mig_psql -d "$db" -c 'CREATE TABLE kw_t (a int)' \
    -c 'CREATE TABLE kw_p (a int) PARTITION BY RANGE (a)' \
    -c 'CREATE TABLE kw_c PARTITION OF kw_p FOR VALUES FROM (0) TO (10)' >/dev/null

refused cic "CREATE INDEX CONCURRENTLY" 2 "SELECT 1;
create /* unique? */ UNIQUE index
  CoNcUrReNtLy kw_idx ON kw_t (a);"
refused dic "DROP INDEX CONCURRENTLY" 1 "DROP INDEX -- comment
    concurrently IF EXISTS kw_idx;"
refused createdb "CREATE DATABASE" 1 "Create Database kw_db;"
refused dropdb "DROP DATABASE" 1 "drop DATABASE if exists kw_db;"
refused system "ALTER SYSTEM" 1 "ALTER SYSTEM SET work_mem = '8MB';"
refused tablespace "CREATE TABLESPACE" 1 "create tablespace kw_ts location '/nonexistent';"
refused droptablespace "DROP TABLESPACE" 1 "DROP TABLESPACE IF EXISTS kw_ts;"
refused dbtablespace "ALTER DATABASE SET TABLESPACE" 1 "ALTER DATABASE postgres SET TABLESPACE pg_default;"
refused detach "ALTER TABLE ... DETACH PARTITION CONCURRENTLY" 1 "alter table kw_p
  detach partition kw_c ConCurrently;"
refused subscription "CREATE SUBSCRIPTION" 1 "CREATE SUBSCRIPTION kw_sub CONNECTION 'dbname=none' PUBLICATION kw_pub;"
refused dropsubscription "DROP SUBSCRIPTION" 1 "drop subscription if exists kw_sub;"

accepted words "CREATE TABLE database_system (\"concurrently\" int, tablespace text DEFAULT 'subscription');
-- CREATE INDEX CONCURRENTLY in a comment
CREATE INDEX database_system_idx ON database_system (\"concurrently\");
ALTER TABLE database_system ADD COLUMN note text DEFAULT 'ALTER SYSTEM';
DROP INDEX database_system_idx;"
accepted alter_tablespace "ALTER TABLE kw_t SET TABLESPACE pg_default;"

[[ $(mig_psql -d "$db" -At -c "SELECT count(*) FROM migrate.history") == 2 ]] ||
    fail "only the two accepted migrations are recorded"
echo "ok"
