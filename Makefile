# A thin wrapper over CMake and Ninja, so a fresh Debian 12 machine needs two commands:
# `make demo` and `make check`. Every build lives under $(BUILD)/; `make help` lists the targets.
#
#   make [build]   developer build in build/ (warnings are errors)
#   make check     install missing packages, ASan+UBSan build in build/check, run every test
#   make demo      install missing packages, build, run bale on the bundled examples/ (the
#                  Dockerfiles, then the leaky and fixed images of examples/image)
#   make bench     Release build in build/release, run the benchmarks (they print figures)
#   make fuzz      clang + libFuzzer + ASan/UBSan build in build/fuzz, run each fuzz target for
#                  FUZZ_SECONDS (default 600)
#   make format    clang-format every .c/.h file in src include tests fuzz bench
#   make deps      install the missing packages of tools/debian-packages (apt-get, as root)
#   make clean     remove build/

BUILD        ?= build
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 600
CMAKE        ?= cmake
CTEST        ?= ctest
PACKAGES     := tools/debian-packages

CHECK_DIR   := $(BUILD)/check
RELEASE_DIR := $(BUILD)/release
FUZZ_DIR    := $(BUILD)/fuzz
BALE        := $(BUILD)/bale

# Sanitizer reports must fail the test that triggers them, with a stack to read.
SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Steps run in the order written (deps before the build, the build before the run).
.NOTPARALLEL:
.DEFAULT_GOAL := build
.PHONY: all build check demo bench fuzz format deps clean help

all: build

help:
	@sed -n '3,13s/^# \{0,1\}//p' Makefile

# Installs what tools/debian-packages lists and dpkg does not have. As root: apt-get update,
# then one non-interactive install. Otherwise: print the one command to run, and fail.
deps:
	@set -e; \
	if ! command -v dpkg-query >/dev/null 2>&1; then \
		echo "make deps: no dpkg here; make sure the tools of $(PACKAGES) are installed" >&2; \
		exit 0; \
	fi; \
	missing=; \
	for p in $$(sed -e 's/#.*//' $(PACKAGES)); do \
		status=$$(dpkg-query -W -f='$${db:Status-Status}' "$$p" 2>/dev/null || true); \
		[ "$$status" = installed ] || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "make deps: all packages of $(PACKAGES) are installed"; \
		exit 0; \
	fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "make deps: missing Debian packages; run this, then make again:" >&2; \
		echo "  sudo apt-get install -y --no-install-recommends$$missing" >&2; \
		exit 1; \
	fi; \
	echo "make deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -q; \
	apt-get install -y -q --no-install-recommends$$missing </dev/null

build:
	$(CMAKE) -S . -B $(BUILD) -G Ninja -DBALE_DEVELOPER=ON
	$(CMAKE) --build $(BUILD) -j $(JOBS)

check: deps
	$(CMAKE) -S . -B $(CHECK_DIR) -G Ninja -DBALE_DEVELOPER=ON -DBALE_SANITIZE=ON
	$(CMAKE) --build $(CHECK_DIR) -j $(JOBS)
	cd $(CHECK_DIR) && $(SANITIZER_ENV) $(CTEST) --output-on-failure -j $(JOBS) --timeout 600

# What `make demo` shows of each file's JSON model: instruction and stage counts, the stages.
DEMO_SUMMARY := {file, instructions: (.instructions | length), target, \
	stages: [.stages[] | {name, base: .base.name, depends_on, reachable}]}

# The images `make demo` ends with: the classic mistakes and their fixed version, built by
# buildah (examples/image/build.sh) and committed as docker archives.
DEMO_IMAGES := examples/image/leaky.tar examples/image/fixed.tar

