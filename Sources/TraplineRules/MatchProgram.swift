public import TraplineCore

/// Conditions compiled to find records, not to drop them: a trap rule's `when`.
///
/// A match in the resource or scope context matches every kept record under it; a match in
/// the span event context matches the event's span. Conditions run over whole columns, as a
/// filter's do.
public struct MatchProgram: Sendable {
    /// The compiled conditions, ORed (statements are ignored).
    public let group: RuleGroup

    /// Makes a program from a compiled group. Allocates nothing.
    public init(group: RuleGroup) { self.group = group }

    /// The kept spans the conditions match, in row order.
    ///
    /// - Parameters:
    ///   - batch: the spans.
    ///   - mask: only kept rows are tested.
    ///   - errors: run-time errors under `ignore`/`silent` are added here.
    /// - Returns: row indexes; allocates per batch (the selection), never per span.
    /// - Throws: the first run-time error under `propagate`.
    public func matchingRows(in batch: SpanBatch, mask: RowMask, errors: inout RuleOutcome) throws(RuleRuntimeError)
        -> [Int32]
    {
        try rows(batch, mask, &errors)
    }

    /// The kept log records the conditions match, in row order. Allocates the row list, not per record.
    public func matchingRows(in batch: LogBatch, mask: RowMask, errors: inout RuleOutcome) throws(RuleRuntimeError)
        -> [Int32]
    {
        try rows(batch, mask, &errors)
    }

    private func rows<Batch: RuleBatch>(_ batch: Batch, _ mask: RowMask, _ outcome: inout RuleOutcome)
        throws(RuleRuntimeError) -> [Int32]
    {
        guard !group.conditions.isEmpty, mask.keptCount > 0 else { return [] }
        let eventOwners = group.context == .spanevent ? batch.eventOwners() : []
        var items = liveItems(batch, group.context, mask: mask, eventOwners: eventOwners)
        let selector = ColumnSelector(
            evaluator: RuleEvaluator<Batch>(now: currentTime()), context: group.context, eventOwners: eventOwners,
            errorMode: group.errorMode)
        var tally = RuleTally()
        let condition = group.conditions.count == 1 ? group.conditions[0] : .or(group.conditions)
        try selector.select(condition, &items, in: batch, &tally)
        outcome.add(tally, context: group.context)
        switch group.context {
        case .span, .log, .datapoint:
            return items
        case .metric:
            return items.flatMap { metric in
                batch.pointRows(ofMetric: Int(metric)).filter { mask.kept[$0] }.map(Int32.init)
            }
        case .spanevent:
            var rows: [Int32] = []
            for event in items where rows.last != eventOwners[Int(event)] { rows.append(eventOwners[Int(event)]) }
            return rows
        case .scope:
            return items.flatMap { scope in batch.scopes[Int(scope)].rows.range.filter { mask.kept[$0] }.map(Int32.init)
            }
        case .resource:
            return items.flatMap { resource in
                batch.resources[Int(resource)].scopes.range.flatMap { scope in
                    batch.scopes[scope].rows.range.filter { mask.kept[$0] }.map(Int32.init)
                }
            }
        }
    }
}
