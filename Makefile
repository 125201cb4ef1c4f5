# Postern — build, test, run, install.
#   make            build every program into build/
#   make check      install missing test tools, build, run every test (ASan+UBSan)
#   make run        serve SMTP/POP3/IMAP on 127.0.0.1 with demo users
# Each program's sources are listed in a small fragment next to them
# (handlers/*.mk, mail/*.mk), so its link line shows what it may touch.

.DEFAULT_GOAL := all
CC ?= cc
BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=

PKGS := openssl libcrypt
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# OpenSSL: headers only; lib/openssl-dl.c dlopen()s it when a session uses
# TLS (linking it costs every connection ~1.5 ms in the loader).
PKG_LIBS := $(shell pkg-config --libs libcrypt 2>/dev/null || echo -lcrypt)

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
HARDEN := -fstack-protector-strong -fPIE
ifeq ($(SAN),1)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
SANLD := -fsanitize=address,undefined
else
OPT := -O2 -g -D_FORTIFY_SOURCE=2
SANLD :=
endif
CFLAGS_ALL := -std=gnu11 $(OPT) $(WARN) $(HARDEN) -D_GNU_SOURCE -Ilib $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(SANLD) $(LDFLAGS)

LIB_SRCS := $(sort $(wildcard lib/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIBA := $(BUILD)/libpostern.a

PROGRAMS :=
include $(sort $(wildcard handlers/*.mk mail/*.mk))
include units/units.mk
include tests/fuzz/fuzz.mk
include bench/bench.mk

UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRCS := $(sort $(wildcard tests/helpers/*.c))
TEST_HELPERS := $(TEST_HELPER_SRCS:tests/helpers/%.c=$(BUILD)/tests/%)

.SECONDARY:
.PHONY: all check deps run clean unit
all: $(PROGRAMS:%=$(BUILD)/%) $(UNIT_FILES)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(LIBA): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# One link rule per program: <prog>_SRCS from its fragment.
define PROGRAM_template
$(BUILD)/$(1): $$($(1)_SRCS:%.c=$(BUILD)/%.o) $(LIBA)
	$$(CC) -o $$@ $$^ $(LDFLAGS_ALL) $(PKG_LIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call PROGRAM_template,$(p))))

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/unit/unit.o $(LIBA)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)
$(BUILD)/tests/%: $(BUILD)/tests/helpers/%.o $(LIBA)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)

unit: all $(UNIT_BINS) $(TEST_HELPERS)

deps:
	@sh scripts/install-deps.sh

# The README's test command. Warnings are checked on the normal build, whose
# unit tests also run under valgrind; every test runs against the ASan+UBSan
# build.
check: deps
	$(MAKE) unit
	$(MAKE) BUILD=build/asan SAN=1 unit
	sh tests/run-all.sh build/asan build

run: deps all
	BUILD=$(BUILD) sh scripts/run.sh

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(foreach p,$(PROGRAMS),$($(p)_SRCS:%.c=$(BUILD)/%.d)) \
	$(UNIT_SRCS:%.c=$(BUILD)/%.d) $(TEST_HELPER_SRCS:%.c=$(BUILD)/%.d)
