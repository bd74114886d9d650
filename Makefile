# tether: top-level entry points.  Meson does the building; this file
# installs what is missing, picks build directories and runs things.
#
#   make          build build/tether
#   make run      install missing packages, build, start the studio
#   make check    install missing packages (and test tools), build with
#                 warnings as errors, build again with ASan+UBSan, run the
#                 whole suite on both, fuzz briefly; ends with "N passed, M failed"
#   make bench    run the benchmarks (see docs/BENCHMARKS.md)

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 20

.PHONY: all build run check test bench fuzz clean deps-run deps-check

all: build

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps-run:
	scripts/install-deps run

deps-check:
	scripts/install-deps check

run: deps-run build
	scripts/run-studio $(BUILD)

check: deps-check
	scripts/check

test: build
	tests/run-suite $(BUILD)

bench: deps-check build
	bench/run-all $(BUILD)
	bench/run-lib $(BUILD)
	bench/run-studio $(BUILD)
	bench/run-cameras $(BUILD) 20
	bench/run-focus $(BUILD) 30
	bench/run-trap $(BUILD) 20 0.5 1 2
	bench/run-import $(BUILD) 200 7
	bench/run-interval $(BUILD) 30 1

fuzz: deps-check
	scripts/check --fuzz-only

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) tests/out
