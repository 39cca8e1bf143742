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
    ],
    targets: [
        // The check engine: cost of one check on a generated set of one million assignments, and memory.
        .executableTarget(
            name: "CheckEngine",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PorticoCore", package: "Portico"),
            ],
            path: "Benchmarks/CheckEngine",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
