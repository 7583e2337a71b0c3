/// How one protobuf field is written in OTLP JSON, for the messages Trapline converts between
/// JSON and protobuf by table rather than by hand: the metrics request down to its data points
/// (spans and logs have hand-written column decoders; a metric's points have too many shapes
/// and only a few fields rules read).
struct ProtoJSONField: Sendable {
    /// What the field holds and how OTLP JSON writes it.
    ///
    /// No case holds a pointer: a message is named by its `ProtoJSONMessage.ID`, so the
    /// tables are plain values (an indirect or multi-payload enum would keep its boxes behind
    /// tagged pointers, which LeakSanitizer cannot follow from a global).
    enum Kind: Sendable {
        /// UTF-8 text.
        case string
        /// `bytes` as base64.
        case bytes
        /// A trace or span id (`bytes`) as lowercase hex, `count` bytes long.
        case hexID(count: Int)
        /// `uint32` (a varint), as a number.
        case uint32
        /// `aggregation_temporality` (an enum, a varint) as its number; its value names are
        /// read too.
        case temporality
        /// `sint32` (a zigzag varint), as a number.
        case sint32
        /// `bool` (a varint).
        case bool
        /// `double` (fixed64 bits), as a number or `"NaN"`, `"Infinity"`, `"-Infinity"`.
        case double
        /// `fixed64`, as a decimal string.
        case fixed64
        /// `sfixed64`, as a decimal string.
        case sfixed64
        /// `uint64` (a varint), as a decimal string.
        case uint64
        /// An OTLP `KeyValue` (attributes), read and written by the attribute code.
        case keyValue
        /// An embedded message.
        case message(ProtoJSONMessage.ID)
    }

    /// The protobuf field number.
    let number: UInt32
    /// The lowerCamelCase JSON name.
    let name: StaticString
    /// The proto field name, also read.
    let snake: StaticString
    /// The value's kind.
    let kind: Kind
    /// Whether the field repeats (a JSON array; scalars are written packed).
    let repeated: Bool

    init(_ number: UInt32, _ name: StaticString, _ snake: StaticString, _ kind: Kind, repeated: Bool = false) {
        self.number = number
        self.name = name
        self.snake = snake
        self.kind = kind
        self.repeated = repeated
    }

    /// Whether a repeated scalar of this kind is written packed.
    var isPackable: Bool {
        switch kind {
        case .double, .fixed64, .sfixed64, .uint64, .uint32, .sint32, .bool, .temporality: true
        default: false
        }
    }
}

/// A message's fields, and what a problem inside it loses.
struct ProtoJSONMessage: Sendable {
    /// Every message of the tables, by name.
    enum ID: Int, Sendable, CaseIterable {
        case entityRef, resource, scope, exemplar, numberDataPoint, histogramDataPoint, buckets
        case exponentialHistogramDataPoint, valueAtQuantile, summaryDataPoint, gauge, sum, histogram
        case exponentialHistogram, summary, metric, scopeMetrics, resourceMetrics, request

        /// The message's table.
        var message: ProtoJSONMessage { OTLPMetricsSchema.messages[rawValue] }
    }

    /// What one bad value inside the message loses.
    enum Unit: Sendable {
        /// Nothing of its own: the problem is the enclosing unit's.
        case none
        /// The message and every data point in it (a resource or scope entry, a metric).
        case container
        /// The message alone, counted as one data point.
        case point
    }

    /// The message name, for errors.
    let name: StaticString
    /// The fields, in the order JSON is written.
    let fields: [ProtoJSONField]
    /// What a problem inside it loses.
    let unit: Unit
}

/// The OTLP metrics messages (`opentelemetry/proto/metrics/v1/metrics.proto` and the common
/// and resource messages they embed), as tables.
enum OTLPMetricsSchema {
    static let temporalityNames = [
        "AGGREGATION_TEMPORALITY_UNSPECIFIED", "AGGREGATION_TEMPORALITY_DELTA", "AGGREGATION_TEMPORALITY_CUMULATIVE",
    ]

