/// Ids that arrived all zero, which the id columns cannot tell from unset (also zero).
///
/// OTLP calls an all-zero id invalid, but it is data: protobuf carries 16 zero bytes as they
/// came, so OTLP JSON and every encoder must carry them too. They are rare, so they are kept
/// apart from the columns, by row; an encoder asks only when some row has one.
public struct ZeroIDMarks: Sendable, Equatable {
    /// The id fields a mark can name (bits, combined per row).
    public struct Field: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        /// Allocates nothing.
        @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `trace_id` (of a span, a link or a log record).
        public static let traceID = Field(rawValue: 1)
        /// `span_id` (of a span, a link or a log record).
        public static let spanID = Field(rawValue: 2)
        /// A span's `parent_span_id`.
        public static let parentSpanID = Field(rawValue: 4)
    }

    @usableFromInline var marks: [Int: Field] = [:]

    /// No marks. Allocates nothing.
    public init() {}

    /// Whether no row has an all-zero id (the common case: a single check per row).
    @inlinable public var isEmpty: Bool { marks.isEmpty }

    /// Whether `field` of `row` arrived as an all-zero id. Allocates nothing.
    @inlinable
    public func contains(_ field: Field, row: Int) -> Bool {
        !marks.isEmpty && marks[row]?.contains(field) == true
    }

    /// Marks `fields` of `row` (rows are appended in order, so this is the rare path only).
    @inlinable
    mutating func mark(_ fields: Field, row: Int) {
        guard !fields.isEmpty else { return }
        marks[row, default: []].formUnion(fields)
    }

    /// Drops the marks of rows from `count` on.
    @usableFromInline
    mutating func truncate(to count: Int) {
        guard !marks.isEmpty else { return }
        marks = marks.filter { $0.key < count }
    }

    mutating func removeAll() {
        if !marks.isEmpty { marks.removeAll() }
    }
}
