public import TraplineCore
public import TraplineStages

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The encoding of replay output.
public enum OutputFormat: String, Sendable, CaseIterable {
    /// 4-byte big-endian length-prefixed `Export*ServiceRequest` frames, one signal per frame
    /// (what the Collector's file exporter writes with `format: proto`).
    case otlpProto = "otlp-proto"
    /// OTLP JSON, one `Export*ServiceRequest` per line (what the Collector's file exporter
    /// writes by default and its `otlpjsonfile` receiver reads).
    case otlpJSON = "otlp-json"
    /// No output: decode and account only.
    case none
}

/// One place replay output goes: an exporter of the pipeline file.
public struct OutputRoute: Hashable, Sendable {
    /// The exporter id, for messages.
    public var name: String
    /// Where the bytes go.
    public var destination: OutputDestination
    /// The encoding.
    public var format: ExportFormat
    /// Compression.
    public var compression: ExportCompression
    /// The signals whose records go here (from the pipelines that list the exporter).
    public var signals: Set<Signal>
    /// Whether the route takes the records trap rules blocked (a `traps` processor's
    /// `quarantine`) instead of the records that go on.
    public var isQuarantine = false
    /// Size-based rotation of a file destination (it is then written in place, appended to).
    public var rotation: FileRotation?
    /// The `batch` processor of the pipelines that list the exporter: requests are merged
    /// before they are written.
    public var batch: BatchSettings?
    /// Set for a drop audit route (an `audit` exporter, `--audit FILE`): it takes one JSON line
    /// per record that did not go on, not the records.
    public var audit: DropAuditSettings?

    /// Makes a route. Allocates nothing (keeps the arrays it is given).
    public init(
        name: String, destination: OutputDestination, format: ExportFormat, compression: ExportCompression = .none,
        signals: Set<Signal> = Set(Signal.allCases)
    ) {
        self.name = name
        self.destination = destination
        self.format = format
        self.compression = compression
        self.signals = signals
    }
}

/// What a replay reads and writes.
public struct ReplayOptions: Sendable {
    /// Input arguments: files, directories (read recursively, sorted) or `-` for stdin.
    public var inputs: [String]
    /// How inputs are read.
    public var read: ReadOptions
    /// Where output goes, and in which encoding.
    public var routes: [OutputRoute]
    /// A Prometheus textfile to write with Trapline's metrics when the replay ends.
    public var metricsFile: String?
    /// The signals some pipeline takes; records of another signal are rejected as
    /// `no_pipeline`, never counted as forwarded.
    public var signals = Set(Signal.allCases)
    /// The stages every batch runs through (the pipeline's processors).
    public var stages = StageChain()
    /// The `spanmetrics` connector's series, computed from the spans that go on; nil: none.
    public var spanMetrics: SpanMetricsAggregator?
    /// The potential trap density for TER, events per second; nil estimates it from the traps
    /// identified.
    public var trapDensityPerSecond: Double?
    /// `observed_time_unix_nano` given to records made from text lines; `nil` uses the clock
    /// at the start of the replay.
    public var observedTimeUnixNano: UInt64?
    /// How many individual rejections the report keeps (all are counted by reason).
    public var maxReportedRejections: Int
    /// How many frames are processed at once (one per core by default). Output and report do
    /// not depend on it.
    public var workers: Int
    /// About how many bytes of frames are read ahead for the workers.
    public var windowBytes: Int
    /// Regular output files are written in place as each batch is processed (`trapline run`, a
    /// pipeline that keeps running), like the Collector's file exporter without `rotation`:
    /// truncated at the start, then each batch written before the next is read. False (a
    /// replay): each is written to a temporary renamed into place when complete, so a failed
    /// or killed replay leaves no half-written file.
    public var writesOutputsAsTheyGo = false
    /// Network exporters (`otlphttp`) the forwarded records also go to, each waited for before
    /// the report is made.
    @_spi(Plumbing) public var forwarders: [any RequestForwarding] = []
    /// How long the replay waits at the end for the network exporters to deliver what they
    /// queued (default 300 s, the `otlphttp` exporter's `max_elapsed_time`).
    @_spi(Plumbing) public var forwardingTimeoutSeconds = 300.0

    /// The `memory_limiter` processors: reading waits while one is above its soft limit.
    @_spi(Plumbing) public var memoryMonitors: [MemoryMonitor] = []
    /// How fast records go on (`--rate`, `--speed`); nil: as fast as they are read.
    public var pacing: Pacing?
    /// Followed file receivers (`follow`, `filelog`): after the other inputs, their files are
    /// polled for new records until a stop is requested, each window delivered (written, and
    /// answered by the network exporters) before its positions are checkpointed.
    @_spi(Plumbing) public var followers: [FileFollower] = []
    /// Spans' attributes, events and links are skipped while decoding (a whole-trace filter's
    /// first pass that needs none of them).
    var skimsSpanDetails = false
    /// Told what a follower could not do (a checkpoint not written), once each.
    public var onNotice: (@Sendable (String) -> Void)?

    /// Makes options. Allocates nothing (keeps the arrays it is given).
    public init(
        inputs: [String], read: ReadOptions = ReadOptions(), outputFormat: OutputFormat = .otlpProto,
        output: OutputDestination = .standardOutput, observedTimeUnixNano: UInt64? = nil,
        maxReportedRejections: Int = 1000, workers: Int = ReplayOptions.defaultWorkers, windowBytes: Int = 64 << 20
    ) {
        self.inputs = inputs
        self.read = read
        switch outputFormat {
        case .otlpProto: routes = [OutputRoute(name: "output", destination: output, format: .proto)]
        case .otlpJSON: routes = [OutputRoute(name: "output", destination: output, format: .json)]
        case .none: routes = []
        }
        metricsFile = nil
        self.observedTimeUnixNano = observedTimeUnixNano
        self.maxReportedRejections = maxReportedRejections
        self.workers = workers
        self.windowBytes = windowBytes
    }

    /// One worker per available core.
    public static var defaultWorkers: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
