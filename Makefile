# loadgen — see README.md. Every target installs what it needs (Go modules
# through the module proxy; Debian packages through apt-get where a test needs them).
SHELL   := /bin/bash
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS := -X github.com/greenlang/loadgen/internal/cli.Version=$(VERSION) -X github.com/greenlang/loadgen/internal/cli.GitCommit=$(COMMIT)
BIN     := bin

.PHONY: all deps build k6 image-bins cluster cluster-down test-k8s run signoff test test-e2e test-go test-smoke smoke docs-check phase-setup phase-docs phase-extension phase-packages phase-cli bench soak fuzz vet fmt clean chromium prometheus postgresql xmllint

all: build

## deps: download the Go modules both modules build and test with. (Not `go mod
## download`: it also wants version metadata that the proxy refuses for two of
## k6's dependencies, which builds do not need.)
deps:
	$(GO) list -deps -test ./... > /dev/null
	cd xk6-steamtrap && $(GO) list -deps -test ./... > /dev/null

## build: bin/loadgen (the driver, with k6 and the extension linked in)
build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/loadgen ./cmd/loadgen

## k6: bin/k6, a standalone k6 of the same build
k6: build
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/k6 ./cmd/k6

## image-bins: bin/image/k6 and bin/image/loadgen, static (no cgo) for container images: the
## runner image's k6 (k6 with xk6-steamtrap) and the reference target's loadgen. The same
## command builds deploy/k6-operator/Dockerfile's k6.
IMAGE_GOFLAGS := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)"
image-bins: deps
	$(IMAGE_GOFLAGS) -o $(BIN)/image/ ./cmd/k6 ./cmd/loadgen

## cluster: a single-node Kubernetes with k6-operator on this machine (deploy/cluster; root;
## cold about 21 min on 2 cores, then about 20 s): its images hold bin/image's k6 and loadgen.
## KUBECONFIG=$(KUBE_WORK)/admin.conf while it is up. cluster-down stops it and undoes
## every change to the host (processes, mounts, network namespaces, veths, iptables, sysctls).
KUBE_WORK ?= $(HOME)/.cache/loadgen-kube
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
cluster: image-bins
	$(SUDO) env KUBE_WORK=$(KUBE_WORK) IMAGE_BINS=$(CURDIR)/$(BIN)/image deploy/cluster/build.sh
	$(SUDO) env KUBE_WORK=$(KUBE_WORK) IMAGE_BINS=$(CURDIR)/$(BIN)/image deploy/cluster/up.sh

cluster-down:
	$(SUDO) env KUBE_WORK=$(KUBE_WORK) deploy/cluster/down.sh
	$(SUDO) env KUBE_WORK=$(KUBE_WORK) deploy/cluster/leftovers.sh

## test-k8s: the Kubernetes end-to-end tests (internal/kube/clustertest) against the cluster of
## make cluster, with KUBECONFIG set: brings it up if it does not answer, and takes down what it
## brought up (leaving nothing behind, checked). CI runs it after test-e2e (.ci/run).
test-k8s: build
	@mmss() { printf '%dm%02ds' $$(($$1 / 60)) $$(($$1 % 60)); }; \
	start=$$(date +%s); started=; rc=0; \
	$(KUBE_WORK)/bin/kubectl --kubeconfig $(KUBE_WORK)/admin.conf get --raw /readyz >/dev/null 2>&1 || started=1; \
	$(MAKE) --no-print-directory cluster || rc=$$?; \
	up=$$(date +%s); \
	if [ $$rc -eq 0 ]; then \
	  LOADGEN_K8S_TESTS=1 KUBECONFIG=$(KUBE_WORK)/admin.conf LOADGEN_BIN=$(CURDIR)/$(BIN)/loadgen \
	    $(GO) test -count=1 -timeout 30m -parallel 8 -v ./internal/kube/clustertest 2>&1 | tee $(BIN)/test-k8s.log | grep --line-buffered -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go:' ; \
	  rc=$${PIPESTATUS[0]}; \
	fi; \
	tests=$$(date +%s); \
	if [ -n "$$started" ]; then $(MAKE) --no-print-directory cluster-down || rc=1; fi; \
	echo "make test-k8s: $$(mmss $$(($$(date +%s) - start))) (cluster $$(mmss $$((up - start))), tests $$(mmss $$((tests - up))), down $$(mmss $$(($$(date +%s) - tests))))"; \
	exit $$rc

