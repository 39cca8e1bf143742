# Portico: every command a developer or CI needs. `make run` and `make test` work on a fresh Debian
# machine with Swift: they install the system packages that are missing, then build.

SWIFT ?= swift
# Extra flags for the `swift build` and `swift run` of `make build` and `make run`. The tests that run
# the README's commands pass --ignore-lock: `swift test` holds the build folder's lock while they run,
# and their `make run` builds nothing new.
SWIFTPM_FLAGS ?=
# Where `make install` puts bin/portico; DESTDIR is prepended, for packaging.
PREFIX ?= /usr/local
# The Swift runtime and Foundation linked into the release binary, so that it runs on a machine without
# Swift (it needs only libc, libstdc++, libsqlite3 and libprotobuf-c).
RELEASE_FLAGS ?= --static-swift-stdlib
# Debian packages: protobuf-c (library, headers, protoc-c), protoc (golden files, interop tests) and
# python3-protobuf (the Swift generator reads protoc's descriptors with it); libsqlite3-dev (the store);
# postgresql (the tests of the shared log start a server of their own; Portico itself needs only a URL);
# python3-venv: the virtual environment of the gRPC tests' Python tools (make grpc-python).
APT_PACKAGES := libprotobuf-c-dev protobuf-c-compiler protobuf-compiler python3-protobuf pkg-config libsqlite3-dev \
	postgresql python3-venv

# The reference server `make bench` measures beside Portico (redis-benchmark is in redis-tools).
BENCH_APT_PACKAGES := redis-server redis-tools
BENCH_SIZE ?= medium
# Client and server share the machine: on 2 cores one server event loop beside the generator's one
# serves more than one per core (measured both ways: Benchmarks/README.md).
BENCH_FLAGS ?= --server-threads 1
BENCH = .build-bench/release/portico-bench

.PHONY: all deps apt-install build run test release install check-install check-generated generate clean python-client c-client grpc-python bench bench-deps bench-micro bench-pg lint \
	fuzz fuzz-ci fuzz-build callgrind

all: build

## Install the Debian packages that are missing (needs root, as sessions and CI are).
deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

bench-deps: deps
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(BENCH_APT_PACKAGES)"

apt-install:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build $(SWIFTPM_FLAGS)

## Start the server on the embedded default: 127.0.0.1:7700, data directory ./data (operator key in
## ./data/operator.key). Stop it with Ctrl-C (graceful shutdown).
run: build
	$(SWIFT) run --skip-build $(SWIFTPM_FLAGS) portico serve

test: deps python-client c-client grpc-python
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## An optimized portico: .build/release/portico (a first release build takes several minutes).
release: deps
	$(SWIFT) build -c release $(RELEASE_FLAGS) --product portico

## Install the release build as $(DESTDIR)$(PREFIX)/bin/portico.
install: release
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 .build/release/portico "$(DESTDIR)$(PREFIX)/bin/portico"

## Install into a scratch PREFIX and run that portico from another directory: --version, then a server
## it starts, pings and stops (CI runs it).
check-install:
	./.ci/check-install.sh

