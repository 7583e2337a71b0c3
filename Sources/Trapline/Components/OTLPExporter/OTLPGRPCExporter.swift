/// The `otlp` exporter: OTLP/gRPC to the next hop, with the same queue, retries and accounting
/// as `otlphttp`.
enum OTLPGRPCExporter: ConfigComponent {
    static let kind = ComponentKind.exporter
    static let type = "otlp"
    static let aliases = ["otlp_grpc"]
    static let summary = "forwards OTLP/gRPC to the next hop (4317), queued and retried (sidecar, run, replay)"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard let settings = decoder.entries(component.node, at: component.location) else { return nil }
        return decoder.decodeOTLPGRPCExporter(component, settings).map { .exporter(.otlp($0)) }
    }
}

extension ConfigDecoder {
    /// `otlp`: `endpoint` as the Collector's gRPC client takes it (`host:port`, or with an
    /// `http://` scheme for plaintext), and the settings every OTLP exporter shares (`tls`
    /// among them: TLS unless `insecure`, as the Collector's).
    fileprivate mutating func decodeOTLPGRPCExporter(_ component: Component, _ settings: [Entry])
        -> OTLPExporterConfig?
    {
        rejectUnknownKeys(
            settings, known: ["endpoint", "balancer_name", "keepalive"] + Self.sharedExporterKeys)
        var config = OTLPExporterConfig()
        var endpoint: HostPort?
        var plaintextScheme = false
        for setting in settings {
            switch setting.key {
            case "endpoint":
                guard var text = string(setting.node, at: setting.location) else { continue }
                if text.hasPrefix("http://") {
                    // The Collector reads an http scheme as plaintext.
                    text.removeFirst("http://".count)
                    plaintextScheme = true
                } else if text.hasPrefix("https://") {
                    text.removeFirst("https://".count)
                }
                if text.hasPrefix("dns:///") { text.removeFirst("dns:///".count) }
                guard let address = HostPort(text), address.port > 0 else {
                    diagnostics.error("'\(text)' is not host:port", at: setting.location, hint: "e.g. 127.0.0.1:4317")
                    continue
                }
                endpoint = address
            case "balancer_name", "keepalive":
                break  // one connection per next hop; HTTP/2 pings are the transport's
            default: decodeSharedExporterSetting(setting, into: &config)
            }
        }
        guard let endpoint else {
            diagnostics.error("'endpoint' is required", at: component.location, hint: "e.g. 127.0.0.1:4317")
            return nil
        }
        if plaintextScheme { config.tls.insecure = true }
        if config.compression == .zstd {
            diagnostics.error(
                "the otlp exporter compresses with gzip or none", at: component.location,
                hint: "gRPC's zstd is not available in this version; otlphttp sends zstd")
        }
        config.transport = .grpc(endpoint: endpoint)
        return config
    }
}
