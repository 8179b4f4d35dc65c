# pipecast build. `make` builds, `make test` installs what is missing, builds
# (plain and with ASan/UBSan) and runs every test, `make run` starts a demo,
# `make deb` builds the Debian package.

# debian/changelog carries the same version (`make deb` checks).
VERSION    := 0.2.0
PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= cc
CFLAGS     ?= -O2 -g
LDFLAGS    ?=
WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wno-format-nonliteral
CPPFLAGS   += -D_GNU_SOURCE -DPIPECAST_VERSION='"$(VERSION)"' -Ilib
ALL_CFLAGS  = -std=gnu11 $(WARN) $(CFLAGS)
SANFLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LIBS       := -lev -linih -lcrypto

LIB_SRC    := $(sort $(wildcard lib/*.c))
DAEMON_SRC := $(sort $(wildcard daemon/*.c))
CTL_SRC    := $(sort $(wildcard ctl/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNITS      := $(UNIT_SRC:tests/unit/%.c=%)

.DEFAULT_GOAL := all

# One line per build step ("  CC build/lib/ring.o"); V=1 shows the commands.
ifeq ($(V),1)
Q   :=
say := @true
else
Q   := @
say := @printf '  %-4s %s\n'
endif

# The live page that GET / serves, built into the daemon: web/index.html as
# a C array with its Content-Security-Policy (hashes of its inline script
# and style); both trees compile this one generated file.
build/gen/page.c: web/index.html web/embed.py
	@mkdir -p $(@D)
	$(say) GEN $@
	$(Q)python3 web/embed.py $< $@

# Two build trees: build/ (plain) and build/san/ (sanitizers).
define tree
$(1)/%.o: %.c $$(wildcard lib/*.h daemon/*.h ctl/*.h tests/unit/*.h)
	@mkdir -p $$(@D)
	$$(say) CC $$@
	$$(Q)$$(CC) $$(CPPFLAGS) $$(ALL_CFLAGS) $(2) -c $$< -o $$@
$(1)/gen/page.o: build/gen/page.c daemon/page.h
	@mkdir -p $$(@D)
	$$(say) CC $$@
	$$(Q)$$(CC) $$(CPPFLAGS) -Idaemon $$(ALL_CFLAGS) $(2) -c $$< -o $$@
$(1)/pipecastd: $$(DAEMON_SRC:%.c=$(1)/%.o) $$(LIB_SRC:%.c=$(1)/%.o) $(1)/gen/page.o
	$$(say) LD $$@
	$$(Q)$$(CC) $$(ALL_CFLAGS) $(2) $$(LDFLAGS) $$^ -o $$@ $$(LIBS)
$(1)/pipecastctl: $$(CTL_SRC:%.c=$(1)/%.o) $$(LIB_SRC:%.c=$(1)/%.o)
	$$(say) LD $$@
	$$(Q)$$(CC) $$(ALL_CFLAGS) $(2) $$(LDFLAGS) $$^ -o $$@ $$(LIBS)
$(1)/tests/%: $(1)/tests/unit/%.o $$(LIB_SRC:%.c=$(1)/%.o)
	$$(say) LD $$@
	$$(Q)$$(CC) $$(ALL_CFLAGS) $(2) $$(LDFLAGS) $$^ -o $$@ $$(LIBS) -lcmocka
endef
$(eval $(call tree,build,))
$(eval $(call tree,build/san,$(SANFLAGS)))

# The C checker of the HTTP load test (many raw, SSE and WebSocket clients
# at once).
build/tests/ssecheck: tests/load/ssecheck.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE $< -o $@

# Keep the test objects between runs; plain `make` builds both programs.
.SECONDARY:

PROGS := build/pipecastd $(if $(CTL_SRC),build/pipecastctl)

.PHONY: all deps deps-build test unit integration run clean install uninstall check-minimal
all: $(PROGS)

# What building and running need (make, make run), and what testing needs.
deps-build:
	@tests/deps.sh build
deps:
	@tests/deps.sh test

# Unit tests, then integration tests, each against the plain and the
# sanitizer build; prints one "N passed, N failed" line at the end.
test: deps
	@$(MAKE) --no-print-directory all $(UNITS:%=build/tests/%) build/tests/ssecheck \
	   build/san/pipecastd $(UNITS:%=build/san/tests/%) $(if $(CTL_SRC),build/san/pipecastctl)
	@tests/run-all.sh $(UNITS)

# The demo: PORT picks its port (make run PORT=7171).
PORT ?= 7070
run: deps-build all
	@echo "pipecast demo: a built-in producer writes a timestamped record every 100 ms."
	@echo "This terminal shows the daemon's log. In a second terminal:"
	@echo "  connect a client:   nc 127.0.0.1 $(PORT)"
	@echo "  query the stats:    build/pipecastctl info   (or: build/pipecastctl watch)"
	@echo "Stop the daemon here with Ctrl-C."
	@echo
	@exec build/pipecastd -c conf/demo.conf -o clients.listen=tcp:127.0.0.1:$(PORT)

# The two-command promise on a minimal Debian 12 (run by hand, as root,
# with network access to a Debian mirror; not part of make test): a
# minbase chroot made by mmdebstrap gets a copy of this tree, then
# `make run` must install what it needs, build and serve the demo.
check-minimal:
	tests/minimal-image.sh

# Installation: pipecastctl in BINDIR, pipecastd in SBINDIR, man pages,
# units where systemd looks for local units, the sysusers.d file of the
# `pipecast` system user (systemd-sysusers creates it), the instance
# examples, and the example configuration in /etc/pipecast (an existing
# pipecast.conf is never overwritten). The Debian package installs
# with PREFIX=/usr UNITDIR=/lib/systemd/system (debian/rules).
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
EXAMPLEDIR  ?= $(PREFIX)/share/doc/pipecast/examples
CONFDIR     ?= /etc/pipecast
MANPAGES    := $(wildcard man/*.[158])
UNITS_SD    := pipecast.service pipecast.socket pipecast-stats.socket \
               pipecast@.service pipecast@.socket
EXAMPLES    := conf/weblog.conf conf/sensors.conf

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(EXAMPLEDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 build/pipecastctl $(DESTDIR)$(BINDIR)/
	install -m 0755 build/pipecastd $(DESTDIR)$(SBINDIR)/
	for m in $(MANPAGES); do \
	  s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	  install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	for u in $(UNITS_SD); do \
	  sed -e 's|/usr/local/sbin/|$(SBINDIR)/|' -e 's|/etc/pipecast/|$(CONFDIR)/|' \
	    systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; done
	install -m 0644 systemd/pipecast.sysusers $(DESTDIR)$(SYSUSERSDIR)/pipecast.conf
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(EXAMPLEDIR)/
	if [ -e $(DESTDIR)$(CONFDIR)/pipecast.conf ]; then \
	  echo "keeping the existing $(DESTDIR)$(CONFDIR)/pipecast.conf"; \
	else install -m 0644 conf/pipecast.conf $(DESTDIR)$(CONFDIR)/pipecast.conf; fi
	@[ -n "$(DESTDIR)" ] || echo "the units run as the system user pipecast: create it with" \
	  "systemd-sysusers $(SYSUSERSDIR)/pipecast.conf (systemd also does at boot)"

# Removes what install put in place, except a configuration file and the
# system user.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pipecastctl $(DESTDIR)$(SBINDIR)/pipecastd
	for m in $(MANPAGES); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done
	for u in $(UNITS_SD); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	rm -f $(DESTDIR)$(SYSUSERSDIR)/pipecast.conf
	for e in $(EXAMPLES); do rm -f $(DESTDIR)$(EXAMPLEDIR)/$${e##*/}; done
	-rmdir $(DESTDIR)$(EXAMPLEDIR) $(DESTDIR)$(EXAMPLEDIR)/.. 2>/dev/null

clean:
	rm -rf build

# ---- Debian package --------------------------------------------------------
# `make deb` builds the package from the files git knows of (tracked, or new
# and not ignored) in this tree, copied to build/deb/src (dpkg-buildpackage
# writes next to the tree it builds), leaves build/deb/pipecast_VERSION_ARCH.deb
# with its .changes, and fails on any lintian error or warning. `make test`
# runs debian/tests/smoke against that package's files when it exists.
# `make deb-test` INSTALLS it on this machine (dpkg -i), checks it, and
# purges it again: for CI and for when you ask for it.
DEB_DIR    := build/deb
DEB_SRC    := $(DEB_DIR)/src/pipecast-$(VERSION)
DEB_ARCH    = $(shell dpkg --print-architecture)
DEB         = $(DEB_DIR)/pipecast_$(VERSION)_$(DEB_ARCH).deb
.PHONY: deb deb-test

deb:
	@tests/deps.sh deb
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version); [ "$$v" = "$(VERSION)" ] || \
	  { echo "debian/changelog is at $$v, the Makefile at $(VERSION)"; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git ls-files -z --cached --others --exclude-standard | \
	    tar --null -T - --ignore-failed-read -cf - | tar -xf - -C $(DEB_SRC); \
	else tar --exclude=./build -cf - . | tar -xf - -C $(DEB_SRC); fi
	cd $(DEB_SRC) && dpkg-buildpackage --build=full --no-sign -j2
	mv $(DEB_DIR)/src/pipecast*_$(VERSION)* $(DEB_DIR)/
	rm -rf $(DEB_DIR)/src
	lintian --fail-on error,warning --display-info $(DEB_DIR)/pipecast_$(VERSION)_$(DEB_ARCH).changes
	@echo "built $(DEB)"

deb-test:
	@test -f $(DEB) || { echo "no $(DEB): run make deb first"; exit 1; }
	tests/deb-test.sh $(DEB)

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
# clang, unlike gcc, warns on positional rows that leave trailing fields to
# their zero default (config-table.c's key rows leave `restart` implicit).
FUZZ_CFLAGS        := -std=gnu11 $(WARN) -Wno-missing-field-initializers -O1 -g -fno-omit-frame-pointer \
                      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_OPTS          := -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_TARGETS       := $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
# max_len per target: config lines reach 4 KiB, so its inputs need room.
FUZZ_MAXLEN_fuzz_config  := 16384
FUZZ_MAXLEN_fuzz_ctlalign := 8192
FUZZ_MAXLEN_fuzz_framer  := 8192
FUZZ_MAXLEN_fuzz_statcmd := 2048
FUZZ_MAXLEN_fuzz_ring    := 8192
FUZZ_MAXLEN_fuzz_http    := 10000
FUZZ_MAXLEN_fuzz_sse     := 4096
FUZZ_MAXLEN_fuzz_ws      := 8192
FUZZ_MAXLEN_fuzz_resp    := 4096
FUZZ_MAXLEN_fuzz_sseparse := 8192
FUZZ_MAXLEN_fuzz_chunked := 4096
FUZZ_MAXLEN_fuzz_httpresp := 8192
FUZZ_MAXLEN_fuzz_upurl   := 2048
FUZZ_MAXLEN_fuzz_cidr    := 256
FUZZ_MAXLEN_fuzz_proxyproto := 1024
FUZZ_MAXLEN_fuzz_tokens  := 8192

.PHONY: fuzz fuzz-build fuzz-smoke $(FUZZ_TARGETS:%=fuzz-run-%) $(FUZZ_TARGETS:%=fuzz-smoke-%)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(LIB_SRC) $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(say) FUZZ $@
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) $< $(LIB_SRC) -o $@ $(LIBS)

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
stress: deps all build/tests/ssecheck
	PCTEST_STRESS_CLIENTS=$(PCTEST_STRESS_CLIENTS) PCTEST_STRESS_RECORDS=$(PCTEST_STRESS_RECORDS) \
	  PIPECASTD=build/pipecastd python3 tests/integration/run.py test_load
	PCTEST_HTTP_RECORDS=100000 PIPECASTD=build/pipecastd python3 tests/integration/run.py test_http_load

