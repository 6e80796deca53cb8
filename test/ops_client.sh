#!/usr/bin/env bash
# The client script bin/migrate-psql (SPEC section 9): `new` creates the
# next versioned file and its undo file locally; `upload` stages a local
# directory byte for byte (quotes, backslashes, dollar quotes, psql
# variables, CRLF, UTF-8 and odd file names included) as a bundle that
# mirrors the directory; `apply` uploads and applies it; a changed applied
# file is refused like a changed file on the server.
set -euo pipefail
# shellcheck source=test/lib.sh
. "$MIG_LIB"
# shellcheck disable=SC2119  # no extra postgresql.conf lines
mig_ensure_cluster

db=ops_client
mig_newdb "$db"
cli=$MIG_ROOT/bin/migrate-psql
export PSQL=$MIG_PGBIN/psql PGDATABASE=$db
# the local directory: outside the allowed directories, the server never reads it
work=$MIG_WORK/ops_client
rm -rf "$work"
mkdir -p "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }
sql() { mig_psql -d "$db" -At "$@"; }
same() { [[ $1 == "$2" ]] || fail "$3: got '$1', expected '$2'"; }
# the first line a command prints (no `| head`: SIGPIPE under pipefail)
first_line() {
    local o
    o=$("$@")
    printf '%s' "${o%%$'\n'*}"
}

# ---- new ---------------------------------------------------------------
m=$work/migrations
same "$("$cli" new 'create items' "$m" | tr '\n' ' ')" "$m/V1__create_items.sql $m/U1__create_items.sql " \
    "new in an empty directory"
[[ -f $m/V1__create_items.sql && -f $m/U1__create_items.sql ]] || fail "new did not create both files"
"$cli" new add_price "$m" >/dev/null
[[ -f $m/V2__add_price.sql && -f $m/U2__add_price.sql ]] || fail "the second new is not version 2"
mkdir -p "$work/padded/sub" "$work/stamped" "$work/dotted"
: >"$work/padded/sub/V009__nine.sql"
same "$(first_line "$cli" new ten "$work/padded")" "$work/padded/V010__ten.sql" "zero padding is kept"
: >"$work/stamped/V20200101120000__old.sql"
v=$(first_line "$cli" new later "$work/stamped")
if ! [[ $v =~ /V([0-9]{14})__later\.sql$ ]] || ((BASH_REMATCH[1] <= 20200101120000)); then
    fail "a timestamped directory gets a newer timestamp: $v"
fi
: >"$work/dotted/V1.9__x.sql"
: >"$work/dotted/V1.10__y.sql"
same "$(first_line "$cli" new z "$work/dotted")" "$work/dotted/V2__z.sql" "after 1.10 comes 2"
if "$cli" new 'bad/name' "$m" 2>/dev/null; then fail "a name with / is accepted"; fi
: >"$m/U3__extra.sql"
if "$cli" new extra "$m" 2>/dev/null; then fail "new overwrote an existing file"; fi
[[ ! -e $m/V3__extra.sql && ! -s $m/U3__extra.sql ]] || fail "new wrote half a pair"
rm "$m/U3__extra.sql" "$m/U2__add_price.sql"

# ---- files that break naive quoting ------------------------------------
# shellcheck disable=SC2016  # the $ signs are the point
{
    printf 'CREATE TABLE items (\n'
    printf "  name text DEFAULT 'it''s',\n"
    printf '  note text DEFAULT $q$ \\ $ %s :bundle :%s $q$,\n' "'" "'bundle'"
    printf "  word text DEFAULT E'tab\\\\there'\r\n"
    printf ');\r\n'
    printf "COMMENT ON TABLE items IS 'caf\xc3\xa9 \xe2\x82\xac';\n"
} >"$m/V1__create_items.sql"
printf 'ALTER TABLE items ADD COLUMN price numeric;\n' >"$m/V2__add_price.sql"
mkdir -p "$m/sub dir" "$m/.git"
printf "INSERT INTO items (name) VALUES ('sub');\n" >"$m/sub dir/V3__it's \"quoted\".sql"
# shellcheck disable=SC2016  # literal $ signs
printf '\xef\xbb\xbfINSERT INTO items (name) VALUES ($$bom$$);\n' >"$m/V4__bom.sql"
# shellcheck disable=SC2016  # literal shell syntax, never run
printf 'notes: `rm -rf /` $(id) ; \\g\n' >"$m/README.md"
printf 'ref: main\n' >"$m/.git/HEAD"

