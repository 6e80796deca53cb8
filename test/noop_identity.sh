#!/usr/bin/env bash
# A no-op that reads nothing (issue 12): an applied file whose identity
# (device, inode, size, mtime, ctime) is the one recorded when it was
# applied is not read again by apply or status under
# migrate.verify_checksums = 'changed' (the default), and is read by
# validate and under 'always'.  Proved by what the backend read
# (/proc/self/io rchar) against the size of the files.  And an edit is
# still caught whichever identity field it changes: the size; the content
# alone with size and mtime kept (a same-length edit in place, mtime set
# back with touch -d: only ctime changes); the inode (a new file renamed
# over, size and mtime kept).  A changed device is not tested (it needs a
# second file system under the allowed directories).
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

fail() { echo "FAIL: $*" >&2; exit 1; }
q() { mig_psql -d "$1" -At -c "$2"; }

dir=$MIG_FIXTURES/noop_identity
rm -rf "$dir"
mkdir -p "$dir"
# ten migrations of about 200 kB each (mostly a comment), 2 MB in all
for i in $(seq 1 10); do
    {
        printf -- '-- migration %d\n' "$i"
        for _ in $(seq 1 2500); do
            printf -- '-- padding padding padding padding padding padding padding padding\n'
        done
        printf 'CREATE TABLE public.noop_%d (id int);\n' "$i"
    } >"$dir/V${i}__t$i.sql"
done
mig_own "$dir"
total=$(cat "$dir"/*.sql | wc -c)
# an identity is trusted only when its ctime was over a second old when it
# was recorded (a write in the same clock tick would not show): let it be
sleep 1.2

db=noop_identity
mig_newdb "$db"
mig_psql -d "$db" -q -c "CALL migrate.apply('$dir')" 2>/dev/null || fail "the first apply failed"
[[ $(q "$db" "SELECT count(*) FROM migrate.history WHERE success AND file_ino IS NOT NULL") == 10 ]] ||
    fail "every applied row records its file's identity"

# read_by DB SQL: bytes the backend read while running SQL (in one session)
read_by() {
    mig_psql -d "$1" -At -v ON_ERROR_STOP=1 2>/dev/null <<SQL | tail -n 1
SELECT pg_catalog.split_part(pg_catalog.split_part(pg_catalog.pg_read_file('/proc/self/io'), E'\n', 1), ' ', 2)::bigint AS r0 \gset
$2
SELECT pg_catalog.split_part(pg_catalog.split_part(pg_catalog.pg_read_file('/proc/self/io'), E'\n', 1), ' ', 2)::bigint - :r0;
SQL
}

got=$(read_by "$db" "CALL migrate.apply('$dir');")
((got < total / 4)) || fail "a no-op apply read $got bytes of $total: it read the applied files again"
got=$(read_by "$db" "SELECT count(*) FROM migrate.status('$dir');")
((got < total / 4)) || fail "status read $got bytes of $total"
got=$(read_by "$db" "SET migrate.verify_checksums = always; CALL migrate.apply('$dir');")
((got >= total)) || fail "under 'always' a no-op read only $got bytes of $total"
got=$(read_by "$db" "SELECT migrate.validate('$dir');")
((got >= total)) || fail "validate read only $got bytes of $total"

# state MIGRATION: its state in status (after an edit)
state() { q "$db" "SELECT state FROM migrate.status('$dir') WHERE script = '$1'"; }
refused() {
    local out
    if out=$(mig_psql -d "$db" -c "CALL migrate.apply('$dir')" 2>&1); then
        fail "apply ran over the edited $1"
    fi
    grep -q "migration file \"$1\" has changed since it was applied" <<<"$out" ||
        fail "apply's error does not name $1: $out"
}

# 1. the size: a line appended
f=V1__t1.sql
printf -- '-- one more line\n' >>"$dir/$f"
[[ $(state $f) == changed ]] || fail "an appended line is not seen"
refused $f
mig_psql -d "$db" -q -c "SELECT * FROM migrate.repair('$dir')" >/dev/null

# 2. only ctime: a same-length edit in place, mtime set back
f=V2__t2.sql
size=$(stat -c %s "$dir/$f") mtime=$(stat -c %y "$dir/$f") ino=$(stat -c %i "$dir/$f") ctime=$(stat -c %Z.%z "$dir/$f")
sleep 0.05
printf 'X' | dd of="$dir/$f" bs=1 seek=3 conv=notrunc status=none
touch -d "$mtime" "$dir/$f"
[[ $(stat -c %s "$dir/$f") == "$size" && $(stat -c %y "$dir/$f") == "$mtime" && $(stat -c %i "$dir/$f") == "$ino" ]] ||
    fail "the edit was to keep size, mtime and inode"
[[ $(stat -c %Z.%z "$dir/$f") != "$ctime" ]] || fail "the edit was to change ctime"
[[ $(state $f) == changed ]] || fail "an edit that keeps size and mtime is not seen"
refused $f
mig_psql -d "$db" -q -c "SELECT * FROM migrate.repair('$dir')" >/dev/null

# 3. the inode: a new file of the same size and mtime renamed over it
f=V3__t3.sql
mtime=$(stat -c %y "$dir/$f") ino=$(stat -c %i "$dir/$f")
sed '1s/migration 3/migration 9/' "$dir/$f" >"$dir/.new"
touch -d "$mtime" "$dir/.new"
mv "$dir/.new" "$dir/$f"
mig_own "$dir"
[[ $(stat -c %i "$dir/$f") != "$ino" && $(stat -c %y "$dir/$f") == "$mtime" ]] ||
    fail "the new file was to have another inode and the same mtime"
[[ $(state $f) == changed ]] || fail "a file replaced by another of the same size and mtime is not seen"
refused $f

mig_dropdb "$db" >/dev/null
rm -rf "$dir"
echo ok
