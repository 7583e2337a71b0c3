public import TraplineCore

/// The `filter` processor's conditions, compiled: items any condition matches are dropped.
///
/// Contexts run from the top (resource, scope, then records, then span events), as the Collector
/// documents: a dropped resource or scope drops its records; a dropped span event leaves its
/// span. Conditions run over whole columns (`ColumnSelector`).
public struct FilterProgram: Sendable {
    /// Condition groups, resource context first.
    public let groups: [RuleGroup]
    /// The groups as configured, in configuration order: a drop audit names the first
    /// condition, in this order, that matches a dropped record.
    let configured: [RuleGroup]

    /// Makes a program from compiled groups (their statements are ignored). Allocates the merged groups once.
    public init(groups: [RuleGroup]) {
        // Conditions of one context and error mode run as one OR, so each is tested only on
        // the items the ones before it did not match.
        var merged: [RuleGroup] = []
        for group in groups.sorted(by: { $0.context.depth < $1.context.depth }) {
            if let last = merged.last, last.context == group.context, last.errorMode == group.errorMode {
                merged[merged.count - 1] = RuleGroup(
                    context: last.context, conditions: last.conditions + group.conditions,
                    conditionTexts: last.conditionTexts + group.conditionTexts, statements: [],
                    errorMode: last.errorMode)
            } else {
                merged.append(group)
            }
        }
        self.groups = merged
        configured = groups
    }

    /// Drops the spans (and span events) the conditions match.
    ///
    /// - Parameters:
    ///   - batch: the records (span events matched are removed from it).
    ///   - mask: kept rows; matched rows are cleared here.
    /// - Returns: what was dropped and any run-time errors. Allocates per batch (selections),
    ///   never per span, unless a condition builds values (converters, nested maps).
    public func apply(to batch: inout SpanBatch, mask: inout RowMask) -> RuleOutcome { run(&batch, &mask) }

    /// Drops the log records the conditions match.
    /// Does not allocate per record; literal keys and regexes were compiled beforehand.
    public func apply(to batch: inout LogBatch, mask: inout RowMask) -> RuleOutcome { run(&batch, &mask) }

    /// Drops the metric data points the conditions match: a `metric` condition drops every
    /// point of the metric (and the metric with them), a `datapoint` condition the point.
    /// Does not allocate per data point.
    public func apply(to batch: inout MetricBatch, mask: inout RowMask) -> RuleOutcome { run(&batch, &mask) }

    private func run<Batch: RuleBatch>(_ batch: inout Batch, _ mask: inout RowMask) -> RuleOutcome {
        var outcome = RuleOutcome()
        let needsEvents = groups.contains { $0.context == .spanevent }
        let eventOwners = needsEvents ? batch.eventOwners() : []
        let evaluator = RuleEvaluator<Batch>(now: currentTime())
        for group in groups where !group.conditions.isEmpty {
            var items = liveItems(batch, group.context, mask: mask, eventOwners: eventOwners)
            let selector = ColumnSelector(
                evaluator: evaluator, context: group.context, eventOwners: eventOwners, errorMode: group.errorMode)
            var tally = RuleTally()
            let condition = group.conditions.count == 1 ? group.conditions[0] : .or(group.conditions)
            do {
                try selector.select(condition, &items, in: batch, &tally)
            } catch {
                outcome.fail(error)
                return outcome
            }
            outcome.add(tally, context: group.context)
            drop(items, in: group.context, &batch, &mask, eventOwners: eventOwners, &outcome)
        }
        return outcome
    }

