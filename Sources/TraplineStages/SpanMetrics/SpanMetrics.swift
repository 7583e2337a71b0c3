public import TraplineCore

/// The `spanmetrics` connector's settings, with the Collector's schema and defaults.
public struct SpanMetricsConfig: Hashable, Sendable {
    /// An extra dimension: a span attribute (else a resource attribute) named `name`; without
    /// it, `defaultValue`, and without that the dimension is left out of the series.
    public struct Dimension: Hashable, Sendable {
        /// The span or resource attribute the series are split by.
        public var name: String
        /// The label's value when a span lacks the attribute; nil leaves such spans out of the split.
        public var defaultValue: String?

        /// Makes a dimension. Allocates nothing.
        public init(name: String, defaultValue: String? = nil) {
            self.name = name
            self.defaultValue = defaultValue
        }
    }

    /// The histogram's unit in OTLP; the Prometheus exposition is always in seconds.
    public enum Unit: String, Hashable, Sendable, CaseIterable {
        /// Milliseconds.
        case ms
        /// Seconds.
        case s
    }

    /// The dimensions every series has, in order.
    public static let defaultDimensions = ["service.name", "span.name", "span.kind", "status.code"]
    /// The Collector's default explicit buckets: 2ms … 15s.
    public static let defaultBuckets: [UInt64] = [
        2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10000, 15000,
    ].map { $0 * 1_000_000 }

    /// `dimensions`.
    public var dimensions: [Dimension] = []
    /// `exclude_dimensions`: default dimensions to leave out.
    public var excludeDimensions: [String] = []
    /// `histogram.explicit.buckets`, in nanoseconds, ascending.
    public var buckets = SpanMetricsConfig.defaultBuckets
    /// `histogram.unit`; default `ms`.
    public var unit = Unit.ms
    /// `histogram.disable`.
    public var histogramDisabled = false
    /// `namespace`: the metric names' prefix; default `traces.span.metrics`.
    public var namespace = "traces.span.metrics"
    /// `aggregation_cardinality_limit`: the most series kept; spans of further series count in
    /// one overflow series (`otel.metric.overflow="true"`). 0: no limit, as in the Collector.
    public var cardinalityLimit = 0

    /// The Collector's defaults. Allocates the default bucket list.
    public init() {}

    /// The default dimensions left after `exclude_dimensions`.
    public var keptDefaultDimensions: [String] { Self.defaultDimensions.filter { !excludeDimensions.contains($0) } }
}

/// The series one batch of spans adds to: dimension values, calls, and the duration histogram.
///
/// Storage is reused (`reset()`); a new series costs its key's copy, a span of a known series
/// costs a dictionary lookup with a reused key buffer.
public struct SpanMetricsBatch: Sendable {
    /// One series of the batch.
    public struct Series: Sendable {
        /// The label values, in dimension order (nil: the dimension is left out).
        public var labels: [String?]
        /// Spans counted.
        public var calls: UInt64 = 0
        /// Counts per bucket, the last for +Inf (not cumulative).
        public var buckets: [UInt64]
        /// Sum of durations, nanoseconds.
        public var sumNanoseconds: UInt64 = 0
    }

    var index: [[UInt8]: Int] = [:]
    var keys: [[UInt8]] = []
    /// The series of the batch.
    public internal(set) var series: [Series] = []

    /// An empty batch of series. Allocates nothing.
    public init() {}

    /// Empties the batch, keeping storage. Keeps the capacity; allocates nothing.
    public mutating func reset() {
        index.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        series.removeAll(keepingCapacity: true)
    }
}

/// Computes the `spanmetrics` series of batches of spans: what survived the processors, once
/// per batch, on any core. ``SpanMetricsTable`` folds the batches in input order.
public struct SpanMetricsAggregator: Sendable {
    /// The connector's settings.
    public let config: SpanMetricsConfig
    /// The dimension names in label order: the kept defaults, then the extra ones.
    public let dimensionNames: [String]
    private let extraKeys: [[UInt8]]
    private let keepsDefault: [Bool]

    /// Makes an aggregator. Allocates its bucket bounds once.
    public init(config: SpanMetricsConfig) {
        self.config = config
        keepsDefault = SpanMetricsConfig.defaultDimensions.map { !config.excludeDimensions.contains($0) }
        dimensionNames = config.keptDefaultDimensions + config.dimensions.map(\.name)
        extraKeys = config.dimensions.map { Array($0.name.utf8) }
    }

    static let kindNames = [
        "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER",
        "SPAN_KIND_CONSUMER",
    ]
    static let statusNames = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"]

