/// Prometheus exposition of Trapline's own metrics.
@_spi(Plumbing) public struct PrometheusExporterConfig: Hashable, Sendable {
    /// `host:port` to serve `/metrics` on (sidecar mode). Exactly one of `endpoint` and `path`.
    public var endpoint: String?
    /// A textfile to write (atomically, via rename) when the run ends.
    public var path: String?

    /// Makes the defaults.
    public init() {}
}

extension PrometheusExporterConfig: ConfigComponent {
    static let kind = ComponentKind.exporter
    static let type = "prometheus"
    static let summary = "Trapline's own metrics: a textfile (path) or /metrics served in sidecar mode (endpoint)"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard let settings = decoder.settings(of: component, known: ["endpoint", "path"]) else { return nil }
        var prometheus = PrometheusExporterConfig()
        for setting in settings {
            switch setting.key {
            case "endpoint": prometheus.endpoint = decoder.string(setting.node, at: setting.location)
            case "path": prometheus.path = decoder.string(setting.node, at: setting.location)
            default: break
            }
        }
        if (prometheus.endpoint == nil) == (prometheus.path == nil) {
            decoder.diagnostics.error(
                "give exactly one of 'endpoint' (serve /metrics) and 'path' (write a textfile)",
                at: component.location)
        }
        return .exporter(.prometheus(prometheus))
    }
}
