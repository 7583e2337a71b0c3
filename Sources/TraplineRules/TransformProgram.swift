public import TraplineCore

/// The `transform` processor's statement groups, compiled.
///
/// Each group runs over the items of its context. Where the statements of a group are
/// independent per item (no `cache`, no writes above the group's context), each statement runs
/// over the whole column, its `where` clause selected column-wise first; otherwise items run
/// one by one through every statement, as the Collector does.
public struct TransformProgram: Sendable {
    /// The groups, in configuration order.
    public let groups: [RuleGroup]
    private let itemByItem: [Bool]

    /// Makes a program from compiled groups. Allocates the program's groups once.
    public init(groups: [RuleGroup]) {
        // Consecutive groups of one context and error mode without conditions of their own (the
        // basic list form) run as one: each item then meets every statement in turn.
        var merged: [RuleGroup] = []
        for group in groups {
            if let last = merged.last, last.context == group.context, last.errorMode == group.errorMode,
                last.conditions.isEmpty, group.conditions.isEmpty
            {
                merged[merged.count - 1] = RuleGroup(
                    context: last.context, conditions: [], conditionTexts: [],
                    statements: last.statements + group.statements,
                    errorMode: last.errorMode)
            } else {
                merged.append(group)
            }
        }
        self.groups = merged
        itemByItem = merged.map { group in
            group.statements.contains { statement in
                let target = statement.editor.target
                if case .cache = target.field { return true }
                return target.context != group.context || statement.editor.usesCache
                    || (statement.condition.map(Compiled.usesCache) ?? false)
            } || group.conditions.contains(where: Compiled.usesCache)
        }
    }

    /// Runs the statements over the kept spans (and their resources, scopes and events).
    ///
    /// Changed rows are marked so encoders write them from columns; new strings go to the
    /// batch arena.
    /// Does not allocate per record for literal-keyed edits; values it writes go to the batch's arena (which grows
    /// when needed).
    public func apply(to batch: inout SpanBatch, mask: RowMask) -> RuleOutcome { run(&batch, mask) }

    /// Runs the statements over the kept log records (and their resources and scopes).
    /// Does not allocate per record for literal-keyed edits; values it writes go to the batch's arena.
    public func apply(to batch: inout LogBatch, mask: RowMask) -> RuleOutcome { run(&batch, mask) }

    /// Runs the statements over the kept metric data points, their metrics (name, description,
    /// unit) and their resources and scopes.
    /// Does not allocate per data point for literal-keyed edits; values it writes go to the batch's arena.
    public func apply(to batch: inout MetricBatch, mask: RowMask) -> RuleOutcome { run(&batch, mask) }

    private func run<Batch: RuleBatch>(_ batch: inout Batch, _ mask: RowMask) -> RuleOutcome {
        var outcome = RuleOutcome()
        let eventOwners = groups.contains { $0.context == .spanevent } ? batch.eventOwners() : []
        var evaluator = RuleEvaluator<Batch>(now: currentTime())
        var values: [Int64] = []
        for (index, group) in groups.enumerated() {
            var items = liveItems(batch, group.context, mask: mask, eventOwners: eventOwners)
            let selector = ColumnSelector(
                evaluator: evaluator, context: group.context, eventOwners: eventOwners, errorMode: group.errorMode)
            var tally = RuleTally()
            do throws(RuleRuntimeError) {
                if !group.conditions.isEmpty {
                    let condition = group.conditions.count == 1 ? group.conditions[0] : .or(group.conditions)
                    try selector.select(condition, &items, in: batch, &tally)
                }
                if itemByItem[index] {
                    try runItemByItem(group, items, &batch, &evaluator, eventOwners, &tally)
                } else {
                    for statement in group.statements {
                        let editor = statement.editor
                        var selected = items
                        if let condition = statement.condition {
                            try selector.select(condition, &selected, in: batch, &tally)
                        }
                        if case .set(let path, .constant(.string(let text))) = editor {
                            // A literal string goes to the arena once per batch, shared by every item.
                            let slice = batch.storage.appendToArena(text.utf8)
                            if RuleEvaluator<Batch>.setsRecordAttribute(path, group.context) {
                                var updates = selected.map {
                                    RecordAttributeUpdate(row: $0, value: .slice(.string, slice))
                                }
                                evaluator.setRecordAttribute(path.literalKey!, &updates, &batch, group.context)
                                continue
                            }
                            for item in selected {
                                let position = batch.position(
                                    of: Int(item), in: group.context, eventOwners: eventOwners)
                                do { try evaluator.assign(path, .text(slice), &batch, position) } catch {
                                    try RuleEvaluator<Batch>.absorb(error, group.errorMode, &tally, at: position)
                                }
                            }
                            continue
                        }
                        if case .set(let path, let value) = editor, let column = IntegerColumn(value) {
                            // A number computed from fields: the whole column at once.
                            values.removeAll(keepingCapacity: true)
                            if column.evaluate(selected, batch, group.context, eventOwners, into: &values) {
                                if RuleEvaluator<Batch>.setsRecordAttribute(path, group.context) {
                                    var updates = zip(selected, values).map {
                                        RecordAttributeUpdate(
                                            row: $0, value: AnyValueRef(kind: .int, payload: UInt64(bitPattern: $1)))
                                    }
                                    evaluator.setRecordAttribute(path.literalKey!, &updates, &batch, group.context)
                                    continue
                                }
                                for (index, item) in selected.enumerated() {
                                    let position = batch.position(
                                        of: Int(item), in: group.context, eventOwners: eventOwners)
                                    do { try evaluator.assign(path, .int(values[index]), &batch, position) } catch {
                                        try RuleEvaluator<Batch>.absorb(error, group.errorMode, &tally, at: position)
                                    }
                                }
                                continue
                            }
                        }
                        try evaluator.execute(
                            editor, on: selected, &batch, context: group.context, eventOwners: eventOwners,
                            errorMode: group.errorMode, tally: &tally)
                    }
                }
            } catch {
                outcome.fail(error)
                return outcome
            }
            outcome.add(tally, context: group.context)
        }
        return outcome
    }

