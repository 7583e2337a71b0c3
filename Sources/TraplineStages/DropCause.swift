import TraplineCore

/// Why a stage did not let a record go on, for a drop audit: found after the stage ran, only
/// for the rows it dropped, so the stages' own runs stay as they are.
public struct DropCause: Sendable, Hashable {
    /// How the record is counted.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// Dropped on purpose (a `filter` condition).
        case filtered
        /// Blocked by a trap rule.
        case blocked
        /// Refused (a rule failed under `error_mode: propagate`, or input that could not be read).
        case rejected
    }

    /// How the record is counted.
    public var outcome: Outcome
    /// The rule's index in its processor's list for the signal (configuration order), when a
    /// rule decided.
    public var ruleIndex: Int?
    /// The rule: a condition's text, or a trap rule's name and condition.
    public var rule: String?
    /// Why, in words (`condition matched`, `trap rule blocked (performance)`, the rule error).
    public var reason: String

    /// Makes a cause. Allocates nothing beyond the strings it keeps.
    public init(outcome: Outcome, ruleIndex: Int? = nil, rule: String? = nil, reason: String) {
        self.outcome = outcome
        self.ruleIndex = ruleIndex
        self.rule = rule
        self.reason = reason
    }
}

/// A record a stage of the chain dropped, and why.
public struct DroppedRecord: Sendable, Hashable {
    /// Its row in the batch.
    public var row: Int32
    /// The stage's index in the chain.
    public var stage: Int32
    /// Why.
    public var cause: DropCause

    /// Makes an entry. Allocates nothing.
    public init(row: Int32, stage: Int32, cause: DropCause) {
        self.row = row
        self.stage = stage
        self.cause = cause
    }
}

extension Stage {
    /// Why the stage dropped `row`, from what it counted for the batch: a stage that only ever
    /// drops one way is named exactly; one that counted several ways is named by the first of
    /// blocked, filtered, rejected it counted. Trapline's `filter` and `traps` stages say which
    /// rule. Allocates the cause's strings.
    ///
    /// - Parameters:
    ///   - row: the row the stage dropped.
    ///   - batch: the batch as the stage left it.
    ///   - counts: what the stage counted for this batch.
    ///   - traps: the trap events of the batch so far.
    public func dropCause<Batch: StageBatch>(
        ofRow row: Int, in batch: Batch, counts: StageCounts, traps: TrapLedger
    ) -> DropCause {
        Self.countedCause(counts)
    }

    /// The cause `counts` names (see `dropCause`). Allocates nothing.
    static func countedCause(_ counts: StageCounts) -> DropCause {
        if counts.blocked > 0 { return DropCause(outcome: .blocked, reason: "blocked") }
        if counts.filtered > 0 { return DropCause(outcome: .filtered, reason: "filtered") }
        return DropCause(outcome: .rejected, reason: "rule_error")
    }
}