## The Python client's message classes, generated from proto/ (clients/python/portico/v1, not committed).
python-client: deps
	protoc -Iproto --python_out=clients/python proto/portico/v1/*.proto

## The stock gRPC tools for Python (grpcio-tools, grpcio-health-checking, pinned in
## clients/python/requirements-grpc.txt), from PyPI into a virtual environment the build owns:
## .build/python. The gRPC tests generate their stubs with it at test time; nothing is committed.
# The stamp is written once pip has installed everything, so that a failed install is redone.
GRPC_PYTHON_STAMP := .build/python/installed
grpc-python: deps $(GRPC_PYTHON_STAMP)
$(GRPC_PYTHON_STAMP): clients/python/requirements-grpc.txt
	rm -rf .build/python
	/usr/bin/python3 -m venv .build/python
	.build/python/bin/python3 -m pip install --quiet --disable-pip-version-check -r clients/python/requirements-grpc.txt
	cp clients/python/requirements-grpc.txt $(GRPC_PYTHON_STAMP)

## The C example client, built against libprotobuf-c and the protoc-c code in Sources/CPorticoProto.
c-client: deps
	mkdir -p .build
	cc -std=c11 -O2 -Wall -Wextra -ISources/CPorticoProto/include clients/c/portico_check.c \
	  $(addprefix Sources/CPorticoProto/portico/v1/,frame.pb-c.c checks.pb-c.c types.pb-c.c health.pb-c.c) \
	  -lprotobuf-c -o .build/portico-check

## The standard load suite (a few minutes on 2 cores): builds portico-bench in release, starts a server
## with the SQLite store on a generated data set (BENCH_SIZE: small, medium, large), and writes
## docs/benchmarks.md, docs/benchmarks.json and docs/benchmarks-latency.svg, with Redis as the reference.
bench: bench-deps
	cd Benchmarks && $(SWIFT) build -c release --scratch-path ../.build-bench --product portico-bench
	$(BENCH) suite --size $(BENCH_SIZE) $(BENCH_FLAGS)

## Portico on a shared PostgreSQL log (docs/scale-out.md, "Measured"; about 5 minutes): builds portico and
## portico-bench in release, then `portico-bench postgres` starts a PostgreSQL of its own (fsync on, a free
## port, a temporary directory, the user nobody under root) and three `portico serve` nodes (SQLite, and A
## and B on the PostgreSQL log), and measures in rounds: durable writes/s against SQLite's at 1 and 64
## writers, the replication lag from A to B, checks/s on one node against two. Stops them all at the end.
PG_BENCH_FLAGS ?= --rounds 5 --seconds 3
bench-pg: deps
	cd Benchmarks && $(SWIFT) build -c release --scratch-path ../.build-bench --product portico
	cd Benchmarks && $(SWIFT) build -c release --scratch-path ../.build-bench --product portico-bench
	$(BENCH) postgres --portico .build-bench/release/portico $(PG_BENCH_FLAGS)

## The micro benchmarks (ordo-one/benchmark): the check engine at 1M assignments, the wire codec.
bench-micro: deps
	cd Benchmarks && $(SWIFT) package --scratch-path ../.build-bench benchmark

## Instructions, counted by callgrind (the same from run to run on a shared machine), that the server
## spends per ping, check, check by token and batched check, and the check engine's per check beside a
## plain hash-map probe (Benchmarks/README.md). CALLGRIND_MODE: rpc, engine, all, or metrics (ping and check
## against a server without metrics and one that keeps them).
CALLGRIND_MODE ?= all
callgrind: deps
	@$(MAKE) --no-print-directory apt-install PACKAGES=valgrind
	Benchmarks/callgrind/hot-path.sh $(CALLGRIND_MODE)

## The sources swift-format checks against .swift-format (4 spaces, 120 columns), strictly. A list that
## grows as files are brought to the format, rather than one reformat of everything, so that no branch in
## flight is rewritten under its feet; generated code is not on it.
LINT_PATHS := Sources/PorticoReasons Sources/PorticoServer/Dispatch Sources/PorticoCore/Visibility \
  Sources/PorticoCore/Check/AccessSnapshot+Callers.swift Sources/PorticoCore/State/AccessState+Targets.swift \
  Tests/PorticoTestSupport Tests/PorticoServerTests/Scenario Tests/PorticoServerTests/RoutingTests.swift \
  Tests/PorticoServerTests/DispatchHardeningTests.swift Tests/PorticoServerTests/ErrorReasonTests.swift \
  Tests/PorticoServerTests/BadInputTests.swift Tests/PorticoCoreTests/Scenario \
  Tests/PorticoStoreTests/Scenario Sources/PorticoGRPC Sources/PorticoServer/TLS Tests/PorticoGRPCTests

lint:
	$(SWIFT) format lint --strict --recursive $(LINT_PATHS)
	@# Every Swift source and test keeps to .swift-format's 120 columns, except generated code and the files
	@# with declarations that opt out of swift-format (tables laid out by hand, one case a line); the list above
	@# is checked for every rule.
	@long=$$(find Sources Tests -name '*.swift' -not -path '*/Generated/*' -exec grep -L 'swift-format-ignore' {} + \
		| xargs awk 'length > 120 { print FILENAME ":" FNR ": " length " columns" }'); \
		if [ -n "$$long" ]; then echo "lines over 120 columns:"; echo "$$long"; exit 1; fi

## The wire layer's coverage-guided fuzzer (libFuzzer; fuzz/README.md): builds it in release with
## -sanitize=fuzzer and runs it for FUZZ_SECONDS on the committed seeds plus the corpus it grew so far
## (.build-fuzz/corpus). A broken invariant stops it and leaves the input as .build-fuzz/crash-*.
FUZZ_SECONDS ?= 600
# More libFuzzer options, e.g. FUZZ_FLAGS="-jobs=2 -workers=2" (each job then logs to ./fuzz-N.log).
FUZZ_FLAGS ?=
FUZZ = .build-fuzz/release/PorticoFuzz
fuzz-build: deps
	cd fuzz && $(SWIFT) build -c release --scratch-path ../.build-fuzz \
	  -Xswiftc -sanitize=fuzzer -Xcc -fsanitize=fuzzer-no-link
fuzz: fuzz-build
	mkdir -p .build-fuzz/corpus
	SWIFT_BACKTRACE=enable=no $(FUZZ) -max_total_time=$(FUZZ_SECONDS) -max_len=8192 $(FUZZ_FLAGS) \
	  -artifact_prefix=.build-fuzz/ -print_final_stats=1 .build-fuzz/corpus fuzz/seeds fuzz/regressions

## A bounded run for CI: about a minute of fuzzing after the build.
fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60

## Regenerate the C (protoc-c) and Swift code from proto/.
generate: deps
	./proto/generate.sh

## Fail if the committed generated code differs from what proto/generate.sh makes now.
check-generated: deps
	./proto/check-generated.sh

clean:
	rm -rf .build
