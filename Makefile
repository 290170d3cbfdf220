# sluice — one top-level Makefile.
#
#   make            build every binary into build/bin/
#   make test       install what is missing, build, run unit + integration tests
#   make demo       install what is missing, start a local farm, run examples/, stop it
#   make asan       build and run the unit tests under ASan+UBSan (build-asan/)
#   make fuzz       build the libFuzzer targets and run each for FUZZ_SECONDS
#   make bench      build and run the benchmarks in bench/
#
# Sources are found by folder: common/*.c is the static library libsluice.a;
# each process folder (broker/ worker/ approver/ client/) is an archive of its
# non-main objects plus a thin main.c.  Unit tests are tests/unit/test_*.c, one
# binary each; fuzz targets are tests/fuzz/fuzz_*.c.

BUILD    ?= build
CC       ?= cc
PKGS     := libczmq libzmq msgpack libseccomp libhs rocksdb jansson libsodium libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
OPT      ?= -O2 -g
CFLAGS   += -std=gnu11 $(OPT) $(WARN) $(HARDEN) -D_GNU_SOURCE -I. $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS  += -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(EXTRA_LDFLAGS)

MAINS        := broker/main.c worker/main.c approver/main.c client/main.c client/mcp_main.c \
                client/audit_main.c client/front_main.c
