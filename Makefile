# pipecast build. `make` builds, `make test` installs what is missing, builds
# (plain and with ASan/UBSan) and runs every test, `make run` starts a demo.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= cc
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wno-format-nonliteral
CPPFLAGS   += -D_GNU_SOURCE -DPIPECAST_VERSION='"$(VERSION)"' -Ilib
ALL_CFLAGS  = -std=gnu11 $(WARN) $(CFLAGS)
SANFLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LIBS       := -lev -linih

LIB_SRC    := $(sort $(wildcard lib/*.c))
DAEMON_SRC := $(sort $(wildcard daemon/*.c))
CTL_SRC    := $(sort $(wildcard ctl/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNITS      := $(UNIT_SRC:tests/unit/%.c=%)

# Two build trees: build/ (plain) and build/san/ (sanitizers).
define tree
$(1)/%.o: %.c $$(wildcard lib/*.h daemon/*.h ctl/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(ALL_CFLAGS) $(2) -c $$< -o $$@
$(1)/pipecastd: $$(DAEMON_SRC:%.c=$(1)/%.o) $$(LIB_SRC:%.c=$(1)/%.o)
	$$(CC) $$(ALL_CFLAGS) $(2) $$^ -o $$@ $$(LIBS)
$(1)/pipecastctl: $$(CTL_SRC:%.c=$(1)/%.o) $$(LIB_SRC:%.c=$(1)/%.o)
	$$(CC) $$(ALL_CFLAGS) $(2) $$^ -o $$@ $$(LIBS)
$(1)/tests/%: $(1)/tests/unit/%.o $$(LIB_SRC:%.c=$(1)/%.o)
	$$(CC) $$(ALL_CFLAGS) $(2) $$^ -o $$@ $$(LIBS) -lcmocka
endef
$(eval $(call tree,build,))
$(eval $(call tree,build/san,$(SANFLAGS)))

# Keep the test objects between runs.
.SECONDARY:

PROGS := build/pipecastd $(if $(CTL_SRC),build/pipecastctl)

.PHONY: all deps test unit integration run clean install uninstall
all: $(PROGS)

deps:
	@tests/deps.sh

# Unit tests, then integration tests, each against the plain and the
# sanitizer build; prints one "N passed, N failed" line at the end.
test: deps
	@$(MAKE) --no-print-directory all $(UNITS:%=build/tests/%) \
	   build/san/pipecastd $(UNITS:%=build/san/tests/%) $(if $(CTL_SRC),build/san/pipecastctl)
	@tests/run-all.sh $(UNITS)

run: deps all
	@echo "pipecast demo: a built-in producer writes a timestamped record every 100 ms."
	@echo "  connect a client:   nc 127.0.0.1 7070"
	@echo "  stop the daemon:    Ctrl-C"
	@echo
	@exec build/pipecastd -c conf/demo.conf

clean:
	rm -rf build

# ---- Benchmarks: `make bench` (QUICK=1 for a reduced run); never part of `make test`.
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE
build/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< -o $@
.PHONY: bench
bench: build/pipecastd build/bench/loadgen build/bench/raw_ceiling
	QUICK=$(QUICK) bench/run.sh
