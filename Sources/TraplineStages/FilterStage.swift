public import TraplineCore
public import TraplineRules

/// The `filter` processor: drops spans, span events, log records, metrics and data points that any of its OTTL
/// conditions match (the Collector's `filterprocessor`).
public struct FilterStage: Stage {
    public let id: String
    /// Conditions for spans and span events; nil passes spans through.
    public let traces: FilterProgram?
    /// Conditions for log records; nil passes logs through.
    public let logs: FilterProgram?
    /// Conditions for metrics and data points; nil passes metrics through.
    public let metrics: FilterProgram?
    /// Set for `whole_trace`: spans are kept or dropped by trace, with these decisions.
    public let wholeTrace: WholeTraceDecisions?

    /// Makes the stage. Allocates nothing.
    public init(
        id: String, traces: FilterProgram?, logs: FilterProgram?, metrics: FilterProgram? = nil,
        wholeTrace: WholeTraceDecisions? = nil
    ) {
        self.id = id
        self.traces = traces
        self.logs = logs
        self.metrics = metrics
        self.wholeTrace = wholeTrace
    }

    /// Does not allocate per record (a whole-trace filter allocates per batch).
    public func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        guard let traces else { return }
        if let wholeTrace { return processWholeTraces(&batch, traces, wholeTrace, &mask, &counts) }
        let outcome = traces.apply(to: &batch, mask: &mask)
        RuleStageOutcome.record(outcome, mask: &mask, counts: &counts)
        if outcome.errors > 0, traces.logsErrors {
            RuleErrorLog.shared.report(stage: id, outcome: outcome, record: batch.recordName)
        }
    }

    /// Does not allocate per record.
    public func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {
        guard let logs else { return }
        let outcome = logs.apply(to: &batch, mask: &mask)
        RuleStageOutcome.record(outcome, mask: &mask, counts: &counts)
        if outcome.errors > 0, logs.logsErrors {
            RuleErrorLog.shared.report(stage: id, outcome: outcome, record: batch.recordName)
        }
    }

    /// Does not allocate per data point.
    public func process(_ batch: inout MetricBatch, mask: inout RowMask, counts: inout StageCounts) {
        guard let metrics else { return }
        let outcome = metrics.apply(to: &batch, mask: &mask)
        RuleStageOutcome.record(outcome, mask: &mask, counts: &counts)
        if outcome.errors > 0, metrics.logsErrors {
            RuleErrorLog.shared.report(stage: id, outcome: outcome, record: batch.recordName)
        }
    }
}

extension FilterStage {
    /// `whole_trace`: this batch's matches join the decisions (a first pass has found the rest),
    /// then each span is kept or dropped as its trace is.
    private func processWholeTraces(
        _ batch: inout SpanBatch, _ program: FilterProgram, _ decisions: WholeTraceDecisions, _ mask: inout RowMask,
        _ counts: inout StageCounts
    ) {
        let matched = WholeTraceMatch.rows(of: program, in: batch, mask: mask)
        counts.ruleErrors += matched.outcome.errors
        guard !matched.outcome.failed else {
            for row in mask.kept.indices where mask.drop(row) { counts.rejected += 1 }
            return
        }
        if matched.outcome.errors > 0, program.logsErrors {
            RuleErrorLog.shared.report(stage: id, outcome: matched.outcome, record: batch.recordName)
        }
        decisions.markMatched(matched.rows, in: batch)
        let keep = decisions.decide(batch, mask: mask, matchedRows: matched.flags)
        for row in mask.kept.indices where !keep[row] && mask.drop(row) { counts.filtered += 1 }
    }

