#!/usr/bin/perl
# Check a PGXN META.json against the PGXN Meta Spec 1.0 (https://pgxn.org/meta/spec.txt,
# whose JSON schema is https://pgxn.org/meta/v1/distribution.schema.json), written out
# here rule by rule so that it runs offline with nothing but Perl's core modules.
#
#   perl test/pgxn_meta.pl META.json            # the spec only
#   perl test/pgxn_meta.pl --repo DIR META.json # and its agreement with the source tree
#
# Prints one line per violation and exits 1 if there is any; prints "valid" otherwise.
use strict;
use warnings;
use JSON::PP ();

my $repo;
if (@ARGV && $ARGV[0] eq '--repo') { shift; $repo = shift; }
my $file = shift or die "usage: $0 [--repo DIR] META.json\n";

my @errors;
sub bad { push @errors, join('', @_); }

my $text = do { local $/; open my $fh, '<', $file or die "$file: $!\n"; <$fh> };
my $meta = eval { JSON::PP->new->decode($text) };
if (!defined $meta) { print "$file: not JSON: $@"; exit 1; }

# ---- the spec's types ---------------------------------------------------
my $SEMVER = qr/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
my %LICENSES = map { $_ => 1 } qw(agpl_3 apache_1_1 apache_2_0 artistic_1 artistic_2 bsd freebsd
    gfdl_1_2 gfdl_1_3 gpl_1 gpl_2 gpl_3 lgpl_2_1 lgpl_3_0 mit mozilla_1_0 mozilla_1_1 openssl
    perl_5 postgresql qpl_1_0 ssleay sun zlib open_source restricted unrestricted unknown);

sub is_obj { ref $_[0] eq 'HASH' }
sub is_arr { ref $_[0] eq 'ARRAY' }
# JSON::PP keeps strings and numbers apart in the scalar's flags: a string
# "1" is a string, a number 1 is not.
sub B_is_string {
    require B;
    my $flags = B::svref_2object(\$_[0])->FLAGS;
    return ($flags & B::SVp_POK()) && !($flags & (B::SVp_IOK() | B::SVp_NOK()));
}
sub string { my ($v) = @_; defined $v && !ref $v && B_is_string($v) }
sub custom { $_[0] =~ /^[xX]_./ }

