#!/usr/bin/perl
# rss_sampler.pl DBNAME PEAKFILE DONEFILE
#
# Peak private memory (RssAnon) of the backends serving database DBNAME,
# and the CPU time they used (PEAKFILE.cpu, nanoseconds from
# /proc/PID/schedstat as last seen, summed over the backends; for clients
# that cannot ask their backend themselves, it misses at most the last
# millisecond of each).  The kernel keeps no high-water mark of RssAnon
# alone (VmHWM includes the shared buffers a backend touched), so this
# samples it: it looks for a backend (process title "postgres: postgres
# DBNAME ..."), reads /proc/PID/status and schedstat every millisecond
# until that process is gone, then looks for the next one (a client may
# connect more than once, one connection after the other: dbmate does),
# and writes the largest RssAnon seen, in kB, to PEAKFILE.  It stops once
# DONEFILE exists (the client has ended) and no backend of DBNAME is left.
# Only one client of DBNAME may run at a time (bench/migrations.sh runs one
# client at a time and waits for this script before the next).
use strict;
use warnings;
use Time::HiRes qw(sleep);

my ($db, $peakfile, $donefile) = @ARGV;
die "usage: $0 DBNAME PEAKFILE DONEFILE\n" unless defined $donefile;
my $title = "postgres: postgres $db ";
my %seen;

# a backend of DBNAME not followed yet, or undef
sub find_backend {
    opendir(my $dh, '/proc') or die "/proc: $!";
    for my $p (grep { /^\d+$/ } readdir $dh) {
        next if $seen{$p};
        open(my $fh, '<', "/proc/$p/cmdline") or next;
        my $cmd = <$fh> // '';
        close $fh;
        if (index($cmd, $title) == 0) {
            closedir $dh;
            return $p;
        }
    }
    closedir $dh;
    return undef;
}

my ($peak, $total_ns) = (0, 0);
for (;;) {
    # the client's end is noted before the last look, so no backend is missed
    my $done = -e $donefile;
    my $pid = find_backend();
    unless ($pid) {
        last if $done;
        sleep 0.0005;
        next;
    }
    $seen{$pid} = 1;
    my $ns = 0;
    while (open(my $fh, '<', "/proc/$pid/status")) {
        while (my $line = <$fh>) {
            if ($line =~ /^RssAnon:\s+(\d+)/) {
                $peak = $1 if $1 > $peak;
                last;
            }
        }
        close $fh;
        if (open(my $sh, '<', "/proc/$pid/schedstat")) {
            my $s = <$sh> // '';
            close $sh;
            $ns = $1 if $s =~ /^(\d+)/;
        }
        sleep 0.001;
    }
    $total_ns += $ns;
}
open(my $out, '>', $peakfile) or die "$peakfile: $!";
print $out "$peak\n";
close $out;
open(my $cpu, '>', "$peakfile.cpu") or die "$peakfile.cpu: $!";
print $cpu "$total_ns\n";
close $cpu;
