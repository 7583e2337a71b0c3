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
    /// `http://` scheme), `tls.insecure`, and the settings every OTLP exporter shares.
    fileprivate mutating func decodeOTLPGRPCExporter(_ component: Component, _ settings: [Entry])
        -> OTLPExporterConfig?
    {
        rejectUnknownKeys(
            settings, known: ["endpoint", "tls", "balancer_name", "keepalive", "auth"] + Self.sharedExporterKeys)
        var config = OTLPExporterConfig()
        var endpoint: HostPort?
        var insecure = false
        var endpointLocation = component.location
        for setting in settings {
            switch setting.key {
            case "endpoint":
                guard var text = string(setting.node, at: setting.location) else { continue }
                endpointLocation = setting.location
                if text.hasPrefix("http://") {
                    // The Collector reads an http scheme as plaintext.
                    text.removeFirst("http://".count)
                    insecure = true
                } else if text.hasPrefix("https://") {
                    text.removeFirst("https://".count)
                }
                if text.hasPrefix("dns:///") { text.removeFirst("dns:///".count) }
                guard let address = HostPort(text), address.port > 0 else {
                    diagnostics.error("'\(text)' is not host:port", at: setting.location, hint: "e.g. 127.0.0.1:4317")
                    continue
                }
                endpoint = address
            case "tls":
                let keys = entries(setting.node, at: setting.location) ?? []
                rejectUnknownKeys(keys, known: ["insecure"])
                for key in keys where key.key == "insecure" {
                    insecure = bool(key.node, at: key.location) ?? insecure
                }
            case "balancer_name", "keepalive":
                break  // one connection per next hop; HTTP/2 pings are the transport's
            case "auth":
                diagnostics.error("'auth' is not supported in this version", at: setting.location, hint: "use headers")
            default: decodeSharedExporterSetting(setting, into: &config)
            }
        }
        guard let endpoint else {
            diagnostics.error("'endpoint' is required", at: component.location, hint: "e.g. 127.0.0.1:4317")
            return nil
        }
        if !insecure {
            diagnostics.error(
                "TLS to the next hop is not supported in this version", at: endpointLocation,
                hint: "set tls: {insecure: true} (or an http:// endpoint) for plaintext gRPC")
        }
        config.transport = .grpc(endpoint: endpoint)
        return config
    }
}
