import TraplineCore

/// The `otlp` receiver: `protocols.http` and `protocols.grpc`, with the Collector's defaults.
@_spi(Plumbing) public struct OTLPReceiverConfig: Hashable, Sendable {
    /// Whether `protocols.http` is listed (the fields below are its settings).
    public var servesHTTP = false
    /// `protocols.grpc`, when listed.
    public var grpc: OTLPGRPCSettings?
    /// `host:port` to listen on; default `localhost:4318` (loopback, as the Collector's).
    public var endpoint = "127.0.0.1:4318"
    /// Largest request body after decompression, in bytes; default 64 MiB.
    public var maxRequestBodySize = 64 << 20
    /// Seconds a client may take to send a request (head and body); default 30.
    public var readTimeoutSeconds = 30.0
    /// Seconds an idle keep-alive connection stays open; default 60.
    public var idleTimeoutSeconds = 60.0
    /// `protocols.http.tls`: HTTPS, with mTLS when it names a `client_ca_file`.
    public var tls: TLSServerSettings?
    /// `protocols.http.auth.authenticator`: the `bearertokenauth` extension requests must satisfy.
    public var authenticator: ComponentID?

    public init() {}
}

extension OTLPReceiverConfig: ConfigComponent {
    static let kind = ComponentKind.receiver
    static let type = "otlp"
    static let summary =
        "OTLP/HTTP (protocols.http, 4318) and OTLP/gRPC (protocols.grpc, 4317): sidecar mode of trapline run"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        decoder.decodeOTLPReceiver(component).map { .receiver(.otlp($0)) }
    }
}

extension ConfigDecoder {
    /// `otlp` with `protocols.http` and/or `protocols.grpc`.
    fileprivate mutating func decodeOTLPReceiver(_ component: Component) -> OTLPReceiverConfig? {
        guard let settings = settings(of: component, known: ["protocols"]) else { return nil }
        var otlp = OTLPReceiverConfig()
        for setting in settings where setting.key == "protocols" {
            guard let protocols = entries(setting.node, at: setting.location) else { continue }
            rejectUnknownKeys(protocols, known: ["http", "grpc"])
            for entry in protocols {
                if entry.key == "grpc" {
                    otlp.grpc = decodeGRPCProtocol(entry)
                    continue
                }
                otlp.servesHTTP = true
                guard let keys = entries(entry.node, at: entry.location) else { continue }
                rejectUnknownKeys(
                    keys,
                    known: [
                        "endpoint", "max_request_body_size", "read_timeout", "idle_timeout", "traces_url_path",
                        "logs_url_path", "include_metadata", "tls", "auth",
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
                    case "tls": otlp.tls = decodeServerTLS(key)
                    case "auth": otlp.authenticator = decodeAuthenticator(key)
                    case "traces_url_path", "logs_url_path", "include_metadata":
                        diagnostics.error(
                            "'\(key.key)' is not supported", at: key.location,
                            hint: "the receiver serves /v1/traces and /v1/logs")
                    default: break
                    }
                }
            }
        }
        if !otlp.servesHTTP && otlp.grpc == nil {
            diagnostics.error(
                "the otlp receiver needs protocols.http or protocols.grpc", at: component.location,
                hint: "protocols: {grpc: {endpoint: 127.0.0.1:4317}, http: {endpoint: 127.0.0.1:4318}}")
        }
        if otlp.servesHTTP, let grpc = otlp.grpc, let http = HostPort(otlp.endpoint),
            let other = HostPort(grpc.endpoint), http == other, http.port != 0
        {
            diagnostics.error(
                "protocols.http and protocols.grpc both listen on \(otlp.endpoint)", at: component.location,
                hint: "gRPC's port is 4317, HTTP's 4318")
        }
        return otlp
    }

