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
                "CTraplineABI", "MallocCounter", "COTLPOracle",
            ],
            swiftSettings: [.swiftLanguageMode(.v6), .unsafeFlags(["-Ounchecked"], .when(configuration: .debug))]
        ),
    ]
)
