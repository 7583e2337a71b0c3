@_spi(Plumbing) import Trapline
@_spi(Plumbing) import TraplineServer

/// TLS for sidecar mode (receivers' `tls`), the `otlphttp` exporter's HTTP client, and the
/// Kubernetes API watch (`KubernetesPodWatcher`): what links BoringSSL, swift-crypto and
/// AsyncHTTPClient, apart from the server so that what needs only plaintext receivers does not
/// build them.
public enum TraplineTLS {
    /// Makes receivers' TLS and `otlphttp` exporters available to every sidecar and exporter of
    /// the process started after it; calling it again changes nothing. Allocates once.
    public static func install() { InstalledModules.install(NIOTLSSupport()) }
}

/// The TLS side the server module calls through `TLSSupport`.
struct NIOTLSSupport: TLSSupport {
    func listenerTLS(_ settings: TLSServerSettings) throws -> any ListenerTLS { try ServerTLS(settings: settings) }

    func httpExportTransport(config: OTLPExporterConfig) -> any ExportTransport { HTTPExportTransport(config: config) }

    func kubernetesResolver(service: String, namespace: String, ports: [Int], timeoutSeconds: Double)
        -> any BackendResolver
    {
        KubernetesEndpointsResolver(
            service: service, namespace: namespace, ports: ports, timeoutSeconds: timeoutSeconds,
            endpoint: KubernetesPodWatcher.Endpoint.inCluster())
    }
}