## run: the main job: an adaptive stress campaign (about a minute) against the
## embedded reference target (one replica), leaving its run directory under results/
run: build
	$(BIN)/loadgen stress --campaign gl008-quick

## signoff: the release sign-off smoke test: the built-in gl008-release plan with its short
## steps (--quick) against the embedded reference target, into results/<UTC time>-signoff-gl008-release/
## (signoff.md, signoff.html, signoff.json, junit.xml); opens nothing. Prints its wall time.
## Exit code: the verdict's (0 SIGNED-OFF, 1 REJECTED, 4 INCONCLUSIVE; docs/signoff.md).
signoff: build
	@start=$$(date +%s); rc=0; \
	$(BIN)/loadgen signoff --plan gl008-release --quick --target embedded --plain $(SIGNOFF_FLAGS) || rc=$$?; \
	echo "make signoff: $$(($$(date +%s) - start)) s, exit $$rc"; exit $$rc

## test: the docs check, every module's tests and the extension's smoke script through the
## built binaries, in five phases (phase-*, below), each timed. Its last line is the wall
## time of the whole and of each phase, e.g. "make test: 4m12s (setup 0m25s, docs 0m06s,
## extension 0m12s, packages 1m30s, cli 1m59s)": the budget is 6 minutes on the project
## machine (2 cores). The longest campaigns are in test-e2e; the fuzzing in fuzz (CI runs
## both after make test).
TEST_PHASES := setup docs extension packages cli
test:
	@mmss() { printf '%dm%02ds' $$(($$1 / 60)) $$(($$1 % 60)); }; \
	start=$$(date +%s); took=""; rc=0; \
	for phase in $(TEST_PHASES); do \
	  t=$$(date +%s); \
	  $(MAKE) --no-print-directory phase-$$phase || rc=$$?; \
	  took="$$took$${took:+, }$$phase $$(mmss $$(($$(date +%s) - t)))"; \
	  if [ $$rc -ne 0 ]; then took="$$took, failed"; break; fi; \
	done; \
	echo "make test: $$(mmss $$(($$(date +%s) - start))) ($$took)"; \
	exit $$rc

## test-smoke: the extension's smoke script through both built binaries
test-smoke: k6
	@$(MAKE) --no-print-directory smoke

## smoke: test-smoke with the binaries as they are
smoke:
	$(BIN)/loadgen k6 run --quiet --no-color xk6-steamtrap/test/smoke.test.js
	$(BIN)/k6 version | grep -q 'k6/x/steamtrap'
	$(BIN)/k6 run --quiet --no-color xk6-steamtrap/test/smoke.test.js

## The phases of make test, each after the one before.
## phase-setup: the binaries, the Debian packages the tests need, and the
## CLI's test binary (bin/cli.test, built beside the others)
phase-setup:
	@rc=0; \
	echo "$(GO) test -c -o $(BIN)/cli.test ./internal/cli &"; \
	$(GO) test -c -o $(BIN)/cli.test ./internal/cli & cli=$$!; \
	$(MAKE) --no-print-directory k6 chromium xmllint prometheus postgresql || rc=1; \
	wait $$cli || rc=1; \
	exit $$rc

## phase-docs: make docs-check
phase-docs: docs-check

## docs-check: every command's flags on its docs page, every relative Markdown link and
## #anchor resolving, README.md within 250 lines (internal/tools/docscheck)
docs-check: build
	$(GO) run ./internal/tools/docscheck --loadgen $(BIN)/loadgen

## phase-extension: the extension module's tests, and its smoke script
phase-extension: smoke
	cd xk6-steamtrap && $(GO) test -count=1 -timeout 10m ./...

## phase-packages: every package's tests but internal/cli's
phase-packages:
	LOADGEN_BIN=$(CURDIR)/$(BIN)/loadgen $(GO) test -count=1 -timeout 10m $$($(GO) list ./... | grep -v '/internal/cli$$')

## phase-cli: the CLI's tests (bin/cli.test), alone after the others: its
## campaigns load the machine, and the CPU their load generator gets decides
## some verdicts. Of them, those run alone; the others share the machine,
## LOADGEN_TEST_CPU_SHARES (default 4) CPU shares at a time; -test.parallel
## lets every parallel test start, the shares hold the campaigns back.
## internal/cli/harness_test.go says which and why.
phase-cli:
	cd internal/cli && LOADGEN_BIN=$(CURDIR)/$(BIN)/loadgen ../../$(BIN)/cli.test -test.count=1 -test.timeout 14m -test.parallel 32

