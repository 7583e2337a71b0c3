package import NIOCore
@_spi(Plumbing) package import Trapline

/// What sidecar mode needs of TLS and of an HTTP client, supplied by the `TraplineTLS` module:
/// receivers' TLS and the `otlphttp` exporter's transport. Kept out of this module so that what
/// needs only plaintext receivers (the http fuzz target, built with sanitizers in CI) does not
/// build BoringSSL, swift-crypto and AsyncHTTPClient: `trapline` installs it at start
/// (`TraplineTLS.install()`); without it a receiver with `tls` fails to start saying so, and an
/// `otlphttp` exporter's sends fail.
package protocol TLSSupport: Sendable {
    /// A receiver's TLS from its settings: the certificate and key read now (a bad file fails the
    /// start), reloaded on `reload_interval` until `stop`.
    func listenerTLS(_ settings: TLSServerSettings) throws -> any ListenerTLS
    /// The `otlphttp` exporter's transport.
    func httpExportTransport(config: OTLPExporterConfig) -> any ExportTransport
    /// The `loadbalancing` exporter's `k8s` resolver: the ready addresses of a Service's
    /// endpoints, followed with a watch of the Kubernetes API (in-cluster credentials).
    func kubernetesResolver(service: String, namespace: String, ports: [Int], timeoutSeconds: Double)
        -> any BackendResolver
}

/// One receiver's TLS, shared by its HTTP and gRPC listeners.
package protocol ListenerTLS: Sendable {
    /// What a listener adds first to each connection it accepts (the TLS server handler), its
    /// TLS context made once; `applicationProtocols` are offered by ALPN (`h2` for gRPC).
    func handlerFactory(applicationProtocols: [String]) throws -> @Sendable () -> any ChannelHandler
    /// Stops reloading the certificate.
    func stop()
}
