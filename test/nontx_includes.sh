#!/usr/bin/env bash
# Statements of a file a migration includes with \i or \ir count as the
# migration's own when deciding whether it must run outside a transaction
# (issue 15): a migration that includes a CREATE INDEX CONCURRENTLY runs in
# the worker, which runs the \i too, each statement once; a failure before
# the \i leaves it dirty, as in the worker; a dry run says which files would
# run outside a transaction, and why; migrate.run does as apply does (and
# says what stayed committed when such a file fails part-way); and
# diesel's metadata.toml run_in_transaction = false really runs the
# migration outside a transaction.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

fail() { echo "FAIL: $*" >&2; [[ -s ${out:-} ]] && sed 's/^/    > /' "$out" >&2; exit 1; }
q() { mig_psql -d "$db" -At -c "$1"; }
expect() { grep -qF -- "$1" "$out" || fail "$2 (expected: $1)"; }
out=$MIG_WORK/nontx_includes.out

base=$MIG_FIXTURES/nontx_includes
rm -rf "$base"
# included files live beside the migration directories: a .sql file in one would be misnamed
mkdir -p "$base/ok" "$base/common/deeper" "$base/fails" "$base/inc" "$base/seed"
printf 'CREATE SEQUENCE public.ni_seq;\nCREATE TABLE public.ni_seen (v bigint);\n' >"$base/ok/V1__setup.sql"
printf "INSERT INTO public.ni_seen SELECT nextval('public.ni_seq');\n\\\\i ../common/index.sql\n" \
    >"$base/ok/V2__includes_index.sql"
printf -- '-- an index built without blocking writes\n\\ir deeper/build.sql\n' >"$base/common/index.sql"
printf 'SELECT 1;\nCREATE INDEX CONCURRENTLY ni_seen_idx ON public.ni_seen (v);\n' \
    >"$base/common/deeper/build.sql"
printf 'CREATE TABLE public.ni_c (id int PRIMARY KEY);\nINSERT INTO public.ni_c VALUES (1);\n' \
    >"$base/fails/V1__setup.sql"
printf 'INSERT INTO public.ni_c VALUES (2);\nINSERT INTO public.ni_c VALUES (1);\n\\ir ../inc/idx.sql\n' \
    >"$base/fails/V2__fails_before_include.sql"
printf 'CREATE INDEX CONCURRENTLY ni_c_idx ON public.ni_c (id);\n' >"$base/inc/idx.sql"
printf 'INSERT INTO public.ni_seen VALUES (100);\n\\ir build_seed.sql\n' >"$base/seed/seed.sql"
printf 'CREATE INDEX CONCURRENTLY ni_seed_idx ON public.ni_seen (v);\n' >"$base/seed/build_seed.sql"
printf "CREATE TABLE public.ni_r (id int);\nCREATE INDEX CONCURRENTLY ni_r_idx ON public.ni_r (id);\nINSERT INTO public.ni_r VALUES ('x');\n" \
    >"$base/seed/fails_part_way.sql"
mig_own "$base"

db=nontx_includes
mig_newdb "$db"

# the dry run names the file that would run outside a transaction, and why
mig_psql -d "$db" -c "CALL migrate.apply('$base/ok', dry_run => true)" >"$out" 2>&1 ||
    fail "the dry run failed"
expect 'NOTICE:  would apply V1__setup.sql' "the dry run lists V1"
grep -q 'would apply V1__setup.sql outside' "$out" && fail "V1 runs in a transaction"
expect 'NOTICE:  would apply V2__includes_index.sql outside a transaction' \
    "the dry run says V2 runs outside a transaction"
expect 'DETAIL:  It would run statement by statement: CREATE INDEX CONCURRENTLY at line 2 of included file deeper/build.sql.' \
    "the dry run says why, naming the included file"
[[ $(q "SELECT count(*) FROM migrate.history") == 0 ]] || fail "the dry run recorded something"

