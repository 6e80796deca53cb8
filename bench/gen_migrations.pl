#!/usr/bin/perl
# gen_migrations.pl DIR N
#
# The benchmark's N generated migrations, written under DIR:
#   migrations/V<i>__create_item_<i>.sql   for migrate.apply (unpadded versions)
#   dbmate/<i, 8 digits>_create_item_<i>.sql   the same with dbmate's
#                                           -- migrate:up / -- migrate:down
#   all.sql      every migration, one after the other (psql -1)
#   permig.sql   BEGIN; <migration>; INSERT INTO tracking.history; COMMIT;
#                for each (the floor runner sends it as one message)
#   bare.sql     BEGIN; <migration>; COMMIT; for each: the same, recording
#                nothing (the bound runner)
# Migration i creates a table with a primary key and an index and inserts
# 10 rows; every tenth also alters the table of migration i - 5 and creates
# a plpgsql function with a dollar-quoted body.  One process for all files:
# forking a cat per file takes minutes at N = 10000.
use strict;
use warnings;
my ($dir, $n) = @ARGV;
open(my $all, '>', "$dir/all.sql") or die "$dir/all.sql: $!";
open(my $per, '>', "$dir/permig.sql") or die "$dir/permig.sql: $!";
open(my $bare, '>', "$dir/bare.sql") or die "$dir/bare.sql: $!";
for my $i (1 .. $n) {
    my $name = "V${i}__create_item_$i.sql";
    my $rows = join(",\n    ", map { "($_, 'item $i/$_', $_.25, '{\"batch\": $i}')" } 1 .. 10);
    my ($alter, $fn) = ('', '');
    if ($i % 10 == 0) {
        my $k = $i - 5;
        $alter = "\nALTER TABLE public.item_$k ADD COLUMN note text DEFAULT 'none',\n"
          . "    ADD CONSTRAINT item_${k}_price_ck CHECK (price >= 0);\n";
        $fn = "\nCREATE FUNCTION public.item_${i}_label(p_id bigint) RETURNS text\n"
          . "LANGUAGE plpgsql STABLE AS \$body\$\n"
          . "DECLARE\n    v_name text;\nBEGIN\n"
          . "    SELECT name INTO v_name FROM public.item_$i WHERE id = p_id;\n"
          . "    IF v_name IS NULL THEN\n"
          . "        RAISE EXCEPTION 'item % not found; check the id', p_id;\n"
          . "    END IF;\n"
          . "    RETURN v_name || ' (' || p_id || ')';\n"
          . "END;\n\$body\$;\n";
    }
    my $sql = "-- migration $i: the items of batch $i\n"
      . "CREATE TABLE public.item_$i (\n"
      . "    id bigint PRIMARY KEY,\n"
      . "    name text NOT NULL,\n"
      . "    price numeric(12, 2) NOT NULL,\n"
      . "    attrs jsonb NOT NULL DEFAULT '{}',\n"
      . "    created_at timestamptz NOT NULL DEFAULT now()\n"
      . ");\n"
      . "CREATE INDEX item_${i}_name_idx ON public.item_$i (name);\n"
      . "INSERT INTO public.item_$i (id, name, price, attrs) VALUES\n"
      . "    $rows;\n"
      . "$alter$fn\n";
    open(my $f, '>', "$dir/migrations/$name") or die "$name: $!";
    print $f $sql;
    close $f;
    # dbmate orders versions as strings: pad them
    my $dm = sprintf("%s/dbmate/%08d_create_item_%d.sql", $dir, $i, $i);
    open(my $d, '>', $dm) or die "$dm: $!";
    print $d "-- migrate:up\n", $sql, "\n-- migrate:down\n";
    close $d;
    print $all $sql;
    print $per "BEGIN;\n", $sql,
      "INSERT INTO tracking.history (version, script) VALUES ('$i', '$name');\n", "COMMIT;\n";
    print $bare "BEGIN;\n", $sql, "COMMIT;\n";
}
close $all;
close $per;
close $bare;
