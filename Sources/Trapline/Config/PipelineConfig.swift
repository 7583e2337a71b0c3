public import TraplineCore
public import TraplineStages

/// A component id, `type[/name]`, as in the Collector.
@_spi(Plumbing) public struct ComponentID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The component type (`file`, `prometheus` …).
    public var type: String
    /// The optional name after the slash.
    public var name: String?

    /// Parses `type[/name]`; nil when empty or when a part is empty.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty, parts.count == 1 || !parts[1].isEmpty else { return nil }
        type = first
        name = parts.count == 2 ? parts[1] : nil
    }

    public var description: String { name.map { "\(type)/\($0)" } ?? type }

    public static func < (lhs: ComponentID, rhs: ComponentID) -> Bool { lhs.description < rhs.description }
}

/// A file input: every file matching `include` (globs), minus `exclude`, read as replay reads.
public struct FileReceiverConfig: Hashable, Sendable {
    /// Glob patterns of files to read (required, at least one).
    public var include: [String] = []
    /// Glob patterns of files to skip. Default: none.
    public var exclude: [String] = []
    /// The input layout; default `auto` (detected from the bytes).
    public var inputFormat: InputFormat = .auto

    /// Makes the defaults.
    public init() {}
}

/// A receiver: where telemetry comes from.
@_spi(Plumbing) public enum ReceiverConfig: Hashable, Sendable {
    /// `file` or `otlpjsonfile`: files matched by globs.
    case file(FileReceiverConfig)
    /// `stdin`: standard input, until it ends.
    case stdin
    /// `otlp`: OTLP/HTTP requests (sidecar mode).
    case otlp(OTLPReceiverConfig)

    /// The receiver types Trapline supports.
    public static let supportedTypes = ["file", "otlp", "otlpjsonfile", "stdin"]
}

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

/// The `otlphttp` exporter: OTLP/HTTP protobuf to the next hop.
@_spi(Plumbing) public struct OTLPHTTPExporterConfig: Hashable, Sendable {
    /// Base URL; `/v1/traces` and `/v1/logs` are appended.
    public var endpoint = ""
    /// Full URL for traces (overrides `endpoint`).
    public var tracesEndpoint: String?
    /// Full URL for logs (overrides `endpoint`).
    public var logsEndpoint: String?
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
    /// Extra request headers.
    public var headers: [String: String] = [:]

    public init() {}

    /// The URL for a signal.
    public func url(for signal: Signal) -> String {
        switch signal {
        case .traces: tracesEndpoint ?? Self.join(endpoint, "v1/traces")
        case .logs: logsEndpoint ?? Self.join(endpoint, "v1/logs")
        }
    }

    private static func join(_ base: String, _ path: String) -> String {
        base.hasSuffix("/") ? base + path : base + "/" + path
    }
}

/// The encoding of an exporter's output.
public enum ExportFormat: String, Hashable, Sendable, CaseIterable {
    /// OTLP protobuf, 4-byte big-endian length-prefixed (the Collector file exporter's `proto`).
    case proto
    /// OTLP JSON lines (the Collector file exporter's default).
    case json
}

/// Output compression.
public enum ExportCompression: String, Hashable, Sendable, CaseIterable {
    case none
    case gzip
}

/// A file output.
public struct FileExporterConfig: Hashable, Sendable {
    /// Where to write (required); written to a temporary and renamed when complete.
    public var path = ""
    /// The encoding; default `json`, as the Collector's file exporter.
    public var format = ExportFormat.json
    /// Compression; default `none`.
    public var compression = ExportCompression.none

    /// Makes the defaults.
    public init() {}
}

/// Prometheus exposition of Trapline's own metrics.
public struct PrometheusExporterConfig: Hashable, Sendable {
    /// `host:port` to serve `/metrics` on (sidecar mode). Exactly one of `endpoint` and `path`.
    public var endpoint: String?
    /// A textfile to write (atomically, via rename) when the run ends.
    public var path: String?

    /// Makes the defaults.
    public init() {}
}