    /// Adds the kept spans of `batch` to `partial`.
    /// Allocates a series (its label strings) only for a combination the batch meets first; spans of known series
    /// allocate nothing.
    public func aggregate(_ batch: SpanBatch, mask: RowMask, into partial: inout SpanMetricsBatch) {
        guard mask.keptCount > 0 else { return }
        var key: [UInt8] = []
        key.reserveCapacity(256)
        let serviceKey = Array("service.name".utf8)
        batch.withBytes { bytes in
            for row in 0..<batch.count where mask.kept[row] {
                key.removeAll(keepingCapacity: true)
                let resource = batch.resources[batch.resourceIndex(ofRow: row)].attributes
                if keepsDefault[0] {
                    append(Self.find(serviceKey, in: resource, batch, bytes), &key, bytes)
                }
                if keepsDefault[1] { appendText(bytes[batch.names[row]], &key) }
                if keepsDefault[2] {
                    let kind = Int(batch.kinds[row])
                    appendStatic(kind >= 0 && kind < Self.kindNames.count ? kind : 0, base: 0, &key)
                }
                if keepsDefault[3] {
                    let code = Int(batch.statuses[row].code)
                    appendStatic(code >= 0 && code < Self.statusNames.count ? code : 0, base: 8, &key)
                }
                for (index, name) in extraKeys.enumerated() {
                    let value =
                        Self.find(name, in: batch.spanAttributes[row], batch, bytes)
                        ?? Self.find(name, in: resource, batch, bytes)
                    if let value {
                        append(value, &key, bytes)
                    } else if let fallback = config.dimensions[index].defaultValue {
                        key.append(2)
                        key.append(contentsOf: fallback.utf8)
                        key.append(0)
                    } else {
                        key.append(1)
                        key.append(0)
                    }
                }
                let slot: Int
                if let existing = partial.index[key] {
                    slot = existing
                } else {
                    slot = partial.series.count
                    partial.index[key] = slot
                    partial.keys.append(key)
                    partial.series.append(
                        SpanMetricsBatch.Series(
                            labels: labels(of: key),
                            buckets: Array(repeating: 0, count: config.buckets.count + 1)))
                }
                let start = batch.startTimes[row]
                let end = batch.endTimes[row]
                let duration = end > start ? end - start : 0
                partial.series[slot].calls += 1
                partial.series[slot].sumNanoseconds &+= duration
                if !config.histogramDisabled {
                    // Explicit buckets are upper bounds, inclusive (le).
                    var bucket = 0
                    while bucket < config.buckets.count && duration > config.buckets[bucket] { bucket += 1 }
                    partial.series[slot].buckets[bucket] += 1
                }
            }
        }
    }

    /// Key encoding: each dimension is a tag byte (0 text, 1 absent, 2 default, 3 static name)
    /// then its bytes and a 0 terminator.
    private func appendText(_ text: UnsafeRawBufferPointer, _ key: inout [UInt8]) {
        key.append(0)
        key.append(contentsOf: text)
        key.append(0)
    }

    private func appendStatic(_ index: Int, base: UInt8, _ key: inout [UInt8]) {
        key.append(3)
        key.append(base + UInt8(index))
        key.append(0)
    }

    private func append(_ value: AnyValueRef?, _ key: inout [UInt8], _ bytes: BatchBytes) {
        guard let value else {
            key.append(1)
            key.append(0)
            return
        }
        switch value.kind {
        case .string: appendText(bytes[value.slice], &key)
        case .int:
            key.append(0)
            key.append(contentsOf: String(value.int).utf8)
            key.append(0)
        case .bool:
            key.append(0)
            key.append(contentsOf: (value.bool ? "true" : "false").utf8)
            key.append(0)
        case .double:
            key.append(0)
            key.append(contentsOf: String(value.double).utf8)
            key.append(0)
        default:
            key.append(1)
            key.append(0)
        }
    }

    /// Decodes a key into label values (once per new series per batch).
    private func labels(of key: [UInt8]) -> [String?] {
        var labels: [String?] = []
        var index = 0
        while index < key.count {
            let tag = key[index]
            index += 1
            var end = index
            while end < key.count && key[end] != 0 { end += 1 }
            let text = key[index..<end]
            switch tag {
            case 1: labels.append(nil)
            case 3:
                let code = Int(text.first ?? 0)
                labels.append(code >= 8 ? Self.statusNames[code - 8] : Self.kindNames[code])
            default: labels.append(String(decoding: text, as: UTF8.self))
            }
            index = end + 1
        }
        return labels
    }

    private static func find(_ name: [UInt8], in range: RowRange, _ batch: SpanBatch, _ bytes: BatchBytes)
        -> AnyValueRef?
    {
        for index in range.range {
            let candidate = bytes[batch.attributes.keys[index]]
            if candidate.count == name.count && candidate.elementsEqual(name) { return batch.attributes.values[index] }
        }
        return nil
    }
}

