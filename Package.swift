// swift-tools-version: 6.1
import PackageDescription

/// Every target gets the same settings (STYLE.md, Module layout).
let sharedSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Trapline",
    products: [
        .library(name: "Trapline", targets: ["Trapline", "TraplineStages", "TraplineRules", "TraplineCore"]),
        .executable(name: "trapline", targets: ["trapline"]),
        // Sidecar mode (OTLP/HTTP receiver, exporters' queue, /metrics) for embedders on SwiftNIO;
        // the fuzz package (Fuzz/) drives its request handler in process.
        .library(name: "TraplineServer", targets: ["TraplineServer"]),
        // TLS, the otlphttp exporter and the Kubernetes API watch for the server:
        // `TraplineTLS.install()` before starting a sidecar.
        .library(name: "TraplineTLS", targets: ["TraplineTLS"]),
        // OTLP/gRPC for the server: `TraplineGRPC.install()` before starting a sidecar.
        .library(name: "TraplineGRPC", targets: ["TraplineGRPC"]),
        // The C ABI (include/trapline.h) for collectors written in C or Go.
        .library(name: "TraplineC", type: .dynamic, targets: ["TraplineC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // OTLP/gRPC (receiver and `otlp` exporter) over HTTP/2 on SwiftNIO; messages stay raw bytes.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        // The OTLP/gRPC receiver's HTTP/2 (and its connection management: keepalive, idle, age).
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        // Receivers' `tls.reload_interval` (TimedCertificateReloader).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // The traps' streaming baselines (a span's latency against its own recent p99).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // `swift package generate-documentation` (the DocC catalog in Sources/Trapline/Trapline.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The system zlib, reached through a module map (the only C dependency of the product).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // The system libzstd (Debian libzstd-dev): `zstd` content encoding in sidecar mode.
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        // A SIGBUS handler that keeps a memory-mapped input whose file shrinks from killing the
        // process (C: a signal handler may only do async-signal-safe work).
        .target(name: "CMappingGuard"),
        .target(name: "TraplineCore", dependencies: ["CZlib", "CMappingGuard"], swiftSettings: sharedSettings),
        .target(name: "TraplineRules", dependencies: ["TraplineCore"], swiftSettings: sharedSettings),
        .target(
            name: "TraplineStages",
            dependencies: [
                "TraplineCore", "TraplineRules", .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: sharedSettings),
        .target(
            name: "Trapline",
            dependencies: [
                "TraplineCore", "TraplineRules", "TraplineStages", .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: sharedSettings
        ),
        // The C ABI over `Pipeline` (include/trapline.h).
        .target(
            name: "TraplineC", dependencies: ["Trapline", "TraplineCore", "TraplineStages"],
            swiftSettings: sharedSettings),
        // Sidecar mode: the OTLP/HTTP receiver, admission, /metrics and the exporters' queue.
        .target(
            name: "TraplineServer",
            dependencies: [
                "Trapline", "TraplineCore", "TraplineStages", "CZlib", "CZstd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: sharedSettings
        ),
        // TLS (receivers' and exporters'), the otlphttp exporter's HTTP client and the Kubernetes
        // API watch, installed into the server at start. Apart so that what needs only plaintext
        // receivers (the http fuzz target, built with sanitizers) does not build BoringSSL,
        // swift-crypto and AsyncHTTPClient.
        .target(
            name: "TraplineTLS",
            dependencies: [
                "TraplineServer", "Trapline", "TraplineCore", "TraplineStages",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
            ],
            swiftSettings: sharedSettings
        ),
        // OTLP/gRPC: the receiver's services and the `otlp` exporter's transport, installed into
        // the server at start. Apart so that what needs only OTLP/HTTP does not build grpc-swift.
        .target(
            name: "TraplineGRPC",
            dependencies: [
                "TraplineServer", "TraplineTLS", "Trapline", "TraplineCore", "TraplineStages",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            swiftSettings: sharedSettings
        ),
        .executableTarget(
            name: "trapline",
            dependencies: [
                "Trapline", "TraplineCore", "TraplineStages", "TraplineServer", "TraplineTLS", "TraplineGRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: sharedSettings
        ),

        // Test-only: libprotobuf-c with protoc-c generated OTLP code (regenerate with
        // Scripts/generate-oracle.sh). No product links it.
        .target(
            name: "COTLPOracle",
            cSettings: [.headerSearchPath("generated")],
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        .target(
            name: "TraplineTestSupport",
            dependencies: ["TraplineCore", "TraplineStages", "Trapline", "COTLPOracle"],
            swiftSettings: sharedSettings
        ),
        .testTarget(
            name: "TraplineCoreTests",
            dependencies: ["TraplineCore", "TraplineTestSupport", "COTLPOracle"],
            swiftSettings: sharedSettings
        ),
        .testTarget(
            name: "TraplineRulesTests",
            dependencies: ["TraplineRules", "TraplineCore", "TraplineStages", "TraplineTestSupport"],
            swiftSettings: sharedSettings
        ),
        .testTarget(
            name: "TraplineTests",
            dependencies: ["Trapline", "TraplineCore", "TraplineStages", "TraplineTestSupport"],
            swiftSettings: sharedSettings
        ),
        .testTarget(
            name: "TraplineStagesTests",
            dependencies: ["TraplineStages", "TraplineCore", "TraplineRules", "TraplineTestSupport"],
            swiftSettings: sharedSettings
        ),
        .testTarget(
            name: "TraplineServerTests",
            dependencies: [
                "TraplineServer", "TraplineTLS", "TraplineGRPC", "Trapline", "TraplineCore", "TraplineStages",
                "TraplineTestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ],
            swiftSettings: sharedSettings
        ),
        .testTarget(
            name: "TraplineCLITests",
            dependencies: ["TraplineTestSupport", "TraplineCore", "trapline"],
            swiftSettings: sharedSettings
        ),
    ]
)
