# Two entry points for a fresh machine: `make run` and `make test`.
# Everything else is plain CMake presets (see README).
JOBS ?= 2
SAMPLES := samples

.PHONY: run test build release install package fuzz-smoke bench clean format tidy

run:
	@ci/bootstrap build
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j$(JOBS) >/dev/null
	@ci/run-main build/release

test:
	@ci/bootstrap test
	cmake --preset ci
	cmake --build --preset ci -j$(JOBS)
	ctest --preset ci -j$(JOBS)
	ci/fuzz-smoke
	ci/fuzz-builds
	ci/deb-test

# Each libFuzzer target for a few seconds over its corpus and regressions.
fuzz-smoke:
	@ci/bootstrap test
	ci/fuzz-smoke
	ci/fuzz-builds

build:
	@ci/bootstrap build
	cmake --preset debug
	cmake --build --preset debug -j$(JOBS)

release:
	@ci/bootstrap build
	cmake --preset release
	cmake --build --preset release -j$(JOBS)

# make install [PREFIX=/usr/local] [DESTDIR=...]: an optimised build configured
# for PREFIX, then cmake --install (the binary, share/mqcheck/, man pages, bash
# completion and the pytest plugin where /usr/bin/python3 finds it).
PREFIX ?= /usr/local
install:
	@ci/bootstrap build
	cmake -S . -B build/install -DCMAKE_BUILD_TYPE=Release -DMQC_TESTS=OFF \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build build/install -j$(JOBS)
	DESTDIR=$(DESTDIR) cmake --install build/install

# make package: build/package/mqcheck_VERSION_ARCH.deb (install it with
# apt install ./build/package/mqcheck_*.deb).
package:
	@ci/bootstrap build
	ci/deb build/package

bench: release
	build/release/mqcheck bench codec

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

tidy:
	cmake --preset debug >/dev/null
	clang-tidy -p build/debug $$(git ls-files 'codec/*.c' 'cli/*.c')

clean:
	rm -rf build
