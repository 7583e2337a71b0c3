import TraplineCore

/// What a processor does when a rule fails on an item at run time (the Collector's `error_mode`).
public enum RuleErrorMode: String, Sendable, CaseIterable {
    /// Count the error and go on; the failed condition is false, the failed statement is skipped.
    case ignore
    /// As `ignore`; the Collector also skips its log line.
    case silent
    /// Refuse the whole batch: its records are counted as rejected (`rule_error`).
    case propagate
}

/// A problem found while compiling a list of rules: which entry, and the error inside it.
public struct RuleIssue: Sendable, Hashable {
    /// Whether the entry is a statement (else a condition).
    public var isStatement: Bool
    /// Index of the entry in its list.
    public var index: Int
    /// The error, with its column inside the entry's text.
    public var error: RuleError
}

/// Conditions and statements compiled for one context: a transform group, or the filter
/// conditions that share a context.
public struct RuleGroup: Sendable {
    /// The context every entry runs in.
    public let context: RuleContext
    /// Global conditions, ORed; empty means every item.
    let conditions: [Compiled]
    /// The text of each condition, as configured (for a drop audit's lines).
    public let conditionTexts: [String]
    let statements: [(editor: Editor, condition: Compiled?)]
    /// What a run-time failure does.
    public let errorMode: RuleErrorMode

    init(
        context: RuleContext, conditions: [Compiled], conditionTexts: [String],
        statements: [(editor: Editor, condition: Compiled?)], errorMode: RuleErrorMode
    ) {
        self.context = context
        self.conditions = conditions
        self.conditionTexts = conditionTexts
        self.statements = statements
        self.errorMode = errorMode
    }

    /// Compiles a group. Without `context`, the group runs in the deepest context its paths
    /// name (the Collector's context inference).
    ///
    /// - Returns: the group, or every problem found (never only the first).
    ///
    /// Allocates the compiled rules; nothing is compiled again when they run.
    public static func compile(
        statements: [String], conditions: [String], signal: RuleSignal, context: RuleContext?,
        errorMode: RuleErrorMode
    ) -> Result<RuleGroup, RuleIssues> {
        var issues: [RuleIssue] = []
        var parsedStatements: [(Int, StatementSyntax)] = []
        var parsedConditions: [(Int, Expression)] = []
        for (index, text) in statements.enumerated() {
            do { parsedStatements.append((index, try Parser.statement(text))) } catch {
                issues.append(RuleIssue(isStatement: true, index: index, error: error))
            }
        }
        for (index, text) in conditions.enumerated() {
            do { parsedConditions.append((index, try Parser.condition(text))) } catch {
                issues.append(RuleIssue(isStatement: false, index: index, error: error))
            }
        }
        var resolved = context
        if resolved == nil {
            var named: [(RuleContext, Int)] = []
            for (_, statement) in parsedStatements {
                RuleCompiler.prefixes(.call(statement.editor), into: &named)
                if let condition = statement.condition { RuleCompiler.prefixes(condition, into: &named) }
            }
            for (_, condition) in parsedConditions { RuleCompiler.prefixes(condition, into: &named) }
            do { resolved = try RuleCompiler.inferContext(named, signal: signal) } catch {
                let owner =
                    parsedStatements.first.map { RuleIssue(isStatement: true, index: $0.0, error: error) }
                    ?? RuleIssue(isStatement: false, index: parsedConditions.first?.0 ?? 0, error: error)
                issues.append(owner)
                return .failure(RuleIssues(all: issues))
            }
        }
        guard let context = resolved, signal.contexts.contains(context) else {
            issues.append(
                RuleIssue(
                    isStatement: !statements.isEmpty, index: 0,
                    error: RuleError(
                        .contextConflict, column: 1,
                        "context '\(resolved?.rawValue ?? "")' does not exist for \(signal.rawValue)")))
            return .failure(RuleIssues(all: issues))
        }
        let compiler = RuleCompiler(signal: signal, context: context)
        var compiledConditions: [Compiled] = []
        for (index, condition) in parsedConditions {
            do throws(RuleError) {
                let (compiled, type) = try compiler.expression(condition)
                guard type == .bool || type == .any else {
                    throw RuleError(
                        .typeMismatch, column: condition.column, "a condition must be a bool, not \(type.rawValue)")
                }
                compiledConditions.append(compiled)
            } catch { issues.append(RuleIssue(isStatement: false, index: index, error: error)) }
        }
        var compiledStatements: [(editor: Editor, condition: Compiled?)] = []
        for (index, statement) in parsedStatements {
            do throws(RuleError) {
                let editor = try compiler.editor(statement.editor)
                var condition: Compiled?
                if let syntax = statement.condition {
                    let (compiled, type) = try compiler.expression(syntax)
                    guard type == .bool || type == .any else {
                        throw RuleError(
                            .typeMismatch, column: syntax.column, "'where' needs a condition, not \(type.rawValue)")
                    }
                    condition = compiled
                }
                compiledStatements.append((editor, condition))
            } catch { issues.append(RuleIssue(isStatement: true, index: index, error: error)) }
        }
        guard issues.isEmpty else { return .failure(RuleIssues(all: issues)) }
        return .success(
            RuleGroup(
                context: context, conditions: compiledConditions, conditionTexts: conditions,
                statements: compiledStatements, errorMode: errorMode))
    }
}

