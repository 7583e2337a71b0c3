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

/// A receiver: where telemetry comes from.
@_spi(Plumbing) public enum ReceiverConfig: Hashable, Sendable {
    /// `file` or `otlpjsonfile`: files matched by globs.
    case file(FileReceiverConfig)
    /// `stdin`: standard input, until it ends.
    case stdin
    /// `otlp`: OTLP/HTTP requests (sidecar mode).
    case otlp(OTLPReceiverConfig)

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
    case otlp(OTLPExporterConfig)
    /// `audit`: a JSON line per record that did not go on.
    case audit(AuditExporterConfig)
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
@_spi(Plumbing) public enum ConnectorConfig: Hashable, Sendable {
    /// `spanmetrics`: calls and duration series from the spans a traces pipeline exports.
    case spanMetrics(SpanMetricsConfig)
}

/// A `metrics[/name]` pipeline: Trapline has no metrics input of its own, so its receivers are
/// connectors and its exporters `prometheus`.
@_spi(Plumbing) public struct MetricsPipelineDefinition: Hashable, Sendable {
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
    /// Where each receiver and exporter is defined, for diagnostics about how they combine.
    var receiverLocations: [ComponentID: ConfigLocation] = [:]
    var exporterLocations: [ComponentID: ConfigLocation] = [:]
    var extensionLocations: [ComponentID: ConfigLocation] = [:]
    /// Exporters by id, in file order.
    public var exporters: [(id: ComponentID, config: ExporterConfig)] = []
    /// Pipelines, in file order.
    public var pipelines: [PipelineDefinition] = []
    /// Connectors by id, in file order.
    public var connectors: [(id: ComponentID, config: ConnectorConfig)] = []
    /// `metrics[/name]` pipelines: a connector's metrics to the `prometheus` exporter.
    public var metricsPipelines: [MetricsPipelineDefinition] = []
    /// `file_storage` extensions by id, in file order.
    public var storageExtensions: [(id: ComponentID, config: FileStorageConfig)] = []
    /// `bearertokenauth` extensions by id, in file order.
    public var authExtensions: [(id: ComponentID, config: BearerTokenAuthConfig)] = []
    /// The extensions `service.extensions` enables.
    public var enabledExtensions: [ComponentID] = []

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

extension PipelineConfig {
    /// The `bearertokenauth` extension with `id`, if defined. Allocates nothing.
    public func authenticator(_ id: ComponentID?) -> BearerTokenAuthConfig? {
        guard let id else { return nil }
        return authExtensions.first { $0.id == id }?.config
    }
}
