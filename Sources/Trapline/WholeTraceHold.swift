@_spi(Plumbing) import TraplineCore
import TraplineRules
import TraplineStages

/// Live input held back for a whole-trace filter (`decision_wait`): each window read from a pipe or
/// stdin has its first pass (the filter's matches recorded) at once, then waits here until its
/// decision wait is over, so the spans of a trace that arrive within the wait are decided knowing
/// each other. At the end of the input everything goes; past `max_held_mib` the oldest goes early.
struct WholeTraceHold {
    let decisions: WholeTraceDecisions
    private var held: [(window: [FrameEvent], due: UInt64, bytes: Int)] = []
    private var heldBytes = 0

    init(decisions: WholeTraceDecisions) { self.decisions = decisions }

    var isEmpty: Bool { held.isEmpty }

    /// When the oldest window is due (monotonic nanoseconds), if any is held.
    var nextDue: UInt64? { held.first?.due }

    /// Holds a window that has had its first pass.
    mutating func hold(_ window: [FrameEvent], now: UInt64) {
        guard !window.isEmpty else { return }
        var bytes = 0
        for event in window { if case .frame(let frame) = event { bytes += frame.range.count } }
        held.append((window, now &+ UInt64(decisions.decisionWait * 1e9), bytes))
        heldBytes += bytes
    }

    /// The windows to decide now, oldest first: those whose wait is over, every one when the
    /// input has ended, and the oldest while more than the limit is held (counted as early).
    mutating func release(now: UInt64, ending: Bool) -> [[FrameEvent]] {
        var released: [[FrameEvent]] = []
        var early = 0
        while let first = held.first, ending || first.due <= now || heldBytes > decisions.maxHeldBytes {
            if !ending && first.due > now { early += 1 }
            released.append(first.window)
            heldBytes -= first.bytes
            held.removeFirst()
        }
        if early > 0 { decisions.countReleasedEarly(early) }
        return released
    }
}

extension StageChain {
    /// The chain's whole-trace filter, with the first pass that finds its matches: the stages
    /// before it (but `traps`, whose baselines and blocks belong to the second pass), then a
    /// collector with the filter's span conditions. Nil without a whole-trace filter.
    ///
    /// `skimsSpans`: the first pass may skip spans' attributes, events and links while decoding
    /// (`OTLPProtobufDecoder.skipsSpanDetails`): no stage runs before the collector and no
    /// condition names them (read from the conditions' text, erring towards reading them).
    var wholeTracePass: (decisions: WholeTraceDecisions, firstPass: StageChain, skimsSpans: Bool)? {
        for (index, stage) in stages.enumerated() {
            guard let filter = stage as? FilterStage, let decisions = filter.wholeTrace, let program = filter.traces
            else { continue }
            let before = stages[..<index].filter { !($0 is TrapStage) }
            let collector = WholeTraceCollector(id: filter.id, program: program, decisions: decisions)
            let texts = program.groups.flatMap(\.conditionTexts)
            let skims =
                before.isEmpty
                && !texts.contains { text in ["attributes", "event", "link"].contains { text.contains($0) } }
            return (decisions, StageChain(Array(before) + [collector]), skims)
        }
        return nil
    }
}

extension StageChain {
    /// The whole-trace filters' series (matching traces, late spans, early releases); empty
    /// without one.
    var wholeTraceExposition: String {
        stages.compactMap { stage in
            (stage as? FilterStage).flatMap { filter in filter.wholeTrace?.exposition(processor: filter.id) }
        }.joined()
    }
}

extension StageChain {
    /// What each whole-trace filter decided, for the report.
    var wholeTraceTallies: [ReplayReport.WholeTraceTally] {
        stages.compactMap { stage in
            guard let filter = stage as? FilterStage, let decisions = filter.wholeTrace else { return nil }
            return ReplayReport.WholeTraceTally(
                processor: filter.id, matchingTraces: decisions.matchingTraces, lateSpans: decisions.lateSpans,
                releasedEarly: decisions.releasedEarly)
        }
    }
}