COMMON_SRC   := $(wildcard common/*.c)
BROKER_SRC   := $(filter-out $(MAINS),$(wildcard broker/*.c))
WORKER_SRC   := $(filter-out $(MAINS),$(wildcard worker/*.c))
APPROVER_SRC := $(filter-out $(MAINS),$(wildcard approver/*.c))
CLIENT_SRC   := $(filter-out $(MAINS),$(wildcard client/*.c))
UNIT_SRC     := $(wildcard tests/unit/test_*.c)
INTEG_TOOLS  := $(wildcard tests/integ/tools/*.c)
BENCH_SRC    := $(wildcard bench/*.c)
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_COMMON   := $(BUILD)/lib/libsluice.a
LIB_BROKER   := $(BUILD)/lib/libbroker.a
LIB_WORKER   := $(BUILD)/lib/libworker.a
LIB_APPROVER := $(BUILD)/lib/libapprover.a
LIB_CLIENT   := $(BUILD)/lib/libclient.a
PROC_LIBS    := $(LIB_BROKER) $(LIB_WORKER) $(LIB_APPROVER) $(LIB_CLIENT) $(LIB_COMMON)

BINS := $(BUILD)/bin/sluice-broker $(BUILD)/bin/sluice-worker $(BUILD)/bin/sluice
BINS += $(BUILD)/bin/sluice-jail-init
BINS += $(BUILD)/bin/sluice-cli
BINS += $(BUILD)/bin/sluice-audit
ifneq ($(wildcard approver/main.c),)
BINS += $(BUILD)/bin/sluice-approver
endif
ifneq ($(wildcard client/mcp_main.c),)
BINS += $(BUILD)/bin/sluice-mcp
endif
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/test/%,$(UNIT_SRC))
TOOL_BINS  := $(patsubst tests/integ/tools/%.c,$(BUILD)/test/%,$(INTEG_TOOLS))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps test unit integ demo asan fuzz bench clean check-banned
# Objects built through pattern chains (tests, tools, benches) are kept, so a
# second `make` does not rebuild them.
.SECONDARY:
.DEFAULT_GOAL := all

all: $(BINS) $(UNIT_BINS) $(TOOL_BINS) $(BENCH_BINS)

deps:
	@ops/install-deps.sh --if-needed

# The archive of an empty folder still has to exist for the link lines.
define archive
$(1): $(call obj,$(2))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(AR) rcs $$@ $$^ $(BUILD)/obj/.empty.o
endef
$(eval $(call archive,$(LIB_COMMON),$(COMMON_SRC)))
$(eval $(call archive,$(LIB_BROKER),$(BROKER_SRC)))
$(eval $(call archive,$(LIB_WORKER),$(WORKER_SRC)))
$(eval $(call archive,$(LIB_APPROVER),$(APPROVER_SRC)))
$(eval $(call archive,$(LIB_CLIENT),$(CLIENT_SRC)))
$(PROC_LIBS): $(BUILD)/obj/.empty.o

$(BUILD)/obj/.empty.o:
	@mkdir -p $(dir $@)
	echo 'extern int sluice_empty_unit_; int sluice_empty_unit_;' | $(CC) -x c -c -o $@ -

# The default risk rules are embedded with .incbin: rebuild when they change.
$(BUILD)/obj/common/risk_rules.o: schemas/risk_rules.tsv
$(BUILD)/obj/worker/prelude.o: worker/prelude.ts

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/bin/sluice-broker: $(call obj,broker/main.c) $(PROC_LIBS)
$(BUILD)/bin/sluice-worker: $(call obj,worker/main.c) $(PROC_LIBS)
$(BUILD)/bin/sluice-approver: $(call obj,approver/main.c) $(PROC_LIBS)
$(BUILD)/bin/sluice-cli: $(call obj,client/main.c) $(PROC_LIBS)
$(BUILD)/bin/sluice-mcp: $(call obj,client/mcp_main.c) $(PROC_LIBS)
$(BUILD)/bin/sluice-audit: $(call obj,client/audit_main.c) $(PROC_LIBS)
$(BUILD)/bin/%:
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROC_LIBS) $(PKG_LIBS)

# `sluice` is the front binary (client/front_main.c): libc only, so these
# objects must not need libsluice.a's dependencies.  It is linked from its
# objects alone, with no pkg-config libraries: a new dependency fails here.
FRONT_SRC := client/front_main.c client/front.c client/zmtp.c client/runjob.c \
             common/endpoint.c common/msg.c common/mpread.c common/util.c common/err.c \
             common/privacy_mode.c common/paths.c
$(BUILD)/bin/sluice: $(call obj,$(FRONT_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

# What a jail's init execs once its job runs (worker/init/main.c): static
# and without a C library (it makes its own syscalls), so it starts in
# microseconds inside the jail's root; no sanitizer runtime.
$(BUILD)/bin/sluice-jail-init: worker/init/main.c worker/jail_msg.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) -I. -ffreestanding -fno-stack-protector -fno-pie \
	    -static -nostdlib -o $@ worker/init/main.c

$(BUILD)/test/%: $(BUILD)/obj/tests/unit/%.o $(PROC_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(PROC_LIBS) $(PKG_LIBS) $(shell pkg-config --libs cmocka)

$(BUILD)/test/%: $(BUILD)/obj/tests/integ/tools/%.o $(PROC_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROC_LIBS) $(PKG_LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(PROC_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(PROC_LIBS) $(PKG_LIBS)

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory check-banned
	@tests/run.sh $(BUILD)

unit: all
	@tests/run.sh $(BUILD) unit

integ: all
	@tests/run.sh $(BUILD) integ

demo: deps
	@$(MAKE) --no-print-directory all
	@ops/demo.sh $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined" \
	    HARDEN="-fPIE" EXTRA_LDFLAGS="-fsanitize=address,undefined" all
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 tests/run.sh build-asan unit

FUZZ_SECONDS ?= 60
fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined" \
	    HARDEN="-fPIE" $(patsubst tests/fuzz/%.c,build-fuzz/fuzz/%,$(FUZZ_SRC))
	@tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

build-fuzz/fuzz/%: build-fuzz/obj/tests/fuzz/%.o $(subst $(BUILD)/,build-fuzz/,$(PROC_LIBS))
	@mkdir -p $(dir $@)
	clang -fsanitize=fuzzer,address,undefined -o $@ $< $(subst $(BUILD)/,build-fuzz/,$(PROC_LIBS)) $(PKG_LIBS) -lstdc++

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run.sh $(BUILD)

# STYLE.md bans these; the check keeps them out.
check-banned:
	@if grep -nE '\b(strcpy|sprintf|atoi|strtok|system)[[:space:]]*\(' \
	    $$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]') ; then \
	    echo "banned function used (see docs/STYLE or STYLE.md)"; exit 1; fi

clean:
	rm -rf build build-asan build-fuzz build-trace

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