    /// The condition that dropped `row` (evaluated again, alone, on the row), or the rule error
    /// that refused the batch. Allocates (a drop audit only).
    ///
    /// - Parameters:
    ///   - row: a row the stage dropped.
    ///   - batch: the batch as the stage left it.
    ///   - counts: what the stage counted for this batch.
    ///   - traps: unused.
    public func dropCause<Batch: StageBatch>(
        ofRow row: Int, in batch: Batch, counts: StageCounts, traps: TrapLedger
    ) -> DropCause {
        // A batch refused without a record filtered: every row is rejected, whatever matches.
        if counts.rejected > 0 && counts.filtered == 0 { return DropCause(outcome: .rejected, reason: "rule_error") }
        if let wholeTrace, let spans = batch as? SpanBatch {
            let own = traces?.dropReason(ofRow: row, in: spans)
            let rule: (Int?, String?)
            if case .condition(let index, let text)? = own { rule = (index, text) } else { rule = (nil, nil) }
            let reason =
                wholeTrace.mode == .drop
                ? (rule.0 != nil ? "condition matched" : "a span of its trace matched")
                : "no span of its trace matched"
            return DropCause(outcome: .filtered, ruleIndex: rule.0, rule: rule.1, reason: "whole trace: " + reason)
        }
        let reason: FilterDropReason
        switch batch {
        case let spans as SpanBatch: reason = traces?.dropReason(ofRow: row, in: spans) ?? .unknown
        case let logs as LogBatch: reason = self.logs?.dropReason(ofRow: row, in: logs) ?? .unknown
        case let points as MetricBatch: reason = metrics?.dropReason(ofRow: row, in: points) ?? .unknown
        default: reason = .unknown
        }
        switch reason {
        case .condition(let index, let text):
            return DropCause(outcome: .filtered, ruleIndex: index, rule: text, reason: "condition matched")
        case .error(let message): return DropCause(outcome: .rejected, reason: "rule_error: " + message)
        case .unknown: return Self.countedCause(counts)
        }
    }
}

/// The `transform` processor: runs OTTL statements that change spans and log records (the
/// Collector's `transformprocessor`).
public struct TransformStage: Stage {
    public let id: String
    /// The statements for spans; nil passes spans through.
    public let traces: TransformProgram?
    /// The statements for log records; nil passes them through.
    public let logs: TransformProgram?
    /// The statements for metrics and data points; nil passes them through.
    public let metrics: TransformProgram?

    /// Makes the stage. Allocates nothing.
    public init(id: String, traces: TransformProgram?, logs: TransformProgram?, metrics: TransformProgram? = nil) {
        self.id = id
        self.traces = traces
        self.logs = logs
        self.metrics = metrics
    }

    /// Does not allocate per record for literal-keyed edits (written values go to the batch's arena).
    public func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        guard let traces else { return }
        let outcome = traces.apply(to: &batch, mask: mask)
        RuleStageOutcome.record(outcome, mask: &mask, counts: &counts)
        if outcome.errors > 0, traces.logsErrors {
            RuleErrorLog.shared.report(stage: id, outcome: outcome, record: batch.recordName)
        }
    }

    /// Does not allocate per record for literal-keyed edits (written values go to the batch's arena).
    public func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {
        guard let logs else { return }
        let outcome = logs.apply(to: &batch, mask: mask)
        RuleStageOutcome.record(outcome, mask: &mask, counts: &counts)
        if outcome.errors > 0, logs.logsErrors {
            RuleErrorLog.shared.report(stage: id, outcome: outcome, record: batch.recordName)
        }
    }

    /// Does not allocate per data point for literal-keyed edits.
    public func process(_ batch: inout MetricBatch, mask: inout RowMask, counts: inout StageCounts) {
        guard let metrics else { return }
        let outcome = metrics.apply(to: &batch, mask: mask)
        RuleStageOutcome.record(outcome, mask: &mask, counts: &counts)
        if outcome.errors > 0, metrics.logsErrors {
            RuleErrorLog.shared.report(stage: id, outcome: outcome, record: batch.recordName)
        }
    }
}

/// Folds a rule run into stage counts.
enum RuleStageOutcome {
    static func record(_ outcome: RuleOutcome, mask: inout RowMask, counts: inout StageCounts) {
        counts.ruleErrors += outcome.errors
        guard !outcome.failed else {
            // `propagate`: the whole batch is refused, as the Collector drops the payload. Rows
            // a filter already dropped stay filtered; the rest are rejected.
            counts.filtered += outcome.droppedRecords
            for row in mask.kept.indices where mask.drop(row) { counts.rejected += 1 }
            return
        }
        counts.filtered += outcome.droppedRecords
    }
}
