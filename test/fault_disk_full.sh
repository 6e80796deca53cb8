#!/usr/bin/env bash
# The disk fills up in the middle of a migration: V2 writes into a
# tablespace on a 1 MB tmpfs until it is full.  The write fails with
# disk_full (53100); V2 is rolled back (its table and the space it took are
# released) and recorded as failed with that SQLSTATE; V1 stays applied,
# V3 does not run; the lock is free.  With V2 corrected, apply completes.
#
# Reading a migration file never writes, so "disk full" can only hit what
# a run writes: a migration's own data (this test), or the history row in
# the database's default tablespace, which needs the whole data directory
# full and is not simulated here.  Needs mount rights (root with
# CAP_SYS_ADMIN); without them the test says SKIP and passes.
set -euo pipefail
# shellcheck source=test/lib.sh
. "${MIG_LIB:-$(dirname "$0")/lib.sh}"
# shellcheck source=test/include/fault.sh
. "$(dirname "${BASH_SOURCE[0]}")/include/fault.sh"

mnt=$MIG_WORK/fault_disk_full_fs
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=1m,mode=0700 tmpfs "$mnt" 2>/dev/null; then
    rmdir "$mnt"
    echo "SKIP: cannot mount a tmpfs here"
    exit 0
fi
cleanup() {
    psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS fault_disk_full WITH (FORCE)' >/dev/null 2>&1 || true
    psql -X -q -d postgres -c 'DROP TABLESPACE IF EXISTS fault_full' >/dev/null 2>&1 || true
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    rmdir "$mnt" 2>/dev/null || true
}
trap cleanup EXIT
mkdir "$mnt/ts"
chown postgres:postgres "$mnt" "$mnt/ts"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP TABLESPACE IF EXISTS fault_full" -c "CREATE TABLESPACE fault_full LOCATION '$mnt/ts'" >/dev/null

fault_setup fault_disk_full
fault_q "$DB" "UPDATE public.fault_ctl SET sleep_s = 0" >/dev/null
write_v2() {
    cat >"$DIR/V2__interrupted.sql" <<SQL
CREATE TABLE public.b (id int PRIMARY KEY, note text) TABLESPACE fault_full;
INSERT INTO public.b SELECT g, 'row ' || g FROM generate_series(1, $1) g;
CREATE INDEX b_note_idx ON public.b (note) TABLESPACE fault_full;
SQL
    mig_own "$DIR"
}
# far more than 1 MB: the disk fills on the way
write_v2 100000

out=$(psql -X -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$DB" -c "CALL migrate.apply('$DIR')" 2>&1) && fail "apply succeeded: $out"
grep -q 'ERROR:  53100: could not extend file' <<<"$out" || fail "no disk_full error: $out"
grep -q 'migration V2__interrupted.sql, line 2' <<<"$out" || fail "the error does not name the file and line: $out"
fault_check_interrupted failed
got=$(fault_q "$DB" "SELECT version, sqlstate, error_line FROM migrate.history WHERE NOT success")
[[ $got == "2|53100|2" ]] || fail "failure row: $got"
# the rolled-back table gave its space back
used=$(du -sk "$mnt/ts" | cut -f1)
((used < 512)) || fail "the tablespace still holds ${used} kB after the rollback"

# V2 corrected (a few rows fit): the run completes
write_v2 10
out=$(psql -X -v ON_ERROR_STOP=1 -d "$DB" -c "CALL migrate.apply('$DIR')" 2>&1) || fail "apply after the fix failed: $out"
got=$(fault_q "$DB" "SELECT string_agg(version, ',' ORDER BY rank) FROM migrate.history WHERE success")
[[ $got == "1,2,3" ]] || fail "applied after the fix: $got"
got=$(fault_q "$DB" "SELECT count(*) FROM public.b")
[[ $got == 10 ]] || fail "rows in public.b: $got"
fault_check_lock_free
echo ok
