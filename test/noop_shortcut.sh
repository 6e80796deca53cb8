#!/usr/bin/env bash
# The no-op's shortcut (src/dirstate.c, issue 12): an apply that finds its
# directory and the history as the last successful apply left them stops
# after listing the directory, with the same NOTICE and runs row as the full
# path, and anything that could change the answer sends it the full way:
# a new file, a history changed by a call that recorded no run
# (runs_keep = 0 while undoing), a failed run, verify_checksums = 'always'
# (which records what it found, for the next apply), and a callback script,
# which must run on every apply.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

fail() { echo "FAIL: $*" >&2; exit 1; }
q() { mig_psql -d "$db" -At -c "$1"; }
SHORT='are as the last apply left them'
# apply_out [SETTINGS]: what apply prints at client_min_messages = debug1
apply_out() {
    mig_psql -d "$db" -At -c "SET client_min_messages = debug1; ${1:-}" \
        -c "CALL migrate.apply('$dir')" 2>&1 | grep -E 'NOTICE|DEBUG:  migrate|ERROR' || true
}
last_state() { q "SELECT coalesce(dir_state, 'none') FROM migrate.runs ORDER BY id DESC LIMIT 1"; }

dir=$MIG_FIXTURES/noop_shortcut
rm -rf "$dir"
mkdir -p "$dir"
for i in 1 2 3; do printf 'CREATE TABLE public.ns_%d (id int);\n' "$i" >"$dir/V${i}__t$i.sql"; done
mig_own "$dir"
# identities are recorded only once settled (over a second old)
sleep 1.2

db=noop_shortcut
mig_newdb "$db"
out=$(apply_out)
[[ $out == *'applied 3 migration(s) on track "main", now at version 3'* && $out != *"$SHORT"* ]] ||
    fail "the first apply: $out"
first=$(last_state)
[[ $first =~ ^[0-9a-f]{64}$ ]] || fail "the first apply recorded no directory state: $first"

out=$(apply_out)
[[ $out == *"$SHORT"* ]] || fail "the no-op did not stop at its listing: $out"
[[ $out == *'NOTICE:  migrate: nothing to apply on track "main", now at version 3'* ]] ||
    fail "the shortcut's NOTICE differs from the full path's: $out"
[[ $(q "SELECT count(*) || ' ' || (array_agg(version ORDER BY id DESC))[1] || ' ' || (array_agg(applied ORDER BY id DESC))[1] FROM migrate.runs") == "2 3 0" ]] ||
    fail "the shortcut's runs row"
[[ $(last_state) == "$first" ]] || fail "the shortcut recorded another state"

# a new file: the full path, which applies it
printf 'CREATE TABLE public.ns_4 (id int);\n' >"$dir/V4__t4.sql"
printf 'DROP TABLE public.ns_4;\n' >"$dir/U4__t4.sql"
mig_own "$dir"
out=$(apply_out)
[[ $out == *'applied 1 migration(s) on track "main", now at version 4'* && $out != *"$SHORT"* ]] ||
    fail "a new file: $out"
# the new files were not settled yet: nothing recorded, so the next no-op
# takes the full path (and records, once they are)
[[ $(last_state) == none ]] || fail "a state was recorded over files changed within the second"
sleep 1.2
out=$(apply_out)
[[ $out == *'nothing to apply on track "main", now at version 4'* && $out != *"$SHORT"* ]] ||
    fail "the no-op after unsettled files: $out"
out=$(apply_out)
[[ $out == *"$SHORT"* && $out == *'now at version 4'* ]] || fail "the next no-op: $out"

# the history changed by a call that recorded no run (runs_keep = 0):
# the sequence of history ranks moved, so the full path applies V4 again
mig_psql -d "$db" -q -c "SET migrate.runs_keep = 0" -c "CALL migrate.undo('$dir')" 2>/dev/null ||
    fail "undo failed"
[[ $(q "SELECT to_regclass('public.ns_4') IS NULL") == t ]] || fail "undo did not undo"
out=$(apply_out)
[[ $out == *'applied 1 migration(s) on track "main", now at version 4'* && $out != *"$SHORT"* ]] ||
    fail "after an unrecorded undo the shortcut answered: $out"

# verify_checksums = 'always' reads every file (the full path), and what it
# records lets the next apply under 'changed' stop at its listing
sleep 1.2
apply_out >/dev/null
out=$(apply_out "SET migrate.verify_checksums = always;")
[[ $out == *'nothing to apply'* && $out != *"$SHORT"* ]] || fail "under 'always': $out"
[[ $(last_state) =~ ^[0-9a-f]{64}$ ]] || fail "a run under 'always' recorded no state"
out=$(apply_out)
[[ $out == *"$SHORT"* ]] || fail "the no-op after one under 'always': $out"

# a failed run records none either, and the next apply takes the full path
printf 'SELECT 1/0;\n' >"$dir/V5__fails.sql"
mig_own "$dir"
sleep 1.2
out=$(apply_out)
[[ $out == *ERROR* ]] || fail "V5 did not fail: $out"
[[ $(last_state) == none ]] || fail "a failed run recorded a state"
rm "$dir/V5__fails.sql"

# a callback script runs on every apply: no state is recorded beside one
cb=$MIG_FIXTURES/noop_shortcut_cb
rm -rf "$cb"
mkdir -p "$cb"
printf 'CREATE TABLE public.cb_1 (id int);\n' >"$cb/V1__t.sql"
printf 'INSERT INTO public.cb_count VALUES (1);\n' >"$cb/afterMigrate.sql"
mig_own "$cb"
sleep 1.2
db=noop_shortcut_cb
dir=$cb
mig_newdb "$db"
q "CREATE TABLE public.cb_count (n int)" >/dev/null
for _ in 1 2 3; do
    out=$(apply_out)
    [[ $out != *"$SHORT"* ]] || fail "an apply beside a callback took the shortcut"
done
[[ $(q "SELECT count(*) FROM public.cb_count") == 3 ]] || fail "afterMigrate did not run on every apply"
[[ $(last_state) == none ]] || fail "a state was recorded beside a callback"
echo "ok"
