/// An OTTL context: the kind of item a condition or statement runs on.
public enum RuleContext: String, Sendable, CaseIterable, Hashable {
    /// Resource attributes and fields.
    case resource
    /// Instrumentation scope name, version and attributes.
    case scope
    /// A span.
    case span
    /// A span event.
    case spanevent
    /// A log record.
    case log
    /// A metric (name, type, temporality), above its data points.
    case metric
    /// A metric data point.
    case datapoint

    /// How deep the context sits: a statement runs in the deepest context its paths name.
    var depth: Int {
        switch self {
        case .resource: 0
        case .scope: 1
        case .span, .log, .metric: 2
        case .spanevent, .datapoint: 3
        }
    }

    /// Parses a context name as configs and path prefixes write it. Allocates nothing.
    public init?(name: String) {
        switch name {
        case "resource": self = .resource
        case "scope", "instrumentation_scope": self = .scope
        case "span": self = .span
        case "spanevent": self = .spanevent
        case "log", "log_record": self = .log
        case "metric": self = .metric
        case "datapoint": self = .datapoint
        default: return nil
        }
    }

    /// Whether `self` can read paths of `other` (itself or a context above it, same signal).
    func reaches(_ other: RuleContext) -> Bool {
        switch (self, other) {
        case (_, .resource), (.scope, .scope), (.span, .scope), (.spanevent, .scope), (.log, .scope): true
        case (.span, .span), (.spanevent, .span), (.spanevent, .spanevent), (.log, .log): true
        case (.metric, .scope), (.datapoint, .scope), (.metric, .metric), (.datapoint, .metric),
            (.datapoint, .datapoint):
            true
        default: false
        }
    }

    /// Whether the context's items are a batch's rows (spans, log records, data points).
    var itemsAreRows: Bool { self == .span || self == .log || self == .datapoint }
}

/// The signal a rule list is written for, which decides the contexts it may use.
public enum RuleSignal: String, Sendable {
    /// Spans (and span events).
    case traces
    /// Log records.
    case logs
    /// Metric data points (and the metrics above them).
    case metrics

    /// The contexts of the signal, highest first.
    public var contexts: [RuleContext] {
        switch self {
        case .traces: [.resource, .scope, .span, .spanevent]
        case .logs: [.resource, .scope, .log]
        case .metrics: [.resource, .scope, .metric, .datapoint]
        }
    }

    /// The context of a condition or statement that names no context at all.
    var defaultContext: RuleContext {
        switch self {
        case .traces: .span
        case .logs: .log
        case .metrics: .datapoint
        }
    }
}

/// Whose attributes a path names.
public enum AttributeOwner: Sendable, Hashable {
    /// The resource's attributes.
    case resource
    /// The scope's attributes.
    case scope
    /// The span or log record.
    case record
    /// A span event's attributes.
    case event
}

/// A field a path reads or writes.
enum RuleField: Hashable, Sendable {
    case attributes(AttributeOwner)
    case droppedAttributesCount(AttributeOwner)
    case cache
    case scopeName, scopeVersion
    /// Span or log record ids; `hex` reads and writes them as hex strings.
    case traceID(hex: Bool), spanID(hex: Bool), parentSpanID(hex: Bool)
    case traceState, name, kind, kindString, statusCode, statusMessage
    case droppedEventsCount, droppedLinksCount, flags, events, links
    /// Span start and end, as nanoseconds (`unixNano`) or as `time`.
    case startTime(unixNano: Bool), endTime(unixNano: Bool)
    case eventName
    case eventTime(unixNano: Bool)
    case logTime(unixNano: Bool), observedTime(unixNano: Bool)
    case severityNumber, severityText, body, logEventName
    case metricName, metricDescription, metricUnit, metricType, aggregationTemporality, isMonotonic
    /// A data point's times and number value.
    case pointStartTime(unixNano: Bool), pointTime(unixNano: Bool)
    case valueDouble, valueInt

    /// Whose attributes the field is, for `attributes` fields.
    var attributeOwner: AttributeOwner? {
        if case .attributes(let owner) = self { return owner }
        return nil
    }

