#!/usr/bin/env bash
# Security (issue 11, item 3): a staged bundle has an owner.  Only the
# owner (a member of it, or a superuser) changes it; its scripts run only
# for a caller the owner is a member of, so a superuser (or a pg_cron job)
# never runs SQL that a less privileged role staged; no role but the
# extension writes migrate.staged, so staged_by cannot be forged.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=sec_staged
low=sec_staged_low
mate=sec_staged_mate   # a member of low: has low's rights and more
sub=sec_staged_sub     # low is a member of it: has no more than low
out=$MIG_WORK/security_staged
mkdir -p "$out"

fail() { echo "FAIL: $*" >&2; exit 1; }
as_dba() { mig_psql -d "$db" -At "$@"; }
as_low() { mig_psql -d "$db" -U "$low" -At "$@"; }
as_mate() { mig_psql -d "$db" -U "$mate" -At "$@"; }
as_sub() { mig_psql -d "$db" -U "$sub" -At "$@"; }
refused() { mig_refused "$out/$1" "${@:2}"; }

cleanup() {
    mig_dropdb "$db" >/dev/null 2>&1 || true
    mig_psql -d postgres -q -c "DROP ROLE IF EXISTS $low" -c "DROP ROLE IF EXISTS $mate" \
        -c "DROP ROLE IF EXISTS $sub" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
mig_newdb "$db"
mig_psql -d postgres -q -c "CREATE ROLE $low LOGIN" -c "CREATE ROLE $mate LOGIN" -c "CREATE ROLE $sub LOGIN"
as_dba -q -v low="$low" -v mate="$mate" -v sub="$sub" <<'SQL'
GRANT USAGE ON SCHEMA migrate TO :"low", :"mate", :"sub";
GRANT EXECUTE ON ALL ROUTINES IN SCHEMA migrate TO :"low", :"mate", :"sub";
GRANT SELECT ON migrate.history, migrate.staged TO :"low", :"mate", :"sub";
CREATE SCHEMA app AUTHORIZATION :"low";
GRANT :"low" TO :"mate";
GRANT :"sub" TO :"low";
CREATE TABLE public.marks (who text);
GRANT INSERT ON public.marks TO PUBLIC;
SQL

# ---- no direct write ------------------------------------------------------
refused insert.out 'permission denied for table staged' \
    as_low -c "INSERT INTO migrate.staged (bundle, filename, sql, checksum, staged_by) VALUES ('x', 'R__x.sql', 'SELECT 1', '', 'postgres')"
refused update.out 'permission denied for table staged' as_low -c "UPDATE migrate.staged SET staged_by = 'postgres'"
refused delete.out 'permission denied for table staged' as_low -c "DELETE FROM migrate.staged"

# ---- a bundle the low role staged does not run for a superuser -------------
as_low -q -c "SELECT migrate.stage('lowb', 'V1__mark.sql', E'INSERT INTO public.marks VALUES (current_user);\n')" >/dev/null
[[ $(as_dba -c "SELECT owner::text || ' ' || staged_by FROM migrate.staged WHERE bundle = 'lowb'") == "$low $low" ]] ||
    fail "owner and staged_by are not the staging role"
refused su_apply.out "staged bundle \"lowb\" belongs to role \"$low\"" \
    as_dba -c "CALL migrate.apply('lowb', track => 'lowb')"
grep -qF "SET ROLE $low" "$out/su_apply.out" || { cat "$out/su_apply.out" >&2; fail "no hint"; }
[[ $(as_dba -c "SELECT count(*) FROM public.marks") == 0 ]] || fail "the superuser ran the low role's SQL"
[[ $(as_dba -c "SELECT count(*) FROM migrate.history WHERE track = 'lowb'") == 0 ]] ||
    fail "the refused run left a history row"
# status and dry runs read the bundle; they run nothing
as_dba -c "SELECT count(*) FROM migrate.status('lowb', track => 'lowb')" >/dev/null 2>&1 ||
    fail "status of the bundle is refused"
# nor for a member of the owner (it has more rights than the owner)
refused mate_apply.out "staged bundle \"lowb\" belongs to role \"$low\"" \
    as_mate -c "CALL migrate.apply('lowb', track => 'lowb_mate')"
# the owner itself runs it, and so does a role the owner is a member of
as_low -c "CALL migrate.apply('lowb', track => 'lowb')" >/dev/null 2>&1 || fail "the owner cannot apply its bundle"
as_sub -c "CALL migrate.apply('lowb', track => 'lowb_sub')" >/dev/null 2>&1 ||
    fail "a role the owner is a member of cannot apply the bundle"
[[ $(as_dba -c "SELECT string_agg(who, ',' ORDER BY who) FROM public.marks") == "$low,$sub" ]] ||
    fail "the bundle did not run for its owner and the role it is a member of"
# a member of the owner may change the bundle (it could SET ROLE to the owner)
as_mate -q -c "SELECT migrate.stage('lowb', 'V3__mate.sql', E'SELECT 3;\n')" >/dev/null ||
    fail "a member of the owner cannot stage into the bundle"

# ---- a superuser's bundle: others run it, but cannot change it -------------
as_dba -q -c "SELECT migrate.stage('app', 'V1__one.sql', E'CREATE TABLE app.one (id int);\n')" >/dev/null
refused poison.out 'staged bundle "app" belongs to role "postgres"' \
    as_low -c "SELECT migrate.stage('app', 'R__poison.sql', E'ALTER ROLE $low SUPERUSER;\n')"
refused replace.out 'staged bundle "app" belongs to role "postgres"' \
    as_low -c "SELECT migrate.stage('app', 'V1__one.sql', E'ALTER ROLE $low SUPERUSER;\n')"
refused unstage.out 'staged bundle "app" belongs to role "postgres"' as_low -c "SELECT migrate.unstage('app')"
[[ $(as_dba -c "SELECT count(*) FROM migrate.staged WHERE bundle = 'app'") == 1 ]] || fail "the bundle was changed"
as_low -c "CALL migrate.apply('app', track => 'app')" >/dev/null 2>&1 ||
    fail "a role cannot apply a superuser's bundle"
# a superuser may change a role's bundle: it stays the role's
as_dba -q -c "SELECT migrate.stage('lowb', 'V2__more.sql', E'SELECT 2;\n')" >/dev/null
[[ $(as_dba -c "SELECT DISTINCT owner::text FROM migrate.staged WHERE bundle = 'lowb'") == "$low" ]] ||
    fail "a superuser's stage took the bundle over"
# the owner unstages its bundle; the name is free again
[[ $(as_low -c "SELECT migrate.unstage('lowb')") == 3 ]] || fail "the owner cannot unstage its bundle"

# ---- includes of staged files are checked too ------------------------------
as_low -q -c "SELECT migrate.stage('inc', 'V1__main.sql', E'\\\\ir lib/part.inc\n')" \
    -c "SELECT migrate.stage('inc', 'lib/part.inc', E'INSERT INTO public.marks VALUES (''inc'');\n')" >/dev/null
refused include.out 'staged bundle "inc" belongs to role' as_dba -c "CALL migrate.run('inc/V1__main.sql')"
[[ $(as_dba -c "SELECT count(*) FROM public.marks WHERE who = 'inc'") == 0 ]] || fail "the included file ran"

# ---- a bundle staged before 1.1 has no owner: it runs for nobody -----------
as_dba -q -c "UPDATE migrate.staged SET owner = NULL WHERE bundle = 'inc'"
refused noowner.out 'staged bundle "inc" has no owner' as_dba -c "CALL migrate.apply('inc', track => 'inc')"
refused noowner_low.out 'staged bundle "inc" has no owner' as_low -c "SELECT migrate.stage('inc', 'x.inc', 'SELECT 1')"
as_dba -q -c "UPDATE migrate.staged SET owner = 'postgres' WHERE bundle = 'inc'"
as_dba -c "CALL migrate.apply('inc', track => 'inc')" >/dev/null 2>&1 || fail "a bundle a superuser took over does not run"

echo "security_staged: ok"