out=$("$cli" upload "$m" app)
same "$out" "uploaded 6 file(s) as bundle 'app'" "upload output"
same "$(sql -c "SELECT count(*) FROM migrate.staged WHERE bundle = 'app' AND filename LIKE '.%'")" 0 \
    "hidden files are not uploaded"
# every staged text is exactly the file's bytes
while IFS= read -r -d '' f; do
    rel=${f#"$m"/}
    got=$(sql -v f="$rel" <<'SQL'
SELECT encode(convert_to(sql, 'UTF8'), 'base64') FROM migrate.staged
 WHERE bundle = 'app' AND filename = :'f'
SQL
)
    same "$(tr -d '\n' <<<"$got")" "$(base64 <"$f" | tr -d '\n')" "staged text of $rel"
done < <(find "$m" -name .git -prune -o -type f -print0)
# and its checksum is the server's checksum of the same file (sha-256 of the
# text; no CRLF or BOM in this one)
same "$(sql -c "SELECT checksum FROM migrate.staged WHERE filename = 'V2__add_price.sql'")" \
    "$(sha256sum <"$m/V2__add_price.sql" | cut -d' ' -f1)" "checksum of V2"

# ---- apply -------------------------------------------------------------
"$cli" apply "$m" app >"$work/apply.out" 2>&1 || { cat "$work/apply.out" >&2; fail "apply failed"; }
grep -q 'migrate: applied 4 migration(s) on track "main", now at version 4' "$work/apply.out" ||
    { cat "$work/apply.out" >&2; fail "apply summary"; }
same "$(sql -c "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'items'::regclass ORDER BY adnum" | tr '\n' '|')" \
    "'it''s'::text|' \\ \$ '' :bundle :''bundle'' '::text|'tab	here'::text|" "defaults survived quoting"
same "$(sql -c "SELECT obj_description('items'::regclass)")" "café €" "UTF-8 survived"
same "$(sql -c "SELECT string_agg(name, ',' ORDER BY name) FROM items")" "bom,sub" "all migrations ran"
# (captured first: grep -q at the end of a pipe may quit before the writer
# is done, which then dies of SIGPIPE and fails the pipe under pipefail)
status_out=$("$cli" status app)
grep -qF "sub dir/V3__it's \"quoted\".sql" <<<"$status_out" || fail "status shows the odd file name"

# ---- the bundle mirrors the directory ----------------------------------
rm "$m/README.md"
"$cli" upload "$m" app >/dev/null
same "$(sql -c "SELECT count(*) FROM migrate.staged WHERE bundle = 'app'")" 5 "a removed file is unstaged"

# ---- a changed applied file is refused ---------------------------------
printf 'ALTER TABLE items ADD COLUMN price integer;\n' >"$m/V2__add_price.sql"
if "$cli" apply "$m" app >"$work/changed.out" 2>&1; then
    fail "apply of a changed applied migration succeeded"
fi
grep -q 'ERROR:  migration file "V2__add_price.sql" has changed since it was applied' "$work/changed.out" ||
    { cat "$work/changed.out" >&2; fail "changed file message"; }

# ---- options reach the call --------------------------------------------
printf 'ALTER TABLE items ADD COLUMN price numeric;\n' >"$m/V2__add_price.sql"
"$cli" new more "$m" >/dev/null
# (a sleep far past the timeout: a stall of the machine cannot end it first)
printf 'SELECT pg_sleep(120);\n' >"$m/V5__more.sql"
if "$cli" apply "$m" app --statement-timeout 100ms >"$work/timeout.out" 2>&1; then
    fail "--statement-timeout was not applied"
fi
grep -q 'canceling statement due to statement timeout' "$work/timeout.out" ||
    { cat "$work/timeout.out" >&2; fail "statement timeout message"; }
"$cli" apply "$m" app --dry-run >"$work/dry.out" 2>&1
grep -q 'would apply V5__more.sql' "$work/dry.out" || { cat "$work/dry.out" >&2; fail "--dry-run"; }

mig_dropdb "$db"
echo "ops_client: ok"
