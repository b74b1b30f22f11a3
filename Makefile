# netns-daemon — build, test, demo, bench, install, package.
GO      ?= go
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
DOCDIR  ?= $(DATADIR)/doc/netns-daemon
# systemd's unit path: /lib/systemd/system for PREFIX=/usr (Debian's).
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),,$(PREFIX))/lib/systemd/system
# The units and the init script read /etc/netns-daemon whatever the PREFIX.
SYSCONFDIR ?= /etc
BINS    := netns-daemon-start netns-daemon-stop netns-daemon-status netns-proxy
BIN     := bin
VERSION := $(shell ./scripts/version.sh)
UNITS   := netns@.service netns-proxy.service netns-proxy@.service
MANS    := netns-daemon-start.8 netns-daemon-stop.8 netns-daemon-status.8 netns-proxy.8 \
	   netns-daemon.toml.5 netns-proxy.toml.5

.PHONY: all build test test-systemd deps demo bench man install uninstall deb clean vet lint

all: build

# Stripped (-s -w: no symbol table or DWARF; stack traces still work), as
# installed binaries should be.
build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/ ./cmd/...

# Types, the plan, the diff and their rendering build everywhere; only the
# kernel actions are Linux.
vet:
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

# errcheck, errorlint, staticcheck, unused, gocyclo (.golangci.yml).
lint:
	./scripts/lint.sh

# Root tests create throwaway namespaces and run real haproxy/nft; without
# root they skip with a reason. CI installs their tools through `make deps`.
test: deps build vet lint
	$(GO) test -race -count=1 -timeout 14m ./...

# Boots systemd in a systemd-nspawn --private-network container, installs
# the .deb there and drives every unit and the init script (needs root).
test-systemd: deps deb
	./scripts/systemd-test/run.sh $(BIN)/netns-daemon_$(VERSION)_$$(dpkg --print-architecture).deb

# Tools the tests and benchmarks drive, from Debian.
deps:
	./scripts/deps.sh

demo: deps build
	./scripts/demo.sh

bench: deps build
	./bench/run.sh $(if $(QUICK),--quick,)

# Man pages: section 8 from the commands' kong flags, section 5 from the
# README's configuration references.
man:
	@mkdir -p $(BIN)/man
	for c in $(BINS); do \
		NETNS_DAEMON_VERSION=$(VERSION) $(GO) run -tags manpage ./cmd/$$c >$(BIN)/man/$$c.8.tmp && \
		mv $(BIN)/man/$$c.8.tmp $(BIN)/man/$$c.8 || exit 1; \
	done
	$(GO) run ./internal/mangen -o $(BIN)/man -version $(VERSION)

install: build man
	DESTDIR="$(DESTDIR)" SBINDIR="$(SBINDIR)" UNITDIR="$(UNITDIR)" DATADIR="$(DATADIR)" \
	MANDIR="$(MANDIR)" DOCDIR="$(DOCDIR)" SYSCONFDIR="$(SYSCONFDIR)" BIN="$(BIN)" \
	./scripts/install.sh

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(BINS)) $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	rm -f $(foreach m,$(MANS),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(m).gz)
	rm -rf $(DESTDIR)$(DATADIR)/netns-daemon $(DESTDIR)$(DOCDIR)

# bin/netns-daemon_VERSION_ARCH.deb, built offline with dpkg-deb.
deb: build man
	./scripts/deb.sh

clean:
	rm -rf $(BIN)