# The main job on the bundled examples: each Dockerfile under examples/ as BuildKit's AST dump,
# then a one-line JSON summary of bale's model, then lint. Fails when any of them does not
# parse. Then bale inspect and bale audit of each demo image: audit's exit 1 (findings, as in
# the leaky image) is the expected outcome there; exit 2 or 3 fails the demo.
demo: deps build
	@set -e; \
	files=$$(find examples -type f \( -name Dockerfile -o -name 'Dockerfile.*' \
		-o -name '*.Dockerfile' -o -name Containerfile \) | LC_ALL=C sort); \
	[ -n "$$files" ] || { echo "make demo: no Dockerfiles under examples/" >&2; exit 1; }; \
	for f in $$files; do \
		echo; \
		echo "=== bale parse --format buildkit $$f"; \
		$(BALE) parse --format buildkit "$$f"; \
		echo "--- summary of bale parse --format json $$f"; \
		$(BALE) parse --format json -o $(BUILD)/demo.json "$$f"; \
		jq -c '$(DEMO_SUMMARY)' $(BUILD)/demo.json; \
	done; \
	echo; \
	echo "make demo: parsed $$(echo "$$files" | wc -l) Dockerfiles under examples/"; \
	for f in $$files; do \
		echo; \
		echo "=== bale lint $$f"; \
		if $(BALE) lint "$$f"; then echo "(clean)"; fi; \
	done; \
	for img in $(DEMO_IMAGES); do \
		echo; \
		echo "=== bale inspect $$img"; \
		$(BALE) inspect "$$img"; \
		echo; \
		echo "=== bale audit $$img"; \
		rc=0; $(BALE) audit "$$img" || rc=$$?; \
		case $$rc in \
		0) echo "(no finding: exit 0)" ;; \
		1) echo "(findings: exit 1)" ;; \
		*) echo "make demo: bale audit $$img failed with exit $$rc" >&2; exit $$rc ;; \
		esac; \
	done

# Warnings are not errors here: -O3 brings flow-based warnings (-Wformat-truncation) that the
# developer build's optimisation level does not, and they must not keep anyone from measuring.
bench: deps
	$(CMAKE) -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DBALE_DEVELOPER=OFF \
		-DBALE_TESTS=OFF
	$(CMAKE) --build $(RELEASE_DIR) -j $(JOBS)
	@set -e; for b in $(RELEASE_DIR)/bench/bench_*; do \
		[ -x "$$b" ] || continue; \
		echo "=== $$b"; \
		"$$b"; \
	done

# libFuzzer needs coverage instrumentation in the library too, hence fuzzer-no-link on all code.
# New inputs go to $(FUZZ_DIR)/corpus/<target>; the seed corpora in fuzz/corpora are only read.
# Warnings are not errors here: a clang-only warning must not stop a fuzzing run.
fuzz: deps
	$(CMAKE) -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_C_COMPILER=clang -DBALE_FUZZ=ON \
		-DBALE_SANITIZE=ON -DBALE_DEVELOPER=OFF -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link
	$(CMAKE) --build $(FUZZ_DIR) -j $(JOBS)
	@set -e; for src in fuzz/*_fuzzer.c; do \
		name=$$(basename "$$src" .c); target=$${name%_fuzzer}; \
		mkdir -p $(FUZZ_DIR)/corpus/$$target $(FUZZ_DIR)/artifacts/$$target; \
		echo "=== $$name for $(FUZZ_SECONDS) s"; \
		dict=; [ ! -f fuzz/$$target.dict ] || dict=-dict=fuzz/$$target.dict; \
		seeds=; [ ! -d fuzz/corpora/$$target ] || seeds=fuzz/corpora/$$target; \
		if [ -f fuzz/$$target.corpora ]; then \
			seeds=$$(sed 's|^|fuzz/corpora/|' fuzz/$$target.corpora | tr '\n' ' '); \
		fi; \
		$(SANITIZER_ENV) $(FUZZ_DIR)/fuzz/$$name -max_total_time=$(FUZZ_SECONDS) \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $$dict \
			-artifact_prefix=$(FUZZ_DIR)/artifacts/$$target/ \
			$(FUZZ_DIR)/corpus/$$target $$seeds; \
	done

format:
	find src include tests fuzz bench -name '*.[ch]' -print0 | xargs -0 -r clang-format -i

clean:
	rm -rf $(BUILD)