/// Every problem of a rule list.
public struct RuleIssues: Error, Sendable {
    /// Every problem, in rule order.
    public var all: [RuleIssue]
}

/// What running rules over a batch did.
public struct RuleOutcome: Sendable {
    /// Records the rules dropped (filters).
    public var droppedRecords = 0
    /// Span events the rules dropped (their spans stay).
    public var droppedEvents = 0
    /// Run-time errors counted under `ignore`/`silent`.
    public var errors = 0
    /// The first run-time error, for the report.
    public var firstError: RuleRuntimeError?
    /// The record (row) the first run-time error happened on, when it happened on a record or
    /// a span event (whose span it names); nil for a resource, scope or metric.
    public var firstErrorRow: Int?
    /// A rule failed under `propagate`: the caller refuses the batch.
    public var failed = false

    /// Makes an outcome with nothing counted. Allocates nothing.
    public init() {}

    /// Adds the errors one group counted.
    mutating func add(_ tally: RuleTally, context: RuleContext) {
        errors += tally.errors
        if firstError == nil, let error = tally.firstError {
            firstError = error
            switch context {
            case .span, .spanevent, .log, .datapoint: firstErrorRow = tally.firstPosition.map(\.row)
            case .resource, .scope, .metric: firstErrorRow = nil
            }
        }
    }

    /// A rule failed under `propagate`. Allocates nothing (only the first error is kept).
    public mutating func fail(_ error: RuleRuntimeError) {
        failed = true
        firstError = error
    }
}

/// Items of `context` that still matter: kept records, their events, and the resources and
/// scopes that still have kept records.
func liveItems<Batch: RuleBatch>(_ batch: Batch, _ context: RuleContext, mask: RowMask, eventOwners: [Int32]) -> [Int32]
{
    // Room for every item at once (growing by doubling cost several allocations per batch).
    var items: [Int32] = []
    switch context {
    case .span, .log, .datapoint:
        items.reserveCapacity(batch.count)
        for row in 0..<batch.count where mask.kept[row] { items.append(Int32(row)) }
    case .spanevent:
        items.reserveCapacity(eventOwners.count)
        for event in eventOwners.indices where mask.kept[Int(eventOwners[event])] { items.append(Int32(event)) }
    case .metric:
        items.reserveCapacity(batch.metricCount)
        for metric in 0..<batch.metricCount where batch.pointRows(ofMetric: metric).contains(where: { mask.kept[$0] }) {
            items.append(Int32(metric))
        }
    case .scope:
        items.reserveCapacity(batch.scopes.count)
        for scope in batch.scopes.indices where batch.scopes[scope].rows.range.contains(where: { mask.kept[$0] }) {
            items.append(Int32(scope))
        }
    case .resource:
        items.reserveCapacity(batch.resources.count)
        for resource in batch.resources.indices
        where batch.resources[resource].scopes.range.contains(where: { scope in
            batch.scopes[scope].rows.range.contains { mask.kept[$0] }
        }) {
            items.append(Int32(resource))
        }
    }
    return items
}

/// Nanoseconds since the epoch, for `Now()`.
func currentTime() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
