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
	@echo "  query the stats:    build/pipecastctl info   (or: build/pipecastctl watch)"
	@echo "  stop the daemon:    Ctrl-C"
	@echo
	@exec build/pipecastd -c conf/demo.conf

# Installation: binaries and man pages under PREFIX, units where systemd
# looks for local units, the example configuration in /etc/pipecast (an
# existing pipecast.conf is never overwritten).
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
CONFDIR    ?= /etc/pipecast
MANPAGES   := $(wildcard man/*.[158])
UNITS_SD   := pipecast.service pipecast.socket pipecast-stats.socket

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	for m in $(MANPAGES); do \
	  s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	  install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	sed -e 's|/usr/local/bin/|$(BINDIR)/|' -e 's|/etc/pipecast/|$(CONFDIR)/|' systemd/pipecast.service > $(DESTDIR)$(UNITDIR)/pipecast.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/pipecast.service
	install -m 0644 systemd/pipecast.socket systemd/pipecast-stats.socket $(DESTDIR)$(UNITDIR)/
	if [ -e $(DESTDIR)$(CONFDIR)/pipecast.conf ]; then \
	  echo "keeping the existing $(DESTDIR)$(CONFDIR)/pipecast.conf"; \
	else install -m 0644 conf/pipecast.conf $(DESTDIR)$(CONFDIR)/pipecast.conf; fi

# Removes what install put in place, except a configuration file.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pipecastd $(DESTDIR)$(BINDIR)/pipecastctl
	for m in $(MANPAGES); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done
	for u in $(UNITS_SD); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done

clean:
	rm -rf build

# ---- fuzzing (libFuzzer; Debian: clang-14, libclang-rt-14-dev) -------------
# build/fuzz/fuzz_X is tests/fuzz/fuzz_X.c linked with every lib/*.c, all
# compiled by clang with the fuzzer, ASan and UBSan. The fuzzers only ever
# write into build/fuzz/: `make fuzz` grows build/fuzz/corpus/X (seeded from
# tests/fuzz/corpus/X) for FUZZ_SECONDS per target; `fuzz-smoke` runs every
# target at once on a fresh copy of the seeds for FUZZ_SMOKE_SECONDS. Both
# fail on a crash, a leak or a broken invariant; the input that did it is
# kept as build/fuzz/artifacts/X-crash-*.
FUZZ_CC            ?= clang-14
FUZZ_SECONDS       ?= 300
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_CFLAGS        := -std=gnu11 $(WARN) -O1 -g -fno-omit-frame-pointer \
                      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_OPTS          := -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_TARGETS       := $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
# max_len per target: config lines reach 4 KiB, so its inputs need room.
FUZZ_MAXLEN_fuzz_config  := 16384
FUZZ_MAXLEN_fuzz_framer  := 8192
FUZZ_MAXLEN_fuzz_statcmd := 2048
FUZZ_MAXLEN_fuzz_ring    := 4096
FUZZ_MAXLEN_fuzz_cidr    := 256
FUZZ_MAXLEN_fuzz_proxyproto := 1024
FUZZ_MAXLEN_fuzz_tokens  := 8192

.PHONY: fuzz fuzz-build fuzz-smoke $(FUZZ_TARGETS:%=fuzz-run-%) $(FUZZ_TARGETS:%=fuzz-smoke-%)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $< $(LIB_SRC) -o $@ $(LIBS)

fuzz-build: $(FUZZ_TARGETS:%=build/fuzz/%)

# run-fuzzer TARGET CORPUS_DIR SECONDS: one libFuzzer run, its log kept.
define run-fuzzer
@mkdir -p $(2) build/fuzz/artifacts
@cp -n tests/fuzz/corpus/$(1)/* $(2)/
@echo "fuzz: $(1) for $(3) s"
@build/fuzz/$(1) $(FUZZ_OPTS) -max_total_time=$(3) -max_len=$(FUZZ_MAXLEN_$(1)) \
   $(if $(wildcard tests/fuzz/$(1).dict),-dict=tests/fuzz/$(1).dict) \
   -artifact_prefix=build/fuzz/artifacts/$(1)- $(2) >build/fuzz/$(1).log 2>&1 \
 && echo "fuzz: $(1) ok, $$(sed -n 's/^stat::number_of_executed_units: *//p' build/fuzz/$(1).log) runs" \
 || { tail -40 build/fuzz/$(1).log; echo "fuzz: $(1) FAILED (log: build/fuzz/$(1).log)"; exit 1; }
endef

fuzz: fuzz-build
	@$(MAKE) --no-print-directory -k $(FUZZ_TARGETS:%=fuzz-run-%)

$(FUZZ_TARGETS:%=fuzz-run-%): fuzz-run-%: build/fuzz/%
	$(call run-fuzzer,$*,build/fuzz/corpus/$*,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-build
	@$(MAKE) --no-print-directory -k -j$(words $(FUZZ_TARGETS)) $(FUZZ_TARGETS:%=fuzz-smoke-%)

$(FUZZ_TARGETS:%=fuzz-smoke-%): fuzz-smoke-%: build/fuzz/%
	@rm -rf build/fuzz/smoke/$*
	$(call run-fuzzer,$*,build/fuzz/smoke/$*,$(FUZZ_SMOKE_SECONDS))

# Load and memory safety, run by hand (not part of `make test`).
# `make stress`: 5,000 clients at once receive 1,000,000 records each, every
# record in order, with the daemon's RSS and live timers flat (override with
# PCTEST_STRESS_CLIENTS, PCTEST_STRESS_RECORDS, PCTEST_STRESS_PROCS).
# `make valgrind`: the integration suite with the daemon under valgrind
# memcheck; any memory error or definite/indirect leak fails its test.
.PHONY: stress valgrind
PCTEST_STRESS_CLIENTS ?= 5000
PCTEST_STRESS_RECORDS ?= 1000000
stress: deps all
	PCTEST_STRESS_CLIENTS=$(PCTEST_STRESS_CLIENTS) PCTEST_STRESS_RECORDS=$(PCTEST_STRESS_RECORDS) \
	  PIPECASTD=build/pipecastd python3 tests/integration/run.py test_load

valgrind: deps all
	@command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind"; exit 1; }
	PCTEST_VALGRIND=1 PIPECASTD=tests/valgrind/pipecastd python3 tests/integration/run.py

# ---- Benchmarks: `make bench` (QUICK=1 for a reduced run); never part of `make test`.
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE
build/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< -o $@
.PHONY: bench
bench: build/pipecastd build/bench/loadgen build/bench/raw_ceiling
	QUICK=$(QUICK) bench/run.sh
