#!/usr/bin/env bash
# Security (issue 11, "also check"): a single statement larger than the
# server can parse (1 GB) ends in a clean error, with the splitter holding
# no more than that; nothing is recorded as applied and the session lives on.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=sec_large
dir=$MIG_FIXTURES/security_large
out=$MIG_WORK/security_large
mkdir -p "$out"

fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
    mig_dropdb "$db" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
cleanup
mig_newdb "$db"

rm -rf "$dir"
mkdir -p "$dir"
# one string literal of 1.1 GB: a statement of 1.1 GB
{
    printf "SELECT length('"
    head -c 1100000000 /dev/zero | tr '\0' x
    printf "');\n"
} >"$dir/V1__huge.sql"
printf 'CREATE TABLE sec_large_after (id int);\n' >"$dir/V2__after.sql"
mig_own "$dir"

if mig_psql -d "$db" -At -c "CALL migrate.apply('$dir')" -c "SELECT 'alive'" >"$out/apply.out" 2>&1; then
    cat "$out/apply.out" >&2
    fail "the 1.1 GB statement was applied"
fi
grep -qF 'statement starting at line 1 is larger than 1 GB' "$out/apply.out" ||
    { cat "$out/apply.out" >&2; fail "not the size error"; }
[[ $(mig_psql -d "$db" -At -c "SELECT count(*) FROM migrate.history WHERE success") == 0 ]] ||
    fail "something is recorded as applied"
[[ $(mig_psql -d "$db" -At -c "SELECT sqlstate FROM migrate.history WHERE script = 'V1__huge.sql'") == 54000 ]] ||
    fail "the failure is not recorded as program_limit_exceeded"
[[ $(mig_psql -d "$db" -At -c "SELECT to_regclass('sec_large_after') IS NULL") == t ]] ||
    fail "V2 ran after V1 failed"

echo "security_large: ok"
