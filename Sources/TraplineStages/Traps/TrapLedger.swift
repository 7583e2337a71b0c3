import TraplineCore

/// What a rule's action does with the records it identifies.
public enum TrapAction: String, Hashable, Sendable, CaseIterable {
    /// The record leaves the main flow: counted as blocked and written to the quarantine
    /// exporter (never silently lost).
    case block
    /// The record goes on, marked with the trap's attributes.
    case observe
}

/// The trap events one batch gave, and the event time it covered: a trap stage writes here, the
/// frame processor turns it into report rows, quarantine output and TER counts.
///
/// Storage is reused from batch to batch (`reset()` keeps capacity).
public struct TrapLedger: Sendable {
    /// One identified trap event: a record a rule matched.
    public struct Event: Sendable, Hashable {
        /// The record's row in its batch.
        public var row: Int32
        /// The trap's class.
        public var trapClass: TrapClass
        /// Whether the rule's action blocked the record.
        public var blocked: Bool
        /// What the record shows (the span, or the build-log line).
        public var evidence: String
        /// What to do about it.
        public var remedy: String
        /// The 1-based line of a text input the evidence is on, when the record came from one.
        public var line: Int?
        /// The rule's index in its stage's rules; -1 for the `go-crossbuild` pack.
        public var rule: Int32

        /// Makes an event. Allocates nothing.
        public init(
            row: Int32, trapClass: TrapClass, blocked: Bool, evidence: String, remedy: String, line: Int? = nil,
            rule: Int32 = -1
        ) {
            self.row = row
            self.rule = rule
            self.trapClass = trapClass
            self.blocked = blocked
            self.evidence = evidence
            self.remedy = remedy
            self.line = line
        }
    }

    /// Events in row order per stage, stages in chain order.
    public var events: [Event] = []
    /// The rows trap rules blocked (each once): what goes to the quarantine exporter.
    public var blockedRows: [Int32] = []
    /// Whether some trap stage saw the batch (then TER is reported).
    public var sawTrapStage = false
    /// The earliest and latest event time (Unix nanoseconds) of the records trap stages saw;
    /// `earliest > latest` when none had a timestamp.
    public var earliest = UInt64.max
    /// The latest record time seen (nanoseconds since the epoch).
    public var latest: UInt64 = 0
    /// The batch's turn at the trap rules' baselines when several threads process batches of
    /// one input: a stage waits for it before judging, so batches reach the baselines in input
    /// order whatever the number of workers. Nil: judge at once (one worker, or requests with no
    /// order between them). `reset()` keeps it.
    public var baselineTurn: (any TrapBaselineTurn)?

    /// An empty ledger. Allocates nothing.
    public init() {}

    /// Empties the ledger for the next batch, keeping storage. Keeps the capacity; allocates nothing.
    public mutating func reset() {
        events.removeAll(keepingCapacity: true)
        blockedRows.removeAll(keepingCapacity: true)
        sawTrapStage = false
        earliest = .max
        latest = 0
    }

    /// Widens the event-time window to `time` (0 means no timestamp and is ignored). Allocates nothing.
    @inlinable
    public mutating func see(_ time: UInt64) {
        guard time != 0 else { return }
        if time < earliest { earliest = time }
        if time > latest { latest = time }
    }

    /// Whether any event blocked its record (so there is quarantine output).
    public var blocksAny: Bool { !blockedRows.isEmpty }
}

/// A batch's place in the order its baselines must see batches in (``TrapLedger/baselineTurn``).
public protocol TrapBaselineTurn: Sendable {
    /// Returns once every batch before this one has been through the baselines. Allocates
    /// nothing.
    func wait()
}
