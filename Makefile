# Makefile - developer entry points for enemane. Meson + Ninja do the real
# build; this file only installs dependencies, configures build directories
# once and runs things.
#
#   make run     build (debugoptimized) and serve demo data on http://127.0.0.1:8080
#   make build   configure ./build if needed and compile
#   make check   ASan+UBSan build in ./build-san, then every test (scripts/run-tests)
#   make bench   release build and HTTP benchmark against nginx (bench/http.sh)
#   make clean   remove the build directories (var/ with the demo db stays)
#
# The compiler is meson's choice (cc, or $CC at configure time): for a clang
# check build run `make clean` first, then `CC=clang make check`.
#
# Build directories are configured only once. Afterwards ninja re-runs meson
# by itself whenever meson.build or tests/meson.build change, so a setup is
# never repeated on a configured directory (meson refuses that anyway).

SHELL := /bin/bash
.DEFAULT_GOAL := build

MESON ?= meson
NINJA ?= ninja

BUILD_DIR := build
SAN_DIR := build-san
RELEASE_DIR := build-release
CLANG_DIR := build-clang

RUN_HOST := 127.0.0.1
RUN_PORT := 8080
RUN_DB := var/enemane.db

SAN_OPTIONS := -Db_sanitize=address,undefined -Db_lundef=false -Dtest_clock=true

.PHONY: all deps build run check bench clean help

all: build

help:
	@sed -n '5,9p' Makefile | sed 's/^# *//'

deps:
	@bash scripts/install-deps

# $(call meson_configure,DIR,OPTIONS)
#   DIR/build.ninja present: configured, nothing to do (ninja regenerates).
#   DIR/meson-private/coredata.dat but no build.ninja: an earlier setup or
#   regeneration broke half-way; --reconfigure repairs it in place.
#   Otherwise: a fresh setup.
define meson_configure
	@if [ -f $(1)/build.ninja ]; then \
		:; \
	elif [ -f $(1)/meson-private/coredata.dat ]; then \
		echo "$(3) $(MESON) setup --reconfigure $(1) $(2)"; \
		$(3) $(MESON) setup --reconfigure $(1) $(2); \
	else \
		echo "$(3) $(MESON) setup $(1) $(2)"; \
		$(3) $(MESON) setup $(1) $(2); \
	fi
endef

build: deps
	$(call meson_configure,$(BUILD_DIR),--buildtype=debugoptimized)
	$(NINJA) -C $(BUILD_DIR)

run: build
	@mkdir -p var
	@echo "enemane: serving demo data on http://$(RUN_HOST):$(RUN_PORT) (db $(RUN_DB); Ctrl-C stops)"
	@exec ./$(BUILD_DIR)/enemane serve --db-path $(RUN_DB) --demo

# The code must build warning-free with gcc and clang at every optimisation
# level (-O3 finds warnings -O2 does not): check also compiles a clang
# release build (no tests run there) before running the tests under
# sanitizers.
check: deps
	$(call meson_configure,$(CLANG_DIR),--buildtype=release,CC=clang)
	$(NINJA) -C $(CLANG_DIR)
	$(call meson_configure,$(SAN_DIR),$(SAN_OPTIONS))
	$(NINJA) -C $(SAN_DIR)
	bash scripts/run-tests $(SAN_DIR)

bench: deps
	bash bench/http.sh

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR) $(RELEASE_DIR) $(CLANG_DIR)
