# SPDX-License-Identifier: Apache-2.0
# linlearn - plain Make. Targets: all test asan ubsan tsan fuzz bench install format format-check
#
# A packager's build: CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS are the caller's and are added after
# the flags linlearn needs (FINAL_* below), so `make CFLAGS=-O1` or `make CPPFLAGS=-DNDEBUG`
# change only what they say. Other variables (docs/BUILD.md):
#   CC, BUILD (output folder), OPT (-O2), DEBUG (-g), WERROR=1 (warnings are errors; CI),
#   SAN (address,undefined / thread), PREFIX, BINDIR, LIBDIR, INCLUDEDIR, PKGCONFIGDIR, DESTDIR.

CC           ?= gcc
BUILD        ?= build
PREFIX       ?= /usr/local
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
OPT          ?= -O2
DEBUG        ?= -g
WERROR       ?= 0
SAN          ?=

# The one place of the version: LL_VERSION in include/linlearn.h (ll_version() returns it).
VERSION := $(shell sed -n 's/^\#define LL_VERSION "\(.*\)"/\1/p' include/linlearn.h)
SOVERSION := $(firstword $(subst ., ,$(VERSION)))

# ---- Required flags (never replaced by the caller's) ----------------------------------------
STD  := -std=c11 -D_GNU_SOURCE
WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif
# The library exports only what include/linlearn.h marks LL_API.
REQ_CFLAGS   := $(STD) -fPIC -pthread -fvisibility=hidden
REQ_CPPFLAGS := -Iinclude
DEP_LIBS     := -lopenblas -lcurl -ljansson -lmicrohttpd -larchive -lexpat -lz -lpthread -lm
ifneq ($(SAN),)
SAN_CFLAGS   := -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_LDFLAGS  := -fsanitize=$(SAN)
endif

