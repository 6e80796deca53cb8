#!/usr/bin/env bash
# The "must this file run outside a transaction?" verdict comes from the
# one pass that runs the file (issue 12), with the semantics it always
# had: a file whose third statement needs top level runs whole in the
# worker, each statement once, and nothing of its first two statements is
# left from the transaction it started in; a failure in such a file before
# that statement leaves it dirty exactly as when it ran in the worker from
# the start.  Each case twice: the top-level statement within the first
# 64 kB the reader delivers (seen before anything runs) and beyond them
# (seen part-way: what ran is rolled back, the file runs again).
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
mig_ensure_cluster

fail() { echo "FAIL: $*" >&2; [[ -s ${out:-} ]] && sed 's/^/    > /' "$out" >&2; exit 1; }
q() { mig_psql -d "$1" -At -c "$2"; }
out=$MIG_WORK/nontx_one_pass.out

# pad: a statement of 70 kB (so what follows lies beyond the first chunk)
pad() { printf "SELECT length('%s');\n" "$(head -c 70000 /dev/zero | tr '\0' 'x')"; }

for where in near far; do
    base=$MIG_FIXTURES/nontx_one_pass_$where
    rm -rf "$base"
    mkdir -p "$base/ok" "$base/fails"
    printf 'CREATE SEQUENCE public.op_seq;\nCREATE TABLE public.op_seen (v bigint);\n' >"$base/ok/V1__setup.sql"
    {
        printf "INSERT INTO public.op_seen SELECT nextval('public.op_seq');\n"
        if [[ $where == far ]]; then pad; else printf 'CREATE TABLE public.op_t (id int);\n'; fi
        printf 'CREATE INDEX CONCURRENTLY op_seen_idx ON public.op_seen (v);\n'
    } >"$base/ok/V2__third_needs_top_level.sql"
    printf 'CREATE TABLE public.op_c (id int PRIMARY KEY);\nINSERT INTO public.op_c VALUES (1);\n' \
        >"$base/fails/V1__setup.sql"
    {
        printf 'INSERT INTO public.op_c VALUES (2);\n'
        [[ $where == far ]] && pad
        printf 'INSERT INTO public.op_c VALUES (1);\n'
        printf 'CREATE INDEX CONCURRENTLY op_c_idx ON public.op_c (id);\n'
    } >"$base/fails/V2__fails_before_top_level.sql"
    mig_own "$base"

    # runs whole in the worker, each statement once
    db=nontx_one_pass_$where
    mig_newdb "$db"
    mig_psql -d "$db" -c "CALL migrate.apply('$base/ok')" >"$out" 2>&1 || fail "$where: apply failed"
    grep -q 'applied V2__third_needs_top_level.sql outside a transaction' "$out" ||
        fail "$where: V2 did not run outside a transaction"
    grep -q "It runs statement by statement: CREATE INDEX CONCURRENTLY at line 3." "$out" ||
        fail "$where: the reason names the statement"
    [[ $(q "$db" "SELECT count(*) FROM public.op_seen") == 1 ]] ||
        fail "$where: the first statement's row is there more than once (or not at all)"
    if [[ $where == near ]]; then
        # seen before anything ran: the statement ran once, the sequence was drawn from once
        [[ $(q "$db" "SELECT string_agg(v::text, ',') FROM public.op_seen") == 1 &&
            $(q "$db" "SELECT last_value FROM public.op_seq") == 1 ]] ||
            fail "near: the first statement ran in a transaction before the worker ran it"
    fi
    [[ $(q "$db" "SELECT count(*) FROM migrate.history WHERE NOT success") == 0 ]] ||
        fail "$where: a failure row was recorded"
    [[ $(q "$db" "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.op_seen_idx'::regclass") == t ]] ||
        fail "$where: the concurrent build did not run"

    # fails before the top-level statement: dirty, as in the worker
    if mig_psql -d "$db" -c "CALL migrate.apply('$base/fails', track => 'f')" >"$out" 2>&1; then
        fail "$where: the duplicate key must fail"
    fi
    grep -q 'WARNING:  migration "V2__fails_before_top_level.sql" stopped part-way and is now dirty' "$out" ||
        fail "$where: the failure is not dirty"
    [[ $(q "$db" "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.op_c") == 1,2 ]] ||
        fail "$where: the statement before the failure did not commit exactly once"
    [[ $(q "$db" "SELECT count(*) FROM migrate.history WHERE track = 'f' AND NOT success AND dirty") == 1 ]] ||
        fail "$where: one dirty failure row"
    [[ $(q "$db" "SELECT to_regclass('public.op_c_idx') IS NULL") == t ]] ||
        fail "$where: the statement after the failure ran"
    mig_dropdb "$db" >/dev/null
    rm -rf "$base"
done
echo ok
