# hostnetd — see README.md. Two commands matter on a fresh Debian machine,
# as root: `make run` and `make test`.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin

GO          ?= go
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
VMEXEC      := $(CURDIR)/test/vm/vmexec
# The packages the VM suite runs: those with vmtest tests, plus the
# namespace integration tests, so they also run on Debian's kernel.
VM_PKGS     := ./test/kernel/... ./test/integration/...
RUN_DIR     := $(CURDIR)/.run
# make install: the layout systemd searches (/usr/local/lib/systemd/system
# is on its unit path); DESTDIR stages it elsewhere.
PREFIX      ?= /usr/local
DESTDIR     ?=
SBINDIR     ?= $(PREFIX)/sbin
BINDIR      ?= $(PREFIX)/bin
UNITDIR     ?= $(PREFIX)/lib/systemd/system
DOCDIR      ?= $(PREFIX)/share/doc/hostnetd

.PHONY: all build install verify-unit run test deps lint test-unit fuzz test-vm test-vm-selftest vm-prepare vm-shell bench clean \
	clients test-clients test-clients-ns test-clients-vm contract-record

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/hostnetd ./cmd/hostnetd
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/hostnetctl ./cmd/hostnetctl

# Installs hostnetd (and hostnetctl when built) and the unit, whose
# ExecStart= and Documentation= follow SBINDIR and DOCDIR. Then, as root:
# systemctl daemon-reload && systemctl enable --now hostnetd.
install: build
	install -D -m 0755 bin/hostnetd $(DESTDIR)$(SBINDIR)/hostnetd
	if [ -x bin/hostnetctl ]; then install -D -m 0755 bin/hostnetctl $(DESTDIR)$(BINDIR)/hostnetctl; fi
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's#/usr/local/sbin/hostnetd#$(SBINDIR)/hostnetd#' -e 's#/usr/local/share/doc/hostnetd#$(DOCDIR)#' \
	  systemd/hostnetd.service > $(DESTDIR)$(UNITDIR)/hostnetd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/hostnetd.service
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -d $(DESTDIR)$(DOCDIR)/docs
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/

# systemd-analyze verify on the unit as installed (a staged make install),
# so that its ExecStart= binary exists: verify fails on a missing one. verify
# exits 0 on what it merely warns about (an unknown key, a bad value), so
# any line it prints about hostnetd fails the target.
verify-unit:
	@scripts/verify-unit.sh

# Starts hostnetd on a throwaway sandbox namespace (never this machine's own
# interfaces) and prints curl examples; Ctrl-C stops it and deletes the sandbox.
run: build
	@scripts/run-sandbox.sh bin/hostnetd $(RUN_DIR)

# Everything: installs what is missing, lints, runs the unit and namespace
# tests on this kernel, then the VM suite (bonds and VLANs on a full kernel).
test: deps lint verify-unit test-unit fuzz test-vm test-vm-selftest

deps:
	@scripts/install-deps.sh
	@command -v staticcheck >/dev/null || GOFLAGS= $(GO) install $(STATICCHECK)

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags vmtest ./...
	$(GO) vet -tags clients ./test/clients/
	staticcheck ./...
	staticcheck -tags vmtest ./...
	staticcheck -tags clients ./test/clients/
	$(GO) vet -tags 'clients vmtest' ./test/clients/
	staticcheck -tags 'clients vmtest' ./test/clients/
	$(GO) vet -tags bench ./test/bench/
	staticcheck -tags bench ./test/bench/

# Unit tests and the namespace tests that need only veth and bridge, with the
# race detector, on this machine's kernel (as root; in fresh namespaces).
test-unit: build
	HOSTNETD_BINARY=$(CURDIR)/bin/hostnetd HOSTNETD_CTL_BINARY=$(CURDIR)/bin/hostnetctl $(GO) test -race -count=1 -timeout 20m ./...

# A short fixed-size run of every fuzz target (xmlapi/fuzz_test.go), one
# after the other; their seed corpora (testdata/fuzz) already ran as
# ordinary tests in test-unit. A crash fails the run and leaves the input
# in xmlapi/testdata/fuzz/FuzzX: fix it and commit the input.
# The budget is a count of executions, not a duration: Go 1.26's fuzz
# coordinator can report its own -fuzztime deadline as a failure
# ("context deadline exceeded", golang/go#75804, fixed in Go 1.27), and a
# loaded CI machine hits that race. A count has no deadline to race.
FUZZ_EXECS ?= 100000x
fuzz:
	@targets=$$($(GO) test -list '^Fuzz' -timeout 5m ./xmlapi | grep '^Fuzz'); \
	  for t in $$targets; do \
	    echo "fuzz: $$t for $(FUZZ_EXECS)"; \
	    $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZ_EXECS) -timeout 5m ./xmlapi || exit 1; \
	  done
	@echo "fuzz: the LLDP decoder's FuzzDecode for $(FUZZ_EXECS)"
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZ_EXECS) -timeout 5m ./netconf/lldp

vm-prepare:
	@bash test/vm/vm.sh prepare

