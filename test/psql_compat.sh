#!/usr/bin/env bash
# migrate.apply gives the database that `psql -v ON_ERROR_STOP=1 -f` on each
# file in order gives: same schema (pg_dump --schema-only) and same rows
# (pg_dump --data-only), for files with COPY ... FROM stdin data (tabs, \N,
# backslashes, CSV, DELIMITER, NULL), BEGIN ATOMIC bodies, their own
# BEGIN/COMMIT, and a plain pg_dump output (\restrict, SET, COPY).
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

fail() { echo "FAIL: $*" >&2; exit 1; }

# dump DB KIND: a pg_dump of DB without the lines that differ by nature
# (pg_dump's random \restrict key) and without migrate's own history
dump() {
    "$MIG_PGBIN/pg_dump" -d "$1" "$2" --exclude-table-data='migrate.*' |
        grep -Ev '^\\(un)?restrict '
}

# compare NAME DIR: apply DIR with migrate.apply in one database and with
# psql -f file by file in another, then compare the two
compare() {
    local name=$1 dir=$2 a=t_cmp_${1}_migrate b=t_cmp_${1}_psql f kind
    mig_newdb "$a" >/dev/null
    mig_newdb "$b" >/dev/null
    mig_psql -d "$a" -v dir="$dir" <<'SQL'
SET client_min_messages = warning;
CALL migrate.apply(:'dir');
SQL
    # psql runs the versioned files in version order, each in its own session
    while IFS= read -r f; do
        mig_psql -d "$b" -f "$dir/$f" >/dev/null
    done < <(cd "$dir" && ls V*__*.sql | sort -V)

    for kind in --schema-only --data-only; do
        if ! diff -u <(dump "$b" "$kind") <(dump "$a" "$kind") >"$MIG_WORK/$name.diff"; then
            cat "$MIG_WORK/$name.diff" >&2
            fail "$name: $kind dump differs between psql -f (-) and migrate.apply (+)"
        fi
    done
    # the comparison is worth something only if the files did something
    [[ $(mig_psql -d "$a" -Atc "SELECT count(*) FROM migrate.history WHERE success") -ge 1 ]] ||
        fail "$name: nothing was applied"
    mig_dropdb "$a" >/dev/null
    mig_dropdb "$b" >/dev/null
    echo "ok: $name gives the same schema and rows as psql -f"
}

compare copy_psql "$MIG_FIXTURES/copy_psql"

# the rows are really there (the dumps could agree on nothing)
db=t_cmp_rows
mig_newdb "$db" >/dev/null
mig_psql -d "$db" -v dir="$MIG_FIXTURES/copy_psql" -c 'SET client_min_messages = warning' \
    -c "CALL migrate.apply('$MIG_FIXTURES/copy_psql')"
got=$(mig_psql -d "$db" -At <<'SQL'
SELECT string_agg(format('%s|%s|%s', id, name, coalesce(note, '<null>')), E'\n' ORDER BY id) FROM item;
SELECT string_agg(format('%s|%s|%s', item_id, coalesce(tag, '<null>'), coalesce(weight::text, '<null>')),
                  E'\n' ORDER BY item_id, tag) FROM tag;
SELECT string_agg(label, ',' ORDER BY id) FROM labels;
SELECT string_agg(format('%s|%s|%s', id, customer, coalesce(memo, '<null>')), E'\n' ORDER BY id) FROM shop.orders;
SQL
)
want=$(cat <<'EOF'
1|plain|<null>
2|tab	here|back\slash
3|newline
in value|ünïcödé €
4|empty note|
5|trailing backslash \|"quotes" and 'single'
6|six|<null>
1|a,b|2
1|he said "hi"|<null>
2|<null>|3
3|multi
line|1
4|<null>|1
5|pipe|escaped|1
6|new|1
plain,tab	here (back\slash),newline
in value (ünïcödé €),empty note (),trailing backslash \ ("quotes" and 'single'),six
1|Ann|line one
line two
2|Bob "B"|tab	here and back\slash
3|Čapek|<null>
4|\.|\.
EOF
)
if [[ $got != "$want" ]]; then
    diff -u <(printf '%s\n' "$want") <(printf '%s\n' "$got") >&2 || true
    fail "rows loaded by COPY ... FROM stdin are not the expected ones"
fi
mig_dropdb "$db" >/dev/null
echo "ok: COPY ... FROM stdin loaded tabs, \\N, backslashes, CSV, DELIMITER and NULL as written"
