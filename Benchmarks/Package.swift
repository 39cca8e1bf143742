// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so that the main package never depends on the benchmark
// harness. Run from this folder: `swift package benchmark` (see README.md).
let package = Package(
    name: "PorticoBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Portico", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // The load generator's gRPC client (grpc-swift 2's own) and its TLS connections.
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // The check engine's generated set (one million assignments) and its hash-map reference.
        .target(
            name: "CheckEngineSet",
            dependencies: [.product(name: "PorticoCore", package: "Portico")],
            path: "Benchmarks/CheckEngineSet"
        ),
        // The check engine: cost of one check on a generated set of one million assignments, and memory.
        .executableTarget(
            name: "CheckEngine",
            dependencies: [
                "CheckEngineSet",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PorticoCore", package: "Portico"),
            ],
            path: "Benchmarks/CheckEngine",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Encode and decode of the check messages through protobuf-c: time and mallocs per message.
        .executableTarget(
            name: "WireCodec",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PorticoWire", package: "Portico"),
            ],
            path: "Benchmarks/WireCodec",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Load over loopback TCP (`portico-bench run`, `portico-bench suite`): a data set built through
        // the API, then closed- and open-loop load on raw SwiftNIO connections (in clear or TLS), or
        // grpc-swift clients on the gRPC endpoint, HdrHistogram latencies, JSON, Markdown and an SVG
        // chart; against a server it starts in-process or one at an address.
        .executableTarget(
            name: "portico-bench",
            dependencies: [
                .product(name: "PorticoServer", package: "Portico"),
                .product(name: "PorticoGRPC", package: "Portico"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PorticoClient", package: "Portico"),
                .product(name: "PorticoCore", package: "Portico"),
                .product(name: "PorticoWire", package: "Portico"),
                .product(name: "PorticoStore", package: "Portico"),
                // PostgresServer: `portico-bench postgres` starts a real PostgreSQL as the tests do.
                .product(name: "PorticoTestSupport", package: "Portico"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/LoadGenerator",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // One decode of a costly body, for callgrind to count instructions per byte (fuzz/callgrind-decode.sh).
        .executableTarget(
            name: "decode-cost",
            dependencies: [
                .product(name: "PorticoWire", package: "Portico"),
            ],
            path: "Benchmarks/DecodeCost",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Callgrind's client requests (zero, dump) for the programs that count instructions.
        .target(name: "CCallgrind", path: "Sources/CCallgrind"),
        // Server instructions per hot RPC, and the engine's per check beside a hash-map probe, under
        // callgrind (callgrind/hot-path.sh, `make callgrind`).
        .executableTarget(
            name: "hot-path-cost",
            dependencies: [
                "CCallgrind",
                "CheckEngineSet",
                .product(name: "PorticoServer", package: "Portico"),
                .product(name: "PorticoCore", package: "Portico"),
                .product(name: "PorticoWire", package: "Portico"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/HotPathCost",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Resident bytes per idempotency key held, through Portico.execute (keyed runs against unkeyed ones).
        .executableTarget(
            name: "idempotency-memory",
            dependencies: [
                .product(name: "PorticoCore", package: "Portico"),
            ],
            path: "Benchmarks/IdempotencyMemory",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Instructions per check by ids and by external ids, for callgrind (counts steady on a loaded machine).
        .executableTarget(
            name: "check-cost",
            dependencies: [
                .product(name: "PorticoCore", package: "Portico"),
            ],
            path: "Benchmarks/CheckCost",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The durable store: writes per second (single, concurrent) and start-up at one million assignments.
        .executableTarget(
            name: "store-bench",
            dependencies: [
                .product(name: "PorticoCore", package: "Portico"),
                .product(name: "PorticoStore", package: "Portico"),
            ],
            path: "Benchmarks/StoreWrites",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