    private func runItemByItem<Batch: RuleBatch>(
        _ group: RuleGroup, _ items: [Int32], _ batch: inout Batch, _ evaluator: inout RuleEvaluator<Batch>,
        _ eventOwners: [Int32], _ tally: inout RuleTally
    ) throws(RuleRuntimeError) {
        for item in items {
            let position = batch.position(of: Int(item), in: group.context, eventOwners: eventOwners)
            evaluator.cache = RuleMap()
            for statement in group.statements {
                do {
                    if let condition = statement.condition {
                        let holds = try evaluator.test(condition, in: batch, position)
                        if !holds { continue }
                    }
                    try evaluator.execute(statement.editor, &batch, position)
                } catch {
                    try RuleEvaluator<Batch>.absorb(error, group.errorMode, &tally, at: position)
                }
            }
        }
    }
}

extension Editor {
    /// The path the editor changes.
    var target: RulePath {
        switch self {
        case .set(let path, _), .deleteKey(let path, _, _), .deleteMatchingKeys(let path, _), .keepKeys(let path, _),
            .keepMatchingKeys(let path, _), .limit(let path, _, _), .truncateAll(let path, _),
            .replacePattern(let path, _, _), .replaceAllPatterns(let path, _, _, _), .replaceMatch(let path, _, _),
            .replaceAllMatches(let path, _, _), .mergeMaps(let path, _, _), .flatten(let path, _, _),
            .append(let path, _):
            return path
        }
    }

    /// Whether an argument reads `cache`.
    var usesCache: Bool {
        switch self {
        case .set(_, let value), .deleteKey(_, let value, _), .replacePattern(_, _, let value),
            .replaceAllPatterns(_, _, _, let value), .replaceMatch(_, _, let value),
            .replaceAllMatches(_, _, let value),
            .mergeMaps(_, let value, _):
            return value.usesCache
        case .append(_, let values): return values.contains(where: \.usesCache)
        default: return false
        }
    }
}

extension Compiled {
    /// Whether the expression reads `cache` anywhere.
    static func usesCache(_ expression: Compiled) -> Bool { expression.usesCache }

    var usesCache: Bool {
        switch self {
        case .constant: return false
        case .path(let path):
            if case .cache = path.field { return true }
            return path.keys.contains(where: \.usesCache)
        case .call(_, let arguments, let keys): return (arguments + keys).contains(where: \.usesCache)
        case .list(let items), .and(let items), .or(let items): return items.contains(where: \.usesCache)
        case .map(let pairs): return pairs.contains { $0.value.usesCache }
        case .arithmetic(_, let left, let right), .compare(_, let left, let right):
            return left.usesCache || right.usesCache
        case .negate(let inner), .not(let inner): return inner.usesCache
        }
    }
}

extension TransformProgram {
    /// Whether its run-time errors are logged: some group runs under `ignore` (`silent` logs
    /// nothing, `propagate` refuses the batch instead).
    public var logsErrors: Bool { groups.contains { $0.errorMode == .ignore } }
}
