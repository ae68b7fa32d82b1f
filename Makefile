# hull: build, test, demo. Everything here runs as root on Debian 12.
GO      ?= go
PREFIX  ?= /usr/local
DESTDIR ?=
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null)
# Static, like runc's releases: the init re-executes hull inside the
# container (see waitInC), where no dynamic loader exists.
TAGS    := osusergo netgo
# urfave/cli's man/markdown writers (and the markdown parser they pull in,
# 0.3 ms of package init and 200 KB of heap at every start) are needed only
# by `make docs`, which builds with DOCTAGS.
BINTAGS := $(TAGS) urfave_cli_no_docs
DOCTAGS := gendocs $(TAGS)
# pinstart (bin/hull only): the Go runtime starts with one P
# (internal/oneproc, pin.c); it needs the linker's --wrap=pthread_create.
LDFLAGS := -s -w -X main.commit=$(COMMIT) -extldflags "-static -Wl,--wrap=pthread_create"
# Go 1.26's default collector (Green Tea) writes mark bits into every new
# span as it is set up, a page fault on the span's last page even where
# nothing else touches it. hull's commands rarely collect at all, and the
# idle hull-shim not until it has run one. With the older collector
# (GOEXPERIMENT=nogreenteagc, while the toolchain still has it): 14-19
# fewer page faults per command (create 387 -> 370), an idle hull-shim
# 2136 -> 2040 kB RSS, create's peak RSS 8.47 -> 8.28-8.41 MB; CPU time of
# create, start, delete and --version the same within the noise (two runs
# of 60 interleaved, each binary ahead in one).
GCEXP   := $(shell GOEXPERIMENT=nogreenteagc $(GO) env GOEXPERIMENT 2>/dev/null)
# staticcheck, pinned, from the module proxy (staticcheck.conf: its checks).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
APT_PKGS := busybox-static libseccomp-dev gcc make strace musl-tools
# hull is linked against musl (Debian's musl-tools), not glibc: glibc's
# static start-up asks the CPU for its features and caches 43 times
# (CPUID), and in a VM each one traps to the hypervisor (5.6 µs on the
# KVM guest of this project): a quarter of a millisecond in every hull
# process, three of which create and start a container (create, the
# init, start). musl's start-up asks nothing. Its compiler sees only musl's
# headers: bin/musl gets the kernel's and libseccomp's (with Debian's
# libseccomp.a) by symlink. A build with the system's C compiler (go
# build, go install) still works; it is only slower to start.
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
MUSL    := $(CURDIR)/bin/musl
MUSLENV := CC=musl-gcc CGO_CFLAGS='-O2 -g -I$(MUSL)/include' CGO_LDFLAGS='-L$(MUSL)/lib'

.PHONY: all build musl docs test unit integration rootless rootless-suite demo lint deps clean install bench bench-v2 oci vm systemd criu fuzz stress callers runc-suite

all: build

build: musl
	GOEXPERIMENT=$(GCEXP) $(MUSLENV) $(GO) build -trimpath -tags '$(BINTAGS) pinstart' -ldflags '$(LDFLAGS)' -o bin/hull .
	GOEXPERIMENT=$(GCEXP) CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o bin/hull-shim ./cmd/hull-shim

musl:
	@command -v musl-gcc >/dev/null || { echo "musl-gcc not found: make deps installs it (Debian's musl-tools)" >&2; exit 1; }
	@[ -f /usr/lib/$(MULTIARCH)/libseccomp.a ] || { echo "no /usr/lib/$(MULTIARCH)/libseccomp.a: make deps installs it (libseccomp-dev)" >&2; exit 1; }
	@mkdir -p $(MUSL)/include $(MUSL)/lib
	@ln -sfn /usr/include/linux $(MUSL)/include/linux
	@ln -sfn /usr/include/asm-generic $(MUSL)/include/asm-generic
	@ln -sfn /usr/include/$(MULTIARCH)/asm $(MUSL)/include/asm
	@ln -sfn /usr/include/seccomp.h $(MUSL)/include/seccomp.h
	@ln -sfn /usr/include/seccomp-syscalls.h $(MUSL)/include/seccomp-syscalls.h
	@ln -sfn /usr/lib/$(MULTIARCH)/libseccomp.a $(MUSL)/lib/libseccomp.a

# deps installs what the build and the tests need on a fresh Debian 12.
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags '$(DOCTAGS)' .
	$(GO) vet -tags pinstart ./internal/oneproc
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -count=1 ./libcontainer/... ./cmd/... ./internal/...
	$(GO) test -count=1 -tags '$(BINTAGS)' .
	$(GO) test -count=1 -tags '$(DOCTAGS)' .

# docs generates the man pages and shell completions from the command
# definitions (docs_gen.go) into bin/.
docs:
	$(GO) run -tags '$(DOCTAGS)' . gendocs bin

integration: build
	cd tests && HULL_TEST_RUNTIME=$(CURDIR)/bin/hull $(GO) test -count=1 -timeout 20m ./...

