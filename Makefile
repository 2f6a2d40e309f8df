# Quiver: the commands a developer and CI use. `make help` lists them.
SHELL := /bin/bash
PY := /usr/bin/python3
JOBS ?= $(shell nproc)
WERROR := $(if $(CI),ON,OFF)
ADDRESS ?= 127.0.0.1
PORT ?= 8080
DATA_DIR ?= ./data

# ccache: hash paths relative to the checkout, so a fresh clone (as CI makes) reuses the
# cache of an earlier one on the same machine, debug-info builds (ASan, TSan) included.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

RELEASE := build/release
ASAN := build/asan
TSAN := build/tsan
QUIVERD := $(RELEASE)/src/server/quiverd

.PHONY: help bootstrap build run test test-unit test-api test-crash test-asan test-tsan \
        bench test-packaging clean

help:
	@echo "make build      bootstrap packages, Release build"
	@echo "make run        build, then start quiverd on $(ADDRESS):$(PORT) with data in $(DATA_DIR)"
	@echo "make test       every test: unit, API, crash, ASan+UBSan, TSan stress"
	@echo "make bench      benchmarks (prints tables)"

bootstrap:
	@scripts/bootstrap.sh

# $(call configure_and_build,PRESET[,TARGETS])
define configure_and_build
	cmake --preset $(1) -DQUIVER_WERROR=$(WERROR) > /dev/null
	cmake --build --preset $(1) -j $(JOBS) $(if $(2),--target $(2))
endef

build: bootstrap
	$(call configure_and_build,release)

run: build
	$(QUIVERD) --address $(ADDRESS) --port $(PORT) --data-dir $(DATA_DIR)

test: bootstrap
	$(MAKE) test-unit test-api test-crash test-asan test-tsan
	@echo "make test: all suites passed"

test-unit:
	$(call configure_and_build,release)
	ctest --test-dir $(RELEASE) --output-on-failure -j $(JOBS)

test-api:
	$(call configure_and_build,release)
	QUIVERD=$(abspath $(QUIVERD)) $(PY) -m pytest -q tests/api

test-crash:
	$(call configure_and_build,release)
	QUIVERD=$(abspath $(QUIVERD)) $(PY) -m pytest -q tests/crash

# ASan+UBSan: unit tests and the API suite against an instrumented server.
test-asan:
	$(call configure_and_build,asan)
	QUIVER_HNSW_TEST_ROWS=3000 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN) --output-on-failure -j $(JOBS) -LE stress
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  QUIVERD=$(abspath $(ASAN)/src/server/quiverd) QUIVER_TEST_SANITIZER=1 $(PY) -m pytest -q tests/api

# TSan: the concurrency stress tests (CTest label "stress").
test-tsan:
	$(call configure_and_build,tsan,stress_tests)
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
	  ctest --test-dir $(TSAN) --output-on-failure -L stress

bench: build
	scripts/bench.sh

test-packaging:
	tests/packaging/run.sh

clean:
	rm -rf build