# ---- Sources ---------------------------------------------------------------------------------
LIB_SRC  := $(sort $(wildcard src/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
# Test-only support objects: tests/support_*.c are linked into every test binary.
TSUP_SRC := $(sort $(wildcard tests/support_*.c))
EX_SRC   := $(sort $(wildcard examples/*.c))

# ---- Optional features -----------------------------------------------------------------------
# Each feature is one block here: a switch (NAME=0|1, or a probe for a tool) that adds to
#   FEAT_CFLAGS FEAT_CPPFLAGS FEAT_LDFLAGS FEAT_LIBS  (every object and program)
#   FEAT_LIB_SRC FEAT_CLI_SRC                        (extra library / CLI sources)
#   FEAT_TARGETS                                     (extra things `all` builds)
# and, where it needs them, its own rules further down. Example shape (MPI through mpicc):
#   ifeq ($(MPI),1)
#   FEAT_CPPFLAGS += -DLL_HAVE_MPI=1 $(shell mpicc --showme:compile)
#   FEAT_LIBS     += $(shell mpicc --showme:link)
#   endif
FEAT_CFLAGS   :=
FEAT_CPPFLAGS :=
FEAT_LDFLAGS  :=
FEAT_LIBS     :=
FEAT_LIB_SRC  :=
FEAT_CLI_SRC  :=
FEAT_TARGETS  :=

# Open MPI, for training across hosts (src/dist.c, docs/DISTRIBUTED.md): MPI=1, the default when
# mpicc is found, builds dist.c against it; MPI=0 keeps dist.c's one-host stubs and links no MPI.
MPI ?= $(if $(shell command -v mpicc 2>/dev/null),1,0)
ifeq ($(MPI),1)
FEAT_CPPFLAGS += -DLL_MPI=1 $(shell mpicc --showme:compile)
FEAT_LIBS     += $(shell mpicc --showme:link)
endif

# protobuf-c oracle (tests only): the RecordIO tests compare against code protoc-c generates
# from tests/record.proto. Without protoc-c (PROTOC_C=) those programs are replaced by stubs
# that report themselves skipped; the library and the CLI never need it.
PROTOC_C ?= $(shell command -v protoc-c 2>/dev/null)
ORACLE_TESTS := test_pb
ORACLE_FUZZ  := fuzz_record
ifneq ($(PROTOC_C),)
PB_GEN_C   := $(BUILD)/gen/record.pb-c.c
PB_GEN_O   := $(BUILD)/gen/record.pb-c.o
ORACLE_LIB := -lprotobuf-c
endif

# ---- Final flags -----------------------------------------------------------------------------
FINAL_CFLAGS   = $(REQ_CFLAGS) $(WARN) $(OPT) $(DEBUG) $(SAN_CFLAGS) $(FEAT_CFLAGS) $(CFLAGS)
FINAL_CPPFLAGS = $(REQ_CPPFLAGS) $(FEAT_CPPFLAGS) $(CPPFLAGS)
FINAL_LDFLAGS  = $(SAN_LDFLAGS) $(FEAT_LDFLAGS) $(LDFLAGS)
FINAL_LIBS     = $(FEAT_LIBS) $(DEP_LIBS) $(LDLIBS)
# Library, CLI, test and fuzz objects see the private headers; examples only include/.
INT_CPPFLAGS   = -Isrc -I$(BUILD)/gen

LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(sort $(LIB_SRC) $(FEAT_LIB_SRC)))
CLI_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(sort $(CLI_SRC) $(FEAT_CLI_SRC)))
TSUP_OBJ := $(TSUP_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
EX_BIN   := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
ifeq ($(PROTOC_C),)
STUB_BIN := $(ORACLE_TESTS:%=$(BUILD)/tests/%) $(ORACLE_FUZZ:%=$(BUILD)/fuzz/%)
TEST_BIN := $(filter-out $(STUB_BIN),$(TEST_BIN))
FUZZ_BIN := $(filter-out $(STUB_BIN),$(FUZZ_BIN))
endif

STATIC  := $(BUILD)/liblinlearn.a
SHARED  := $(BUILD)/liblinlearn.so
CLI     := $(BUILD)/linlearn

.SECONDARY:
.DELETE_ON_ERROR:

.PHONY: all lib test asan ubsan tsan fuzz fuzz-build bench install format format-check clean

all: lib $(CLI) $(TEST_BIN) $(FUZZ_BIN) $(STUB_BIN) $(EX_BIN) $(FEAT_TARGETS)

lib: $(STATIC) $(SHARED)

# Every object records the headers it includes (-MMD); the .d files are read at the end.
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CPPFLAGS) $(INT_CPPFLAGS) $(FINAL_CFLAGS) -MMD -MP -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,liblinlearn.so.$(SOVERSION) $(FINAL_CFLAGS) $(FINAL_LDFLAGS) -o $@ $^ $(FINAL_LIBS)

$(CLI): $(CLI_OBJ) $(STATIC)
	$(CC) $(FINAL_CFLAGS) $(FINAL_LDFLAGS) -o $@ $(CLI_OBJ) $(STATIC) $(FINAL_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TSUP_OBJ) $(PB_GEN_O) $(STATIC)
	$(CC) $(FINAL_CFLAGS) $(FINAL_LDFLAGS) -o $@ $< $(TSUP_OBJ) $(PB_GEN_O) $(STATIC) $(FINAL_LIBS) $(ORACLE_LIB)

# Examples use only the public header (no -Isrc).
$(BUILD)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CPPFLAGS) $(FINAL_CFLAGS) -MMD -MP $(FINAL_LDFLAGS) -o $@ $< $(STATIC) $(FINAL_LIBS)

# Fuzz targets also build as plain programs that replay their corpus (fuzz/replay_main.c).
$(BUILD)/fuzz/%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz_main/replay_main.o $(PB_GEN_O) $(STATIC)
	$(CC) $(FINAL_CFLAGS) $(FINAL_LDFLAGS) -o $@ $< $(BUILD)/fuzz_main/replay_main.o $(PB_GEN_O) $(STATIC) $(FINAL_LIBS) $(ORACLE_LIB)

$(BUILD)/fuzz_main/replay_main.o: fuzz/replay_main.c
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CPPFLAGS) $(INT_CPPFLAGS) $(FINAL_CFLAGS) -MMD -MP -c $< -o $@

ifneq ($(PROTOC_C),)
$(PB_GEN_C): tests/record.proto
	@mkdir -p $(BUILD)/gen
	$(PROTOC_C) --proto_path=tests --c_out=$(BUILD)/gen tests/record.proto
$(PB_GEN_O): $(PB_GEN_C)
	$(CC) $(FINAL_CPPFLAGS) -I$(BUILD)/gen $(FINAL_CFLAGS) -w -c $< -o $@
# The generated header must exist before the first compile of its users.
$(ORACLE_TESTS:%=$(BUILD)/tests/%.o) $(ORACLE_FUZZ:%=$(BUILD)/fuzz/%.o): $(PB_GEN_C)
else
# Stubs: scripts/run-tests counts them as skipped, with the reason.
$(STUB_BIN):
	@mkdir -p $(dir $@)
	printf '#!/bin/sh\necho "  skipped: protoc-c not found (the protobuf-c oracle of %s)"\necho "[%s] 0 passed, 0 failed, 1 skipped"\n' $(notdir $@) $(notdir $@) > $@
	chmod +x $@
endif

test: all
	BUILD=$(BUILD) sh scripts/run-tests

asan:
	$(MAKE) BUILD=build-asan SAN=address,undefined OPT=-O1 test

ubsan:
	$(MAKE) BUILD=build-ubsan SAN=undefined OPT=-O1 test

tsan:
	$(MAKE) BUILD=build-tsan SAN=thread OPT=-O1 test

# libFuzzer builds (clang), run for FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
FUZZ_SAN := fuzzer,address,undefined
FUZZ_TARGETS := $(if $(PROTOC_C),$(FUZZ_SRC),$(filter-out $(ORACLE_FUZZ:%=fuzz/%.c),$(FUZZ_SRC)))
fuzz-build:
	$(MAKE) BUILD=build-fuzz CC=clang SAN=fuzzer-no-link,address,undefined OPT=-O1 build-fuzz/liblinlearn.a $(if $(PROTOC_C),build-fuzz/gen/record.pb-c.o)
	@mkdir -p build-fuzz/libfuzzer
	for f in $(FUZZ_TARGETS); do n=$$(basename $$f .c); \
	  clang $(FINAL_CPPFLAGS) -Isrc -Ibuild-fuzz/gen $(STD) -O1 -g -fsanitize=$(FUZZ_SAN) -fno-sanitize-recover=all $(CFLAGS) \
	    -o build-fuzz/libfuzzer/$$n $$f build-fuzz/liblinlearn.a $(if $(PROTOC_C),build-fuzz/gen/record.pb-c.o) $(FINAL_LIBS) $(ORACLE_LIB) || exit 1; done

fuzz: fuzz-build
	sh scripts/run-fuzz $(FUZZ_SECONDS)

bench: all
	sh bench/run

install: $(STATIC) $(SHARED) $(CLI)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/linlearn
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/liblinlearn.a
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/liblinlearn.so.$(VERSION)
	ln -sf liblinlearn.so.$(VERSION) $(DESTDIR)$(LIBDIR)/liblinlearn.so.$(SOVERSION)
	ln -sf liblinlearn.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/liblinlearn.so
	install -m 644 include/linlearn.h $(DESTDIR)$(INCLUDEDIR)/linlearn.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	  -e 's|@VERSION@|$(VERSION)|g' -e 's|@LIBS@|$(strip $(FEAT_LIBS) $(DEP_LIBS))|g' \
	  scripts/linlearn.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/linlearn.pc

FORMAT_FILES = $(wildcard include/*.h src/*.c src/*.h cli/*.c cli/*.h tests/*.c tests/*.h fuzz/*.c bench/*.c examples/*.c)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build build-asan build-ubsan build-tsan build-fuzz build-clang build-pkg

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
