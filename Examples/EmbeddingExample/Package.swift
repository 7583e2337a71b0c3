// swift-tools-version: 6.1
import PackageDescription

// An application that embeds Trapline as a library (the `Trapline` product), as another collector
// would: it builds a pipeline from YAML, adds a stage of its own, and feeds it request bodies.
let package = Package(
    name: "EmbeddingExample",
    dependencies: [.package(name: "Trapline", path: "../..")],
    targets: [
        .executableTarget(
            name: "EmbeddingExample",
            dependencies: [.product(name: "Trapline", package: "Trapline")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
