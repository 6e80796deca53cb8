#!/usr/bin/perl
# rss_sampler.pl DBNAME PEAKFILE DONEFILE
#
# Peak private memory (RssAnon) of the backend serving database DBNAME,
# and the CPU time it had used when last seen (PEAKFILE.cpu, nanoseconds
# from /proc/PID/schedstat; for clients that cannot ask their backend
# themselves, it misses at most the last millisecond).
# The kernel keeps no high-water mark of RssAnon alone (VmHWM includes the
# shared buffers a backend touched), so this samples it: it looks for the
# backend (process title "postgres: postgres DBNAME ..."), then reads
# /proc/PID/status every millisecond until the process is gone, and writes
# the largest RssAnon seen, in kB, to PEAKFILE.  It gives up looking once
# DONEFILE exists (the client ended before its backend was seen).
# Only one backend of DBNAME may exist at a time (bench/migrations.sh
# runs one client at a time and waits for this script before the next).
use strict;
use warnings;
use Time::HiRes qw(sleep);

my ($db, $peakfile, $donefile) = @ARGV;
die "usage: $0 DBNAME PEAKFILE DONEFILE\n" unless defined $donefile;
my $title = "postgres: postgres $db ";

# find the backend
my $pid;
until ($pid) {
    opendir(my $dh, '/proc') or die "/proc: $!";
    for my $p (grep { /^\d+$/ } readdir $dh) {
        open(my $fh, '<', "/proc/$p/cmdline") or next;
        my $cmd = <$fh> // '';
        close $fh;
        if (index($cmd, $title) == 0) {
            $pid = $p;
            last;
        }
    }
    closedir $dh;
    last if $pid;
    if (-e $donefile) {
        open(my $out, '>', $peakfile) or die "$peakfile: $!";
        print $out "0\n";
        open(my $cpu, '>', "$peakfile.cpu") or die "$peakfile.cpu: $!";
        print $cpu "0\n";
        exit 0;
    }
    sleep 0.0005;
}

# sample it until it exits
my ($peak, $ns) = (0, 0);
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
open(my $out, '>', $peakfile) or die "$peakfile: $!";
print $out "$peak\n";
open(my $cpu, '>', "$peakfile.cpu") or die "$peakfile.cpu: $!";
print $cpu "$ns\n";
