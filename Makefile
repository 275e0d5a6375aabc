# Tests and benchmarks run under scripts/testenv.sh, which exports TEST_DATABASE_URL and
# TEST_REDIS_URL (reusing running servers or starting throwaway ones).

GO       ?= go
FUZZTIME ?= 30s
PREFIX   ?= /usr/local

.PHONY: test peers bench screenshots lint build install fuzz clean

# The second and third lines test encrypted Matrix rooms: the pure-Go Olm build (-tags goolm).
test:
	scripts/testenv.sh $(GO) test -count=1 -timeout 14m ./...
	scripts/testenv.sh env CGO_ENABLED=0 $(GO) test -count=1 -timeout 10m -tags goolm ./connectors/matrix/
	scripts/testenv.sh env CGO_ENABLED=0 $(GO) test -count=1 -timeout 10m -tags goolm -run Matrix ./cmd/ticketd/

# Builds ahead of `make test` the test peers that take minutes to build, into caches outside
# the repository (scripts/dendrite.sh: ~/.cache/ticketd-dendrite), so that no package spends
# its test timeout on them. Optional: without it the tests build what is missing themselves,
# or skip saying why.
peers:
	@bin=$$(scripts/dendrite.sh) && echo "Dendrite for the Matrix tests: $$bin"

bench:
	scripts/testenv.sh $(GO) test -run '^$$' -bench . -benchmem ./...

# Regenerates the README's screenshots, docs/screenshots/*.png: the browser tests take them
# (webtest.Shot) at 1280x800, and at 390x844 for the -phone ones. Needs Chromium.
screenshots:
	mkdir -p docs/screenshots
	TICKETD_SCREENSHOTS=$(CURDIR)/docs/screenshots scripts/testenv.sh $(GO) test -count=1 -run 'TestBrowser' \
		./connectors/web/signin/ ./connectors/web/workspace/

lint:
	@files=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path './vendor/*'); \
	unformatted=$$(gofmt -l $$files); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: these files need gofmt:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	CGO_ENABLED=0 $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags goolm ./connectors/matrix/

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ticketd ./cmd/ticketd

# Puts bin/ticketd on PATH as $(PREFIX)/bin/ticketd, where deploy/systemd/ticketd.service runs it.
install: build
	install -D -m 0755 bin/ticketd $(DESTDIR)$(PREFIX)/bin/ticketd

# Runs every Fuzz* target of every package for FUZZTIME each (go test -fuzz takes one
# target at a time).
fuzz:
	@set -e; found=0; \
	for pkg in $$($(GO) list ./...); do \
		targets=$$($(GO) test -list '^Fuzz' "$$pkg"); \
		for t in $$(printf '%s\n' "$$targets" | grep '^Fuzz' || true); do \
			found=1; \
			echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done; \
	[ $$found = 1 ] || echo "no Fuzz targets found"

clean:
	rm -rf bin
	rm -f cover.out coverage.out coverage.html *.coverprofile