# oVirt's own clients (the Python SDK and the ovirt.ovirt Ansible
# collection), built from their upstream sources in OVIRT_CLIENTS_DIR with
# Debian's packages into CLIENTS_BUILD (scripts/install-clients.sh).
OVIRT_CLIENTS_DIR ?= $(if $(wildcard $(CURDIR)/../shared/clients),$(CURDIR)/../shared/clients)
CLIENTS_BUILD     ?= $(CURDIR)/.clients
CLIENTS_TIMEOUT   ?= 30m
CLIENTS_RUN       ?= .
clients:
	@if [ -z "$(OVIRT_CLIENTS_DIR)" ]; then echo "OVIRT_CLIENTS_DIR is not set and ../shared/clients does not exist" >&2; exit 1; fi
	@scripts/install-clients.sh "$(OVIRT_CLIENTS_DIR)" "$(CLIENTS_BUILD)"

# The real clients against bin/hostnetd: the SDK and Ansible suites and the
# fleet example on sandbox namespaces, then the bond playbooks in the VM.
test-clients: test-clients-ns test-clients-vm

# The SDK and Ansible suites and the fleet example, driven by the real
# clients against bin/hostnetd on sandbox namespaces (test/clients).
test-clients-ns: clients build
	HOSTNETD_BINARY=$(CURDIR)/bin/hostnetd HOSTNETD_CLIENTS_ENV=$(CLIENTS_BUILD)/env \
	  $(GO) test -tags clients -count=1 -p 1 -timeout $(CLIENTS_TIMEOUT) -run '$(CLIENTS_RUN)' -v ./test/clients/

# The bond playbooks, in the VM (bonding): one VM run of TestAnsibleBonds
# (4.5 minutes under TCG on an idle machine, 25 on a loaded one: every
# module call starts Python in the emulated VM).
test-clients-vm: clients vm-prepare build
	HOSTNETD_BINARY=$(CURDIR)/bin/hostnetd HOSTNETD_CLIENTS_ENV=$(CLIENTS_BUILD)/env HOSTNETD_VM_TIMEOUT=$${HOSTNETD_VM_TIMEOUT:-3000} \
	  $(GO) test -tags 'clients vmtest' -exec $(VMEXEC) -count=1 -timeout 55m -run TestAnsibleBonds -v ./test/clients/

# Records the clients' exchanges again into test/contract/testdata, which
# make test replays without the clients (test/contract).
contract-record: clients build
	HOSTNETD_BINARY=$(CURDIR)/bin/hostnetd HOSTNETD_CLIENTS_ENV=$(CLIENTS_BUILD)/env \
	  HOSTNETD_CONTRACT_RECORD=$(CURDIR)/test/contract/testdata \
	  $(GO) test -tags clients -count=1 -p 1 -timeout $(CLIENTS_TIMEOUT) -run 'TestSDK|TestAnsible' -v ./test/clients/

# The VM suite: every package under test/ built with the vmtest tag and run
# inside the VM, one package at a time.
# The timeouts have headroom for a loaded machine: test/integration takes
# about 7 minutes in the VM on an idle one, and go test's default is 10.
test-vm: vm-prepare build
	HOSTNETD_BINARY=$(CURDIR)/bin/hostnetd HOSTNETD_CTL_BINARY=$(CURDIR)/bin/hostnetctl HOSTNETD_VM_TIMEOUT=$${HOSTNETD_VM_TIMEOUT:-2400} \
	  $(GO) test -tags vmtest -exec $(VMEXEC) -p 1 -count=1 -timeout 35m $(VM_PKGS)

test-vm-selftest: vm-prepare
	@bash test/vm/selftest.sh

# The scale benchmark (docs/performance.md), in the VM; not part of make test.
# BENCH_N picks the sizes, BENCH_PROFILE=1 adds CPU profiles of the daemon.
BENCH_OUT     ?= $(CURDIR)/.bench
BENCH_N       ?= 100,300,1000
BENCH_PROFILE ?=
bench: vm-prepare build
	HOSTNETD_BINARY=$(CURDIR)/bin/hostnetd HOSTNETD_VM_OUT_DIR=$(BENCH_OUT) HOSTNETD_BENCH_N=$(BENCH_N) \
	  HOSTNETD_BENCH_CPU_PROFILE=$(BENCH_PROFILE) HOSTNETD_BENCH_VERSION=$(VERSION) \
	  HOSTNETD_VM_MEM=$${HOSTNETD_VM_MEM:-2G} HOSTNETD_VM_TIMEOUT=$${HOSTNETD_VM_TIMEOUT:-5400} \
	  $(GO) test -tags bench -exec $(VMEXEC) -count=1 -timeout 90m -v -run TestBench ./test/bench/
	@echo "results: $(BENCH_OUT)/results.json, $(BENCH_OUT)/table.txt"

vm-shell: vm-prepare
	@bash test/vm/vm.sh shell

clean:
	rm -rf bin $(RUN_DIR) $(CLIENTS_BUILD)
