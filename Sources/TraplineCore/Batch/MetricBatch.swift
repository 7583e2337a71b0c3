/// Metric data points decoded from one frame, in columns.
///
/// One row per data point, because data points are what OTLP counts for metrics (the
/// Collector's `accepted_metric_points`, `partial_success.rejected_data_points`), so every
/// stage, mask and count works on them as on spans and log records. The metrics themselves
/// (name, type, temporality) are a table rows point into, as resources and scopes are; the
/// encoder groups kept points under their metric again.
///
/// A point keeps its original encoding (`pointBytes`) even after a stage changes it: only its
/// attributes can change, so a changed point is written as its original fields with the
/// attributes from the table. Everything else of a point (histogram buckets, quantiles,
/// exemplars) stays in those bytes; the columns hold what rules read.
public struct MetricBatch: TelemetryBatch {
    /// `.metrics`.
    public static var signal: Signal { .metrics }

    /// The bytes the batch's slices point into: the retained input frame and the arena.
    public var storage = SliceStorage()

    /// Resource entries.
    public var resources: [ResourceEntry] = []
    /// Scope entries, grouped by resource.
    public var scopes: [ScopeEntry] = []
    /// Attributes of resources, scopes, metric metadata and data points.
    public var attributes = AttributeTable()
    /// The metrics the points belong to, in input order (grouped by scope).
    public var metrics = MetricTable()

    // Data point columns (one element per row).
    /// Index of each point's metric in `metrics`.
    public var metricIndexes: [UInt32] = []
    /// `start_time_unix_nano`.
    public var startTimes: [UInt64] = []
    /// `time_unix_nano`.
    public var times: [UInt64] = []
    /// Which value a number point holds (`.none` for histograms and summaries).
    public var valueKinds: [MetricValueKind] = []
    /// The value's bits: a double's bit pattern or an `Int64`'s, by `valueKinds`.
    public var values: [UInt64] = []
    /// Each point's attributes in `attributes`.
    public var recordAttributes: [RowRange] = []
    /// The point's `flags`.
    public var flags: [UInt32] = []
    /// Zero: data points carry no trace or span id of their own (exemplars do, in `pointBytes`).
    public var traceIDs: [TraceID] = []
    /// Zero, as `traceIDs`.
    public var spanIDs: [SpanID] = []
    /// Index of each row's scope entry.
    public var scopeIndexes: [UInt32] = []
    /// The point's original encoding, copied through when unchanged; empty once a stage
    /// changes the row (`markModified`).
    public var encodedRecords: [ByteSlice] = []
    /// The point's original encoding, kept when the row changes: a changed point is written
    /// as these fields with its attributes from the table.
    public var pointBytes: [ByteSlice] = []

    /// What was rejected while decoding this frame.
    public var rejections = BatchRejections()

    /// The IP address of the client that sent the batch; empty for files and stdin.
    public var clientAddress: [UInt8] = []

    /// Makes an empty batch. Allocates nothing until the first decode.
    public init() {}

    /// Number of data points.
    @inlinable public var count: Int { times.count }

    /// The metric of `row`. Allocates nothing.
    @inlinable public func metricIndex(ofRow row: Int) -> Int { Int(metricIndexes[row]) }

    /// Marks `row` as changed, so the encoder writes it with its attributes from the table.
    /// Allocates nothing.
    @inlinable
    public mutating func markModified(_ row: Int) { encodedRecords[row] = .empty }

    /// Empties the batch for a new frame, keeping every column's storage.
    /// Keeps every column's capacity; allocates nothing.
    public mutating func reset(input: InputBuffer?, frame: Range<Int>, sourceOffset: Int) {
        storage.reset(input: input, frame: frame, sourceOffset: sourceOffset)
        resources.removeAll(keepingCapacity: true)
        scopes.removeAll(keepingCapacity: true)
        attributes.removeAll()
        metrics.truncate(to: 0)
        truncateRows(to: 0)
        rejections.removeAll()
    }

    /// Appends one row; every column gets exactly one element.
    @inlinable
    mutating func appendRow(_ row: PointRow) {
        metricIndexes.append(row.metricIndex)
        startTimes.append(row.startTime)
        times.append(row.time)
        valueKinds.append(row.valueKind)
        values.append(row.value)
        recordAttributes.append(row.attributes)
        flags.append(row.flags)
        traceIDs.append(.zero)
        spanIDs.append(.zero)
        scopeIndexes.append(row.scopeIndex)
        encodedRecords.append(row.encoded)
        pointBytes.append(row.encoded)
    }

    /// Drops rows from `count` on.
    @usableFromInline
    mutating func truncateRows(to count: Int) {
        metricIndexes.removeSubrange(count...)
        startTimes.removeSubrange(count...)
        times.removeSubrange(count...)
        valueKinds.removeSubrange(count...)
        values.removeSubrange(count...)
        recordAttributes.removeSubrange(count...)
        flags.removeSubrange(count...)
        traceIDs.removeSubrange(count...)
        spanIDs.removeSubrange(count...)
        scopeIndexes.removeSubrange(count...)
        encodedRecords.removeSubrange(count...)
        pointBytes.removeSubrange(count...)
    }
}

