# keyward — the two commands a newcomer needs:
#
#   make run     install what is missing, build, start the keywardd + keyward-web demo
#   make test    install what is missing, then three builds, each tested:
#                  build/       KEYWARD_BUILD_TYPE, -Werror       ctest
#                  build-asan/  ASan+UBSan, -Werror               ctest
#                  build-fuzz/  clang-14 libFuzzer + ASan+UBSan  scripts/fuzz.sh
#
# Other targets: build, bench, fuzz, clean, help. Both `make run` and
# `make test` need root or sudo the first time (scripts/install-deps.sh runs
# apt-get); afterwards they install nothing.
#
# Variables (make VAR=value ...):
#   KEYWARD_BUILD_TYPE  CMake build type of build/ (Release)
#   KEYWARD_WERROR      warnings are errors in build/ and build-asan/ (ON)
#   JOBS                parallel compile jobs and ctest jobs (2)
#   FUZZ_SECONDS        seconds each fuzz target runs (60)
#   FUZZ_CXX            the compiler for build-fuzz/ (clang++-14)
#   FUZZ_BUILD_TYPE     CMake build type of build-fuzz/ (RelWithDebInfo)

SHELL := /bin/sh
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

KEYWARD_BUILD_TYPE ?= Release
KEYWARD_WERROR ?= ON
JOBS ?= 2
FUZZ_SECONDS ?= 60
FUZZ_CXX ?= clang++-14
FUZZ_BUILD_TYPE ?= RelWithDebInfo
CMAKE ?= cmake
CTEST ?= ctest

BUILD_DIR := build
ASAN_DIR := build-asan
FUZZ_DIR := build-fuzz
SAMPLE := examples/authorized_keys.sample
KEYWARD := $(BUILD_DIR)/keyward

# The CMake configuration of each build folder. A folder is configured again
# only when its line here (or the compiler) changes; see `configure` below.
BUILD_ARGS := -DCMAKE_BUILD_TYPE=$(KEYWARD_BUILD_TYPE) -DKEYWARD_WERROR=$(KEYWARD_WERROR)
ASAN_ARGS := -DCMAKE_BUILD_TYPE=Sanitize -DKEYWARD_SANITIZE=ON -DKEYWARD_WERROR=$(KEYWARD_WERROR) -DKEYWARD_BENCH=OFF
# The fuzz build keeps debug line tables (crash reports with file:line) and
# turns on libstdc++'s bounds checks, which catch what ASan cannot see: an
# index past size() but inside capacity().
FUZZ_ARGS := -DCMAKE_BUILD_TYPE=$(FUZZ_BUILD_TYPE) -DKEYWARD_FUZZ=ON -DKEYWARD_SANITIZE=ON \
             -DKEYWARD_BENCH=OFF -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) -DCMAKE_CXX_FLAGS=-D_GLIBCXX_ASSERTIONS

