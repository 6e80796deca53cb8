#!/usr/bin/env bash
# Every layout round trip: apply a tool's realistic directory, undo it all
# with migrate.undo(dir, target => '0'), and find the schema exactly as it
# was before (pg_dump --schema-only compared); then apply again and find
# the schema as after the first apply.  Drizzle writes no down migrations:
# its undo must refuse before changing anything.
#
# Needs migrate.undo (the lifecycle branch): fails until that is merged.
set -euo pipefail
. "$MIG_LIB"

fail=0
# the schema of DB in FILE, without comments and the random \restrict keys
# of recent pg_dump releases
dump() {  # DB FILE
    "$MIG_PGBIN/pg_dump" --schema-only --no-owner "$1" |
        grep -v -E '^(--|\\(un)?restrict )' >"$2"
}

# layout fixture, track
for layout in flyway golang dbmate node_pg timestamped diesel prisma sqitch drizzle; do
    db=rt_$layout
    dir=$MIG_FIXTURES/layout_$layout
    out=$MIG_WORK/rt_$layout
    mkdir -p "$out"
    mig_psql -d postgres -v db="$db" <<'SQL'
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
CREATE DATABASE :"db";
SQL
    mig_psql -d "$db" -c 'CREATE EXTENSION migrate'
    dump "$db" "$out/before.sql"

    if ! mig_psql -d "$db" -v dir="$dir" -v track="$layout" <<'SQL' 2>"$out/apply.err"; then
CALL migrate.apply(:'dir', track => :'track');
SQL
        echo "FAIL $layout: apply failed"
        cat "$out/apply.err"
        fail=1
        continue
    fi
    pending=$(mig_psql -d "$db" -At -v dir="$dir" -v track="$layout" <<'SQL'
SELECT count(*) FROM migrate.status(:'dir', track => :'track') WHERE state <> 'applied';
SQL
)
    if [[ $pending != 0 ]]; then
        echo "FAIL $layout: $pending migration(s) not applied"
        fail=1
        continue
    fi
    dump "$db" "$out/applied.sql"

    if [[ $layout == drizzle ]]; then
        if mig_psql -d "$db" -v dir="$dir" -v track="$layout" <<'SQL' 2>"$out/undo.err"; then
CALL migrate.undo(:'dir', target => '0', track => :'track');
SQL
            echo "FAIL drizzle: undo without down migrations succeeded"
            fail=1
            continue
        fi
        dump "$db" "$out/after_undo.sql"
        if ! diff -u "$out/applied.sql" "$out/after_undo.sql"; then
            echo "FAIL drizzle: the refused undo changed the schema"
            fail=1
            continue
        fi
        grep -q 'procedure migrate.undo.*does not exist' "$out/undo.err" && {
            echo "FAIL drizzle: migrate.undo does not exist"
            cat "$out/undo.err"
            fail=1
            continue
        }
        echo "ok   drizzle: undo refused, nothing changed ($(head -1 "$out/undo.err"))"
        continue
    fi

    if ! mig_psql -d "$db" -v dir="$dir" -v track="$layout" <<'SQL' 2>"$out/undo.err"; then
CALL migrate.undo(:'dir', target => '0', track => :'track');
SQL
        echo "FAIL $layout: undo failed"
        cat "$out/undo.err"
        fail=1
        continue
    fi
    dump "$db" "$out/after_undo.sql"
    if ! diff -u "$out/before.sql" "$out/after_undo.sql"; then
        echo "FAIL $layout: the schema after undo differs from the schema before apply"
        fail=1
        continue
    fi

    if ! mig_psql -d "$db" -v dir="$dir" -v track="$layout" <<'SQL' 2>"$out/apply.err"; then
CALL migrate.apply(:'dir', track => :'track');
SQL
        echo "FAIL $layout: applying again after the undo failed"
        cat "$out/apply.err"
        fail=1
        continue
    fi
    dump "$db" "$out/reapplied.sql"
    if ! diff -u "$out/applied.sql" "$out/reapplied.sql"; then
        echo "FAIL $layout: applying again after the undo gives another schema"
        fail=1
        continue
    fi
    echo "ok   $layout: applied, undone to an empty schema, applied again"
    mig_dropdb "$db"
done
exit "$fail"
