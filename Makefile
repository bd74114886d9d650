# tether: top-level entry points.  Meson does the building; this file
# installs what is missing, picks build directories and runs things.
#
#   make          build build/tether
#   make run      install missing packages, build, start the studio
#   make check    install missing packages (and test tools), build with
#                 warnings as errors, build again with ASan+UBSan, run the
#                 whole suite on both, fuzz briefly; ends with "N passed, M failed"
#   make bench    run the benchmarks (see docs/BENCHMARKS.md)
#   make install  build, then install the program in $(DESTDIR)$(PREFIX)/bin
#                 and the systemd unit, sysusers.d and tmpfiles.d snippets
#                 (deploy/systemd/) under $(DESTDIR)$(PREFIX)/lib; the
#                 unit's ExecStart names the installed program

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 20
PREFIX     ?= /usr/local
DESTDIR    ?=
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d

.PHONY: all build run check test bench fuzz clean deps-run deps-check install

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
	bench/run-v4l2 $(BUILD)

fuzz: deps-check
	scripts/check --fuzz-only

install: build
	install -D -m 0755 $(BUILD)/tether $(DESTDIR)$(PREFIX)/bin/tether
	install -d $(DESTDIR)$(UNITDIR)
	sed 's#/usr/local/bin/tether#$(PREFIX)/bin/tether#g' deploy/systemd/tether.service >$(DESTDIR)$(UNITDIR)/tether.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tether.service
	install -D -m 0644 deploy/systemd/tether.sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/tether.conf
	install -D -m 0644 deploy/systemd/tether.tmpfiles.conf $(DESTDIR)$(TMPFILESDIR)/tether.conf

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) tests/out
