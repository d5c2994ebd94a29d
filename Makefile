# otelcol-rust: an OpenTelemetry Collector distribution whose processors
# are written in Rust. `make run` and `make test` work on a fresh machine:
# every tool the build needs is installed here, at a pinned version, into
# .tools/ (ignored by git).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

export CGO_ENABLED := 1

ROOT := $(CURDIR)
TOOLS := $(ROOT)/.tools
BIN := $(TOOLS)/bin
export PATH := $(BIN):$(PATH)

OCB_VERSION := v0.161.0
RUST2GO_CLI_VERSION := 0.4.2
ACTIONLINT_VERSION := v1.7.12
CBINDGEN_VERSION := 0.29.2
CARGO_FUZZ_VERSION := 0.13.2
GOLANGCI_LINT_VERSION := v2.15.0
CARGO_DENY_VERSION := 0.20.2
# mdatagen v0.150.0 is the newest release the Go module proxy can build
# (later ones need an unpublished internal module); see internal/tools.
MDATAGEN_MODULE_DIR := internal/tools/mdatagen
# protoc-gen-go, protoc-gen-go-grpc and protogen (which compiles .proto
# files with protocompile, so no protoc is needed), pinned by this
# module's go.mod.
PROTOGEN_MODULE_DIR := internal/tools/protogen

OCB := $(BIN)/builder
MDATAGEN := $(BIN)/mdatagen
RUST2GO_CLI := $(BIN)/rust2go-cli
CBINDGEN := $(BIN)/cbindgen
ACTIONLINT := $(BIN)/actionlint
CARGO_FUZZ := $(BIN)/cargo-fuzz
GOLANGCI_LINT := $(BIN)/golangci-lint
CARGO_DENY := $(BIN)/cargo-deny
PROTOGEN := $(BIN)/protogen
PROTOC_GEN_GO := $(BIN)/protoc-gen-go
PROTOC_GEN_GO_GRPC := $(BIN)/protoc-gen-go-grpc

RUST_LIB := target/release/libotelcol_rust_bridge.a
RUST_SERVER := target/release/otelcol-rust-server
NOCGO_BINARY := _build/nocgo/otelcol-rust-nocgo
RUST_TEST_LIB := target/testing/release/libotelcol_rust_bridge.a
# otelcol-rust-builder, built from this workspace (make builder), and the
# out-of-tree example it builds into a custom collector in make test.
BUILDER_BIN := target/release/otelcol-rust-builder
EXAMPLE_DIR := testdata/example-processor
EXAMPLE_BINARY := $(EXAMPLE_DIR)/_build/otelcol-example
BINARY := _build/otelcol-rust
TESTING_BINARY := _build/testing/otelcol-rust-testing
COMPONENTS := components
BRIDGE_PKG := github.com/otelcol-rust/otelcol-rust/components/bridge
# What `make generate` writes and CI checks for drift.
GENERATED := $(COMPONENTS) builder-config-nocgo.yaml rust/bridge/src/go_exports.rs

# Makes Go relink when only the Rust library changed (see bridge/doc.go).
rust_ldflags = -X $(BRIDGE_PKG).rustLibrary=$(shell sha256sum $(1) | cut -c1-16)

# The shipped collector is hardened as distributions build C and C++:
# position independent (ASLR for the whole image), full RELRO (BIND_NOW,
# so the GOT is read-only once loaded), a non-executable stack, and stack
# protectors in the C that cgo compiles. ocb passes the environment
# through to `go build`; its --ldflags replaces ocb's own "-s -w", so the
# binary keeps symbols and DWARF, which `build` splits off afterwards.
# CGO_CFLAGS replaces Go's default "-O2 -g", hence both are repeated; the
# GOFLAGS set in `go env` are kept.
GOENV_GOFLAGS := $(shell go env GOFLAGS)
hardened_env = GOFLAGS="$(strip $(GOENV_GOFLAGS) -buildmode=pie $(1))" CGO_CFLAGS="-O2 -g -fstack-protector-strong"
hardened_extldflags := -extldflags '-Wl,-z,relro,-z,now,-z,noexecstack'
hardened_ldflags = $(call rust_ldflags,$(1)) $(hardened_extldflags)