valgrind: deps all
	@command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind"; exit 1; }
	PCTEST_VALGRIND=1 PIPECASTD=tests/valgrind/pipecastd python3 tests/integration/run.py

# ---- Benchmarks: `make bench` (QUICK=1 for a reduced run); never part of `make test`.
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE
build/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $< -o $@
# SSE against raw fan-out (bench/http.sh): records/s at N = 100 and 1,000.
.PHONY: bench-http bench-relay bench-ws bench-redis
bench-http: build/pipecastd build/tests/ssecheck
	bench/http.sh

# WebSocket against SSE and raw fan-out, and websocketd (bench/ws.sh).
bench-ws: build/pipecastd build/tests/ssecheck
	bench/ws.sh

# The latency each sse: relay hop adds (pipecastd(8), "Scaling out").
bench-relay: build/pipecastd
	python3 bench/relay_latency.py

# One edge fed by Redis against the same edge fed by a FIFO: records/s and
# the latency the Redis hop adds (pipecastd(8), "A Redis stream as the backbone").
bench-redis: build/pipecastd build/pipecastctl
	python3 bench/redis_edge.py

.PHONY: bench
bench: build/pipecastd build/pipecastctl build/bench/loadgen build/bench/raw_ceiling build/bench/pipe_relay
	QUICK=$(QUICK) bench/run.sh
