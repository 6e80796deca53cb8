#!/usr/bin/env bash
# The linter never queues behind a production lock (SPEC section 10): while
# another session holds ACCESS EXCLUSIVE on a table, migrate.lint,
# migrate.lint_file and apply's dry run report on that table at once, from
# pg_class's sizes of its last VACUUM or ANALYZE, and hold no lock on it.
# Each runs with lock_timeout set: a wait for the table's lock would make
# it fail instead of hanging.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=lint_nowait
out=$MIG_WORK/lint_nowait
mkdir -p "$out"
mig_newdb "$db"

fail() { echo "FAIL: $*" >&2; exit 1; }
sql() { mig_psql -d "$db" -At "$@"; }

wait_for() { mig_wait_for "$db" "$1" "$2" 60; }

expect() { mig_expect "$@"; }

sql -q >/dev/null <<'SQL'
CREATE TABLE busy (id int PRIMARY KEY, n int);
INSERT INTO busy SELECT g, g FROM generate_series(1, 5000) g;
VACUUM ANALYZE busy;
SELECT migrate.stage('nowait', 'V1__index.sql', E'CREATE INDEX busy_n_idx ON busy (n);\n');
SQL

# The blocker: idle in a transaction holding ACCESS EXCLUSIVE on "busy"
# until it is told to commit.
rm -f "$out/fifo"
mkfifo "$out/fifo"
mig_psql -d "$db" <"$out/fifo" >"$out/blocker.out" 2>&1 &
blocker=$!
exec 7>"$out/fifo"
echo "BEGIN; LOCK TABLE /* lint-nowait-blocker */ busy IN ACCESS EXCLUSIVE MODE;" >&7
wait_for "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
          WHERE l.relation = 'busy'::regclass AND l.mode = 'AccessExclusiveLock' AND l.granted
            AND a.query LIKE 'LOCK TABLE /* lint-nowait-blocker */%'" 1

# lint: answers with the table's size as pg_class last saw it
sql >"$out/lint.out" 2>&1 <<'SQL' || { cat "$out/lint.out" >&2; fail "migrate.lint waited or failed"; }
SET lock_timeout = '2s';
SELECT rule, severity, relation, estimated_rows, lock, message FROM migrate.lint('nowait');
SQL
expect "$out/lint.out" "create_index|info|public.busy|5000|ShareLock|CREATE INDEX on public.busy ("
expect "$out/lint.out" "~5000 rows at its last VACUUM or ANALYZE) blocks writes to it while the index builds"

sql >"$out/file.out" 2>&1 <<'SQL' || { cat "$out/file.out" >&2; fail "migrate.lint_file waited or failed"; }
SET lock_timeout = '2s';
SELECT rule, relation FROM migrate.lint_file('nowait/V1__index.sql');
SQL
expect "$out/file.out" "create_index|public.busy"

# apply's dry run lints the same way
sql >"$out/dry.out" 2>&1 <<'SQL' || { cat "$out/dry.out" >&2; fail "the dry run waited or failed"; }
SET client_min_messages = notice;
SET lock_timeout = '2s';
CALL migrate.apply('nowait', dry_run => true);
SQL
expect "$out/dry.out" "lint info [create_index] V1__index.sql, line 1: CREATE INDEX on public.busy ("

echo "COMMIT;" >&7
exec 7>&-
wait "$blocker"

# without the blocker the size is measured (no "at its last ..."), under a
# lock taken without waiting and released at once
sql >"$out/free.out" 2>&1 <<'SQL'
BEGIN;
SELECT message FROM migrate.lint('nowait');
SELECT 'locks held: ' || count(*) FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation = 'busy'::regclass;
COMMIT;
SQL
grep -q "at its last" "$out/free.out" && { cat "$out/free.out" >&2; fail "the size was not measured"; }
expect "$out/free.out" "~5000 rows) blocks writes to it while the index builds"
expect "$out/free.out" "locks held: 0"

mig_dropdb "$db" >/dev/null
echo "ok"