    static let entityRef = ProtoJSONMessage(
        name: "EntityRef",
        fields: [
            .init(1, "schemaUrl", "schema_url", .string), .init(2, "type", "type", .string),
            .init(3, "idKeys", "id_keys", .string, repeated: true),
            .init(4, "descriptionKeys", "description_keys", .string, repeated: true),
        ], unit: .none)

    static let resource = ProtoJSONMessage(
        name: "Resource",
        fields: [
            .init(1, "attributes", "attributes", .keyValue, repeated: true),
            .init(2, "droppedAttributesCount", "dropped_attributes_count", .uint32),
            .init(3, "entityRefs", "entity_refs", .message(.entityRef), repeated: true),
        ], unit: .none)

    static let scope = ProtoJSONMessage(
        name: "InstrumentationScope",
        fields: [
            .init(1, "name", "name", .string), .init(2, "version", "version", .string),
            .init(3, "attributes", "attributes", .keyValue, repeated: true),
            .init(4, "droppedAttributesCount", "dropped_attributes_count", .uint32),
        ], unit: .none)

    static let exemplar = ProtoJSONMessage(
        name: "Exemplar",
        fields: [
            .init(7, "filteredAttributes", "filtered_attributes", .keyValue, repeated: true),
            .init(2, "timeUnixNano", "time_unix_nano", .fixed64), .init(3, "asDouble", "as_double", .double),
            .init(6, "asInt", "as_int", .sfixed64), .init(4, "spanId", "span_id", .hexID(count: 8)),
            .init(5, "traceId", "trace_id", .hexID(count: 16)),
        ], unit: .none)

    static let numberDataPoint = ProtoJSONMessage(
        name: "NumberDataPoint",
        fields: [
            .init(7, "attributes", "attributes", .keyValue, repeated: true),
            .init(2, "startTimeUnixNano", "start_time_unix_nano", .fixed64),
            .init(3, "timeUnixNano", "time_unix_nano", .fixed64), .init(4, "asDouble", "as_double", .double),
            .init(6, "asInt", "as_int", .sfixed64),
            .init(5, "exemplars", "exemplars", .message(.exemplar), repeated: true),
            .init(8, "flags", "flags", .uint32),
        ], unit: .point)

    static let histogramDataPoint = ProtoJSONMessage(
        name: "HistogramDataPoint",
        fields: [
            .init(9, "attributes", "attributes", .keyValue, repeated: true),
            .init(2, "startTimeUnixNano", "start_time_unix_nano", .fixed64),
            .init(3, "timeUnixNano", "time_unix_nano", .fixed64), .init(4, "count", "count", .fixed64),
            .init(5, "sum", "sum", .double), .init(6, "bucketCounts", "bucket_counts", .fixed64, repeated: true),
            .init(7, "explicitBounds", "explicit_bounds", .double, repeated: true),
            .init(8, "exemplars", "exemplars", .message(.exemplar), repeated: true),
            .init(10, "flags", "flags", .uint32), .init(11, "min", "min", .double), .init(12, "max", "max", .double),
        ], unit: .point)

    static let buckets = ProtoJSONMessage(
        name: "Buckets",
        fields: [
            .init(1, "offset", "offset", .sint32), .init(2, "bucketCounts", "bucket_counts", .uint64, repeated: true),
        ], unit: .none)

    static let exponentialHistogramDataPoint = ProtoJSONMessage(
        name: "ExponentialHistogramDataPoint",
        fields: [
            .init(1, "attributes", "attributes", .keyValue, repeated: true),
            .init(2, "startTimeUnixNano", "start_time_unix_nano", .fixed64),
            .init(3, "timeUnixNano", "time_unix_nano", .fixed64), .init(4, "count", "count", .fixed64),
            .init(5, "sum", "sum", .double), .init(6, "scale", "scale", .sint32),
            .init(7, "zeroCount", "zero_count", .fixed64), .init(8, "positive", "positive", .message(.buckets)),
            .init(9, "negative", "negative", .message(.buckets)), .init(10, "flags", "flags", .uint32),
            .init(11, "exemplars", "exemplars", .message(.exemplar), repeated: true),
            .init(12, "min", "min", .double), .init(13, "max", "max", .double),
            .init(14, "zeroThreshold", "zero_threshold", .double),
        ], unit: .point)

