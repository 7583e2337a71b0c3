/// How input bytes are laid out. Detected from the bytes (never the file name) unless given.
public enum InputFormat: String, Sendable, CaseIterable {
    /// Detect from the first bytes.
    case auto
    /// One OTLP protobuf export request (an OTLP/HTTP body).
    case otlpProto = "otlp-proto"
    /// OTLP protobuf requests, each after a varint length.
    case otlpProtoVarintDelimited = "otlp-proto-varint"
    /// OTLP protobuf requests, each after a 4-byte big-endian length (the Collector's file
    /// exporter with `format: proto`).
    case otlpProtoLengthPrefixed = "otlp-proto-length-prefixed"
    /// OTLP JSON (detected; decoding comes later).
    case otlpJSON = "otlp-json"
    /// Plain text, one log record per line.
    case text
}

/// Which OTLP signal a protobuf request carries.
public enum Signal: String, Sendable, CaseIterable {
    /// `ExportTraceServiceRequest`: spans.
    case traces
    /// `ExportLogsServiceRequest`: log records.
    case logs
    /// `ExportMetricsServiceRequest`: metric data points.
    case metrics
}

/// A count of records per signal (spans, log records, metric data points).
public struct SignalCounts: Hashable, Sendable {
    /// Spans.
    public var spans = 0
    /// Log records.
    public var logs = 0
    /// Metric data points.
    public var dataPoints = 0

    /// Zero counts. Allocates nothing.
    public init() {}

    /// The count of `signal`'s records. Allocates nothing.
    public subscript(signal: Signal) -> Int {
        get {
            switch signal {
            case .traces: spans
            case .logs: logs
            case .metrics: dataPoints
            }
        }
        set {
            switch signal {
            case .traces: spans = newValue
            case .logs: logs = newValue
            case .metrics: dataPoints = newValue
            }
        }
    }

    /// Records of every signal.
    public var total: Int { spans + logs + dataPoints }
}