# Only the fuzz targets are built in build-fuzz/ (the programs are not
# linked with -fsanitize=fuzzer and are not needed there).
FUZZ_TARGETS := $(patsubst tests/fuzz/%.cc,%,$(wildcard tests/fuzz/*_fuzz.cc))

# cmake --build runs the generated Makefiles with its own -j; keep our
# make's flags and job server out of that nested make.
CMAKE_ENV := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL

# Sub-makes of `make test` skip install-deps: it ran once already.
ifeq ($(KEYWARD_DEPS_DONE),1)
DEPS :=
else
DEPS := deps
endif

# $(call stage,TITLE,COMMAND): runs COMMAND under a banner and says how long
# it took; `make test` also collects the times in $(STAGE_TIMES).
STAGE_TIMES ?= /dev/null
define stage
	@echo; echo "==== $(1)"; \
	start=$$(date +%s); \
	( $(2) ); \
	rc=$$?; \
	secs=$$(( $$(date +%s) - start )); \
	result=$$( [ $$rc -eq 0 ] && echo ok || echo FAILED ); \
	printf '%-28s %5ss  %s\n' "$(1)" "$$secs" "$$result" >> $(STAGE_TIMES); \
	echo "==== $(1): $$result in $${secs}s"; \
	exit $$rc
endef

.PHONY: help deps run demo-cli test build bench fuzz clean \
        test-release test-asan test-fuzz build-asan build-fuzz FORCE

help:
	@echo "make run       build, then start keywardd and keyward-web on 127.0.0.1 (demo)"
	@echo "make demo-cli  build, then run keyward on $(SAMPLE)"
	@echo "make test      release, sanitizer and fuzz builds, all tested (about 20 min on 2 cores)"
	@echo "make build     configure and build $(BUILD_DIR)/"
	@echo "make bench     build and run the benchmarks, then keyward vs ssh-keygen"
	@echo "make fuzz      build $(FUZZ_DIR)/ and run every fuzz target for FUZZ_SECONDS ($(FUZZ_SECONDS)) each"
	@echo "make clean     remove every build folder"

deps:
	@sh scripts/install-deps.sh

# ---------------------------------------------------------------- configure
#
# $(DIR)/.configure-args holds the exact configure command; it is rewritten
# (and so becomes newer than the stamp) only when that command changes.
# $(DIR)/.configured is the stamp of a successful configure: with it in
# place, running make again goes straight to `cmake --build`, which re-runs
# CMake itself when a CMakeLists.txt or a globbed folder changes. When the
# command does change, CMake starts from an empty cache (--fresh): cached
# options are sticky, and dropping a -D must not leave its old value behind.

define configure
$(1)/.configure-args: FORCE
	@mkdir -p $(1)
	@echo '$(2)' | cmp -s - $$@ || echo '$(2)' > $$@

$(1)/.configured: $(1)/.configure-args
	$(CMAKE_ENV) $(2) --fresh
	@touch $$@
endef

$(eval $(call configure,$(BUILD_DIR),$(CMAKE) -S . -B $(BUILD_DIR) $(BUILD_ARGS)))
$(eval $(call configure,$(ASAN_DIR),$(CMAKE) -S . -B $(ASAN_DIR) $(ASAN_ARGS)))
$(eval $(call configure,$(FUZZ_DIR),$(CMAKE) -S . -B $(FUZZ_DIR) $(FUZZ_ARGS)))

FORCE:

# -------------------------------------------------------------------- build

build: $(DEPS)
	@$(MAKE) --no-print-directory KEYWARD_DEPS_DONE=1 $(BUILD_DIR)/.configured
	$(CMAKE_ENV) $(CMAKE) --build $(BUILD_DIR) -j$(JOBS)

build-asan: $(DEPS)
	@$(MAKE) --no-print-directory KEYWARD_DEPS_DONE=1 $(ASAN_DIR)/.configured
	$(CMAKE_ENV) $(CMAKE) --build $(ASAN_DIR) -j$(JOBS) --target unit_tests conformance_tests

build-fuzz: $(DEPS)
	@$(MAKE) --no-print-directory KEYWARD_DEPS_DONE=1 $(FUZZ_DIR)/.configured
	$(CMAKE_ENV) $(CMAKE) --build $(FUZZ_DIR) -j$(JOBS) $(if $(FUZZ_TARGETS),--target $(FUZZ_TARGETS))

# --------------------------------------------------------------------- run

# The demo: keywardd and keyward-web on 127.0.0.1 with a throwaway state
# folder and demo accounts (no root needed); codes are shown on the console.
# `make demo-cli` shows the command line on a sample authorized_keys file.
run: build
	@scripts/run-demo.sh $(BUILD_DIR)

# keyward lint exits 1 when it finds a problem, and the sample has some on
# purpose: 0 and 1 are both fine here, anything else (a crash, a usage
# error) fails.
demo-cli: build
	@for cmd in "fingerprint $(SAMPLE)" \
	            "fingerprint -E md5 $(SAMPLE)" \
	            "lint $(SAMPLE)" \
	            "lint --json $(SAMPLE)"; do \
	  echo; echo "\$$ $(KEYWARD) $$cmd"; \
	  rc=0; $(KEYWARD) $$cmd || rc=$$?; \
	  case $$rc in \
	    0) ;; \
	    1) echo "(exit status 1: problems found, as the sample intends)" ;; \
	    *) echo "make demo-cli: '$(KEYWARD) $$cmd' failed with exit status $$rc" >&2; exit 1 ;; \
	  esac; \
	done

# -------------------------------------------------------------------- test

TEST_TIMES := $(BUILD_DIR)/stage-times.txt
SUBMAKE_TEST := $(MAKE) --no-print-directory KEYWARD_DEPS_DONE=1 STAGE_TIMES=$(TEST_TIMES)

test: $(DEPS)
	@mkdir -p $(BUILD_DIR) && : > $(TEST_TIMES)
	@start=$$(date +%s); rc=0; \
	$(SUBMAKE_TEST) test-release && \
	$(SUBMAKE_TEST) test-asan && \
	$(SUBMAKE_TEST) test-fuzz || rc=$$?; \
	echo; echo "==== make test: $$( [ $$rc -eq 0 ] && echo 'all stages passed' || echo FAILED ) in $$(( $$(date +%s) - start ))s"; \
	cat $(TEST_TIMES); \
	exit $$rc

test-release: $(DEPS)
	$(call stage,build ($(BUILD_DIR)/),$(MAKE) --no-print-directory KEYWARD_DEPS_DONE=1 build)
	$(call stage,ctest ($(BUILD_DIR)/),cd $(BUILD_DIR) && $(CTEST) --output-on-failure -j$(JOBS))

test-asan: $(DEPS)
	$(call stage,build ($(ASAN_DIR)/),$(MAKE) --no-print-directory KEYWARD_DEPS_DONE=1 build-asan)
	$(call stage,ctest ($(ASAN_DIR)/),cd $(ASAN_DIR) && $(CTEST) --output-on-failure -j$(JOBS) -E '^e2e\.')

test-fuzz: fuzz

fuzz: $(DEPS)
	$(call stage,build ($(FUZZ_DIR)/),$(MAKE) --no-print-directory KEYWARD_DEPS_DONE=1 build-fuzz)
	$(call stage,fuzz ($(FUZZ_SECONDS)s per target),FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) scripts/fuzz.sh $(FUZZ_DIR))

# ------------------------------------------------------------------- bench

bench: build
	@set -e; for b in $(BUILD_DIR)/*_bench; do \
	  [ -x "$$b" ] || continue; \
	  echo; echo "\$$ $$b"; "$$b"; \
	done
	@echo
	KEYWARD_BIN=$(KEYWARD) bench/fingerprint_vs_sshkeygen.sh $(BUILD_DIR)/fingerprint_vs_sshkeygen.md

# ------------------------------------------------------------------- clean

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
