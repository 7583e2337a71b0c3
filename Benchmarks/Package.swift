// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so embedders never resolve benchmark dependencies.
// COTLPOracle is a link to the main package's test-only oracle: libprotobuf-c, the peer every
// decode figure is a ratio to.
let package = Package(
    name: "TraplineBenchmarks",
    dependencies: [.package(name: "Trapline", path: "..")],
    targets: [
        .target(name: "MallocCounter"),
        // The peers of peers.sh, called in-process too: the C tag skim and simdjson On-Demand
        // (Debian libsimdjson-dev; haswell, as peers.sh builds it, for the same On-Demand kernel).
        .target(name: "CPeers"),
        .target(
            name: "CSimdjsonPeer",
            cxxSettings: [.unsafeFlags(["-march=haswell", "-std=c++17"])],
            linkerSettings: [.linkedLibrary("simdjson")]
        ),
        // include/trapline.h, to call libTraplineC through the C ABI as a C program does.
        .systemLibrary(name: "CTraplineABI"),
        .target(
            name: "COTLPOracle",
            cSettings: [.headerSearchPath("generated")],
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        .executableTarget(
            name: "TraplineBenchmarks",
            dependencies: [
                .product(name: "Trapline", package: "Trapline"), .product(name: "TraplineC", package: "Trapline"),
                "CTraplineABI", "MallocCounter", "COTLPOracle", "CPeers", "CSimdjsonPeer",
            ],
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-Ounchecked"], .when(configuration: .debug))]
        ),
    ]
)
