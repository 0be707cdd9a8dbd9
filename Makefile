# SPDX-License-Identifier: MIT
#
# make            build everything into build/
# make test       host unit tests, then the privileged suite (in the VM when
#                 this kernel cannot run BPF LSM programs)
# make demo       the newcomer's tour, in the VM where needed
# make deps       install the Debian packages the build and tests need
# make fuzz       run the policy fuzzer (FUZZ_SECONDS, default 600)
# make fuzz-smoke a short run of every fuzzer (FUZZ_SMOKE_SECONDS each, default 20)
# make install    install binaries, library, header, bulwark.pc, libbulwark(3), bulwark.policy(5)
# make unit-test-asan  the unit tests under ASan, LSan and UBSan (in build/asan)
# make lib-check  the library as vendors see it: exports, ABI, bulwark.pc, a consumer
# make abi-check  the ABI against src/lib/libbulwark.abi (abi-baseline rewrites it)

# SAN=1 builds with ASan, LSan and UBSan, in a tree of its own.
ifdef SAN
BUILD     ?= build/asan
else
BUILD     ?= build
endif
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PKGS      := libbpf json-c libsodium sqlite3 nettle
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN      := -Wall -Wextra -Werror -Wno-unused-parameter
HARDEN    := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC
CFLAGS    ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) $(WARN) $(HARDEN) -std=gnu11 -Iinclude -I$(BUILD) $(PKG_CFLAGS) -MMD -MP
LDHARDEN  := -Wl,-z,relro,-z,now -pie
ifdef SAN
# _FORTIFY_SOURCE's checked calls hide accesses from ASan: off here.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS)) $(SAN_FLAGS)
LDHARDEN  += $(SAN_FLAGS)
endif
SOVERSION := 0

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Werror -Ibpf -I$(BUILD)
# Another build of the same source (tests/vm/t_upgrade.sh): a different BPF object.
ifdef BPF_SALT
BPF_CFLAGS += -DBW_BUILD_SALT=$(BPF_SALT)
endif

LIB_SRCS  := src/policy/parse.c src/lib/compile.c src/lib/client.c src/lib/event.c src/lib/check.c src/lib/explain.c src/lib/pins.c src/lib/ancestry.c src/lib/sign.c \
	src/lib/trust.c src/lib/trust_hash.c src/lib/trust_dpkg.c src/lib/strpool.c
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
D_SRCS    := src/daemon/main.c src/daemon/server.c src/daemon/proto.c src/daemon/control.c \
	src/daemon/policy.c src/daemon/events.c src/daemon/kernel.c src/daemon/log.c src/daemon/drift.c src/daemon/watchdog.c \
	src/daemon/trust.c src/daemon/layers.c src/daemon/grants.c
D_OBJS    := $(D_SRCS:%.c=$(BUILD)/%.o)
CLI_SRCS  := src/cli/main.c src/cli/trust.c src/cli/suggest.c
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/%.o)
UNIT_TESTS := test_parse test_compile test_event test_precedence test_proto test_server test_trust test_sign \
	test_api test_oom test_client test_drift
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/%)
VM_HELPERS := $(BUILD)/tests/bwtry $(BUILD)/tests/bwsub $(BUILD)/tests/bwlayer $(BUILD)/tests/bwreset $(BUILD)/tests/bwevil $(BUILD)/tests/evil.bpf.o \
	      $(BUILD)/tests/evil-preload.so $(BUILD)/tests/trust-lib.so

BENCH_TOOLS := $(BUILD)/bench/execloop $(BUILD)/bench/opbench $(BUILD)/bench/verify-cost \
	$(BUILD)/bench/floorload $(BUILD)/bench/hookstats $(BUILD)/bench/floor.bpf.o \
	$(BUILD)/bench/dlopenloop $(BUILD)/bench/dlopenlib.so $(BUILD)/bench/eventcost

.PHONY: all install test unit-test unit-test-asan lib-check abi-check abi-baseline api-reference FORCE vm-test demo deps clean fuzz fuzz-smoke bench bench-against bench-more upgrade-from
all: $(BUILD)/bulwarkd $(BUILD)/bulwark $(BUILD)/libbulwark.a $(BUILD)/libbulwark.so \
	$(BUILD)/bulwark.pc $(BUILD)/man/bulwark.policy.5 $(BUILD)/man/libbulwark.3 \
	$(BUILD)/examples/mini-edr

