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

# MIGRATE_VERSION: the library's version, shown by PG 18's pg_get_loaded_modules()
PG_CPPFLAGS = -I$(srcdir)/src -DMIGRATE_VERSION=\"$(EXTVERSION)\"
# Warnings are errors on every supported version.  PostgreSQL's own headers
# raise -Wunused-parameter under -Wextra (15, 17, 18), and only that.
# MIGRATE_WERROR= builds without -Werror (a distribution's newer compiler).
MIGRATE_WERROR ?= -Werror
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter $(MIGRATE_WERROR)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# 15, 17 and 18 are tested; 16 should work (untested); 13 and 14 are past
# their end of life and not supported.
ifeq ($(shell test $(VERSION_NUM) -lt 150000 && echo old),old)
$(error migrate requires PostgreSQL 15 or later, but $(PG_CONFIG) reports $(VERSION))
endif
