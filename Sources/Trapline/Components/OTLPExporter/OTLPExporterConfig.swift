public import TraplineCore

/// The `otlphttp` and `otlp` (gRPC) exporters: OTLP protobuf to the next hop, through one
/// sending queue with retries; they differ only in `transport`.
@_spi(Plumbing) public struct OTLPExporterConfig: Hashable, Sendable {
    /// How requests travel.
    public enum Transport: Hashable, Sendable {
        /// OTLP/HTTP: POST to `url(for:)`.
        case http
        /// OTLP/gRPC: the collector services' `Export` on `host:port` (TLS unless `tls.insecure`).
        case grpc(endpoint: HostPort)
    }

    /// `otlphttp` or `otlp`.
    public var transport = Transport.http
    /// Base URL; `/v1/traces`, `/v1/logs` and `/v1/metrics` are appended.
    public var endpoint = ""
    /// Full URL for traces (overrides `endpoint`).
    public var tracesEndpoint: String?
    /// Full URL for logs (overrides `endpoint`).
    public var logsEndpoint: String?
    /// Full URL for metrics (overrides `endpoint`).
    public var metricsEndpoint: String?
    /// `gzip` (default, as the Collector's) or `none`.
    public var compression = ExportCompression.gzip
    /// Seconds one attempt may take; default 5.
    public var timeoutSeconds = 5.0
    /// `retry_on_failure`.
    public var retryEnabled = true
    public var initialIntervalSeconds = 5.0
    public var maxIntervalSeconds = 30.0
    /// Give up on a request after this long (0: never); default 300 s, as the Collector's.
    public var maxElapsedSeconds = 300.0
    /// `sending_queue.queue_size`: requests waiting to be sent; default 1000. When it is full
    /// the receiver answers 503 instead of taking more.
    public var queueSize = 1000
    /// `sending_queue.num_consumers`: requests sent at once; default 10.
    public var consumers = 10
    /// `sending_queue.storage`: the `file_storage` extension whose directory keeps the queue on
    /// disk (a write-ahead log replayed at start); nil keeps it in memory.
    public var storage: ComponentID?
    /// That extension's settings, filled in when the pipeline's exporters are gathered.
    public var storageSettings: FileStorageConfig?
    /// `sending_queue.max_storage_mib`: the most MiB of unsent requests the log keeps (default
    /// 256); past it the receiver answers 503.
    public var maxStorageMiB = 256
    /// `auth.authenticator`: the `bearertokenauth` extension whose token each request carries.
    public var authenticator: ComponentID?
    /// `tls`: the server's CA, a client certificate (mTLS), verification.
    public var tls = TLSClientSettings()
    /// Extra request headers (gRPC metadata for `otlp`).
    public var headers: [String: String] = [:]
    /// A `loadbalancing` exporter: this configuration is the template of each backend's `otlp`
    /// exporter, and the backends and routing come from here.
    public var balancing: LoadBalancingSettings?

    public init() {}

    /// The URL for a signal.
    public func url(for signal: Signal) -> String {
        switch signal {
        case .traces: tracesEndpoint ?? Self.join(endpoint, "v1/traces")
        case .logs: logsEndpoint ?? Self.join(endpoint, "v1/logs")
        case .metrics: metricsEndpoint ?? Self.join(endpoint, "v1/metrics")
        }
    }

    private static func join(_ base: String, _ path: String) -> String {
        base.hasSuffix("/") ? base + path : base + "/" + path
    }
}

extension OTLPExporterConfig: ConfigComponent {
    static let kind = ComponentKind.exporter
    static let type = "otlphttp"
    static let aliases = ["otlp_http"]
    static let summary = "forwards OTLP/HTTP protobuf to the next hop, queued and retried (sidecar, run, replay)"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard let settings = decoder.entries(component.node, at: component.location) else { return nil }
        return decoder.decodeOTLPHTTPExporter(component, settings).map { .exporter(.otlp($0)) }
    }
}

extension ConfigDecoder {
    /// `otlphttp`: `endpoint` (or `traces_endpoint`/`logs_endpoint`), `encoding`, and the
    /// settings every OTLP exporter shares.
    fileprivate mutating func decodeOTLPHTTPExporter(_ component: Component, _ settings: [Entry])
        -> OTLPExporterConfig?
    {
        rejectUnknownKeys(
            settings,
            known: ["endpoint", "traces_endpoint", "logs_endpoint", "metrics_endpoint", "encoding"]
                + Self.sharedExporterKeys)
        var config = OTLPExporterConfig()
        for setting in settings {
            switch setting.key {
            case "endpoint": config.endpoint = url(setting) ?? ""
            case "traces_endpoint": config.tracesEndpoint = url(setting)
            case "logs_endpoint": config.logsEndpoint = url(setting)
            case "metrics_endpoint": config.metricsEndpoint = url(setting)
            case "encoding":
                if string(setting.node, at: setting.location) != "proto" {
                    diagnostics.error("only 'proto' encoding is supported", at: setting.location)
                }
            default: decodeSharedExporterSetting(setting, into: &config)
            }
        }
        if config.endpoint.isEmpty && (config.tracesEndpoint == nil || config.logsEndpoint == nil) {
            diagnostics.error("'endpoint' is required", at: component.location, hint: "e.g. http://127.0.0.1:4318")
        }
        return config
    }

    /// The keys `otlphttp` and `otlp` share.
    static let sharedExporterKeys = [
        "compression", "timeout", "headers", "retry_on_failure", "sending_queue", "tls",
        "auth",
    ]

    /// One of `sharedExporterKeys`: `compression`, `timeout`, `headers`, `retry_on_failure`,
    /// `sending_queue`.
    mutating func decodeSharedExporterSetting(_ setting: Entry, into config: inout OTLPExporterConfig) {
        switch setting.key {
        case "compression":
            config.compression = choice(setting.node, at: setting.location, as: ExportCompression.self) ?? .gzip
        case "timeout": config.timeoutSeconds = seconds(setting) ?? config.timeoutSeconds
        case "tls": config.tls = decodeClientTLS(setting)
        case "auth": config.authenticator = decodeAuthenticator(setting)
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
                case "storage":
                    if let text = string(key.node, at: key.location) {
                        if let id = ComponentID(parsing: text) {
                            config.storage = id
                            storageReferences.append((id, key.location))
                        } else {
                            diagnostics.error("expected an extension id (file_storage[/name])", at: key.location)
                        }
                    }
                case "max_storage_mib":
                    guard let text = key.node.scalar, let value = Int(text), value > 0 else {
                        diagnostics.error("expected a positive number", at: key.location)
                        continue
                    }
                    config.maxStorageMiB = value
                case "enabled":
                    if key.node.scalar == "false" {
                        diagnostics.error(
                            "the sending queue cannot be turned off", at: key.location,
                            hint: "it is what lets the receiver answer 503 instead of dropping")
                    }
                default:
                    rejectUnknownKeys(
                        [key], known: ["enabled", "queue_size", "num_consumers", "storage", "max_storage_mib"])
                }
            }
        default: break
        }
    }

    fileprivate mutating func url(_ setting: Entry) -> String? {
        guard let text = string(setting.node, at: setting.location) else { return nil }
        guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
            diagnostics.error("'\(text)' is not an http(s) URL", at: setting.location)
            return nil
        }
        return text
    }
}