/// The OTLP metric types (the `Metric.data` oneof), by their field numbers.
public enum MetricType: UInt32, Hashable, Sendable, CaseIterable {
    /// A metric without data (only name, description, unit or metadata).
    case empty = 0
    /// `gauge` (`NumberDataPoint`s).
    case gauge = 5
    /// `sum` (`NumberDataPoint`s, temporality, monotonic).
    case sum = 7
    /// `histogram` (`HistogramDataPoint`s).
    case histogram = 9
    /// `exponential_histogram` (`ExponentialHistogramDataPoint`s).
    case exponentialHistogram = 10
    /// `summary` (`SummaryDataPoint`s).
    case summary = 11

    /// The name OTTL's `metric.type` compares with (`METRIC_DATA_TYPE_GAUGE` and so on).
    public var ottlName: String {
        switch self {
        case .empty: "METRIC_DATA_TYPE_NONE"
        case .gauge: "METRIC_DATA_TYPE_GAUGE"
        case .sum: "METRIC_DATA_TYPE_SUM"
        case .histogram: "METRIC_DATA_TYPE_HISTOGRAM"
        case .exponentialHistogram: "METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM"
        case .summary: "METRIC_DATA_TYPE_SUMMARY"
        }
    }

    /// The field number of a data point's `attributes` in this type's point message.
    @inlinable
    public var pointAttributesField: UInt32 {
        switch self {
        case .histogram: 9
        case .exponentialHistogram: 1
        default: 7
        }
    }
}

/// Which value a number data point holds.
public enum MetricValueKind: UInt8, Hashable, Sendable {
    /// No value (not a number point, or the oneof unset).
    case none
    /// `as_double`.
    case double
    /// `as_int`.
    case int
}

/// The metrics of a batch, in flat columns; each metric's points are a contiguous range of
/// rows.
public struct MetricTable: Sendable {
    /// `Metric.name`.
    public var names: [ByteSlice] = []
    /// `Metric.description`.
    public var descriptions: [ByteSlice] = []
    /// `Metric.unit`.
    public var units: [ByteSlice] = []
    /// The data type.
    public var types: [MetricType] = []
    /// `aggregation_temporality` (0 unspecified, 1 delta, 2 cumulative); 0 for gauges and summaries.
    public var temporalities: [Int32] = []
    /// `Sum.is_monotonic`.
    public var isMonotonic: [Bool] = []
    /// The metric's `metadata` in the batch's attribute table.
    public var metadata: [RowRange] = []
    /// The whole encoded `Metric`, copied through when the metric and all its points are kept
    /// unchanged.
    public var raws: [ByteSlice] = []
    /// The encoded data message (`Gauge`, `Sum`, ...), whose fields beyond the points are
    /// copied when the metric is rewritten.
    public var dataRaws: [ByteSlice] = []
    /// The metric's points (rows).
    public var points: [RowRange] = []
    /// Index of the metric's scope entry.
    public var scopeIndexes: [UInt32] = []
    /// Whether a stage changed the name, description or unit.
    public var isModified: [Bool] = []

    /// Makes an empty table. Allocates nothing.
    public init() {}

    /// Number of metrics.
    @inlinable public var count: Int { names.count }

    /// Appends a metric with nothing decoded yet. Allocates only when the columns grow.
    @inlinable
    mutating func append(scopeIndex: UInt32, firstRow: Int) {
        names.append(.empty)
        descriptions.append(.empty)
        units.append(.empty)
        types.append(.empty)
        temporalities.append(0)
        isMonotonic.append(false)
        metadata.append(.empty)
        raws.append(.empty)
        dataRaws.append(.empty)
        points.append(RowRange(start: firstRow, end: firstRow))
        scopeIndexes.append(scopeIndex)
        isModified.append(false)
    }

    /// Drops metrics from `count` on. Allocates nothing.
    @inlinable
    mutating func truncate(to count: Int) {
        names.removeSubrange(count...)
        descriptions.removeSubrange(count...)
        units.removeSubrange(count...)
        types.removeSubrange(count...)
        temporalities.removeSubrange(count...)
        isMonotonic.removeSubrange(count...)
        metadata.removeSubrange(count...)
        raws.removeSubrange(count...)
        dataRaws.removeSubrange(count...)
        points.removeSubrange(count...)
        scopeIndexes.removeSubrange(count...)
        isModified.removeSubrange(count...)
    }
}

/// One data point's fixed fields, gathered while decoding and appended at once.
@usableFromInline
struct PointRow: DecodedRow {
    @usableFromInline var metricIndex: UInt32 = 0
    /// The type of the point's metric (which message the point is), set before decoding.
    @usableFromInline var type: MetricType = .empty
    @usableFromInline var startTime: UInt64 = 0
    @usableFromInline var time: UInt64 = 0
    @usableFromInline var valueKind: MetricValueKind = .none
    @usableFromInline var value: UInt64 = 0
    @usableFromInline var attributes: RowRange = .empty
    @usableFromInline var flags: UInt32 = 0
    @usableFromInline var scopeIndex: UInt32 = 0
    @usableFromInline var encoded: ByteSlice = .empty

    @usableFromInline init() {}
}
