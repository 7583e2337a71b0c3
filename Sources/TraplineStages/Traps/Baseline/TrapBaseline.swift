import Synchronization
public import TraplineCore
public import TraplineRules

/// A trap rule's streaming baseline: per service and span name, what the spans the rule's
/// `when` selects did over a sliding window of event time, and which of them are far enough
/// from it to be traps (``TrapBaselineSettings``).
///
/// One baseline per rule and pipeline, shared by the workers: its state is behind a lock taken
/// once per batch. Spans are judged in row order, each against the window as it stood before it,
/// then added to it (every span the rule covers counts, trapped or not, so a lasting change
/// becomes the new normal). Event time is the span's end; a span older than the window is
/// judged but not added. With several workers, batches reach the baseline in the order they
/// finish, so a span close to its threshold can be judged differently from run to run; one
/// worker makes a replay repeatable.
public final class TrapBaseline: Sendable {
    /// A span the baseline judged a trap, with what the report shows of it.
    public struct Verdict: Hashable, Sendable {
        /// The span's row in its batch.
        public var row: Int32
        /// The span, its measure and the baseline it was judged against.
        public var evidence: String
    }

    /// What the baseline measures.
    public let settings: TrapBaselineSettings
    /// `failed_when`: the spans that failed, for a success baseline counting spans; nil takes
    /// an error status (`status.code == STATUS_CODE_ERROR`).
    public let failedWhen: MatchProgram?
    private let state: Mutex<State>

    /// One of the two, by the settings (optionals, not an enum, so that the state is changed in place).
    private struct State {
        var latency: LatencyBaselineState?
        var success: SuccessBaselineState?
    }

    /// Makes an empty baseline. Allocates its series index.
    public init(settings: TrapBaselineSettings, failedWhen: MatchProgram? = nil) {
        self.settings = settings
        self.failedWhen = failedWhen
        switch settings {
        case .latency(let latency): state = Mutex(State(latency: LatencyBaselineState(settings: latency)))
        case .success(let success): state = Mutex(State(success: SuccessBaselineState(settings: success)))
        }
    }

    /// Spans the baseline could not keep a series for (every series live at `max_series`) so far.
    public var untrackedSpans: Int {
        state.withLock { state in state.latency?.untracked ?? state.success?.untracked ?? 0 }
    }

    /// The series kept now.
    public var seriesCount: Int {
        state.withLock { state in state.latency?.index.count ?? state.success?.index.count ?? 0 }
    }

    /// Judges `candidates` (kept rows the rule's `when` matched, in row order) and adds them to
    /// the baseline; returns the traps among them, in row order.
    /// Allocates per batch and per trap (its evidence), and per new series; a span of a known
    /// series allocates nothing.
    /// - Throws: the first run-time error of `failed_when` under `propagate`.
    public func judge(_ batch: SpanBatch, candidates: [Int32], mask: RowMask, errors: inout RuleOutcome)
        throws(RuleRuntimeError) -> [Verdict]
    {
        guard !candidates.isEmpty else { return [] }
        var failedRows: [Int32] = []
        if case .success(let success) = settings, !success.countsByAttribute, let failedWhen {
            failedRows = try failedWhen.matchingRows(in: batch, mask: mask, errors: &errors)
        }
        let failed = failedWhen == nil ? nil : failedRows
        return state.withLock { state -> [Verdict] in
            if state.latency != nil { return state.latency!.judge(batch, candidates: candidates) }
            return state.success!.judge(batch, candidates: candidates, failedRows: failed)
        }
    }

    /// The key of a span's series (its resource's `service.name`, its name) into `buffer`.
    /// Spans come grouped by resource, so the service name is looked up once per run of them
    /// (`services`, valid inside one `withBytes`). Allocates nothing once the buffer has grown.
    static func seriesKey(
        of row: Int, in batch: SpanBatch, _ bytes: BatchBytes, _ services: inout ServiceNameCache,
        into buffer: inout [UInt8]
    ) {
        let resourceIndex = batch.resourceIndex(ofRow: row)
        if resourceIndex != services.resource {
            services.resource = resourceIndex
            services.name = nil
            let resource = batch.resources[resourceIndex].attributes
            for index in resource.range where batch.attributes.values[index].kind == .string {
                let key = bytes[batch.attributes.keys[index]]
                if key.count == serviceNameKey.count && key.elementsEqual(serviceNameKey) {
                    services.name = bytes[batch.attributes.values[index].slice]
                    break
                }
            }
        }
        SeriesIndex.key(service: services.name, name: bytes[batch.names[row]], into: &buffer)
    }

    /// The service name of the last resource a span of the batch had.
    struct ServiceNameCache {
        var resource = -1
        var name: UnsafeRawBufferPointer?
    }

    private static let serviceNameKey = Array("service.name".utf8)

    /// What the report names a span by.
    static func describeSpan(_ row: Int, in batch: SpanBatch, key: [UInt8]) -> String {
        let (service, name) = SeriesIndex.describe(key)
        let owner = service.isEmpty ? "" : " of '\(service)'"
        return "span '\(name)'\(owner) trace \(batch.traceIDs[row]) span \(batch.spanIDs[row])"
    }
}
