/// What a trap rule's streaming baseline measures and when a span is far enough from it to be a
/// trap: `baseline:` on a rule over spans. The rule's `when` selects the spans the baseline
/// covers; the baseline decides which of them are traps.
public enum TrapBaselineSettings: Hashable, Sendable {
    /// A span's duration against the recent percentile of its own service and span name.
    case latency(LatencyBaselineSettings)
    /// The recent success rate of a service and span name against its rate over a longer window.
    case success(SuccessBaselineSettings)

    /// The most series (service and span name pairs) one rule keeps, whatever the measure.
    public var maxSeries: Int {
        switch self {
        case .latency(let settings): settings.maxSeries
        case .success(let settings): settings.maxSeries
        }
    }
}

/// `baseline.latency`: a span is a trap when it took more than `factor` times the `percentile`
/// of the spans with its service and name over the last `window` of event time (once that window
/// holds `minSamples` of them), or, when `objective` is set, more than the objective.
public struct LatencyBaselineSettings: Hashable, Sendable {
    /// `window`: the event time the percentile covers, in nanoseconds; default 15 minutes.
    public var windowNanoseconds: UInt64 = 15 * 60 * 1_000_000_000
    /// `percentile` (0 < p ≤ 100); default 99.
    public var percentile = 99.0
    /// `factor`: how many times the percentile a trap takes (≥ 1); default 3.
    public var factor = 3.0
    /// `min_samples`: spans the window must hold before the baseline judges; default 100.
    public var minSamples = 100
    /// `objective`: a fixed latency objective in nanoseconds; spans over it are traps whatever
    /// the baseline says, also before the baseline has its samples. Default none.
    public var objectiveNanoseconds: UInt64?
    /// `max_series`: the most service and span name pairs kept (about 15 KiB each at most);
    /// spans of further pairs are judged by the objective only, and counted. Default 1,000.
    public var maxSeries = 1000

    /// The window is kept as this many slots of event time; the oldest slot leaves as a new one
    /// starts, so the window slides in steps of `windowNanoseconds / slotCount`.
    public static let slotCount = 8

    /// The defaults. Allocates nothing.
    public init() {}
}

/// `baseline.success`: the spans' success rate over the `recent` interval of event time against
/// the rate of the rest of the `window`. A failing span is a trap when the recent rate, and the
/// span's own, fell more than `maxDrop` below the earlier one (once that holds `minSamples`), or
/// below `floor`.
public struct SuccessBaselineSettings: Hashable, Sendable {
    /// `window`: the event time the earlier rate covers, recent interval included, in
    /// nanoseconds; default one hour.
    public var windowNanoseconds: UInt64 = 60 * 60 * 1_000_000_000
    /// `recent`: the interval the recent rate covers, in nanoseconds; default 5 minutes.
    public var recentNanoseconds: UInt64 = 5 * 60 * 1_000_000_000
    /// `min_samples`: outcomes (spans, or items counted by the count attributes) the earlier
    /// part of the window must hold before a drop is judged; default 100.
    public var minSamples = 100
    /// `max_drop`: how far (0…1) the recent rate may fall below the earlier one; default 0.05.
    public var maxDrop = 0.05
    /// `floor`: a fixed success rate (0…1) the recent rate must not fall below; default none.
    public var floor: Double?
    /// `counts.ok`: a numeric span attribute counting items that succeeded (an exporter span's
    /// `sent_spans`); nil counts the span itself.
    public var okCountAttribute: String?
    /// `counts.failed`: a numeric span attribute counting items that failed
    /// (`send_failed_spans`); nil counts the span itself, failed when `failed_when` matches it.
    public var failedCountAttribute: String?
    /// `max_series`: the most service and span name pairs kept; default 1,000.
    public var maxSeries = 1000

    /// The most slots the window may be cut into (`window / recent`).
    public static let maxSlots = 120

    /// The defaults. Allocates nothing.
    public init() {}

    /// The window in slots of `recent`, rounded up.
    public var slotCount: Int {
        let recent = max(recentNanoseconds, 1)
        return Int((windowNanoseconds + recent - 1) / recent)
    }

    /// Whether the spans are counted by attributes rather than one outcome each.
    public var countsByAttribute: Bool { okCountAttribute != nil || failedCountAttribute != nil }
}
