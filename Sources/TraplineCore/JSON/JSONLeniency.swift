/// Input the JSON decoder accepted although the OTLP JSON encoding does not allow it, counted
/// by kind (the Collector reads these too; counting them shows who sends them).
public struct JSONLeniency: Hashable, Sendable {
    /// Keys in snake_case (`trace_id`) instead of lowerCamelCase (`traceId`).
    public var snakeCaseKeys = 0
    /// Enum values given by name (`"SPAN_KIND_SERVER"`) instead of number.
    public var enumNames = 0
    /// 64-bit integers given as JSON numbers instead of decimal strings.
    public var int64AsNumbers = 0
    /// Requests wrapped in an envelope object (`{"result": {...}}`, as Jaeger's API answers).
    public var envelopes = 0

    /// No lenient input. Allocates nothing.
    public init() {}

    /// Every lenient case counted.
    public var total: Int { snakeCaseKeys + enumNames + int64AsNumbers + envelopes }

    /// Adds another set of counts. Allocates nothing.
    public static func += (lhs: inout JSONLeniency, rhs: JSONLeniency) {
        lhs.snakeCaseKeys += rhs.snakeCaseKeys
        lhs.enumNames += rhs.enumNames
        lhs.int64AsNumbers += rhs.int64AsNumbers
        lhs.envelopes += rhs.envelopes
    }

    /// The counts by kind name, for reports and metric labels.
    public var byKind: [(kind: String, count: Int)] {
        [
            ("snake_case_keys", snakeCaseKeys), ("enum_names", enumNames), ("int64_as_numbers", int64AsNumbers),
            ("envelopes", envelopes),
        ]
    }
}