    /// Paths of each context, with their types and whether `set` may write them.
    static func lookup(_ path: String, in context: RuleContext) -> (field: RuleField, type: RuleType, settable: Bool)? {
        switch (context, path) {
        case (_, "cache"): return (.cache, .map, true)
        case (.resource, "attributes"): return (.attributes(.resource), .map, true)
        case (.resource, "dropped_attributes_count"): return (.droppedAttributesCount(.resource), .int, true)
        case (.scope, "name"): return (.scopeName, .string, true)
        case (.scope, "version"): return (.scopeVersion, .string, true)
        case (.scope, "attributes"): return (.attributes(.scope), .map, true)
        case (.scope, "dropped_attributes_count"): return (.droppedAttributesCount(.scope), .int, true)
        case (.span, "trace_id"), (.log, "trace_id"): return (.traceID(hex: false), .traceID, true)
        case (.span, "trace_id.string"), (.log, "trace_id.string"): return (.traceID(hex: true), .string, true)
        case (.span, "span_id"), (.log, "span_id"): return (.spanID(hex: false), .spanID, true)
        case (.span, "span_id.string"), (.log, "span_id.string"): return (.spanID(hex: true), .string, true)
        case (.span, "parent_span_id"): return (.parentSpanID(hex: false), .spanID, true)
        case (.span, "parent_span_id.string"): return (.parentSpanID(hex: true), .string, true)
        case (.span, "trace_state"): return (.traceState, .string, true)
        case (.span, "name"): return (.name, .string, true)
        case (.span, "kind"): return (.kind, .int, true)
        case (.span, "kind.string"): return (.kindString, .string, false)
        case (.span, "start_time_unix_nano"): return (.startTime(unixNano: true), .int, true)
        case (.span, "end_time_unix_nano"): return (.endTime(unixNano: true), .int, true)
        case (.span, "start_time"): return (.startTime(unixNano: false), .time, true)
        case (.span, "end_time"): return (.endTime(unixNano: false), .time, true)
        case (.span, "attributes"): return (.attributes(.record), .map, true)
        case (.span, "dropped_attributes_count"): return (.droppedAttributesCount(.record), .int, true)
        case (.span, "events"): return (.events, .list, false)
        case (.span, "dropped_events_count"): return (.droppedEventsCount, .int, true)
        case (.span, "links"): return (.links, .list, false)
        case (.span, "dropped_links_count"): return (.droppedLinksCount, .int, true)
        case (.span, "status.code"): return (.statusCode, .int, true)
        case (.span, "status.message"): return (.statusMessage, .string, true)
        case (.span, "flags"), (.log, "flags"): return (.flags, .int, true)
        case (.spanevent, "name"): return (.eventName, .string, true)
        case (.spanevent, "time_unix_nano"): return (.eventTime(unixNano: true), .int, true)
        case (.spanevent, "time"): return (.eventTime(unixNano: false), .time, true)
        case (.spanevent, "attributes"): return (.attributes(.event), .map, true)
        case (.spanevent, "dropped_attributes_count"): return (.droppedAttributesCount(.event), .int, true)
        case (.log, "time_unix_nano"): return (.logTime(unixNano: true), .int, true)
        case (.log, "time"): return (.logTime(unixNano: false), .time, true)
        case (.log, "observed_time_unix_nano"): return (.observedTime(unixNano: true), .int, true)
        case (.log, "observed_time"): return (.observedTime(unixNano: false), .time, true)
        case (.log, "severity_number"): return (.severityNumber, .int, true)
        case (.log, "severity_text"): return (.severityText, .string, true)
        case (.log, "body"): return (.body, .any, true)
        case (.log, "attributes"): return (.attributes(.record), .map, true)
        case (.log, "dropped_attributes_count"): return (.droppedAttributesCount(.record), .int, true)
        case (.log, "event_name"): return (.logEventName, .string, true)
        case (.metric, "name"): return (.metricName, .string, true)
        case (.metric, "description"): return (.metricDescription, .string, true)
        case (.metric, "unit"): return (.metricUnit, .string, true)
        case (.metric, "type"): return (.metricType, .int, false)
        case (.metric, "aggregation_temporality"): return (.aggregationTemporality, .int, false)
        case (.metric, "is_monotonic"): return (.isMonotonic, .bool, false)
        // Only a point's attributes can change: its other fields stay in its original bytes.
        case (.datapoint, "attributes"): return (.attributes(.record), .map, true)
        case (.datapoint, "start_time_unix_nano"): return (.pointStartTime(unixNano: true), .int, false)
        case (.datapoint, "time_unix_nano"): return (.pointTime(unixNano: true), .int, false)
        case (.datapoint, "start_time"): return (.pointStartTime(unixNano: false), .time, false)
        case (.datapoint, "time"): return (.pointTime(unixNano: false), .time, false)
        case (.datapoint, "value_double"): return (.valueDouble, .double, false)
        case (.datapoint, "value_int"): return (.valueInt, .int, false)
        case (.datapoint, "flags"): return (.flags, .int, false)
        default: return nil
        }
    }

    /// Every path of a context, for "did you mean" hints.
    static func names(in context: RuleContext) -> [String] {
        let all = [
            "cache", "attributes", "dropped_attributes_count", "name", "version", "trace_id", "trace_id.string",
            "span_id", "span_id.string", "parent_span_id", "parent_span_id.string", "trace_state", "kind",
            "kind.string", "start_time_unix_nano", "end_time_unix_nano", "start_time", "end_time", "events",
            "dropped_events_count", "links", "dropped_links_count", "status.code", "status.message", "flags",
            "time_unix_nano", "time", "observed_time_unix_nano", "observed_time", "severity_number", "severity_text",
            "body", "event_name", "description", "unit", "type", "aggregation_temporality", "is_monotonic",
            "value_double", "value_int",
        ]
        return all.filter { lookup($0, in: context) != nil }
    }
}

/// Static types the checker knows. `any` is a value only known per row (an attribute, a body).
public enum RuleType: String, Sendable, Hashable {
    /// Known only per row.
    case any
    /// A boolean.
    case bool
    /// A 64-bit integer.
    case int
    /// A double.
    case double
    /// A string.
    case string
    /// Bytes.
    case bytes
    /// A point in time.
    case time
    /// A duration.
    case duration
    /// A map.
    case map
    /// A list.
    case list
    /// `nil`.
    case null = "nil"
    /// A trace id.
    case traceID = "trace id"
    /// A span id.
    case spanID = "span id"

    var isNumeric: Bool { self == .int || self == .double }

    /// Whether a value of this type may be compared with `==` to one of `other`.
    func isComparable(with other: RuleType) -> Bool {
        if self == .any || other == .any || self == .null || other == .null || self == other { return true }
        return isNumeric && other.isNumeric
    }
}