/// An exporter: where telemetry and metrics go.
@_spi(Plumbing) public enum ExporterConfig: Hashable, Sendable {
    /// `file`: a file of OTLP.
    case file(FileExporterConfig)
    /// `stdout`: OTLP on standard output, in `format` (default `json`).
    case stdout(ExportFormat)
    /// `prometheus`: Trapline's metrics.
    case prometheus(PrometheusExporterConfig)
    /// `otlphttp`: forwards to the next hop (sidecar mode).
    case otlpHTTP(OTLPHTTPExporterConfig)

    /// The exporter types Trapline supports.
    public static let supportedTypes = ["file", "otlphttp", "prometheus", "stdout"]
}

/// One `service.pipelines` entry: `traces[/name]` or `logs[/name]`.
@_spi(Plumbing) public struct PipelineDefinition: Hashable, Sendable {
    /// The pipeline id as written.
    public var id: String
    /// The signal it carries.
    public var signal: Signal
    /// Receiver ids, in order.
    public var receivers: [ComponentID] = []
    /// Processor ids, in order: the stage chain.
    public var processors: [ComponentID] = []
    /// Exporter ids.
    public var exporters: [ComponentID] = []
    /// Where the pipeline's `processors` list is (or the pipeline, without one), for
    /// diagnostics about the stage order.
    var processorsLocation: ConfigLocation?

    /// Makes an empty pipeline.
    public init(id: String, signal: Signal) {
        self.id = id
        self.signal = signal
    }
}

/// A connector: the exporter of one pipeline and the receiver of another.
public enum ConnectorConfig: Hashable, Sendable {
    /// `spanmetrics`: calls and duration series from the spans a traces pipeline exports.
    case spanMetrics(SpanMetricsConfig)

    /// The connector types Trapline supports.
    public static let supportedTypes = ["spanmetrics"]
}

/// A `metrics[/name]` pipeline: Trapline has no metrics input of its own, so its receivers are
/// connectors and its exporters `prometheus`.
public struct MetricsPipelineDefinition: Hashable, Sendable {
    public var id: String
    @_spi(Plumbing) public var receivers: [ComponentID] = []
    @_spi(Plumbing) public var exporters: [ComponentID] = []

    public init(id: String) { self.id = id }
}

/// A whole pipeline file, typed. Built by `ConfigLoader`; knows nothing of YAML.
@_spi(Plumbing) public struct PipelineConfig: Sendable {
    /// Receivers by id, in file order.
    public var receivers: [(id: ComponentID, config: ReceiverConfig)] = []
    /// Processors by id, in file order.
    public var processors: [(id: ComponentID, config: ProcessorConfig)] = []
    /// Where each processor is defined, for diagnostics found when it is built.
    var processorLocations: [ComponentID: ConfigLocation] = [:]
    /// Exporters by id, in file order.
    public var exporters: [(id: ComponentID, config: ExporterConfig)] = []
    /// Pipelines, in file order.
    public var pipelines: [PipelineDefinition] = []
    /// Connectors by id, in file order.
    public var connectors: [(id: ComponentID, config: ConnectorConfig)] = []
    /// `metrics[/name]` pipelines: a connector's metrics to the `prometheus` exporter.
    public var metricsPipelines: [MetricsPipelineDefinition] = []

    /// Makes an empty configuration.
    public init() {}

    /// The receiver with `id`.
    public func receiver(_ id: ComponentID) -> ReceiverConfig? { receivers.first { $0.id == id }?.config }

    /// The processor with `id`.
    public func processor(_ id: ComponentID) -> ProcessorConfig? { processors.first { $0.id == id }?.config }

    /// The `spanmetrics` connector a traces pipeline exports to, if any.
    public var spanMetrics: SpanMetricsConfig? {
        for pipeline in pipelines where pipeline.signal == .traces {
            for id in pipeline.exporters {
                if case .spanMetrics(let config)? = connectors.first(where: { $0.id == id })?.config { return config }
            }
        }
        return nil
    }

    /// The exporter with `id`.
    public func exporter(_ id: ComponentID) -> ExporterConfig? { exporters.first { $0.id == id }?.config }
}
