import TraplineCore

/// The `otlp` receiver's HTTP protocol (`protocols.http`), with the Collector's defaults.
@_spi(Plumbing) public struct OTLPReceiverConfig: Hashable, Sendable {
    /// `host:port` to listen on; default `localhost:4318` (loopback, as the Collector's).
    public var endpoint = "127.0.0.1:4318"
    /// Largest request body after decompression, in bytes; default 64 MiB.
    public var maxRequestBodySize = 64 << 20
    /// Seconds a client may take to send a request (head and body); default 30.
    public var readTimeoutSeconds = 30.0
    /// Seconds an idle keep-alive connection stays open; default 60.
    public var idleTimeoutSeconds = 60.0

    public init() {}
}

extension OTLPReceiverConfig: ConfigComponent {
    static let kind = ComponentKind.receiver
    static let type = "otlp"
    static let summary = "OTLP/HTTP on protocols.http.endpoint (sidecar mode of trapline run)"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        decoder.decodeOTLPReceiver(component).map { .receiver(.otlp($0)) }
    }
}

extension ConfigDecoder {
    /// `otlp` with `protocols.http` (gRPC is refused with a hint).
    fileprivate mutating func decodeOTLPReceiver(_ component: Component) -> OTLPReceiverConfig? {
        guard let settings = settings(of: component, known: ["protocols"]) else { return nil }
        var otlp = OTLPReceiverConfig()
        var sawHTTP = false
        for setting in settings where setting.key == "protocols" {
            guard let protocols = entries(setting.node, at: setting.location) else { continue }
            rejectUnknownKeys(protocols, known: ["http", "grpc"])
            for entry in protocols {
                if entry.key == "grpc" {
                    diagnostics.error(
                        "OTLP over gRPC is not supported", at: entry.location, hint: "use protocols.http (port 4318)")
                    continue
                }
                sawHTTP = true
                guard let keys = entries(entry.node, at: entry.location) else { continue }
                rejectUnknownKeys(
                    keys,
                    known: [
                        "endpoint", "max_request_body_size", "read_timeout", "idle_timeout", "traces_url_path",
                        "logs_url_path", "include_metadata",
                    ])
                for key in keys {
                    switch key.key {
                    case "endpoint":
                        guard let text = string(key.node, at: key.location) else { continue }
                        if HostPort(text) == nil {
                            diagnostics.error(
                                "'\(text)' is not host:port", at: key.location, hint: "e.g. 127.0.0.1:4318")
                        }
                        otlp.endpoint = text
                    case "max_request_body_size":
                        guard let text = key.node.scalar, let size = Int(text), size > 0 else {
                            diagnostics.error("expected a positive number of bytes", at: key.location)
                            continue
                        }
                        otlp.maxRequestBodySize = size
                    case "read_timeout", "idle_timeout":
                        guard let seconds = seconds(key) else { continue }
                        if key.key == "read_timeout" {
                            otlp.readTimeoutSeconds = seconds
                        } else {
                            otlp.idleTimeoutSeconds = seconds
                        }
                    case "traces_url_path", "logs_url_path", "include_metadata":
                        diagnostics.error(
                            "'\(key.key)' is not supported", at: key.location,
                            hint: "the receiver serves /v1/traces and /v1/logs")
                    default: break
                    }
                }
            }
        }
        if !sawHTTP {
            diagnostics.error(
                "the otlp receiver needs protocols.http", at: component.location,
                hint: "protocols: {http: {endpoint: 127.0.0.1:4318}}")
        }
        return otlp
    }
}

/// `host:port` as the Collector writes endpoints (`localhost:4318`, `0.0.0.0:4318`, `:4318`).
@_spi(Plumbing) public struct HostPort: Hashable, Sendable {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        if host == "localhost" { host = "127.0.0.1" }
        self.host = host
        self.port = port
    }
}
