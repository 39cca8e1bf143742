// swift-tools-version: 6.1
import PackageDescription

// The coverage-guided fuzzer of the wire layer (libFuzzer), in a package of its own so that the main
// package never carries fuzzing flags. Build and run it with `make fuzz` (see README.md here).
let package = Package(
    name: "PorticoFuzz",
    dependencies: [
        .package(name: "Portico", path: ".."),
    ],
    targets: [
        // The call into libFuzzer's driver, in C (see driver.c).
        .target(name: "CFuzzerDriver"),
        // The fuzz target: main hands over to libFuzzer, which calls LLVMFuzzerTestOneInput per input.
        .executableTarget(
            name: "PorticoFuzz",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "PorticoWire", package: "Portico"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
