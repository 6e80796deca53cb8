# migrate: database migrations run by the database itself (PGXS build)

EXTENSION = migrate
EXTVERSION = $(shell grep default_version $(EXTENSION).control | sed -e "s/default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/")
MODULE_big = migrate
PGFILEDESC = "migrate - database migrations run inside PostgreSQL"

OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA = $(wildcard $(EXTENSION)--*.sql)

# pg_regress cases: one sql/NAME.sql with expected/NAME.out each
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

PG_CPPFLAGS = -I$(srcdir)/src
# Warnings are errors on every supported version.  PostgreSQL's own headers
# raise -Wunused-parameter under -Wextra (15, 17, 18), and only that.
# MIGRATE_WERROR= builds without -Werror (a distribution's newer compiler).
MIGRATE_WERROR ?= -Werror
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter $(MIGRATE_WERROR)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Only what the server looks up by name is exported (see src/compat.h):
# PG 16's PGXS hides the rest by default, earlier releases need the flag.
ifeq ($(shell test $(VERSION_NUM) -lt 160000 && echo old),old)
override CFLAGS += -fvisibility=hidden
endif

ifeq ($(shell test $(VERSION_NUM) -lt 130000 && echo old),old)
$(error migrate requires PostgreSQL 13 or later, but $(PG_CONFIG) reports $(VERSION))
endif