## chromium: Debian's chromium for the HTML report's browser test (installed with apt-get when missing)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y chromium; }

## prometheus: Debian's prometheus and prometheus-pushgateway for the push and
## read-back round trip (installed with apt-get when missing; the tests start
## their own on loopback, never the packages' services)
prometheus:
	@{ command -v prometheus && command -v prometheus-pushgateway; } >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus prometheus-pushgateway; }

## postgresql: Debian's PostgreSQL server for preflight's database tests (installed with apt-get
## when missing; the tests start their own servers on loopback and need no service running)
postgresql:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y postgresql; }


## xmllint: libxml2's validator, to check the JUnit reports against the Jenkins JUnit schema
## (Debian's libxml2-utils, installed with apt-get when missing)
xmllint:
	@command -v xmllint >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y libxml2-utils; }

## test-e2e: the longest end-to-end campaigns, which make test skips (14m46s measured on
## the project machine): the runners that must agree, the replica sweep, the generator-bound
## campaign pinned with taskset, the HPA under a surge, the generator's calibration, the built-in
## sign-off plan --quick then a half-capacity build REJECTED against it, a sign-off interrupted and
## resumed, the HPA check of a sign-off. CI runs it after make test (.ci/run).
LONG_TESTS := TestStressRunnersFindTheSameCapacity|TestSweepEmbeddedScalesLinearly|TestStressGeneratorBoundIsInconclusive|TestAutoscaleEmbeddedHPA|TestStressCalibratesTheGeneratorBeforeItsFirstStep|TestSignoffBuiltinQuickThenHalfCapacityRejected|TestSignoffInterruptedThenResumed|TestSignoffAutoscaleEmbedded
test-e2e: build
	LOADGEN_LONG_TESTS=1 LOADGEN_BIN=$(CURDIR)/$(BIN)/loadgen $(GO) test -count=1 -timeout 30m -run '^($(LONG_TESTS))$$' ./internal/cli

## test-go: every Go package's tests (the extension's, the packages' and the CLI's)
test-go: build chromium xmllint prometheus postgresql
	$(GO) test -c -o $(BIN)/cli.test ./internal/cli
	cd xk6-steamtrap && $(GO) test -count=1 -timeout 10m ./...
	@$(MAKE) --no-print-directory phase-packages phase-cli

## bench: Go benchmarks, then k6 against a loopback sink, interleaved rounds
## (internal/tools/payloadbench): extension payloads vs one constant body,
## a runner (k6 as the driver runs it) vs plain k6, and one runner pinned to
## one core — the last lines sum up each comparison.
## BENCH_FLAGS="--rounds 9 --only payloads" for more rounds of one comparison.
BENCH_FLAGS ?=
bench: build
	cd xk6-steamtrap && $(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./internal/tools/payloadbench --loadgen $(BIN)/loadgen $(BENCH_FLAGS)

## soak: one long k6 step (default 2000 req/s for 30 min) against a loopback
## sink, the driver's way; prints the RSS of the driver and of k6 over time and
## RSS(end)/RSS(after the first two minutes), and over the longest stretch in which k6's VU pool
## kept its size. SOAK_FLAGS="--duration 4m" for a quick look.
SOAK_FLAGS ?=
soak: build
	$(GO) run ./internal/tools/soak --loadgen $(BIN)/loadgen $(SOAK_FLAGS)

## fuzz: every fuzz target of both modules (every func Fuzz… of a _test.go under internal/
## and xk6-steamtrap/), each its own go test -fuzz run, FUZZTIME each (default 20s;
## FUZZTIME=2m for a longer look), FUZZJOBS at once with one fuzzing worker each
## (internal/tools/fuzzall). A failing input is written to the package's testdata/fuzz/,
## where go test replays it from then on: commit it with the fix. CI (.ci/run) runs it
## after make test with FUZZTIME=3s: the readers of every file a user gives loadgen (run.json,
## seconds files, campaign, benchmarks and HPA YAML, metric timelines, sweep.json, run
## histories, JUnit) and the target's decoders. Fuzzing builds every package again with
## coverage instrumentation, a build of its own: cold, it takes minutes.
FUZZTIME ?= 20s
FUZZJOBS ?= 2
fuzz:
	$(GO) run ./internal/tools/fuzzall -go $(GO) -fuzztime $(FUZZTIME) -jobs $(FUZZJOBS)

vet:
	$(GO) vet ./...
	cd xk6-steamtrap && $(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
