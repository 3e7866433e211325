# genbench — one entry point for building, testing and linting.
#   make run      build genbench and run the quick suite on the embedded model
#   make test     install test prerequisites, then lint and run every test
#   make genbench / make libgen / make lint / make clean
GO       ?= go
BUILD    ?= build
PYTHON   ?= python3
export GENBENCH_TESTDATA ?= $(HOME)/.cache/genbench/testdata
GOFILES  := $(shell find . -name '*.go' -not -path './build/*' 2>/dev/null)

.PHONY: all run genbench libgen test deps testdata lint go-test c-test py-test clean hf-reference goldens

all: genbench libgen

$(BUILD):
	@mkdir -p $(BUILD)

# The static binary: no cgo, runs on CPU-only and GPU machines alike.
genbench: | $(BUILD)
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -o $(BUILD)/genbench ./benchmarks/genbench

# The shared library for non-Go hosts (Python, C, ...), with its header.
libgen: | $(BUILD)
	CGO_ENABLED=1 $(GO) build -trimpath -buildvcs=auto -buildmode=c-shared -o $(BUILD)/libgen.so ./libgen
	rm -f $(BUILD)/libgen.h
	cp capi/genbench.h $(BUILD)/genbench.h

run: genbench
	$(BUILD)/genbench --suite quick

deps:
	@scripts/install-deps.sh

testdata: deps
	@scripts/fetch-testdata.sh

lint:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

go-test:
	$(GO) test -count=1 ./...

c-test: libgen
	$(MAKE) -C capi test BUILD=$(abspath $(BUILD))

py-test: libgen genbench
	GENBENCH_LIB=$(abspath $(BUILD))/libgen.so GENBENCH_BIN=$(abspath $(BUILD))/genbench $(PYTHON) -m unittest discover -s python/tests -t python -v
	$(PYTHON) -m unittest discover -s tools/goldens -v

test: testdata lint go-test c-test py-test

# The Hugging Face reference environment (a Debian root with CPU torch and
# transformers; root needed) and the golden fixtures made in it:
# tools/hf-reference/README.md.
hf-reference:
	sh tools/hf-reference/setup.sh

goldens:
	$(GO) run ./tools/goldens/synthckpt -out $(BUILD)/goldens-src
	sh tools/hf-reference/run.sh . python3 tools/goldens/make_goldens.py --out gocore/engine/testdata/goldens --real-src $(BUILD)/goldens-src
	$(GO) test -count=1 -run 'TestGoldens|TestGoldenNegativeControls' -v ./gocore/engine

clean:
	rm -rf $(BUILD)
