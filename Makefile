# netns-daemon — build, test, demo, bench.
GO      ?= go
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
BINS    := netns-daemon-start netns-daemon-stop netns-daemon-status netns-proxy
BIN     := bin

.PHONY: all build test deps demo bench install uninstall clean vet lint

all: build

build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/ ./cmd/...

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
test: deps build vet
	$(GO) test -race -count=1 -timeout 14m ./...

# Tools the tests and benchmarks drive, from Debian.
deps:
	./scripts/deps.sh

demo: deps build
	./scripts/demo.sh

bench: deps build
	./bench/run.sh $(if $(QUICK),--quick,)

install: build
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 $(addprefix $(BIN)/,$(BINS)) $(DESTDIR)$(SBINDIR)/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(BINS))

clean:
	rm -rf $(BIN)