/// The `spanmetrics` series of a whole run: batches folded in input order (so the cardinality
/// limit keeps the same series whatever the number of workers), rendered in the Prometheus text
/// format as the Collector's `prometheus` exporter names them.
public struct SpanMetricsTable: Sendable {
    /// What aggregates the spans.
    public let aggregator: SpanMetricsAggregator
    private var index: [[String?]: Int] = [:]
    /// The series so far.
    public private(set) var series: [SpanMetricsBatch.Series] = []
    /// Spans of series past the cardinality limit.
    public private(set) var overflow: SpanMetricsBatch.Series?

    /// An empty table. Allocates nothing.
    public init(aggregator: SpanMetricsAggregator) { self.aggregator = aggregator }

    /// Folds one batch's series in. Allocates only for series not seen before.
    public mutating func merge(_ partial: SpanMetricsBatch) {
        let limit = aggregator.config.cardinalityLimit
        for item in partial.series {
            if let slot = index[item.labels] {
                Self.add(item, to: &series[slot])
            } else if limit == 0 || series.count < limit {
                index[item.labels] = series.count
                series.append(item)
            } else {
                var target =
                    overflow
                    ?? SpanMetricsBatch.Series(
                        labels: [], buckets: Array(repeating: 0, count: aggregator.config.buckets.count + 1))
                Self.add(item, to: &target)
                overflow = target
            }
        }
    }

    private static func add(_ item: SpanMetricsBatch.Series, to target: inout SpanMetricsBatch.Series) {
        target.calls += item.calls
        target.sumNanoseconds &+= item.sumNanoseconds
        for bucket in item.buckets.indices { target.buckets[bucket] += item.buckets[bucket] }
    }

    /// The series in the Prometheus text format: `<namespace>_calls_total` and
    /// `<namespace>_duration_seconds` (a histogram), dimension names with `.` as `_`.
    public var exposition: String {
        let config = aggregator.config
        let prefix = config.namespace.isEmpty ? "" : Self.metricName(config.namespace) + "_"
        let calls = prefix + "calls_total"
        // Prometheus names durations in their base unit whatever `histogram.unit` says (the
        // Collector's exporter would write `duration_milliseconds`, which promtool flags).
        let duration = prefix + "duration_seconds"
        let names = aggregator.dimensionNames.map(Self.labelName)
        var rows: [(labels: String, series: SpanMetricsBatch.Series)] = series.map { item in
            let pairs = zip(names, item.labels).compactMap { name, value in
                value.map { "\(name)=\"\(Self.escape($0))\"" }
            }
            return (pairs.joined(separator: ","), item)
        }
        if let overflow { rows.append(("otel_metric_overflow=\"true\"", overflow)) }
        var text = "# HELP \(calls) Spans seen per set of dimensions (spanmetrics).\n# TYPE \(calls) counter\n"
        for row in rows { text += "\(calls){\(row.labels)} \(row.series.calls)\n" }
        guard !config.histogramDisabled else { return text }
        text += "# HELP \(duration) Span durations per set of dimensions (spanmetrics).\n# TYPE \(duration) histogram\n"
        let scale = 1e9
        for row in rows {
            let separator = row.labels.isEmpty ? "" : ","
            var cumulative: UInt64 = 0
            for (bucket, bound) in config.buckets.enumerated() {
                cumulative += row.series.buckets[bucket]
                text +=
                    "\(duration)_bucket{\(row.labels)\(separator)le=\"\(Self.number(Double(bound) / scale))\"} \(cumulative)\n"
            }
            cumulative += row.series.buckets[config.buckets.count]
            text += "\(duration)_bucket{\(row.labels)\(separator)le=\"+Inf\"} \(cumulative)\n"
            text += "\(duration)_sum{\(row.labels)} \(Self.number(Double(row.series.sumNanoseconds) / scale))\n"
            text += "\(duration)_count{\(row.labels)} \(cumulative)\n"
        }
        return text
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A metric name: characters outside `[a-zA-Z0-9_:]` become `_`.
    static func metricName(_ text: String) -> String {
        String(
            text.map { character in
                character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == ":")
                    ? character : "_"
            })
    }

    /// A label name: characters outside `[a-zA-Z0-9_]` become `_`, and a leading digit gets `_`.
    static func labelName(_ text: String) -> String {
        let mapped = String(
            text.map { character in
                character.isASCII && (character.isLetter || character.isNumber || character == "_") ? character : "_"
            })
        return mapped.first?.isNumber == true ? "_" + mapped : mapped
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