# The distribution's version (ocb's dist.version), for the image's labels.
DIST_VERSION := $(shell awk '$$1 == "version:" { print $$2; exit }' builder-config.yaml)
IMAGE ?= otelcol-rust:$(DIST_VERSION)

GO_TEST_FLAGS ?= -count=1
TESTING_TAG := otelcolrust_testing


.PHONY: builder install-builder build-example test-builder build-testing stress memcheck loadtest fuzz reliability test-elf image image-rootfs test-image
.PHONY: all tools rust rust-testing rust-server build-nocgo test-integration-nocgo generate generate-ffi generate-header generate-proto generate-components check-generated \
        build run test test-rust test-go test-integration lint fmt bench clean

all: build

## tools: install the pinned build tools into .tools/bin
tools: $(OCB) $(MDATAGEN) $(RUST2GO_CLI) $(CBINDGEN) $(ACTIONLINT) $(GOLANGCI_LINT) $(CARGO_DENY) $(PROTOGEN)

$(OCB):
	GOBIN=$(BIN) go install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

$(MDATAGEN): $(MDATAGEN_MODULE_DIR)/go.mod $(MDATAGEN_MODULE_DIR)/go.sum
	cd $(MDATAGEN_MODULE_DIR) && go build -o $(MDATAGEN) go.opentelemetry.io/collector/cmd/mdatagen

$(PROTOGEN): $(PROTOGEN_MODULE_DIR)/go.mod $(PROTOGEN_MODULE_DIR)/go.sum $(PROTOGEN_MODULE_DIR)/main.go
	cd $(PROTOGEN_MODULE_DIR) && go build -o $(PROTOC_GEN_GO) google.golang.org/protobuf/cmd/protoc-gen-go \
		&& go build -o $(PROTOC_GEN_GO_GRPC) google.golang.org/grpc/cmd/protoc-gen-go-grpc \
		&& go build -o $(PROTOGEN) .

$(RUST2GO_CLI):
	cargo install rust2go-cli --version $(RUST2GO_CLI_VERSION) --locked --root $(TOOLS) --quiet

$(ACTIONLINT):
	GOBIN=$(BIN) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

$(GOLANGCI_LINT):
	GOBIN=$(BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

$(CARGO_DENY):
	cargo install cargo-deny --version $(CARGO_DENY_VERSION) --locked --root $(TOOLS) --quiet

$(CBINDGEN):
	cargo install cbindgen --version $(CBINDGEN_VERSION) --locked --root $(TOOLS) --quiet

$(CARGO_FUZZ):
	cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked --root $(TOOLS) --quiet

## rust: the distribution's Rust staticlib
rust:
	cargo build --release --locked -p otelcol-rust-bridge

## builder: otelcol-rust-builder (rust/builder), which make build runs
builder:
	cargo build --release --locked -p otelcol-rust-builder

## install-builder: otelcol-rust-builder into Cargo's bin directory (or
## INSTALL_ROOT), to build custom collectors outside this repository
install-builder:
	cargo install --locked --path rust/builder $(if $(INSTALL_ROOT),--root $(INSTALL_ROOT))

## rust-server: otelcol-rust-server, the Rust process of the cgo-free
## distribution
rust-server:
	cargo build --release --locked -p otelcol-rust-server

## rust-testing: the staticlib with the test-only processors (Go bridge tests)
rust-testing:
	cargo build --release --locked -p otelcol-rust-bridge --features testing --target-dir target/testing

## generate: rust2go bindings, the C header of the request path, component
## packages, mdatagen output, builder config
generate: generate-ffi generate-header generate-proto
	$(MAKE) rust
	$(MAKE) generate-components

generate-ffi: $(RUST2GO_CLI)
	./scripts/generate-ffi.sh $(RUST2GO_CLI)

## generate-proto: the Go stubs of the cgo-free path's gRPC service
## (proto/otelcolrust/v1/processors.proto; rust/server/build.rs makes the
## Rust side)
generate-proto: $(PROTOGEN)
	$(PROTOGEN) -I proto -out $(COMPONENTS) -plugin $(PROTOC_GEN_GO) -plugin $(PROTOC_GEN_GO_GRPC) \
		-opt module=github.com/otelcol-rust/otelcol-rust/components otelcolrust/v1/processors.proto

generate-header: $(CBINDGEN)
	$(CBINDGEN) --quiet --config rust/bridge/cbindgen.toml --crate otelcol-rust-bridge \
		--output $(COMPONENTS)/bridge/otelcol_rust_bridge.h rust/bridge

generate-components: $(MDATAGEN)
	cd $(COMPONENTS) && go run -ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_LIB))" ./internal/cmd/gencomponents \
		-out processor
	cd $(COMPONENTS) && go run -ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_LIB))" ./internal/cmd/gencomponents \
		-nocgo -out nocgo/processor -builder-config $(ROOT)/builder-config-nocgo.yaml
	for dir in $$(cd $(COMPONENTS) && go run -ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_LIB))" ./internal/cmd/gencomponents -out processor -list) processor/rustchainprocessor \
		$$(cd $(COMPONENTS) && go run -ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_LIB))" ./internal/cmd/gencomponents -nocgo -out nocgo/processor -list); do \
		(cd $(COMPONENTS)/$$dir && $(MDATAGEN) metadata.yaml); \
		(cd $(COMPONENTS) && go run -ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_LIB))" ./internal/cmd/gencomponents -link-distribution $$dir/README.md); \
	done

