import Synchronization
public import TraplineCore
public import TraplineRules

/// What a whole-trace `filter` does with a trace some span of which matches its conditions.
public enum WholeTraceMode: String, Sendable, CaseIterable {
    /// `whole_trace: true` (or `drop`): every span of a trace that has a matching span is dropped.
    case drop
    /// `whole_trace: keep`: the traces that have a matching span are kept whole, every other span
    /// is dropped.
    case keep
}

/// The decisions of one whole-trace filter, shared by the passes that make and use them: the ids
/// of the traces that have a matching span (memory grows with the matching traces, not the spans),
/// and, in streaming, the decision each trace went out with.
///
/// A replay finds the matches in a first pass over its inputs, so the second pass decides every
/// span knowing its whole trace. A live input is held back for `decisionWait` after its first
/// pass, so a trace whose spans arrive within that time is decided as a replay decides it; a span
/// that arrives after some of its trace went out follows that decision and is counted as late.
public final class WholeTraceDecisions: Sendable {
    /// Drop or keep the matching traces.
    public let mode: WholeTraceMode
    /// How long a live input is held before its spans are decided, in seconds.
    public let decisionWait: Double
    /// The most traces whose decision a live run remembers (oldest forgotten first).
    public let rememberedTraces: Int
    /// The most bytes of live input held back at once; past it the oldest goes out early.
    public let maxHeldBytes: Int

    private struct State {
        var matched = Set<TraceID>()
        /// Streaming: the decision each trace's first spans went out with (true: kept), in the
        /// order they went out, for forgetting the oldest.
        var released: [TraceID: Bool] = [:]
        var releaseOrder: [TraceID] = []
        var releaseStart = 0
        var late = 0
        var releasedEarly = 0
    }
    private let state = Mutex(State())
    /// Whether the decisions a trace went out with are remembered (a live run).
    private let remembersReleases = Atomic(false)

    /// Makes an empty table.
    ///
    /// - Parameters:
    ///   - mode: drop or keep the matching traces.
    ///   - decisionWait: seconds a live input is held before its spans are decided.
    ///   - rememberedTraces: the most trace decisions a live run remembers.
    ///   - maxHeldBytes: the most live input held back at once.
    ///
    /// Allocates the table.
    public init(
        mode: WholeTraceMode, decisionWait: Double = 10, rememberedTraces: Int = 50_000, maxHeldBytes: Int = 64 << 20
    ) {
        self.mode = mode
        self.decisionWait = decisionWait
        self.rememberedTraces = max(1, rememberedTraces)
        self.maxHeldBytes = max(1, maxHeldBytes)
    }

    /// From now on each trace keeps the decision its first spans went out with (a live input).
    /// Allocates nothing.
    public func remembersDecisions() { remembersReleases.store(true, ordering: .relaxed) }

    /// Records the traces of `rows` as matching. Allocates when the set grows.
    ///
    /// - Parameters:
    ///   - rows: rows of `batch` some condition matched.
    ///   - batch: their spans.
    public func markMatched(_ rows: [Int], in batch: SpanBatch) {
        guard !rows.isEmpty else { return }
        state.withLock { state in
            for row in rows where !batch.traceIDs[row].isZero { state.matched.insert(batch.traceIDs[row]) }
        }
    }

    /// Decides each kept span of `batch`: kept (true) or dropped. A span without a trace id is
    /// its own trace. Allocates the answer (one flag per row).
    ///
    /// - Parameters:
    ///   - batch: the spans.
    ///   - mask: the rows still kept (others are answered false and left alone).
    ///   - matchedRows: flags, per row, of the spans a condition matched in this batch.
    public func decide(_ batch: SpanBatch, mask: RowMask, matchedRows: [Bool]) -> [Bool] {
        let remembering = remembersReleases.load(ordering: .relaxed)
        return state.withLock { state in
            var keep = [Bool](repeating: false, count: batch.count)
            // Spans of a trace usually come together: the last trace's answer is kept.
            var last = (id: TraceID.zero, matched: false)
            for row in 0..<batch.count where mask.kept[row] {
                let id = batch.traceIDs[row]
                let own = matchedRows[row]
                var matched = own
                if !own && !id.isZero {
                    if id != last.id { last = (id, state.matched.contains(id)) }
                    matched = last.matched
                }
                var decision = mode == .drop ? !matched : matched
                if remembering && !id.isZero {
                    if let earlier = state.released[id] {
                        // Late: the span follows its trace's earlier decision, unless it matches
                        // itself (then it goes as a span-by-span filter would send it).
                        if earlier != decision {
                            state.late += 1
                            if !own { decision = earlier }
                        }
                    } else {
                        state.released[id] = decision
                        state.releaseOrder.append(id)
                        forgetOldest(&state)
                    }
                }
                keep[row] = decision
            }
            return keep
        }
    }

