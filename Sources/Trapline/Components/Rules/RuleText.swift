public import TraplineRules

/// One OTTL condition or statement as written, and where (for diagnostics that point at the
/// column of a mistake inside it).
@_spi(Plumbing) public struct RuleText: Hashable, Sendable {
    /// The rule.
    public var text: String
    /// Where the rule's scalar starts.
    public var location: ConfigLocation
    /// How far the text starts after `location.column` (1 when quoted); nil for block scalars.
    public var textOffset: Int?

    /// Makes a rule text.
    public init(_ text: String, location: ConfigLocation, textOffset: Int? = 0) {
        self.text = text
        self.location = location
        self.textOffset = textOffset
    }

    /// The file position of a column inside the text.
    func location(ofColumn column: Int) -> ConfigLocation {
        var location = location
        if let textOffset { location.column += textOffset + column - 1 }
        return location
    }
}

/// Conditions and statements that share a context and an error mode: one entry of the
/// Collector's advanced configuration, or one entry of the basic list.
@_spi(Plumbing) public struct RuleGroupConfig: Hashable, Sendable {
    /// The context; nil infers it from the paths (the Collector's context inference).
    public var context: RuleContext?
    /// Overrides the processor's `error_mode` for this group.
    public var errorMode: RuleErrorMode?
    /// Conditions: for `filter`, any match drops; for `transform`, any match runs the statements.
    public var conditions: [RuleText] = []
    /// Statements (`transform` only).
    public var statements: [RuleText] = []

    /// Makes an empty group.
    public init(context: RuleContext? = nil, errorMode: RuleErrorMode? = nil) {
        self.context = context
        self.errorMode = errorMode
    }
}