## check-generated: fail when checked-in generated code differs from `make generate`
check-generated: generate
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		echo "generated code is out of date; run 'make generate' and commit:"; \
		git status --porcelain -- $(GENERATED); \
		git --no-pager diff --stat -- $(GENERATED); \
		exit 1; \
	fi

## build: the otelcol-rust collector binary (otelcol-rust-builder, then ocb),
## also linked as ./otelcol-rust; its debug info goes to
## _build/otelcol-rust.debug (README: "Hardening and debug symbols")
build: $(OCB) builder
	$(hardened_env) $(BUILDER_BIN) --config builder-config.yaml --ocb $(OCB) --ldflags "$(hardened_extldflags)"
	./scripts/split-debug.sh $(BINARY)
	ln -sf $(BINARY) otelcol-rust

## build-example: testdata/example-processor, an out-of-tree processor
## crate, in a custom collector, built from its directory as a user builds
## one (same flags as build, so Go's build cache serves both)
build-example: $(OCB) builder
	cd $(EXAMPLE_DIR) && $(hardened_env) $(ROOT)/$(BUILDER_BIN) --config collector.yaml --ocb $(OCB) \
		--ldflags "$(hardened_extldflags)"

## build-nocgo: otelcol-rust-nocgo, the same collector built with
## CGO_ENABLED=0, and otelcol-rust-server next to it (it starts it)
build-nocgo: $(OCB) rust-server
	mkdir -p _build/nocgo
	CGO_ENABLED=0 $(OCB) --config builder-config-nocgo.yaml
	cp $(RUST_SERVER) _build/nocgo/otelcol-rust-server

## build-testing: a collector with the test-only Rust processors (integration tests)
build-testing: $(OCB) rust-testing
	$(call hardened_env,-tags=$(TESTING_TAG)) $(OCB) --config builder-config-testing.yaml \
		--ldflags "$(call hardened_ldflags,$(ROOT)/$(RUST_TEST_LIB))"

## run: generate, build and start the collector on testdata/config.yaml
run: generate
	$(MAKE) build
	./$(BINARY) --config testdata/config.yaml

## test: Rust tests, Go tests (bridge under -race), integration tests, the
## shipped binary's hardening, the image
test: test-rust test-go test-integration test-builder test-integration-nocgo test-elf test-image

