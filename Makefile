# migrate: database migrations run by the database itself (PGXS build)
#
#   make && make install          build and install for the pg_config on PATH
#   make PG_CONFIG=/usr/lib/postgresql/17/bin/pg_config install
#   make installcheck             pg_regress tests against the running cluster
#                                 that PGHOST/PGPORT/PGUSER name (a superuser)
#   make tempcheck                the same tests on a throwaway server that
#                                 pg_regress starts (after make install; not as root)
#   make tree TREE=/dir           a self-contained tree for PostgreSQL 18's
#                                 extension_control_path and dynamic_library_path
#   make dist                     the PGXN zip of HEAD, dist/migrate-<version>.zip

EXTENSION = migrate
MODULE_big = migrate
PGFILEDESC = "migrate - database migrations run inside PostgreSQL"

# The source directory: "." in a plain build; in an out-of-tree build
# (make -f ../Makefile VPATH=.., which is how pg_buildext builds one tree per
# PostgreSQL version) the sources are found there, and the objects go below
# the current directory.
MIGRATE_SRCDIR := $(patsubst %/,%,$(or $(VPATH),$(dir $(firstword $(MAKEFILE_LIST)))))

EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(MIGRATE_SRCDIR)/$(EXTENSION).control)

OBJS = $(patsubst $(MIGRATE_SRCDIR)/%.c,%.o,$(sort $(wildcard $(MIGRATE_SRCDIR)/src/*.c)))
# Every install and upgrade script: CREATE EXTENSION migrate VERSION '1.0'
# and each ALTER EXTENSION migrate UPDATE path need theirs installed.
DATA = $(notdir $(wildcard $(MIGRATE_SRCDIR)/$(EXTENSION)--*.sql))

# pg_regress cases: one sql/NAME.sql with expected/NAME.out each.  They set
# what they need themselves (migrate.allowed_dirs, by SET as a superuser, to
# fixture directories below this source tree, which the server's OS user
# must be able to read), so any cluster will do.
REGRESS = $(patsubst $(MIGRATE_SRCDIR)/sql/%.sql,%,$(sort $(wildcard $(MIGRATE_SRCDIR)/sql/*.sql)))
REGRESS_OPTS = --load-extension=plpgsql

# MIGRATE_VERSION: the library's version, shown by PG 18's pg_get_loaded_modules()
PG_CPPFLAGS = -I$(MIGRATE_SRCDIR)/src -DMIGRATE_VERSION=\"$(EXTVERSION)\"
# Warnings are errors on every supported version.  PostgreSQL's own headers
# raise -Wunused-parameter under -Wextra (15, 17, 18), and only that.
# MIGRATE_WERROR= builds without -Werror (a distribution's newer compiler).
MIGRATE_WERROR ?= -Werror
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter $(MIGRATE_WERROR)

EXTRA_CLEAN = tmp_check dist

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# 15, 17 and 18 are tested; 16 should work (untested); 13 and 14 are past
# their end of life and not supported.
ifeq ($(shell test $(VERSION_NUM) -lt 150000 && echo old),old)
$(error migrate requires PostgreSQL 15 or later, but $(PG_CONFIG) reports $(VERSION))
endif

# Only what the server looks up by name is exported (see src/compat.h):
# PG 16's PGXS hides the rest by default, 15 needs the flag.
ifeq ($(shell test $(VERSION_NUM) -lt 160000 && echo old),old)
override CFLAGS += -fvisibility=hidden
endif

# An out-of-tree build compiles src/NAME.c into ./src/NAME.o: make the
# directory, which VPATH would otherwise find in the source tree.
ifneq ($(MIGRATE_SRCDIR),.)
$(shell mkdir -p src)
endif

.PHONY: tempcheck tree dist

# The pg_regress tests on a throwaway server of the installed PostgreSQL
# (--temp-instance, configured by test/regress.conf), as contrib's
# pg_stat_statements runs them; needs `make install` first and runs as a
# user other than root (initdb refuses root).
tempcheck:
	$(pg_regress_installcheck) $(REGRESS_OPTS) --temp-instance=./tmp_check \
		--temp-config=$(MIGRATE_SRCDIR)/test/regress.conf $(REGRESS)

# A self-contained tree for servers that find extensions outside their own
# directories (PostgreSQL 18, e.g. a CloudNativePG image volume):
#   $(TREE)/share/extension/migrate.control, migrate--*.sql
#   $(TREE)/lib/migrate.so
# used with extension_control_path = '$$system:$(TREE)/share' and
# dynamic_library_path = '$$libdir:$(TREE)/lib' (README, Installation).
# No JIT bitcode: the server would look for it only below its own $$libdir.
tree: all
	@test -n "$(TREE)" || { echo 'usage: make tree TREE=/absolute/dir'; exit 1; }
	$(MAKE) install DESTDIR='$(TREE)' datadir=/share pkglibdir=/lib with_llvm=no

# The PGXN distribution: HEAD as a zip whose top directory names the version
# META.json gives (test/pgxn_meta.sh keeps it in step with migrate.control).
DISTVERSION = $(shell perl -MJSON::PP -e 'local $$/; open my $$f, "<", $$ARGV[0] or exit 1; print decode_json(<$$f>)->{version}' '$(MIGRATE_SRCDIR)/META.json')
dist:
	@test -n "$(DISTVERSION)" || { echo 'dist: no version in META.json'; exit 1; }
	mkdir -p dist
	git -C '$(MIGRATE_SRCDIR)' archive --format zip --prefix=$(EXTENSION)-$(DISTVERSION)/ \
		--output '$(CURDIR)/dist/$(EXTENSION)-$(DISTVERSION).zip' HEAD
