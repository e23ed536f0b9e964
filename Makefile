# SPDX-License-Identifier: Apache-2.0
# linlearn - plain Make. Targets: all test asan ubsan tsan fuzz bench install format format-check
# Variables: CC, BUILD (output folder), SAN (address,undefined / thread), PREFIX.

CC      ?= gcc
BUILD   ?= build
PREFIX  ?= /usr/local
SAN     ?=
OPT     ?= -O2
VERSION := 0.1.0

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -fPIC $(WARN) -Iinclude -pthread
ifneq ($(SAN),)
CFLAGS  += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SAN)
endif
LIBS    := -lopenblas -lcurl -ljansson -lmicrohttpd -larchive -lexpat -lz -lpthread -lm

LIB_SRC  := $(sort $(wildcard src/*.c))
CLI_SRC  := $(sort $(wildcard cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
# Test-only support objects: tests/support_*.c are linked into every test binary.
TSUP_SRC := $(sort $(wildcard tests/support_*.c))
EX_SRC   := $(sort $(wildcard examples/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TSUP_OBJ := $(TSUP_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
EX_BIN   := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)

STATIC  := $(BUILD)/liblinlearn.a
SHARED  := $(BUILD)/liblinlearn.so
CLI     := $(BUILD)/linlearn

# protobuf-c oracle (test-only): generated from tests/record.proto when present
PROTO      := $(wildcard tests/record.proto)
ifneq ($(PROTO),)
PB_GEN_C   := $(BUILD)/gen/record.pb-c.c
PB_GEN_O   := $(BUILD)/gen/record.pb-c.o
ORACLE_LIB := -lprotobuf-c
endif

.SECONDARY:

.PHONY: all test asan ubsan tsan fuzz fuzz-build bench install format format-check clean check-all

all: $(STATIC) $(SHARED) $(CLI) $(TEST_BIN) $(FUZZ_BIN) $(EX_BIN)

$(BUILD)/%.o: %.c $(wildcard include/*.h src/*.h tests/*.h) | $(PB_GEN_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -I$(BUILD)/gen -MMD -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,liblinlearn.so.0 $(LDFLAGS) -o $@ $^ $(LIBS)

$(CLI): $(CLI_OBJ) $(STATIC)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(STATIC) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TSUP_OBJ) $(PB_GEN_O) $(STATIC)
	$(CC) $(LDFLAGS) -o $@ $< $(TSUP_OBJ) $(PB_GEN_O) $(STATIC) $(LIBS) $(ORACLE_LIB)

# Examples use only the public header (no -Isrc).
$(BUILD)/examples/%: examples/%.c include/linlearn.h $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC) $(LIBS)

# Fuzz targets also build as plain programs that replay their corpus (fuzz/replay_main.c).
$(BUILD)/fuzz/%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz_main/replay_main.o $(PB_GEN_O) $(STATIC)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/fuzz_main/replay_main.o $(PB_GEN_O) $(STATIC) $(LIBS) $(ORACLE_LIB)

$(BUILD)/fuzz_main/replay_main.o: fuzz/replay_main.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

ifneq ($(PROTO),)
$(PB_GEN_C): $(PROTO)
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=tests --c_out=$(BUILD)/gen $(PROTO)
$(PB_GEN_O): $(PB_GEN_C)
	$(CC) $(OPT) -g -fPIC -w -I$(BUILD)/gen $(if $(SAN),-fsanitize=$(SAN)) -c $< -o $@
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
fuzz-build:
	$(MAKE) BUILD=build-fuzz CC=clang SAN=fuzzer-no-link,address,undefined OPT=-O1 build-fuzz/liblinlearn.a $(if $(PROTO),build-fuzz/gen/record.pb-c.o)
	@mkdir -p build-fuzz/libfuzzer
	for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang -O1 -g -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -Ibuild-fuzz/gen -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o build-fuzz/libfuzzer/$$n $$f build-fuzz/liblinlearn.a $(if $(PROTO),build-fuzz/gen/record.pb-c.o) $(LIBS) $(ORACLE_LIB) || exit 1; done

fuzz: fuzz-build
	sh scripts/run-fuzz $(FUZZ_SECONDS)

bench: all
	sh bench/run

install: $(STATIC) $(SHARED) $(CLI)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/linlearn
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/liblinlearn.a
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/liblinlearn.so.$(VERSION)
	ln -sf liblinlearn.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/liblinlearn.so.0
	ln -sf liblinlearn.so.0 $(DESTDIR)$(PREFIX)/lib/liblinlearn.so
	install -m 644 include/linlearn.h $(DESTDIR)$(PREFIX)/include/linlearn.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' scripts/linlearn.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/linlearn.pc

FORMAT_FILES = $(wildcard include/*.h src/*.c src/*.h cli/*.c cli/*.h tests/*.c tests/*.h fuzz/*.c bench/*.c examples/*.c)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build build-asan build-ubsan build-tsan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- optional: Open MPI for training across hosts (src/dist.c, docs/DISTRIBUTED.md) ----
# MPI=1 (the default when mpicc is found) builds src/dist.c against Open MPI; MPI=0 leaves its
# one-host stubs and no MPI library is linked.
MPI ?= $(shell command -v mpicc >/dev/null 2>&1 && echo 1 || echo 0)
ifeq ($(MPI),1)
MPI_CFLAGS := $(shell mpicc --showme:compile)
MPI_LIBS   := $(shell mpicc --showme:link)
$(BUILD)/src/dist.o: CFLAGS += $(MPI_CFLAGS) -DLL_MPI=1
LIBS += $(MPI_LIBS)
endif