    /// `protocols.grpc`: `endpoint`, `max_recv_msg_size_mib`, `max_concurrent_streams`,
    /// `keepalive.server_parameters`; the rest of the Collector's keys are refused by name.
    fileprivate mutating func decodeGRPCProtocol(_ entry: Entry) -> OTLPGRPCSettings {
        var grpc = OTLPGRPCSettings()
        guard let keys = entries(entry.node, at: entry.location) else { return grpc }
        rejectUnknownKeys(
            keys,
            known: [
                "endpoint", "max_recv_msg_size_mib", "max_concurrent_streams", "keepalive", "transport",
                "read_buffer_size", "write_buffer_size", "include_metadata", "tls", "auth",
            ])
        for key in keys {
            switch key.key {
            case "endpoint":
                guard let text = string(key.node, at: key.location) else { continue }
                if HostPort(text) == nil {
                    diagnostics.error("'\(text)' is not host:port", at: key.location, hint: "e.g. 127.0.0.1:4317")
                }
                grpc.endpoint = text
            case "max_recv_msg_size_mib", "max_concurrent_streams":
                guard let text = key.node.scalar, let value = Int(text), value > 0 else {
                    diagnostics.error("expected a positive number", at: key.location)
                    continue
                }
                if key.key == "max_concurrent_streams" {
                    grpc.maxConcurrentStreams = value
                } else {
                    grpc.maxReceiveMessageBytes = value << 20
                }
            case "transport":
                if key.node.scalar != "tcp" {
                    diagnostics.error("only 'tcp' transport is supported", at: key.location)
                }
            case "tls":
                grpc.tls = decodeServerTLS(key)
                if grpc.tls?.minimumVersion == .v1_3 {
                    diagnostics.error(
                        "min_version 1.3 is not supported on protocols.grpc in this version", at: key.location,
                        hint: "gRPC listens with TLS 1.2 and 1.3; protocols.http takes min_version 1.3")
                }
            case "auth": grpc.authenticator = decodeAuthenticator(key)
            case "read_buffer_size", "write_buffer_size":
                break  // NIO sizes its buffers itself; accepted so Collector files load
            case "keepalive":
                for group in entries(key.node, at: key.location) ?? [] {
                    guard group.key == "server_parameters" else {
                        diagnostics.error(
                            "'keepalive.\(group.key)' is not supported", at: group.location,
                            hint: "keepalive.server_parameters is")
                        continue
                    }
                    let known = [
                        "time", "timeout", "max_connection_idle", "max_connection_age", "max_connection_age_grace",
                    ]
                    let parameters = entries(group.node, at: group.location) ?? []
                    rejectUnknownKeys(parameters, known: known)
                    for parameter in parameters {
                        guard let value = seconds(parameter) else { continue }
                        grpc.keepalive[parameter.key] = value
                    }
                }
            default:
                diagnostics.error(
                    "'\(key.key)' is not supported on protocols.grpc in this version", at: key.location)
            }
        }
        return grpc
    }
}

/// The `otlp` receiver's `protocols.grpc`, with the Collector's defaults.
@_spi(Plumbing) public struct OTLPGRPCSettings: Hashable, Sendable {
    /// `host:port` to listen on; default `localhost:4317` (loopback, as the Collector's).
    public var endpoint = "127.0.0.1:4317"
    /// `max_recv_msg_size_mib`: the largest request message after decompression; default 4 MiB
    /// (gRPC's and the Collector's). A larger one is refused with `RESOURCE_EXHAUSTED`.
    public var maxReceiveMessageBytes = 4 << 20
    /// `max_concurrent_streams` per connection; nil leaves gRPC's default.
    public var maxConcurrentStreams: Int?
    /// `keepalive.server_parameters` in seconds, by the Collector's names (`time`, `timeout`,
    /// `max_connection_idle`, `max_connection_age`, `max_connection_age_grace`).
    public var keepalive: [String: Double] = [:]
    /// `tls`: gRPC over TLS, with mTLS when it names a `client_ca_file`.
    public var tls: TLSServerSettings?
    /// `auth.authenticator`: the `bearertokenauth` extension RPCs must satisfy.
    public var authenticator: ComponentID?

    public init() {}
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
