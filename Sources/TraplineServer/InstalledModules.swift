import Synchronization

/// Where the modules kept apart from the server install themselves at start (`TraplineGRPC`,
/// `TraplineTLS`), and the error a sidecar gives when it needs one that was not installed.
package enum InstalledModules {
    private static let installed = Mutex<(grpc: (any GRPCSupport)?, tls: (any TLSSupport)?)>((nil, nil))

    /// Installs the gRPC side (idempotent).
    package static func install(_ support: any GRPCSupport) { installed.withLock { $0.grpc = support } }

    /// Installs TLS and the HTTP client (idempotent).
    package static func install(_ support: any TLSSupport) { installed.withLock { $0.tls = support } }

    /// The installed gRPC side, if any.
    package static var grpc: (any GRPCSupport)? { installed.withLock { $0.grpc } }

    /// The installed TLS side, if any.
    package static var tls: (any TLSSupport)? { installed.withLock { $0.tls } }
}

/// A receiver or exporter configured in a process without the module it needs.
struct ModuleNotInstalled: Error, CustomStringConvertible {
    /// What is missing (`OTLP/gRPC`, `TLS`).
    var feature: String
    /// The module that brings it.
    var module: String

    var description: String { "\(feature) is not available in this build (the \(module) module is not installed)" }
}