# The policy reference is written once, in docs/policy.md, and rendered.
$(BUILD)/man/bulwark.policy.5: docs/policy.md
	@mkdir -p $(dir $@)
	{ printf '%% BULWARK.POLICY 5 "" "bulwark" "File Formats"\n'; cat $<; } | go-md2man > $@.tmp && mv $@.tmp $@

# The library's reference, generated from bulwark.h (scripts/api-reference),
# committed as docs/api/reference.md and rendered as libbulwark(3).
api-reference:
	scripts/api-reference >docs/api/reference.md.tmp && mv docs/api/reference.md.tmp docs/api/reference.md

$(BUILD)/man/libbulwark.3: docs/api/reference.md
	@mkdir -p $(dir $@)
	{ printf '%% LIBBULWARK 3 "" "bulwark" "Library Functions"\n'; sed 1d $<; } | go-md2man > $@.tmp && mv $@.tmp $@

PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR ?=
# Install what a host running bulwark needs; `make install DESTDIR=...` stages it.
install: all
	install -D -m 755 $(BUILD)/bulwarkd $(DESTDIR)$(PREFIX)/sbin/bulwarkd
	install -D -m 755 $(BUILD)/bulwark $(DESTDIR)$(PREFIX)/bin/bulwark
	install -D -m 644 $(BUILD)/libbulwark.a $(DESTDIR)$(LIBDIR)/libbulwark.a
	install -D -m 755 $(BUILD)/libbulwark.so $(DESTDIR)$(LIBDIR)/libbulwark.so.$(SOVERSION)
	ln -sf libbulwark.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libbulwark.so
	install -D -m 644 include/bulwark/bulwark.h $(DESTDIR)$(INCLUDEDIR)/bulwark/bulwark.h
	install -D -m 644 $(BUILD)/bulwark.pc $(DESTDIR)$(LIBDIR)/pkgconfig/bulwark.pc
	install -D -m 644 $(BUILD)/man/bulwark.policy.5 $(DESTDIR)$(PREFIX)/share/man/man5/bulwark.policy.5
	install -D -m 644 $(BUILD)/man/libbulwark.3 $(DESTDIR)$(PREFIX)/share/man/man3/libbulwark.3
	install -d -m 755 $(DESTDIR)/etc/bulwark/policy.d
	# The apt hook (docs/trust.md): the admin copies the snippet into /etc/apt/apt.conf.d.
	install -d -m 755 $(DESTDIR)$(PREFIX)/lib/bulwark $(DESTDIR)$(PREFIX)/share/bulwark/apt
	sed 's|/usr/local/|$(PREFIX)/|g' packaging/apt/apt-trust-hook >$(DESTDIR)$(PREFIX)/lib/bulwark/apt-trust-hook
	chmod 755 $(DESTDIR)$(PREFIX)/lib/bulwark/apt-trust-hook
	sed 's|/usr/local/|$(PREFIX)/|g' packaging/apt/99bulwark-trust >$(DESTDIR)$(PREFIX)/share/bulwark/apt/99bulwark-trust

# pkg-config for vendors: the version is the header's, the paths this
# build's (rewritten only when they change, so PREFIX=... takes effect).
# The dependencies are Libs.private, not Requires.private: bulwark.h
# includes none of their headers, and a shared-library user then needs
# none of their -dev packages (docs/decisions.md).
BW_VERSION = $(shell sed -n 's/^\#define BULWARK_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' include/bulwark/bulwark.h | paste -sd.)
$(BUILD)/bulwark.pc: include/bulwark/bulwark.h FORCE | $(BUILD)
	@{ echo 'prefix=$(PREFIX)'; \
	  echo 'libdir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))'; \
	  echo 'includedir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))'; \
	  echo; \
	  echo 'Name: bulwark'; \
	  echo 'Description: libbulwark, the C API of the bulwark BPF LSM protection layer'; \
	  echo 'Version: $(BW_VERSION)'; \
	  echo 'Libs: -L$${libdir} -lbulwark'; \
	  echo 'Libs.private: $(strip $(PKG_LIBS))'; \
	  echo 'Cflags: -I$${includedir}'; } >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:

