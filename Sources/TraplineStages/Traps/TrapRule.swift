public import TraplineRules

/// One trap rule: an OTTL condition over spans or log records, the class of trap it identifies,
/// and what to do about it.
public struct TrapRule: Sendable {
    /// The rule's name in its pack or file, for messages.
    public var name: String
    /// The class of trap the rule identifies.
    public var trapClass: TrapClass
    /// Spans or log records.
    public var signal: RuleSignal
    /// `when`: the records the rule identifies.
    public var condition: MatchProgram
    /// The text of `when` (its conditions joined by `or`), for a drop audit.
    public var conditionText: String
    /// What happens to them.
    public var action: TrapAction
    /// What to do about the trap, for the report and the `trap.remedy` attribute.
    public var remedy: String
    /// A streaming baseline over spans: when set, `condition` selects the spans it covers and
    /// the baseline decides which are traps.
    public var baseline: TrapBaseline?

    /// Makes a rule. Allocates nothing.
    public init(
        name: String, trapClass: TrapClass, signal: RuleSignal, condition: MatchProgram, action: TrapAction,
        remedy: String, baseline: TrapBaseline? = nil, conditionText: String = ""
    ) {
        self.name = name
        self.conditionText = conditionText
        self.trapClass = trapClass
        self.signal = signal
        self.condition = condition
        self.action = action
        self.remedy = remedy
        self.baseline = baseline
    }
}

/// The built-in `go-crossbuild` pack over log records: the build-log scanner reads the kept
/// records' bodies of a batch as one log, in row order.
public struct BuildLogTrapRules: Sendable {
    /// The scanner (its rules and where it reads package sources).
    public var scanner: GoBuildLogScanner
    /// What happens to the records of an identified trap.
    public var action: TrapAction

    /// Makes the pack. Allocates nothing.
    public init(scanner: GoBuildLogScanner, action: TrapAction = .block) {
        self.scanner = scanner
        self.action = action
    }
}