# rootless runs the integration tests that make sense for an unprivileged
# user as a temporary user made for the lane (and removed after it, /etc
# restored byte for byte): tests/rootless/lane.sh.
# Then rootless podman drives hull, and runc's suite runs in its rootless
# modes as the same user (5m43s on an idle machine, its two modes side by
# side; HULL_ROOTLESS_SUITE=0 leaves it out).
rootless: build
	bash tests/lib/runc-suite-setup.sh >/dev/null
	bash tests/rootless/lane.sh $(CURDIR)/bin/hull

# rootless-suite: runc v1.5.1's suite in its rootless modes (none, idmap) as
# the rootless lane's temporary user, against upstream runc's passes
# (tests/rootless/expected-runc-v1.5.1.txt), without the rest of the lane.
rootless-suite: build
	bash tests/lib/runc-suite-setup.sh >/dev/null
	HULL_ROOTLESS_PODMAN=0 HULL_ROOTLESS_SUITE=1 bash tests/rootless/lane.sh $(CURDIR)/bin/hull '^TestVersion$$'

# fuzz runs every fuzz target briefly (FUZZTIME each); seeds are in the
# targets, crashers found become testdata/fuzz/ regression cases. The
# budget is a count of executions, not a duration: with a duration, Go
# 1.26's coordinator can report "context deadline exceeded" as a failure
# when the time runs out (golang/go#75804, fixed in Go 1.27; seen in this
# CI). 200000 runs take 3-8 s per target here.
FUZZTIME ?= 200000x
fuzz:
	@set -e; for pkg in ./libcontainer ./libcontainer/config ./libcontainer/internal/specjson ./libcontainer/internal/proto ./libcontainer/store ./libcontainer/cgroups; do \
		for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run XXX -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# stress runs the load tests at full size (1000 sequential lifecycles).
stress: build
	cd tests && HULL_STRESS=1 HULL_TEST_RUNTIME=$(CURDIR)/bin/hull $(GO) test -count=1 -timeout 60m -run 'Stress' -v ./...

# callers drives hull from Debian's containerd 1.6 (ctr, and its CRI plugin
# through crictl), podman 4.3 and dockerd 20.10: private instances in the
# lane's own namespaces (tests/callers/run.sh).
CALLER_PKGS := containerd podman docker.io jq bc
callers: build
	@missing=""; for p in $(CALLER_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	bash tests/callers/run.sh $(CURDIR)/bin/hull

# runc-suite runs runc v1.5.1's own integration suite (../shared/runc-suite)
# against hull as installed (hull-shim beside it) and fails unless every test
# upstream runc v1.5.1 passes on these machines passes with hull
# (tests/runc-suite/lane.sh; the bar is tests/runc-suite/expected-runc-v1.5.1.txt).
runc-suite:
	bash tests/runc-suite/lane.sh

# The cgroup v2 lane boots a VM (qemu, TCG) with a pure cgroup2 host.
vm: build
	bash tests/vm/lane.sh

# The checkpoint/restore lane: hull's checkpoint tests with criu in the same
# VM (Debian 12's criu cannot dump on our hosts' kernels; see tests/vm).
criu: build
	bash tests/vm/criu-lane.sh

# The systemd lane boots Debian 12's systemd as PID 1 in the same VM and
# runs the cgroup tests with --systemd-cgroup (tests/vm/systemd-lane.sh).
systemd: build
	bash tests/vm/systemd-lane.sh

# test: lint, unit and fuzz, then the lanes (tests/lanes.sh): the host
# lanes (integration rootless runc-suite oci callers) in order and, at the
# same time, the VM lanes (vm systemd criu) in order; a table of each
# lane's result and time at the end.
test: deps lint unit fuzz build
	bash tests/lanes.sh

demo: deps build
	@sh scripts/demo.sh $(CURDIR)/bin/hull

# oci runs the OCI runtime-tools validation suite against hull.
oci: build
	bash tests/oci/lane.sh $(CURDIR)/bin/hull

# bench compares hull with runc and crun (Debian's) on the same bundle.
bench: deps build
	@sh bench/run.sh $(CURDIR)/bin/hull

# bench-v2: the bench's scenarios on the vm lane's cgroup v2 guest (qemu
# TCG: ratios only), into bin/bench/results-v2.md (tests/vm/bench-lane.sh).
bench-v2: build
	bash tests/vm/bench-lane.sh

install: build docs
	install -D -m 0755 bin/hull $(DESTDIR)$(PREFIX)/sbin/hull
	install -D -m 0755 bin/hull-shim $(DESTDIR)$(PREFIX)/sbin/hull-shim
	for f in bin/man/man8/*.8; do install -D -m 0644 $$f $(DESTDIR)$(PREFIX)/share/man/man8/$${f##*/}; done
	install -D -m 0644 bin/completions/bash/hull $(DESTDIR)$(PREFIX)/share/bash-completion/completions/hull
	install -D -m 0644 bin/completions/zsh/_hull $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_hull
	install -D -m 0644 bin/completions/fish/hull.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/hull.fish

clean:
	rm -rf bin