    private func drop<Batch: RuleBatch>(
        _ items: [Int32], in context: RuleContext, _ batch: inout Batch, _ mask: inout RowMask,
        eventOwners: [Int32], _ outcome: inout RuleOutcome
    ) {
        func dropScope(_ scope: Int) {
            for row in batch.scopes[scope].rows.range where mask.drop(row) { outcome.droppedRecords += 1 }
        }
        switch context {
        case .resource:
            for resource in items {
                for scope in batch.resources[Int(resource)].scopes.range { dropScope(scope) }
            }
        case .scope:
            for scope in items { dropScope(Int(scope)) }
        case .span, .log, .datapoint:
            for row in items where mask.drop(Int(row)) { outcome.droppedRecords += 1 }
        case .metric:
            for metric in items {
                for row in batch.pointRows(ofMetric: Int(metric)) where mask.drop(row) { outcome.droppedRecords += 1 }
            }
        case .spanevent:
            guard !items.isEmpty else { return }
            var drop = [Bool](repeating: false, count: eventOwners.count)
            var rows: [Int] = []
            for event in items {
                drop[Int(event)] = true
                let row = Int(eventOwners[Int(event)])
                if rows.last != row { rows.append(row) }
            }
            for row in rows { outcome.droppedEvents += batch.removeEvents(ofRow: row, where: drop) }
        }
    }
}

extension FilterProgram {
    /// Whether its run-time errors are logged: some group runs under `ignore` (`silent` logs
    /// nothing, `propagate` refuses the batch instead).
    public var logsErrors: Bool { groups.contains { $0.errorMode == .ignore } }
}

/// Why a filter dropped a record, found again after the fact for a drop audit.
public enum FilterDropReason: Sendable, Hashable {
    /// The condition at `index` (counted over the signal's conditions in configuration order)
    /// matches the record.
    case condition(index: Int, text: String)
    /// No condition matches, and one fails on the record: the batch was refused
    /// (`error_mode: propagate`).
    case error(String)
    /// Nothing matches and nothing fails (a condition on the clock, say, that has changed).
    case unknown
}

extension FilterProgram {
    /// Which condition drops span `row`: each condition, in configuration order, evaluated
    /// alone on the row (or on its resource or scope). For a drop audit: allocates per call.
    ///
    /// - Parameters:
    ///   - row: a row of `batch` the filter dropped.
    ///   - batch: the spans, as the filter saw them.
    public func dropReason(ofRow row: Int, in batch: SpanBatch) -> FilterDropReason { explain(row, batch) }

    /// Which condition drops log record `row` (as for spans). Allocates per call.
    ///
    /// - Parameters:
    ///   - row: a row of `batch` the filter dropped.
    ///   - batch: the log records, as the filter saw them.
    public func dropReason(ofRow row: Int, in batch: LogBatch) -> FilterDropReason { explain(row, batch) }

    /// Which condition drops data point `row` (as for spans; a `metric` condition is evaluated
    /// on the point's metric). Allocates per call.
    ///
    /// - Parameters:
    ///   - row: a row of `batch` the filter dropped.
    ///   - batch: the data points, as the filter saw them.
    public func dropReason(ofRow row: Int, in batch: MetricBatch) -> FilterDropReason { explain(row, batch) }

    private func explain<Batch: RuleBatch>(_ row: Int, _ batch: Batch) -> FilterDropReason {
        let evaluator = RuleEvaluator<Batch>(now: currentTime())
        let scope = batch.scopeIndex(ofRow: row)
        var index = 0
        var firstError: RuleRuntimeError?
        for group in configured {
            defer { index += group.conditions.count }
            let item: Int
            switch group.context {
            case .resource: item = Int(batch.scopes[scope].resourceIndex)
            case .scope: item = scope
            case .span, .log, .datapoint: item = row
            case .metric: item = batch.metricIndex(ofPoint: row)
            case .spanevent: continue  // drops events, never their span
            }
            let selector = ColumnSelector(
                evaluator: evaluator, context: group.context, eventOwners: [], errorMode: .propagate)
            for (offset, condition) in group.conditions.enumerated() {
                var items = [Int32(item)]
                var tally = RuleTally()
                do throws(RuleRuntimeError) {
                    try selector.select(condition, &items, in: batch, &tally)
                } catch {
                    firstError = firstError ?? error
                    continue
                }
                if !items.isEmpty { return .condition(index: index + offset, text: group.conditionTexts[offset]) }
            }
        }
        return firstError.map { .error($0.message) } ?? .unknown
    }
}
