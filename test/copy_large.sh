#!/usr/bin/env bash
# COPY ... FROM stdin data that does not fit the splitter's 64 kB reads: a
# 300 kB line, thousands of rows, statements after the data; and the line
# of a bad row deep in the data, as recorded in migrate.history.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

fail() { echo "FAIL: $*" >&2; exit 1; }

dir=$MIG_WORK/allowed2/copy_large
mkdir -p "$dir"
awk 'BEGIN {
    print "CREATE TABLE big (id int PRIMARY KEY, payload text);"
    print "COPY big (id, payload) FROM stdin;"
    s = "x"; while (length(s) < 300000) s = s s; s = substr(s, 1, 300000)
    print "1\t" s
    for (i = 2; i <= 20001; i++) print i "\trow " i " with a tab\\there and \\\\backslash"
    print "20002\t\\\\."
    print "\\."
    print "INSERT INTO big VALUES (0, (SELECT string_agg(id::text, \x27,\x27) FROM big WHERE id < 3));"
}' >"$dir/V1__big_copy.sql"
# the bad row is on line 3 + 12345 = 12348 of the file
awk 'BEGIN {
    print "CREATE TABLE big2 (id int, payload text);"
    print ""
    print "COPY big2 FROM stdin;"
    for (i = 1; i <= 20000; i++) print (i == 12345 ? "oops" : i) "\tp"
    print "\\."
}' >"$dir/V2__bad_row.sql"
mig_own "$dir"

db=t_copy_large
mig_newdb "$db" >/dev/null
# V2 fails: the call errors out after V1 is committed
if "$MIG_PGBIN/psql" -X -q -d "$db" -c 'SET client_min_messages = warning' \
        -c "CALL migrate.apply('$dir')" 2>"$MIG_WORK/copy_large.err"; then
    fail "the bad row of V2 was not refused"
fi
grep -q 'migration V2__bad_row.sql, line 12348' "$MIG_WORK/copy_large.err" ||
    { cat "$MIG_WORK/copy_large.err" >&2; fail "the error does not name line 12348"; }

got=$(mig_psql -d "$db" -At -c "SELECT count(*), max(length(payload)), (SELECT payload FROM big WHERE id = 20002),
                                       (SELECT payload FROM big WHERE id = 0),
                                       (SELECT payload FROM big WHERE id = 7) FROM big")
want=$(printf '20003|300000|\\.|1,2|row 7 with a tab\there and \\backslash')
[[ $got == "$want" ]] || fail "loaded: $got, expected: $want"
echo "ok: a 300 kB data line, 20000 rows and the statement after the data"

got=$(mig_psql -d "$db" -At -c "SELECT version, success, error_line FROM migrate.history ORDER BY rank")
want=$'1|t|\n2|f|12348'
[[ $got == "$want" ]] || fail "history: $got, expected: $want"
echo "ok: migrate.history records the file line of the bad row"
mig_dropdb "$db" >/dev/null