test-rust:
	cargo test --locked --workspace --all-features
	cargo test --locked --manifest-path $(EXAMPLE_DIR)/Cargo.toml --target-dir target

test-go: rust rust-testing rust-server
	cd $(COMPONENTS) && go test $(GO_TEST_FLAGS) -race -tags $(TESTING_TAG) \
		-ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_TEST_LIB))" ./bridge/... ./internal/...
	cd $(COMPONENTS) && GOEXPERIMENT=cgocheck2 go test $(GO_TEST_FLAGS) -tags $(TESTING_TAG) \
		-ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_TEST_LIB))" ./bridge/...
	cd $(COMPONENTS) && go test $(GO_TEST_FLAGS) \
		-ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_LIB))" ./processor/... ./converter/...
	cd $(COMPONENTS) && CGO_ENABLED=0 OTELCOL_RUST_SERVER=$(ROOT)/$(RUST_SERVER) \
		go test $(GO_TEST_FLAGS) ./rustprocess/... ./nocgo/... ./internal/rusterrors/... ./internal/rustconfig/... \
		./internal/otlpedits/... ./internal/clientaddr/... ./internal/rustprocesspb/...

test-integration: build build-testing build-example rust
	cd $(COMPONENTS) && OTELCOL_RUST_BINARY=$(ROOT)/$(BINARY) OTELCOL_RUST_TESTING_BINARY=$(ROOT)/$(TESTING_BINARY) \
		OTELCOL_RUST_EXAMPLE_BINARY=$(ROOT)/$(EXAMPLE_BINARY) \
		go test $(GO_TEST_FLAGS) -tags integration \
		-ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_LIB))" ./integration/...

## test-builder: otelcol-rust-builder, run again on the example's manifest
## (up to ocb), writes the very same files
test-builder: build-example
	cd $(EXAMPLE_DIR) && sums() { find _build/rust -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; }; \
		before=$$(sums); $(ROOT)/$(BUILDER_BIN) --config collector.yaml --skip-ocb; \
		if [ "$$before" != "$$(sums)" ]; then echo "a second run of otelcol-rust-builder wrote different files"; exit 1; fi

## test-integration-nocgo: the integration tests whose contracts hold
## across the process boundary, against otelcol-rust-nocgo, and the fault
## tests of the Rust process (killed under load, hung, socket mode)
NOCGO_TESTS := TestAttributesOverGRPCAndHTTP TestMalformedOTLPIsRejectedAndCollectorSurvives TestValidateReportsTheBadField\
	TestComponentsListsRustProcessors TestPrintConfigShowsRustSettings TestFromContextWithRealClients\
	TestRateLimitTwoTenantsWithRealClients TestThrottledClientsAlwaysGetARetryHint TestRedactionSameAsContribWithRealClients\
	TestHangingExporterDoesNotDelayAnotherPipeline TestBlockedExporterHoldsGoroutinesNotThreads\
	TestSIGTERMEndsHeldRequestsAndExits TestSIGHUPEndsHeldRequestsAndReloads TestDifferentialAgainstContribInTheBuiltCollector\
	TestInvalidUTF8IsCarriedAsGoCarriesIt TestDeepNestingIsCarriedAsGoCarriesIt TestMetadataThatIsNotUTF8\
	TestOneOddSpanDoesNotCostTheBatch TestHelmExampleConfigValidates TestNoCgo.*
nocgo_space := $(subst ,, )
NOCGO_TESTS_RE := $(subst $(nocgo_space),|,$(strip $(NOCGO_TESTS)))
test-integration-nocgo: build-nocgo
	cd $(COMPONENTS) && CGO_ENABLED=0 OTELCOL_RUST_BINARY=$(ROOT)/$(NOCGO_BINARY) OTELCOL_RUST_NOCGO_BINARY=$(ROOT)/$(NOCGO_BINARY) \
		go test $(GO_TEST_FLAGS) -tags integration -run '^($(NOCGO_TESTS_RE))$$' ./integration/...

