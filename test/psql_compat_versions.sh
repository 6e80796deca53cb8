#!/usr/bin/env bash
# What PostgreSQL 17 and 18 changed in the commands a migration runs is
# what migrate.apply does too, on every version: the outcome (the error, or
# the rows) of each file below is the one `psql -v ON_ERROR_STOP=1 -f`
# gives on the same server.
#   search_path  17 runs maintenance commands (CREATE INDEX, REFRESH
#                MATERIALIZED VIEW, VACUUM, ...) with search_path restricted
#                to pg_catalog, pg_temp (RestrictSearchPath): an index
#                expression whose function calls another unqualified fails
#                there and works on 15; in a transaction (SPI) and outside
#                one (CREATE INDEX CONCURRENTLY, in the background worker).
#   copy_on_error  17's COPY ... (ON_ERROR ignore) skips a bad row with a
#                notice (15 does not know the option: a syntax error).
# Each case also checks that the version did what its release notes say,
# so the comparison is never between two things that did nothing.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

base=$MIG_WORK/allowed2/psql_compat_versions
fail() { echo "FAIL: $*" >&2; exit 1; }

# outcome FILE: the first ERROR of a run's output (psql's "psql:file:line: "
# prefix and migrate's context lines dropped), and the notices that COPY
# writes about skipped rows; "ok" when there is no error
outcome() {
    local err
    err=$(sed -n 's/^\(psql:[^:]*:[0-9]*: \)\{0,1\}ERROR:  //;T;p;q' "$1")
    grep -o 'NOTICE:  .*skipped.*' "$1" | sort || true
    echo "${err:-ok}"
}

# compare NAME FILE_CONTENT CHECK_SQL: one migration, applied by migrate in
# one database and by psql -f in another; prints the common outcome
compare() {
    local name=$1 content=$2 check=$3 a=t_pcv_${1}_migrate b=t_pcv_${1}_psql dir
    dir=$base/$name
    mkdir -p "$dir"
    printf '%s\n' "$content" >"$dir/V1__$name.sql"
    mig_own "$base"
    mig_newdb "$a" >/dev/null
    mig_newdb "$b" >/dev/null
    mig_psql -d "$a" -v dir="$dir" >"$MIG_WORK/$name.migrate" 2>&1 <<'SQL' || true
CALL migrate.apply(:'dir');
SQL
    mig_psql -d "$b" -f "$dir/V1__$name.sql" >"$MIG_WORK/$name.psql" 2>&1 || true
    local om op
    om=$(outcome "$MIG_WORK/$name.migrate")
    op=$(outcome "$MIG_WORK/$name.psql")
    if [[ $om != "$op" ]]; then
        sed 's/^/    migrate> /' "$MIG_WORK/$name.migrate" >&2
        sed 's/^/    psql>    /' "$MIG_WORK/$name.psql" >&2
        fail "$name: migrate.apply gives '$om', psql -f gives '$op'"
    fi
    if [[ $om == ok ]]; then
        [[ $(mig_psql -d "$a" -Atc "$check") == "$(mig_psql -d "$b" -Atc "$check")" ]] ||
            fail "$name: the data differs from psql's"
    fi
    mig_dropdb "$a" >/dev/null
    mig_dropdb "$b" >/dev/null
    printf '%s\n' "$om"
}

# an index expression whose function calls another function unqualified
# shellcheck disable=SC2016  # SQL dollar quotes, not shell expansions
functions='CREATE FUNCTION public.lower_trim(t text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT lower(btrim(t)) $$;
CREATE FUNCTION public.norm(t text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT lower_trim(t) $$;
CREATE TABLE people (name text);
INSERT INTO people VALUES ($$ Ann $$), ($$BOB$$);'
check_index="SELECT string_agg(name, ',' ORDER BY name) FROM people WHERE norm(name) = 'ann'"

restricted='function lower_trim(text) does not exist'
for kind in tx nontx; do
    if [[ $kind == tx ]]; then
        create='CREATE INDEX people_norm_idx ON people (norm(name));'
    else
        create='-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY people_norm_idx ON people (norm(name));'
        # psql -f runs the marker as a comment and the build at top level
    fi
    got=$(compare "search_path_$kind" "$functions
$create" "$check_index")
    if ((MIG_PG_VERSION >= 17)); then
        [[ $got == "$restricted" ]] ||
            fail "search_path_$kind: on $MIG_PG_VERSION both must fail with '$restricted', got '$got'"
    else
        [[ $got == ok ]] || fail "search_path_$kind: on $MIG_PG_VERSION both must succeed, got '$got'"
    fi
    echo "ok: search_path_$kind: $got (as psql -f)"
done

got=$(compare copy_on_error 'CREATE TABLE nums (n int);
COPY nums FROM stdin (ON_ERROR ignore);
1
two
3
\.' "SELECT string_agg(n::text, ',' ORDER BY n) FROM nums")
if ((MIG_PG_VERSION >= 17)); then
    [[ $got == *'NOTICE:  1 row was skipped due to data type incompatibility'*ok ]] ||
        fail "copy_on_error: on $MIG_PG_VERSION both must skip one row and succeed, got '$got'"
else
    [[ $got == 'option "on_error" not recognized' ]] ||
        fail "copy_on_error: on $MIG_PG_VERSION both must refuse the option, got '$got'"
fi
echo "ok: copy_on_error: $(tr '\n' ' ' <<<"$got")(as psql -f)"
echo "psql_compat_versions: ok"
