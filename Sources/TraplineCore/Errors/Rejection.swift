/// One rejected piece of input, as the rejection ledger keeps it and reports show it.
public struct Rejection: Hashable, Sendable {
    /// The input it came from: a path, `-` for stdin, or a receiver name.
    public var source: String
    /// What was wrong and where.
    public var error: DecodeError
    /// How many records this rejection accounts for. A region that could not be delimited
    /// (a broken frame or container) counts as one record, since its true count is unknowable.
    public var records: Int

    /// Makes a rejection.
    public init(source: String, error: DecodeError, records: Int) {
        self.source = source
        self.error = error
        self.records = records
    }
}

/// Rejections recorded while decoding one batch, before the source name is attached.
///
/// Kept by the batch and reused with it, so recording a rejection does not allocate once the
/// batch has seen one.
public struct BatchRejections: Sendable {
    /// The errors, in input order.
    public private(set) var errors: [DecodeError] = []
    /// Records accounted for by each error (same indices as `errors`).
    public private(set) var recordCounts: [Int] = []

    /// Makes an empty list.
    public init() {}

    /// Total records rejected.
    public var recordCount: Int { recordCounts.reduce(0, +) }

    /// Whether nothing was rejected.
    public var isEmpty: Bool { errors.isEmpty }

    /// Records one rejection.
    public mutating func append(_ error: DecodeError, records: Int) {
        errors.append(error)
        recordCounts.append(records)
    }

    /// Empties the list, keeping its storage.
    public mutating func removeAll() {
        errors.removeAll(keepingCapacity: true)
        recordCounts.removeAll(keepingCapacity: true)
    }
}
