# drctl: `make drill` and `make test` set up everything they need on a Debian machine.
SWIFT        ?= swift
BIN          := .build/debug/drctl
# graphviz: `drctl graph` output is checked with dot. libssh2-1-dev and openssh-server: the SSH
# transport and its tests against a real sshd. curl: https probes (is vCenter answering?).
DEBIAN_PACKAGES := graphviz libssh2-1-dev openssh-server pkg-config curl
# `make bench` also needs: /usr/bin/time (each process's CPU and peak RSS), the ssh client and
# python3-venv (the OpenSSH and Ansible comparisons; ansible-core comes from PyPI into .build/ansible).
BENCH_PACKAGES := time openssh-client python3-venv

.PHONY: all deps build test drill release bench fuzz crash-test soak report-check clean

all: build

deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing Debian packages:$$missing"; \
	    echo "Install them with: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6 is needed (https://swift.org/install); none found on PATH"; exit 1; }

build: deps
	$(SWIFT) build

test: build
	$(SWIFT) test

# The quarterly drill: the host-failure runbook against the simulated fleet, ending with its report.
drill: build
	$(BIN) drill Runbooks/host-failure.yaml --scenario Simulator/host-failure.yaml --param failed_host=esxi-01 --auto-approve

# 300 more SIGKILL-and-resume points than `make test` runs (set DRCTL_CRASH_POINTS, DRCTL_CRASH_SEED),
# and a failed write of the run's record at every write point of a drill, not every 15th.
crash-test: build
	DRCTL_CRASH_POINTS=$${DRCTL_CRASH_POINTS:-351} DRCTL_WRITE_POINTS=all $(SWIFT) test --filter "CrashTests|WriteFailureTests"

# Each runbook against more generated sites than `make test` drills (DRCTL_SITES per runbook, from DRCTL_SITE_SEED),
# and DRCTL_LARGE_SITES sites of each of 200, 400 and 1,000 VMs per runbook.
soak: build
	DRCTL_SITES=$${DRCTL_SITES:-2000} DRCTL_SITE_SEED=$${DRCTL_SITE_SEED:-10000} DRCTL_LARGE_SITES=$${DRCTL_LARGE_SITES:-10} $(SWIFT) test --filter GeneratedSiteTests

# A drill's HTML report rendered in headless Chromium, with a screenshot in .build/report-check/.
# Also prints it to PDF (two A4 pages at most, counted with poppler's pdfinfo) and captures the
# live display of a drill under tmux into .build/report-check/live-*.txt.
report-check: build
	@for tool in chromium:chromium pdfinfo:poppler-utils tmux:tmux; do \
	  command -v $${tool%%:*} >/dev/null && continue; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $${tool#*:} >/dev/null; \
	  else echo "$${tool%%:*} is needed: sudo apt-get install -y $${tool#*:}"; exit 1; fi; done
	.ci/report-check

# libFuzzer on every target (runbooks, inventories, scenarios, templates, each ESXi output parser),
# FUZZ_SECONDS each (default 30); FUZZ_TARGETS="runbook getallvms" picks some. `make test` replays
# the committed corpus (Tests/Corpus/).
fuzz: deps
	.ci/fuzz

# The drctl to take to a recovery host: .build/release/drctl, optimized, with Swift's runtime and
# Foundation linked in, so that host needs only Debian's libssh2-1 (and libssl3, which it brings),
# besides the C and C++ libraries every Debian system has (and each run starts
# about 5 MB lighter than with the runtime's shared libraries). The linker's "the use of `mktemp' is
# dangerous" comes from Foundation's own static library (how its atomic file writes name their
# temporary file), not from drctl's code.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib

bench: release
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(BENCH_PACKAGES)"
	@test -x .build/ansible/bin/ansible-playbook || { python3 -m venv .build/ansible && .build/ansible/bin/pip install --quiet ansible-core; } \
	  || echo "ansible-core could not be installed from PyPI: the Ansible comparison is left out of bench/results.md"
	.build/release/drctl-bench

clean:
	rm -rf .build
