#!/usr/bin/env bash
# shellcheck disable=SC2016  # the Perl expressions are for perl
# META.json is valid under the PGXN Meta Spec 1.0 and agrees with the source
# tree (name, versions, files); and the checker rejects what the spec
# rejects, so that "valid" means something.  Needs no server, only Perl.
set -euo pipefail
root=${MIG_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
check=$root/test/pgxn_meta.pl
fail() { echo "FAIL: $*"; exit 1; }

out=$(perl "$check" --repo "$root" "$root/META.json") || fail "META.json: $out"
echo "ok: META.json is valid"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# mutant NAME PERL_EXPR EXPECTED: META.json changed by PERL_EXPR (on $m)
# must be rejected with a message containing EXPECTED.
mutant() {
    local name=$1 expr=$2 want=$3 got rc=0
    perl -MJSON::PP -e '
        local $/; open my $f, "<", $ARGV[0] or die; my $m = decode_json(<$f>);
        '"$expr"';
        print JSON::PP->new->canonical->pretty->encode($m);' "$root/META.json" >"$tmp/META.json"
    got=$(perl "$check" --repo "$root" "$tmp/META.json") || rc=$?
    ((rc != 0)) || fail "$name: accepted"
    grep -qF -- "$want" <<<"$got" || fail "$name: rejected, but not for \"$want\": $got"
    echo "ok: rejects $name"
}
mutant "a missing license" 'delete $m->{license}' 'missing required key "license"'
mutant "a license the spec does not name" '$m->{license} = "PostgreSQL License"' 'is not a license the spec names'
mutant "a two-part version" '$m->{version} = "1.1"' 'is not a semantic version'
mutant "a version given as a number" '$m->{provides}{migrate}{version} = 1.1' 'is not a semantic version'
mutant "an unknown top-level key" '$m->{homepage} = "https://example.org/"' 'unknown key "homepage"'
mutant "a custom key without x_" '$m->{provides}{migrate}{extra} = 1' 'unknown key "extra"'
mutant "an absolute file" '$m->{provides}{migrate}{file} = "/migrate--1.0.sql"' 'relative path'
mutant "meta-spec 2" '$m->{"meta-spec"}{version} = "2.0.0"' 'must be 1.0.x'
mutant "a name with a space" '$m->{name} = "mi grate"' 'must be a term'
mutant "a bad version range" '$m->{prereqs}{runtime}{requires}{PostgreSQL} = "15"' 'is not a version range'
mutant "an unknown phase" '$m->{prereqs}{install} = {requires => {PostgreSQL => "15.0.0"}}' 'unknown key "install"'
mutant "a release status" '$m->{release_status} = "final"' 'must be stable, testing or unstable'
mutant "an empty tag list" '$m->{tags} = []' 'tags: must be a non-empty list'
mutant "a version that is not migrate.control's" '$m->{version} = "2.0.0"; $m->{provides}{migrate}{version} = "2.0.0"' "default_version"
mutant "a file that does not exist" '$m->{provides}{migrate}{file} = "sql/migrate.sql"' 'does not exist'
# a custom key is allowed
perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die; my $m = decode_json(<$f>);
    $m->{x_comment} = "ok"; print encode_json($m);' "$root/META.json" >"$tmp/META.json"
perl "$check" --repo "$root" "$tmp/META.json" >/dev/null || fail "an x_ key was rejected"
echo "ok: accepts an x_ key"
