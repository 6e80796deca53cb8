#!/usr/bin/env bash
# A pending file the server cannot read (owned by root, mode 000): apply
# fails with an error naming the file, and nothing is applied, not even
# the pending files before it, because every pending file is checked
# readable before anything runs (each is read only when it runs).  status reports the same error.  The same
# for a subdirectory the server cannot list.  Once readable, apply works.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"
# shellcheck source=test/include/fault.sh
. "$(dirname "${BASH_SOURCE[0]}")/include/fault.sh"

fault_setup fault_unreadable
fault_q "$DB" "UPDATE public.fault_ctl SET sleep_s = 0" >/dev/null

# root runs this test; the server runs as postgres
chown root:root "$DIR/V2__interrupted.sql"
chmod 000 "$DIR/V2__interrupted.sql"
runuser -u postgres -- test -r "$DIR/V2__interrupted.sql" && fail "postgres can still read the file"

out=$(psql -X -v ON_ERROR_STOP=1 -d "$DB" -c "CALL migrate.apply('$DIR')" 2>&1) && fail "apply succeeded: $out"
grep -q 'ERROR:  could not open migration file "V2__interrupted.sql": Permission denied' <<<"$out" ||
    fail "the error does not name the file: $out"
got=$(fault_q "$DB" "SELECT count(*) FROM migrate.history")
[[ $got == 0 ]] || fail "history rows after the refused run: $got"
got=$(fault_q "$DB" "SELECT pg_catalog.to_regclass('public.a') IS NULL")
[[ $got == t ]] || fail "V1 ran although V2 could not be read"
fault_check_lock_free
out=$(psql -X -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$DB" -c "SELECT * FROM migrate.status('$DIR')" 2>&1) && fail "status succeeded: $out"
grep -q 'ERROR:  42501: could not open migration file "V2__interrupted.sql": Permission denied' <<<"$out" ||
    fail "status: $out"

# a subdirectory the server cannot list
chmod 644 "$DIR/V2__interrupted.sql"
mkdir "$DIR/later"
printf 'CREATE TABLE public.d (id int);\n' >"$DIR/later/V4__later.sql"
chmod 000 "$DIR/later"
out=$(psql -X -v ON_ERROR_STOP=1 -d "$DB" -c "CALL migrate.apply('$DIR')" 2>&1) && fail "apply succeeded: $out"
grep -q "ERROR:  could not open directory \"$DIR/later\": Permission denied" <<<"$out" ||
    fail "the error does not name the directory: $out"
got=$(fault_q "$DB" "SELECT count(*) FROM migrate.history")
[[ $got == 0 ]] || fail "history rows after the refused run: $got"

# readable again: everything applies
chmod 755 "$DIR/later"
mig_own "$DIR"
out=$(psql -X -v ON_ERROR_STOP=1 -d "$DB" -c "CALL migrate.apply('$DIR')" 2>&1) || fail "apply failed: $out"
got=$(fault_q "$DB" "SELECT string_agg(version, ',' ORDER BY rank) FROM migrate.history WHERE success")
[[ $got == "1,2,3,4" ]] || fail "applied after the fix: $got"
fault_check_lock_free
mig_dropdb "$DB" >/dev/null
echo ok