sub nonempty_string {
    my ($v, $where) = @_;
    string($v) && length $v >= 1 or bad "$where: must be a non-empty string";
}
sub term {
    my ($v, $where) = @_;
    string($v) && $v =~ /^[^\/\\\s\p{Cc}]{2,}$/
        or bad "$where: must be a term (2 or more characters, no slash, backslash, space or control character)";
}
sub version {
    my ($v, $where) = @_;
    string($v) && $v =~ $SEMVER or bad "$where: \"", ($v // 'null'), "\" is not a semantic version (X.Y.Z)";
}
sub path {
    my ($v, $where) = @_;
    string($v) && length $v >= 2 && $v !~ m{^/} && $v !~ /\\/ && $v !~ m{(^|/)\.\.(/|$)} && $v !~ /^[A-Za-z]:/
        or bad "$where: must be a relative path in Unix form";
}
sub uri {
    my ($v, $where) = @_;
    string($v) && $v =~ m{^[A-Za-z][A-Za-z0-9+.-]*:\S+$} or bad "$where: must be a URI";
}
sub email {
    my ($v, $where) = @_;
    string($v) && $v =~ /^[^@\s]+@[^@\s]+$/ or bad "$where: must be an email address";
}
sub keys_in {
    my ($obj, $where, @allowed) = @_;
    my %ok = map { $_ => 1 } @allowed;
    for my $k (sort keys %$obj) {
        bad "$where: unknown key \"$k\"" unless $ok{$k} || custom($k);
    }
}
sub version_range {
    my ($v, $where) = @_;
    return if defined $v && !ref $v && !B_is_string($v) && $v == 0;
    my $op = qr/(?:(?:[=!]=|[<>]=?)\s*)?/;
    my $sv = qr/(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?/;
    string($v) && ($v eq '0' || $v =~ /^$op$sv(?:,\s*$op$sv)*$/)
        or bad "$where: \"", ($v // 'null'), "\" is not a version range (0, 1.2.3, >= 1.2.3, ...)";
}

# ---- the distribution -----------------------------------------------------
is_obj($meta) or do { print "$file: the top level must be an object\n"; exit 1 };
for my $k (qw(name version abstract maintainer license provides meta-spec)) {
    bad "missing required key \"$k\"" unless exists $meta->{$k};
}
keys_in($meta, 'META.json', qw(name version abstract maintainer license provides meta-spec
    description generated_by tags no_index prereqs release_status resources));

term($meta->{name}, 'name') if exists $meta->{name};
version($meta->{version}, 'version') if exists $meta->{version};
for my $k (qw(abstract description generated_by)) {
    nonempty_string($meta->{$k}, $k) if exists $meta->{$k};
}

if (exists $meta->{maintainer}) {
    my $m = $meta->{maintainer};
    if (is_arr($m)) {
        @$m or bad "maintainer: the list is empty";
        nonempty_string($m->[$_], "maintainer[$_]") for 0 .. $#$m;
    } else {
        nonempty_string($m, 'maintainer');
    }
}

if (exists $meta->{license}) {
    my $l = $meta->{license};
    if (is_obj($l)) {
        %$l or bad "license: the object is empty";
        uri($l->{$_}, "license.$_") for sort keys %$l;
    } elsif (is_arr($l)) {
        @$l or bad "license: the list is empty";
        for (@$l) { string($_) && $LICENSES{$_} or bad "license: \"$_\" is not a license the spec names" }
    } else {
        string($l) && $LICENSES{$l} or bad "license: \"", ($l // 'null'), "\" is not a license the spec names";
    }
}

if (exists $meta->{provides}) {
    my $p = $meta->{provides};
    if (!is_obj($p) || !%$p) {
        bad "provides: must be an object naming at least one extension";
    } else {
        for my $ext (sort keys %$p) {
            my $e = $p->{$ext};
            term($ext, "provides: the name \"$ext\"");
            is_obj($e) or do { bad "provides.$ext: must be an object"; next };
            exists $e->{$_} or bad "provides.$ext: missing required key \"$_\"" for qw(file version);
            keys_in($e, "provides.$ext", qw(file version abstract docfile docpath));
            path($e->{file}, "provides.$ext.file") if exists $e->{file};
            version($e->{version}, "provides.$ext.version") if exists $e->{version};
            nonempty_string($e->{abstract}, "provides.$ext.abstract") if exists $e->{abstract};
            path($e->{docfile}, "provides.$ext.docfile") if exists $e->{docfile};
            nonempty_string($e->{docpath}, "provides.$ext.docpath") if exists $e->{docpath};
        }
    }
}

if (exists $meta->{'meta-spec'}) {
    my $s = $meta->{'meta-spec'};
    if (!is_obj($s)) {
        bad "meta-spec: must be an object";
    } else {
        keys_in($s, 'meta-spec', qw(version url));
        string($s->{version}) && $s->{version} =~ /^1\.0\.\d+$/
            or bad "meta-spec.version: must be 1.0.x";
        !exists $s->{url} || (string($s->{url}) && $s->{url} =~ m{^https?://pgxn\.org/meta/spec\.txt$})
            or bad "meta-spec.url: must be https://pgxn.org/meta/spec.txt";
    }
}

if (exists $meta->{tags}) {
    my $t = $meta->{tags};
    if (!is_arr($t) || !@$t) {
        bad "tags: must be a non-empty list";
    } else {
        for (@$t) {
            string($_) && length($_) >= 2 && length($_) <= 255 && !/[\/\\\p{Cc}]/
                or bad "tags: \"$_\" must be 2 to 255 characters without slash, backslash or control characters";
        }
    }
}

if (exists $meta->{no_index}) {
    my $n = $meta->{no_index};
    if (!is_obj($n)) {
        bad "no_index: must be an object";
    } else {
        exists $n->{file} || exists $n->{directory} or bad "no_index: needs file or directory";
        keys_in($n, 'no_index', qw(file directory));
        for my $k (grep { exists $n->{$_} } qw(file directory)) {
            my $v = $n->{$k};
            if (is_arr($v)) {
                @$v or bad "no_index.$k: the list is empty";
                my %seen;
                for (@$v) { path($_, "no_index.$k"); bad "no_index.$k: \"$_\" twice" if $seen{$_}++ }
            } else {
                path($v, "no_index.$k");
            }
        }
    }
}

if (exists $meta->{prereqs}) {
    my $p = $meta->{prereqs};
    if (!is_obj($p) || !%$p) {
        bad "prereqs: must be a non-empty object";
    } else {
        keys_in($p, 'prereqs', qw(configure build test runtime develop));
        for my $phase (grep { !custom($_) } sort keys %$p) {
            my $ph = $p->{$phase};
            is_obj($ph) && %$ph or do { bad "prereqs.$phase: must be a non-empty object"; next };
            keys_in($ph, "prereqs.$phase", qw(requires recommends suggests conflicts));
            for my $rel (grep { !custom($_) } sort keys %$ph) {
                my $r = $ph->{$rel};
                is_obj($r) or do { bad "prereqs.$phase.$rel: must be an object"; next };
                for my $name (sort keys %$r) {
                    term($name, "prereqs.$phase.$rel: the name \"$name\"");
                    version_range($r->{$name}, "prereqs.$phase.$rel.$name");
                }
            }
        }
    }
}

if (exists $meta->{release_status}) {
    my $r = $meta->{release_status};
    string($r) && $r =~ /^(stable|testing|unstable)$/
        or bad "release_status: must be stable, testing or unstable";
}

if (exists $meta->{resources}) {
    my $r = $meta->{resources};
    if (!is_obj($r) || !%$r) {
        bad "resources: must be a non-empty object";
    } else {
        keys_in($r, 'resources', qw(homepage bugtracker repository));
        uri($r->{homepage}, 'resources.homepage') if exists $r->{homepage};
        if (exists $r->{bugtracker}) {
            my $b = $r->{bugtracker};
            is_obj($b) && (exists $b->{web} || exists $b->{mailto})
                or bad "resources.bugtracker: needs web or mailto";
            if (is_obj($b)) {
                keys_in($b, 'resources.bugtracker', qw(web mailto));
                uri($b->{web}, 'resources.bugtracker.web') if exists $b->{web};
                email($b->{mailto}, 'resources.bugtracker.mailto') if exists $b->{mailto};
            }
        }
        if (exists $r->{repository}) {
            my $g = $r->{repository};
            is_obj($g) && (exists $g->{web} || (exists $g->{url} && exists $g->{type}))
                or bad "resources.repository: needs web, or url and type";
            if (is_obj($g)) {
                keys_in($g, 'resources.repository', qw(url web type));
                uri($g->{url}, 'resources.repository.url') if exists $g->{url};
                uri($g->{web}, 'resources.repository.web') if exists $g->{web};
                string($g->{type}) && $g->{type} =~ /^[a-z]+$/
                    or bad "resources.repository.type: must be a lower-case name (git)" if exists $g->{type};
            }
        }
    }
}

# ---- agreement with the source tree ------------------------------------------
if (defined $repo && !@errors) {
    my $slurp = sub { my $f = "$repo/$_[0]"; open my $fh, '<', $f or return undef; local $/; <$fh> };
    my $name = $meta->{name};
    my $control = $slurp->("$name.control");
    if (!defined $control) {
        bad "name: there is no $name.control";
    } else {
        my ($dv) = $control =~ /^default_version\s*=\s*'([^']*)'/m;
        # PGXN needs X.Y.Z; the extension's versions are X.Y (a patch release
        # changes only the library).
        $meta->{version} =~ /^\Q$dv\E\.\d+$/
            or bad "version: $meta->{version} is not a release of the extension's default_version $dv";
    }
    my $makefile = $slurp->('Makefile') // '';
    $makefile =~ /^EXTENSION\s*=\s*\Q$name\E\s*$/m or bad "name: the Makefile's EXTENSION is not $name";
    for my $ext (sort keys %{ $meta->{provides} }) {
        my $e = $meta->{provides}{$ext};
        $e->{version} eq $meta->{version} or bad "provides.$ext.version: $e->{version}, but the distribution is $meta->{version}";
        for my $k (qw(file docfile)) {
            next unless exists $e->{$k};
            -f "$repo/$e->{$k}" or bad "provides.$ext.$k: $e->{$k} does not exist";
        }
    }
    my $changelog = $slurp->('debian/changelog');
    if (defined $changelog) {
        my ($deb) = $changelog =~ /^\S+ \(([^)-]+)/;
        $deb && $deb eq $meta->{version}
            or bad "version: debian/changelog's newest entry is ", ($deb // '?'), ", META.json says $meta->{version}";
    }
}

if (@errors) {
    print "$file: $_\n" for @errors;
    exit 1;
}
print "valid\n";
