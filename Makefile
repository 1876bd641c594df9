# Coffer: `make run` starts the all-in-one server; `make test` runs everything CI runs.
# Both install missing system prerequisites first (scripts/install-deps.sh).
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/coffer-target
# Always build the whole workspace with one profile: a narrower `-p` build unifies crate
# features differently and recompiles RocksDB's C++ (10-30 minutes here).
CARGO_FLAGS := --release --workspace --locked
BIN := $(CARGO_TARGET_DIR)/release/coffer
DATA ?= ./data
ADDRESS ?= 127.0.0.1:9000

.PHONY: run build test deps test-deps fmt-check lint unit e2e chart test-faults faults-if-docker test-upgrade bench bench-quick bench-lifecycle bench-transitions fuzz

deps:
	@scripts/install-deps.sh build

test-deps: deps
	@scripts/install-deps.sh test

build: deps
	cargo build $(CARGO_FLAGS) --all-targets

run: build
	@if [ -f "$(DATA)/credentials.toml" ]; then \
	  echo "S3 endpoint: http://$(ADDRESS)"; \
	  sed -n 's/^access_key_id = "\(.*\)"/export AWS_ACCESS_KEY_ID=\1/p; s/^secret_access_key = "\(.*\)"/export AWS_SECRET_ACCESS_KEY=\1/p' "$(DATA)/credentials.toml"; \
	fi
	$(BIN) server --data $(DATA) --address $(ADDRESS)

fmt-check:
	cargo fmt --all -- --check

lint: deps
	cargo clippy $(CARGO_FLAGS) --all-targets -- -D warnings

unit: build
	cargo test $(CARGO_FLAGS)

e2e: build test-deps
	COFFER_BIN=$(BIN) scripts/e2e.sh

# The Helm chart, linted and rendered by Helm's own engine, validated against the Kubernetes
# schemas, its promises asserted (deploy/helm/test/test_chart.py).
chart: test-deps
	python3 deploy/helm/test/test_chart.py

# Container tests (need a Docker engine): the partition test (deploy/docker/cluster-test.sh,
# which builds the coffer:local image) and the StatefulSet rehearsal of the Helm chart
# (deploy/helm/test/rehearsal.py).
test-faults: build test-deps
	deploy/docker/cluster-test.sh
	python3 deploy/helm/test/rehearsal.py

# The container tests run when a Docker engine answers; without one they are skipped, loudly.
faults-if-docker: build test-deps
	@if docker info >/dev/null 2>&1; then deploy/docker/cluster-test.sh && python3 deploy/helm/test/rehearsal.py; \
	 else echo "SKIPPED deploy/docker/cluster-test.sh and the chart rehearsal: no Docker engine answers"; fi

test: test-deps build fmt-check lint unit e2e chart faults-if-docker

# Rolling upgrade under load (tests/upgrade): a three-node cluster of the binary of
# UPGRADE_FROM (default: the last commit before stored formats were versioned) is upgraded to
# this build one process at a time. Not part of `make test`: it builds the old commit too.
UPGRADE_FROM ?= 3725926
test-upgrade: test-deps
	old=$$(tests/upgrade/build-old.sh $(UPGRADE_FROM)) && \
	  $(MAKE) build && \
	  python3 tests/upgrade/rolling_upgrade.py "$$old" $(BIN) $${UPGRADE_DIR:-/tmp/coffer-upgrade}

# Figures next to this machine's own md5sum/sha256sum/disk limits (see benches/src/main.rs).
bench: build
	$(CARGO_TARGET_DIR)/release/coffer-bench --dir $${BENCH_DIR:-/tmp}

bench-quick: build
	$(CARGO_TARGET_DIR)/release/coffer-bench --quick --dir $${BENCH_DIR:-/tmp}

# The lifecycle worker: versions scanned per second with nothing due, and its cost to GETs.
bench-lifecycle: build
	$(CARGO_TARGET_DIR)/release/coffer-bench --lifecycle --dir $${BENCH_DIR:-/tmp}

# Lifecycle transitions to a remote tier (a second server) against its own PUT MiB/s.
bench-transitions: build
	$(CARGO_TARGET_DIR)/release/coffer-bench --transitions --dir $${BENCH_DIR:-/tmp}

# Fuzz the policy language (proto/fuzz) and what a request controls in the gateway
# (gateway/fuzz: aws-chunked framing, routing, headers and signatures, request bodies),
# FUZZ_SECONDS per target (needs the nightly toolchain and `cargo install cargo-fuzz`; not
# part of `make test`). Fuzz builds keep their own cache: they are instrumented.
FUZZ_RUN = CARGO_TARGET_DIR=$(HOME)/.cache/coffer-fuzz-target cargo +nightly fuzz run
fuzz:
	cd proto && mkdir -p fuzz/corpus/policy && $(FUZZ_RUN) policy fuzz/corpus/policy fuzz/seeds/policy -- -max_total_time=$${FUZZ_SECONDS:-300} -max_len=4096
	cd gateway && for t in chunked request bodies; do \
	  mkdir -p fuzz/corpus/$$t && $(FUZZ_RUN) $$t fuzz/corpus/$$t fuzz/seeds/$$t -- -max_total_time=$${FUZZ_SECONDS:-300} -max_len=4096 || exit 1; \
	done