    static let valueAtQuantile = ProtoJSONMessage(
        name: "ValueAtQuantile",
        fields: [.init(1, "quantile", "quantile", .double), .init(2, "value", "value", .double)], unit: .none)

    static let summaryDataPoint = ProtoJSONMessage(
        name: "SummaryDataPoint",
        fields: [
            .init(7, "attributes", "attributes", .keyValue, repeated: true),
            .init(2, "startTimeUnixNano", "start_time_unix_nano", .fixed64),
            .init(3, "timeUnixNano", "time_unix_nano", .fixed64), .init(4, "count", "count", .fixed64),
            .init(5, "sum", "sum", .double),
            .init(6, "quantileValues", "quantile_values", .message(.valueAtQuantile), repeated: true),
            .init(8, "flags", "flags", .uint32),
        ], unit: .point)

    static func data(_ name: StaticString, _ point: ProtoJSONMessage.ID, temporality: Bool, monotonic: Bool = false)
        -> ProtoJSONMessage
    {
        var fields: [ProtoJSONField] = [.init(1, "dataPoints", "data_points", .message(point), repeated: true)]
        if temporality {
            fields.append(.init(2, "aggregationTemporality", "aggregation_temporality", .temporality))
        }
        if monotonic { fields.append(.init(3, "isMonotonic", "is_monotonic", .bool)) }
        return ProtoJSONMessage(name: name, fields: fields, unit: .none)
    }

    static let metric = ProtoJSONMessage(
        name: "Metric",
        fields: [
            .init(1, "name", "name", .string), .init(2, "description", "description", .string),
            .init(3, "unit", "unit", .string),
            .init(5, "gauge", "gauge", .message(.gauge)), .init(7, "sum", "sum", .message(.sum)),
            .init(9, "histogram", "histogram", .message(.histogram)),
            .init(10, "exponentialHistogram", "exponential_histogram", .message(.exponentialHistogram)),
            .init(11, "summary", "summary", .message(.summary)),
            .init(12, "metadata", "metadata", .keyValue, repeated: true),
        ], unit: .container)

    static let scopeMetrics = ProtoJSONMessage(
        name: "ScopeMetrics",
        fields: [
            .init(1, "scope", "scope", .message(.scope)),
            .init(2, "metrics", "metrics", .message(.metric), repeated: true),
            .init(3, "schemaUrl", "schema_url", .string),
        ], unit: .container)

    static let resourceMetrics = ProtoJSONMessage(
        name: "ResourceMetrics",
        fields: [
            .init(1, "resource", "resource", .message(.resource)),
            .init(2, "scopeMetrics", "scope_metrics", .message(.scopeMetrics), repeated: true),
            .init(3, "schemaUrl", "schema_url", .string),
        ], unit: .container)

    /// `ExportMetricsServiceRequest` (and `MetricsData`, the same shape).
    static let request = ProtoJSONMessage(
        name: "ExportMetricsServiceRequest",
        fields: [.init(1, "resourceMetrics", "resource_metrics", .message(.resourceMetrics), repeated: true)],
        unit: .none)

    /// Every message, in `ProtoJSONMessage.ID` order.
    static let messages: [ProtoJSONMessage] = [
        entityRef, resource, scope, exemplar, numberDataPoint, histogramDataPoint, buckets,
        exponentialHistogramDataPoint, valueAtQuantile, summaryDataPoint,
        data("Gauge", .numberDataPoint, temporality: false),
        data("Sum", .numberDataPoint, temporality: true, monotonic: true),
        data("Histogram", .histogramDataPoint, temporality: true),
        data("ExponentialHistogram", .exponentialHistogramDataPoint, temporality: true),
        data("Summary", .summaryDataPoint, temporality: false), metric, scopeMetrics, resourceMetrics, request,
    ]

    /// The point message of each metric type.
    static func point(_ type: MetricType) -> ProtoJSONMessage? {
        switch type {
        case .gauge, .sum: numberDataPoint
        case .histogram: histogramDataPoint
        case .exponentialHistogram: exponentialHistogramDataPoint
        case .summary: summaryDataPoint
        case .empty: nil
        }
    }
}