    private func forgetOldest(_ state: inout State) {
        while state.releaseOrder.count - state.releaseStart > rememberedTraces {
            state.released[state.releaseOrder[state.releaseStart]] = nil
            state.releaseStart += 1
        }
        if state.releaseStart > 4096 && state.releaseStart * 2 > state.releaseOrder.count {
            state.releaseOrder.removeFirst(state.releaseStart)
            state.releaseStart = 0
        }
    }

    /// Counts live input that went out before its decision wait ended (the hold was full).
    /// Allocates nothing.
    public func countReleasedEarly(_ frames: Int) { state.withLock { $0.releasedEarly += frames } }

    /// Traces with a matching span so far.
    public var matchingTraces: Int { state.withLock { $0.matched.count } }
    /// Spans that arrived after their trace went out with another decision than theirs (they
    /// followed the earlier one, but for a span that matches itself).
    public var lateSpans: Int { state.withLock { $0.late } }
    /// Windows of live input that went out before their decision wait ended.
    public var releasedEarly: Int { state.withLock { $0.releasedEarly } }

    /// The table's series in the Prometheus text format, labelled with the processor.
    ///
    /// - Parameter processor: the filter's id.
    /// - Returns: the lines (HELP and TYPE included). Allocates the text.
    public func exposition(processor: String) -> String {
        let (matched, late, early) = state.withLock { ($0.matched.count, $0.late, $0.releasedEarly) }
        let label = "{processor=\"\(processor)\"}"
        return """
            # HELP trapline_whole_trace_matching_traces Traces a whole-trace filter found a matching span in.
            # TYPE trapline_whole_trace_matching_traces gauge
            trapline_whole_trace_matching_traces\(label) \(matched)
            # HELP trapline_whole_trace_late_spans_total Spans that arrived after their trace was decided otherwise (they followed that decision).
            # TYPE trapline_whole_trace_late_spans_total counter
            trapline_whole_trace_late_spans_total\(label) \(late)
            # HELP trapline_whole_trace_early_releases_total Windows of live input decided before their decision wait ended (the hold was full).
            # TYPE trapline_whole_trace_early_releases_total counter
            trapline_whole_trace_early_releases_total\(label) \(early)

            """
    }
}

/// The first pass of a whole-trace filter: finds the spans its conditions match and records their
/// traces, dropping nothing (the second pass, the filter itself, decides).
public struct WholeTraceCollector: Stage {
    public let id: String
    /// The filter's span conditions.
    public let program: FilterProgram
    /// Where the matches go.
    public let decisions: WholeTraceDecisions

    /// Makes the stage. Allocates nothing.
    public init(id: String, program: FilterProgram, decisions: WholeTraceDecisions) {
        self.id = id
        self.program = program
        self.decisions = decisions
    }

    /// Records the traces of the matching spans. Allocates per batch (the matches), not per span.
    public func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        let matched = WholeTraceMatch.rows(of: program, in: batch, mask: mask)
        decisions.markMatched(matched.rows, in: batch)
    }

    /// Log records are not the filter's business here. Allocates nothing.
    public func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
}

/// The spans a filter program matches in a batch, found without changing the batch.
enum WholeTraceMatch {
    static func rows(of program: FilterProgram, in batch: SpanBatch, mask: RowMask) -> (
        rows: [Int], flags: [Bool], outcome: RuleOutcome
    ) {
        var scratch = batch
        var remaining = mask
        let outcome = program.apply(to: &scratch, mask: &remaining)
        var rows: [Int] = []
        var flags = [Bool](repeating: false, count: batch.count)
        guard !outcome.failed else { return (rows, flags, outcome) }
        for row in 0..<batch.count where mask.kept[row] && !remaining.kept[row] {
            rows.append(row)
            flags[row] = true
        }
        return (rows, flags, outcome)
    }
}