## test-elf: fail unless the shipped binary is PIE, full RELRO, NX and has
## stack canaries (scripts/check-elf.sh reads the ELF, as checksec does)
test-elf: build
	./scripts/test-check-elf.sh
	./scripts/check-elf.sh $(BINARY)

## image-rootfs: what the Dockerfile copies, under _build/image (the binary,
## its shared libraries, CA certificates, the nonroot user)
image-rootfs: build
	./scripts/image-rootfs.sh $(BINARY) _build/image

## image: the container image $(IMAGE), FROM scratch (podman, buildah or
## docker; CONTAINER_ENGINE picks one)
image: image-rootfs
	IMAGE_VERSION=$(DIST_VERSION) IMAGE_REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
		./scripts/build-image.sh $(IMAGE)

## test-image: build the image in a store of its own, report its size, run
## the collector from it as uid 65532 (podman run, or a chroot of its layers)
test-image: image-rootfs
	./scripts/test-image.sh

## memcheck: the unit tests of the unsafe code under valgrind (the
## engine's and the bridge's: buffer leases, the outcome ABI; the
## processors' SIMD hex writer); any error fails
memcheck:
	for test in otelcol-rust-engine: otelcol-rust-bridge: otelcol-rust-processors:sha256_hex; do \
		pkg=$${test%%:*}; filter=$${test#*:}; \
		bin=$$(cargo test --locked -p $$pkg --no-run --message-format=json 2>/dev/null \
			| grep -o '"executable":"[^"]*"' | grep -v null | head -1 | cut -d'"' -f4); \
		valgrind --quiet --error-exitcode=3 --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite \
			$$bin --test-threads=1 $$filter || exit 1; \
	done

## lint: rustfmt, clippy -D warnings (the workspace lints in Cargo.toml),
## rustdoc with warnings denied (broken links), cargo-deny (licences,
## bans, sources; the advisories too with CARGO_DENY_ADVISORIES=1, as
## their database is fetched from GitHub), gofmt, go vet, golangci-lint
## (components/.golangci.yml), actionlint (the GitHub workflows, the
## release one included, which only runs on a tag)
lint: rust rust-testing $(ACTIONLINT) $(GOLANGCI_LINT) $(CARGO_DENY)
	$(ACTIONLINT) .github/workflows/*.yaml
	cargo fmt --all -- --check
	cargo clippy --locked --workspace --all-targets --all-features -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps --all-features --quiet
	$(CARGO_DENY) --locked check $(if $(CARGO_DENY_ADVISORIES),advisories) licenses bans sources
	cargo fmt --manifest-path $(EXAMPLE_DIR)/Cargo.toml -- --check
	cargo clippy --locked --manifest-path $(EXAMPLE_DIR)/Cargo.toml --target-dir target --all-targets -- -D warnings
	@unformatted=$$(gofmt -l $(COMPONENTS) internal); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	cd $(COMPONENTS) && go vet -tags $(TESTING_TAG) ./bridge/... ./internal/... ./testprocessor/... && go vet ./processor/... ./converter/... && go vet -tags integration ./integration/... \
		&& CGO_ENABLED=0 go vet ./rustprocess/... ./nocgo/...
	cd $(COMPONENTS) && $(GOLANGCI_LINT) run --build-tags $(TESTING_TAG),integration ./...

fmt:
	cargo fmt --all
	gofmt -w $(COMPONENTS) internal

## stress: 200k requests from 64 callers with random deadlines, cancels and
## errors; ends with the cancellation latency (p50, p99)
stress: rust-testing
	cd $(COMPONENTS) && OTELCOL_RUST_STRESS_REQUESTS=200000 OTELCOL_RUST_STRESS_REPORT=$(ROOT)/target/stress-report.txt \
		go test -count=1 -run '^TestStress' -v -tags $(TESTING_TAG) \
		-ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_TEST_LIB))" ./bridge/ | grep -E '^(---|ok|FAIL|PASS)|stress_test'
	@cat target/stress-report.txt

## loadtest: the built collector (make build) under OTLP load, one run per
## pipeline: CPU per span, memory and threads side by side with the Go
## path, and, when make build-nocgo has run, the cgo-free collector's
## rust_attributes pipelines (Rust process included) with CPU and latency
## per batch; not part of make test. LOADTEST_FLAGS adds flags, for example
## LOADTEST_FLAGS='-only "batch 1000" -rounds 5 -out /tmp/report.md',
## -match with a regular expression of pipeline names, -compare-binary
## with another build to measure a change against, or -profile to also
## measure each processor's cost from perf's stack samples of the same
## window, which the machine's drift does not move (BENCHMARKS.md)
loadtest:
	@test -x $(BINARY) || { echo "$(BINARY) is missing: run make build first"; exit 1; }
	cd $(COMPONENTS) && go run ./internal/cmd/loadtest -binary $(ROOT)/$(BINARY) \
		$$(test -x $(ROOT)/$(NOCGO_BINARY) && echo -nocgo-binary $(ROOT)/$(NOCGO_BINARY)) $(LOADTEST_FLAGS)

## fuzz: every fuzz target for FUZZ_SECONDS each (default 60): the Rust
## decoders with cargo-fuzz (libFuzzer, coverage-guided, built on stable
## Rust without sanitizers: fuzz/README.md) and the Go decoders with go
## test -fuzz. Seeds are in fuzz/seeds and components/bridge/testdata/fuzz;
## what a run finds is left in fuzz/artifacts or testdata/fuzz to turn into
## a regression test.
FUZZ_SECONDS ?= 60
RUST_FUZZ_TARGETS := context otlp config
GO_FUZZ_TARGETS := FuzzDecodeRequestContext FuzzRustErrorToGoError FuzzApplyEdits
fuzz: $(CARGO_FUZZ) rust-testing
	$(CARGO_FUZZ) build --sanitizer none -O
	mkdir -p target/fuzz
	for t in $(RUST_FUZZ_TARGETS); do \
		mkdir -p target/fuzz/corpus-$$t; \
		if ! $(CARGO_FUZZ) run --sanitizer none -O $$t target/fuzz/corpus-$$t fuzz/seeds/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 > target/fuzz/$$t.log 2>&1; then \
			tail -40 target/fuzz/$$t.log; exit 1; \
		fi; \
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' target/fuzz/$$t.log | sed "s/^/rust $$t: /" || true; \
	done
	cd $(COMPONENTS) && for t in $(GO_FUZZ_TARGETS); do \
		if ! go test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZ_SECONDS)s -tags $(TESTING_TAG) \
			-ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_TEST_LIB))" ./bridge/ > $(ROOT)/target/fuzz/$$t.log 2>&1; then \
			tail -40 $(ROOT)/target/fuzz/$$t.log; exit 1; \
		fi; \
		grep -E '^fuzz: elapsed' $(ROOT)/target/fuzz/$$t.log | tail -1 | sed "s/^/go $$t: /"; \
	done

## reliability: fault scenarios against the built collector (make build),
## contrib's Go processors against the Rust ones: bad inputs, a hanging
## and a closed downstream, SIGTERM and SIGHUP under load, many and long
## tenants, large requests, threads and memory; prints a table (Markdown).
## Not part of make test. RELIABILITY_FLAGS adds flags, e.g. '-quick' or
## '-only SIG -out /tmp/table.md'.
reliability:
	@test -x $(BINARY) || { echo "$(BINARY) is missing: run make build first"; exit 1; }
	cd $(COMPONENTS) && go run ./internal/cmd/reliability -binary $(ROOT)/$(BINARY) $(RELIABILITY_FLAGS)

## bench: the bridge benchmarks (Go marshal+unmarshal baseline in the same run)
bench: rust-testing
	cd $(COMPONENTS) && go test -run '^$$' -bench . -benchmem -count 5 -tags $(TESTING_TAG) \
		-ldflags "$(call rust_ldflags,$(ROOT)/$(RUST_TEST_LIB))" ./bridge/

clean:
	rm -rf target _build otelcol-rust $(EXAMPLE_DIR)/_build