# apply: V2 runs whole in the worker, its \i and \ir too, each statement once
mig_psql -d "$db" -c "CALL migrate.apply('$base/ok')" >"$out" 2>&1 || fail "apply failed"
expect 'applied V2__includes_index.sql outside a transaction' "V2 did not run outside a transaction"
expect 'It runs statement by statement: CREATE INDEX CONCURRENTLY at line 2 of included file deeper/build.sql.' \
    "the reason names the included file's statement"
# seen in the first chunk? no: the statement is in another file, so the first
# statement ran in a transaction, was rolled back, and ran again in the worker
[[ $(q "SELECT count(*) FROM public.ni_seen") == 1 ]] ||
    fail "the first statement's row is there more than once (or not at all)"
[[ $(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.ni_seen_idx'::regclass") == t ]] ||
    fail "the concurrent build in the included file did not run"
[[ $(q "SELECT count(*) FROM migrate.history WHERE NOT success") == 0 ]] || fail "a failure row was recorded"

# a failure before the \ir: the rest of the file, its included file too, says
# it runs outside a transaction, so it runs there, and is dirty
if mig_psql -d "$db" -c "CALL migrate.apply('$base/fails', track => 'f')" >"$out" 2>&1; then
    fail "the duplicate key must fail"
fi
expect 'WARNING:  migration "V2__fails_before_include.sql" stopped part-way and is now dirty' \
    "the failure is not dirty"
[[ $(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.ni_c") == 1,2 ]] ||
    fail "the statement before the failure did not commit exactly once"
[[ $(q "SELECT to_regclass('public.ni_c_idx') IS NULL") == t ]] || fail "the included file ran after the failure"

# migrate.run: a file whose included file needs top level runs in the worker
mig_psql -d "$db" -c "CALL migrate.run('$base/seed/seed.sql')" >"$out" 2>&1 || fail "migrate.run failed"
expect "ran $base/seed/seed.sql outside a transaction: 2 statement(s)" "run did not run outside a transaction"
expect 'It runs statement by statement: CREATE INDEX CONCURRENTLY at line 1 of included file build_seed.sql.' \
    "run's reason names the included file"
[[ $(q "SELECT count(*) FROM public.ni_seen WHERE v = 100") == 1 ]] || fail "run's first statement ran twice"
[[ $(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.ni_seed_idx'::regclass") == t ]] ||
    fail "run's concurrent build did not run"
# a failure part-way: what stayed committed is said, nothing is recorded
rows=$(q "SELECT count(*) FROM migrate.history")
if mig_psql -d "$db" -c "CALL migrate.run('$base/seed/fails_part_way.sql')" >"$out" 2>&1; then
    fail "run of a failing file must fail"
fi
expect "WARNING:  file \"$base/seed/fails_part_way.sql\" stopped part-way" "run's part-way warning"
expect 'its statements up to line 2 were committed' "the warning says what stayed committed"
[[ $(q "SELECT to_regclass('public.ni_r_idx') IS NOT NULL") == t ]] || fail "run's committed statements were lost"
[[ $(q "SELECT count(*) FROM migrate.history") == "$rows" ]] || fail "run recorded something"
# in a transaction block it cannot
if mig_psql -d "$db" -c "BEGIN" -c "CALL migrate.run('$base/seed/seed.sql')" >"$out" 2>&1; then
    fail "run in a transaction block must refuse"
fi
expect "file \"$base/seed/seed.sql\" cannot run inside a transaction block" "run's refusal"

# diesel: metadata.toml's run_in_transaction = false runs the migration in the worker
mig_psql -d "$db" -c "CALL migrate.apply('$MIG_FIXTURES/layout_cases/diesel_notx', track => 'diesel')" \
    >"$out" 2>&1 || fail "the diesel apply failed"
expect 'applied 2024-01-02-000000_index_t/up.sql outside a transaction' "diesel's marker was not honoured"
expect 'run_in_transaction = false in 2024-01-02-000000_index_t/metadata.toml' "the reason names metadata.toml"
grep -q 'applied 2024-01-01-000000_create_t/up.sql outside' "$out" && fail "the folder without metadata ran outside"

mig_dropdb "$db" >/dev/null
rm -rf "$base"
echo ok
