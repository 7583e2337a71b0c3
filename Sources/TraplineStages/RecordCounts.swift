/// The accounting of records through a pipeline (DESIGN.md, Accounting):
/// `received = forwarded + filtered + blocked + rejected`, always.
public struct RecordCounts: Hashable, Sendable {
    /// Records that entered (decoded, or counted for bytes that could not be decoded).
    public var received = 0
    /// Records written on to the sinks.
    public var forwarded = 0
    /// Records a filter stage dropped on purpose.
    public var filtered = 0
    /// Trap events a rule's action blocked.
    public var blocked = 0
    /// Records rejected as bad input.
    public var rejected = 0

    /// Zero counts. Allocates nothing.
    public init() {}

    /// Makes counts. Allocates nothing.
    public init(received: Int, forwarded: Int, filtered: Int, blocked: Int, rejected: Int) {
        self.received = received
        self.forwarded = forwarded
        self.filtered = filtered
        self.blocked = blocked
        self.rejected = rejected
    }

    /// Whether every received record is accounted for exactly once.
    public var isBalanced: Bool { received == forwarded + filtered + blocked + rejected }

    /// Adds another set of counts (counters are additive across batches and instances). Allocates nothing.
    public static func += (lhs: inout RecordCounts, rhs: RecordCounts) {
        lhs.received += rhs.received
        lhs.forwarded += rhs.forwarded
        lhs.filtered += rhs.filtered
        lhs.blocked += rhs.blocked
        lhs.rejected += rhs.rejected
    }
}
