// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets that need more than TraplineCore and TraplineRules: the YAML -> pipeline
// builder (Yams), the sidecar's HTTP request handler (SwiftNIO), the text-log splitter against
// its own reference, and the protobuf decoder against libprotobuf-c. Built with
// `swift build --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address` by
// Fuzz/run.sh (which says why both); each program defines
// `LLVMFuzzerTestOneInput` and takes libFuzzer's `main`.
// COTLPOracle is a link to the main package's test-only oracle, as in Benchmarks/.
let settings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "TraplineFuzz",
    dependencies: [
        .package(name: "Trapline", path: ".."), .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(
            name: "COTLPOracle",
            cSettings: [.headerSearchPath("generated")],
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        .target(name: "FuzzDriver", swiftSettings: settings),
        .executableTarget(
            name: "FuzzConfig",
            dependencies: ["FuzzDriver", .product(name: "Trapline", package: "Trapline")],
            swiftSettings: settings),
        .executableTarget(
            name: "FuzzHTTP",
            dependencies: [
                "FuzzDriver", .product(name: "Trapline", package: "Trapline"),
                .product(name: "TraplineServer", package: "Trapline"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: settings),
        .executableTarget(
            name: "FuzzText",
            dependencies: ["FuzzDriver", .product(name: "Trapline", package: "Trapline")],
            swiftSettings: settings),
        .executableTarget(
            name: "FuzzDifferential",
            dependencies: ["FuzzDriver", "COTLPOracle", .product(name: "Trapline", package: "Trapline")],
            swiftSettings: settings),
    ]
)
