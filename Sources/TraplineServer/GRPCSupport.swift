@_spi(Plumbing) package import Trapline
package import TraplineCore

/// The gRPC side of sidecar mode and of the `otlp` exporter, supplied by the `TraplineGRPC`
/// module. It is kept out of this module so that what needs only OTLP/HTTP (the http fuzz
/// target, an embedder's HTTP receiver) does not build grpc-swift: `trapline` installs it at
/// start (`TraplineGRPC.install()`); without it a gRPC receiver or exporter fails to start with
/// a message saying so.
package protocol GRPCSupport: Sendable {
    /// Binds an OTLP/gRPC listener for `receiver` and starts serving.
    func startReceiver(_ receiver: GRPCReceiverRequest, sidecar: Sidecar) throws -> any GRPCListener
    /// The `otlp` exporter's transport to `endpoint`.
    func exportTransport(endpoint: HostPort, config: OTLPExporterConfig) -> any ExportTransport
}

/// What a gRPC listener needs from the sidecar's receiver settings.
package struct GRPCReceiverRequest: Sendable {
    package var settings: OTLPGRPCSettings
    package var signals: Set<Signal>
    package var source: String
    /// The `authorization` metadata RPCs must carry, if any.
    package var authorization: String?
    /// The listener's TLS, if any.
    package var tls: (any ListenerTLS)?
}

/// A running gRPC listener, as the sidecar stops it.
package protocol GRPCListener: Sendable {
    /// The port bound.
    var port: Int { get }
    /// Stops taking new RPCs; those in progress finish.
    func stopAccepting()
    /// Waits until the RPCs in progress have been answered, or `deadline` passes.
    func waitForRPCs(until deadline: ContinuousClock.Instant)
    /// Releases what is left.
    func shutDown()
}
