import TraplineCore
import TraplineRules

extension ConfigDecoder {
    /// `otlp` with `protocols.http` (gRPC is refused with a hint).
    mutating func decodeOTLPReceiver(_ component: Component) -> OTLPReceiverConfig? {
        guard let settings = entries(component.node, at: component.location) else { return nil }
        rejectUnknownKeys(settings, known: ["protocols"])
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

    /// `otlphttp`: `endpoint` (or `traces_endpoint`/`logs_endpoint`), `compression`, `timeout`,
    /// `headers`, `retry_on_failure`, `sending_queue`.
    mutating func decodeOTLPHTTPExporter(_ component: Component, _ settings: [Entry]) -> OTLPHTTPExporterConfig? {
        rejectUnknownKeys(
            settings,
            known: [
                "endpoint", "traces_endpoint", "logs_endpoint", "compression", "timeout", "headers",
                "retry_on_failure", "sending_queue", "encoding",
            ])
        var config = OTLPHTTPExporterConfig()
        for setting in settings {
            switch setting.key {
            case "endpoint": config.endpoint = url(setting) ?? ""
            case "traces_endpoint": config.tracesEndpoint = url(setting)
            case "logs_endpoint": config.logsEndpoint = url(setting)
            case "compression":
                config.compression = choice(setting.node, at: setting.location, as: ExportCompression.self) ?? .gzip
            case "timeout": config.timeoutSeconds = seconds(setting) ?? config.timeoutSeconds
            case "encoding":
                if string(setting.node, at: setting.location) != "proto" {
                    diagnostics.error("only 'proto' encoding is supported", at: setting.location)
                }
            case "headers":
                for header in entries(setting.node, at: setting.location) ?? [] {
                    config.headers[header.key] = string(header.node, at: header.location)
                }
            case "retry_on_failure":
                for key in entries(setting.node, at: setting.location) ?? [] {
                    switch key.key {
                    case "enabled": config.retryEnabled = key.node.scalar == "true"
                    case "initial_interval":
                        config.initialIntervalSeconds = seconds(key) ?? config.initialIntervalSeconds
                    case "max_interval": config.maxIntervalSeconds = seconds(key) ?? config.maxIntervalSeconds
                    case "max_elapsed_time": config.maxElapsedSeconds = seconds(key) ?? config.maxElapsedSeconds
                    case "multiplier", "randomization_factor": break
                    default:
                        rejectUnknownKeys(
                            [key], known: ["enabled", "initial_interval", "max_interval", "max_elapsed_time"])
                    }
                }
            case "sending_queue":
                for key in entries(setting.node, at: setting.location) ?? [] {
                    switch key.key {
                    case "queue_size", "num_consumers":
                        guard let text = key.node.scalar, let value = Int(text), value > 0 else {
                            diagnostics.error("expected a positive number", at: key.location)
                            continue
                        }
                        if key.key == "queue_size" { config.queueSize = value } else { config.consumers = value }
                    case "enabled":
                        if key.node.scalar == "false" {
                            diagnostics.error(
                                "the sending queue cannot be turned off", at: key.location,
                                hint: "it is what lets the receiver answer 503 instead of dropping")
                        }
                    default: rejectUnknownKeys([key], known: ["enabled", "queue_size", "num_consumers"])
                    }
                }
            default: break
            }
        }
        if config.endpoint.isEmpty && (config.tracesEndpoint == nil || config.logsEndpoint == nil) {
            diagnostics.error("'endpoint' is required", at: component.location, hint: "e.g. http://127.0.0.1:4318")
        }
        return config
    }

    private mutating func url(_ setting: Entry) -> String? {
        guard let text = string(setting.node, at: setting.location) else { return nil }
        guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
            diagnostics.error("'\(text)' is not an http(s) URL", at: setting.location)
            return nil
        }
        return text
    }

    /// A Go duration (`5s`, `300ms`) as seconds.
    private mutating func seconds(_ setting: Entry) -> Double? {
        guard let text = setting.node.scalar, let nanoseconds = DurationText.parse(text), nanoseconds >= 0 else {
            diagnostics.error("expected a duration like 5s or 300ms", at: setting.location)
            return nil
        }
        return Double(nanoseconds) / 1e9
    }
}

/// `host:port` as the Collector writes endpoints (`localhost:4318`, `0.0.0.0:4318`, `:4318`).
public struct HostPort: Hashable, Sendable {
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