$(BUILD)/bulwark.bpf.o: bpf/bulwark.bpf.c $(wildcard bpf/*.h) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bulwark.skel.h: $(BUILD)/bulwark.bpf.o
	$(BPFTOOL) gen skeleton $< name bulwark_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/src/daemon/kernel.o: $(BUILD)/bulwark.skel.h

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libbulwark.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libbulwark.so: $(LIB_OBJS) src/lib/libbulwark.map
	$(CC) -shared -Wl,-soname,libbulwark.so.$(SOVERSION) -Wl,--version-script=src/lib/libbulwark.map \
		-Wl,-z,relro,-z,now -o $@ $(LIB_OBJS) $(PKG_LIBS)

$(BUILD)/bulwarkd: $(D_OBJS) $(BUILD)/libbulwark.a
	$(CC) $(LDHARDEN) -o $@ $(D_OBJS) $(BUILD)/libbulwark.a $(PKG_LIBS)

$(BUILD)/bulwark: $(CLI_OBJS) $(BUILD)/libbulwark.a
	$(CC) $(LDHARDEN) -o $@ $(CLI_OBJS) $(BUILD)/libbulwark.a $(PKG_LIBS)

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(BUILD)/libbulwark.a
	$(CC) $(LDHARDEN) $(TEST_LDFLAGS) -o $@ $< $(BUILD)/libbulwark.a $(PKG_LIBS) -lcmocka

# Out of memory at every allocation in turn (tests/unit/oom.h): the
# library's allocator calls are wrapped.
$(BUILD)/tests/test_oom $(BUILD)/tests/test_client: TEST_LDFLAGS = $(foreach f,malloc calloc \
	realloc strdup strndup asprintf vasprintf __asprintf_chk __vasprintf_chk,-Wl,--wrap=$(f))

# The decoder is bulwarkd's, not the library's: link its object directly.
$(BUILD)/tests/test_proto: $(BUILD)/tests/unit/test_proto.o $(BUILD)/src/daemon/proto.o
	$(CC) $(LDHARDEN) -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/tests/test_server: $(BUILD)/tests/unit/test_server.o $(BUILD)/src/daemon/server.o $(BUILD)/src/daemon/log.o
	$(CC) $(LDHARDEN) -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/tests/test_drift: $(BUILD)/tests/unit/test_drift.o $(BUILD)/src/daemon/drift.o $(BUILD)/src/daemon/log.o \
		$(BUILD)/libbulwark.a
	$(CC) $(LDHARDEN) -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/tests/bwtry: $(BUILD)/tests/vm/bwtry.o
	$(CC) $(LDHARDEN) -o $@ $< -lpthread

# The red team's own BPF programs and their loader (tests/redteam/t_attack.sh).
$(BUILD)/tests/evil.bpf.o: tests/redteam/evil.bpf.c bpf/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# A vendor's event loop on libbulwark's subscription API (t_subscribe.sh).
$(BUILD)/tests/bwsub: tests/vm/bwsub.c $(BUILD)/libbulwark.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -Iinclude $(LDHARDEN) -o $@ $< $(BUILD)/libbulwark.a $(PKG_LIBS) -lpthread

# The vendor example: the public header and the library only (examples/mini-edr.c).
$(BUILD)/examples/mini-edr: examples/mini-edr.c include/bulwark/bulwark.h $(BUILD)/libbulwark.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -Iinclude $(LDHARDEN) -o $@ $< $(BUILD)/libbulwark.a $(PKG_LIBS)

# A vendor's client layer on libbulwark (t_layers.sh).
$(BUILD)/tests/bwlayer: tests/vm/bwlayer.c $(BUILD)/libbulwark.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -Iinclude $(LDHARDEN) -o $@ $< $(BUILD)/libbulwark.a $(PKG_LIBS) -lpthread

# The suite's reset between test files, keeping the verified programs (tests/vm/lib.sh).
$(BUILD)/tests/bwreset: tests/vm/bwreset.c bpf/abi.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(LDHARDEN) -o $@ $< -lbpf

$(BUILD)/tests/bwevil: tests/redteam/bwevil.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDHARDEN) -o $@ $< -lbpf

$(BUILD)/tests/trust-lib.so: tests/vm/trust-lib.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $<

$(BUILD)/tests/evil-preload.so: tests/redteam/evil-preload.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $<

$(BUILD):
	@mkdir -p $@

# Host-only tests: no privileges, no BPF. The trust check hashes /usr.
unit-test: $(BUILD)/bulwark $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)
	@tests/trust/check.sh

# The unit tests again with ASan, LSan and UBSan (docs/api.md, "Stability and
# quality"): a leak on any path they take, an overflow or UB fails them.
SAN_UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/asan/tests/%)
unit-test-asan:
	@$(MAKE) --no-print-directory SAN=1 BUILD=$(BUILD)/asan $(SAN_UNIT_BINS)
	@ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:strict_string_checks=1:detect_stack_use_after_return=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run-unit $(SAN_UNIT_BINS)

# The ABI against the committed baseline (abigail-tools): added functions
# are fine, and so is an options struct growing at its end; any other
# change fails. A release that means to change the ABI runs abi-baseline
# and commits the new src/lib/libbulwark.abi with it.
ABIDW_FLAGS := --headers-dir include/bulwark --drop-private-types --no-corpus-path --no-comp-dir-path
abi-check: $(BUILD)/libbulwark.so
	abidiff --headers-dir2 include/bulwark --no-added-syms \
		--suppressions src/lib/libbulwark.abignore src/lib/libbulwark.abi $<
abi-baseline: $(BUILD)/libbulwark.so
	abidw $(ABIDW_FLAGS) $< --out-file src/lib/libbulwark.abi

# The library as a vendor gets it: exported symbols against the map and
# the header, no mutable globals or abort in its objects, and a consumer
# built from a `make install DESTDIR=...` through pkg-config.
lib-check: all
	@tests/lib/check.sh

# The privileged suite; tests/run picks the VM when the host cannot run LSM.
vm-test: all $(VM_HELPERS)
	@tests/vm/run-suite

test: all $(UNIT_BINS) $(VM_HELPERS) $(BENCH_TOOLS) upgrade-from
	@tests/run $(UNIT_BINS)

# The bulwark the upgrade test starts from (scripts/build-upgrade-from).
upgrade-from:
	@scripts/build-upgrade-from

demo: all $(VM_HELPERS)
	@examples/demo.sh

deps:
	@scripts/install-deps

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The fuzzer: clang, libFuzzer, ASan and UBSan, over parser and compiler.
FUZZ_SECONDS ?= 600
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Iinclude $(PKG_CFLAGS)
$(BUILD)/fuzz/fuzz_policy: tests/fuzz/fuzz_policy.c $(LIB_SRCS) $(wildcard src/policy/*.h src/lib/*.h bpf/abi.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_policy.c $(LIB_SRCS) $(PKG_LIBS)

$(BUILD)/fuzz/fuzz_proto: tests/fuzz/fuzz_proto.c src/daemon/proto.c src/daemon/proto.h
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_proto.c src/daemon/proto.c $(PKG_LIBS)

# make fuzz: FUZZ_SECONDS of fuzzing from the seed corpus; new inputs are
# kept in build/fuzz/corpus, crashes in build/fuzz/ (and fail the run).
fuzz: $(BUILD)/fuzz/fuzz_policy
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_policy -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=8192 \
		-artifact_prefix=$(BUILD)/fuzz/ -print_final_stats=1 $(BUILD)/fuzz/corpus tests/fuzz/corpus

# A short fuzz run for CI: fails on any crash, leak or UB. Each target
# gets FUZZ_SMOKE_SECONDS (default 20).
FUZZ_SMOKE = @mkdir -p $(BUILD)/fuzz/smoke-$(1) && \
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$${FUZZ_SMOKE_SECONDS:-20} -timeout=10 -max_len=$(3) \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/smoke-$(1) $(2) >$(BUILD)/fuzz/smoke-$(1).log 2>&1 \
		&& echo "fuzz $(1): 1 passed, 0 failed ($$(grep -o 'Done [0-9]* runs' $(BUILD)/fuzz/smoke-$(1).log))" \
		|| { tail -n 30 $(BUILD)/fuzz/smoke-$(1).log; echo "fuzz $(1): 0 passed, 1 failed"; exit 1; }
fuzz-smoke: $(BUILD)/fuzz/fuzz_policy $(BUILD)/fuzz/fuzz_proto
	$(call FUZZ_SMOKE,policy,tests/fuzz/corpus,8192)
	$(call FUZZ_SMOKE,proto,tests/fuzz/proto-corpus,4096)
	@echo "fuzz: 2 passed, 0 failed"

$(BUILD)/bench/execloop: bench/execloop.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

$(BUILD)/bench/opbench: bench/opbench.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< -lpthread

# bulwarkd's work per event, natively: its objects but main.o (bench/eventcost.c).
$(BUILD)/bench/eventcost: $(BUILD)/bench/eventcost.o $(filter-out $(BUILD)/src/daemon/main.o,$(D_OBJS)) \
		$(BUILD)/libbulwark.a
	$(CC) $(LDHARDEN) -o $@ $^ $(PKG_LIBS)

$(BUILD)/bench/dlopenloop: bench/dlopenloop.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

$(BUILD)/bench/dlopenlib.so: bench/dlopenlib.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -shared -fPIC -o $@ $<

$(BUILD)/bench/verify-cost: bench/verify-cost.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

$(BUILD)/bench/floorload $(BUILD)/bench/hookstats $(BUILD)/bench/imabench: $(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

# The floor: an empty program on each of bulwark's attach points.
$(BUILD)/bench/floor.bpf.o: bpf/bulwark.bpf.c bench/floor-gen
	@mkdir -p $(dir $@)
	bench/floor-gen $< >$(BUILD)/bench/floor.bpf.c
	$(CLANG) $(BPF_CFLAGS) -c $(BUILD)/bench/floor.bpf.c -o $@

# bench/page-cost.sh: one object per variant of bench/page-cost.bpf.c.
PAGE_COST_OBJS := $(foreach v,0 1 2 3 4,$(BUILD)/bench/page-cost-$(v).bpf.o)
$(BUILD)/bench/page-cost-%.bpf.o: bench/page-cost.bpf.c bpf/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -DPAGE_VARIANT=$* -c $< -o $@

$(BUILD)/bench/ima.bpf.o: bench/ima.bpf.c bpf/vmlinux.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Benchmarks: ratios against the bare kernel, the floor and fapolicyd, taken in one VM
# run each. `make bench`: the Benchmarks issue's recurring report (per hook with the
# slope over rule count, fapolicyd, the daemon, events), then the goals in one table
# (bench/summary.sh, which also quotes the newest before/after report). QUICK=1: the
# per-hook report only, one round of the floor and 10 rules (under 3 minutes; make
# test runs it so the bench cannot rot). One boot, on 6.1: the kernel the issue measured,
# and fapolicyd's first start and bulwarkd's are compared on the same kernel.
# `make bench-against`: the before/after study, this build against 9e6aa24 (the
# commit the Benchmarks issue measured) in one boot with one CPU; about 10 minutes,
# 40% of it the two builds' first starts (docs/performance.md).
# `make bench-more`: the studies behind earlier decisions (verification cost,
# exec and op rule scaling, trust map vs IMA, what a page costs under emulation) and
# `make bench`'s measures on the other kernel (6.12).
bench: all $(BENCH_TOOLS)
ifeq ($(QUICK),1)
	vm/run -- env QUICK=1 bench/hook-cost.sh
else
	vm/run --kernel 6.1 --timeout 3600 -- sh -c 'bench/hook-cost.sh && bench/fapolicyd.sh && bench/daemon-cost.sh && bench/events.sh'
	bench/summary.sh
endif

bench-against: all $(BENCH_TOOLS) upgrade-from
	BULWARK_VM_SMP=1 vm/run --kernel 6.1 -- bench/against.sh
	bench/summary.sh

bench-more: all $(BENCH_TOOLS) $(BUILD)/bench/ima.bpf.o $(BUILD)/bench/imabench $(PAGE_COST_OBJS) upgrade-from
	bench/compile-rules.sh
	vm/run --kernel 6.1 -- bench/verify-cost.sh
	vm/run --kernel 6.12 -- bench/verify-cost.sh
	vm/run --kernel 6.12 -- bench/hook-cost.sh
	BULWARK_VM_SMP=1 vm/run --kernel 6.12 -- bench/against.sh
	vm/run -- bench/exec-rules.sh
	vm/run -- bench/op-rules.sh
	vm/run --kernel 6.1 -- bench/trust-exec.sh
	vm/run --kernel 6.12 -- bench/trust-exec.sh
	vm/run --kernel 6.12 --timeout 3600 -- sh -c 'bench/fapolicyd.sh && bench/daemon-cost.sh && bench/events.sh'
	BULWARK_VM_SMP=1 vm/run --kernel 6.1 -- bench/page-cost.sh
.SECONDARY:
