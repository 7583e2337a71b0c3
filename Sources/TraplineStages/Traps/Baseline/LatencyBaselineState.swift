import Histogram
import TraplineCore

/// The series of a latency baseline: per service and span name, an HdrHistogram of durations
/// per slot of event time, and the threshold they give, cached.
struct LatencyBaselineState {
    let settings: LatencyBaselineSettings
    private(set) var index: SeriesIndex
    private var series: [Series] = []
    /// The newest slot any span reached: a series whose own newest slot is a window older may
    /// give its place to a new one.
    private var newestSlot = Int64.min
    private(set) var untracked = 0
    private var keyBuffer: [UInt8] = []
    /// Where the live slots are merged to read the percentile.
    private var merged = LatencyBaselineState.makeHistogram()

    private let slotWidth: UInt64

    /// Durations are kept in microseconds up to an hour (longer ones count as an hour), within
    /// 1/16 (one significant digit: 32 sub-buckets), which keeps a histogram under 2 KiB.
    static let highestMicroseconds: UInt64 = 3_600_000_000

    static func makeHistogram() -> Histogram<UInt32> {
        Histogram(
            lowestDiscernibleValue: 1, highestTrackableValue: highestMicroseconds, numberOfSignificantValueDigits: .one)
    }

    struct Series {
        var slotIDs = [Int64](repeating: .min, count: LatencyBaselineSettings.slotCount)
        /// Made when the slot first gets a span.
        var histograms = [Histogram<UInt32>?](repeating: nil, count: LatencyBaselineSettings.slotCount)
        /// Spans per slot (what the histograms hold), so that a series short of `min_samples`
        /// costs no merge.
        var counts = [Int](repeating: 0, count: LatencyBaselineSettings.slotCount)
        /// The percentile, in nanoseconds, and the spans it was read from.
        var threshold: UInt64 = 0
        var samples: UInt64 = 0
        /// The newest slot when the threshold was read, and spans added since.
        var thresholdSlot = Int64.min
        var addedSinceThreshold = 0

        mutating func reset() {
            for slot in slotIDs.indices { slotIDs[slot] = .min }
            threshold = 0
            samples = 0
            thresholdSlot = .min
            addedSinceThreshold = 0
        }
    }

    init(settings: LatencyBaselineSettings) {
        self.settings = settings
        index = SeriesIndex(maxSeries: settings.maxSeries)
        slotWidth = max(1, settings.windowNanoseconds / UInt64(LatencyBaselineSettings.slotCount))
    }

    mutating func judge(_ batch: SpanBatch, candidates: [Int32]) -> [TrapBaseline.Verdict] {
        var verdicts: [TrapBaseline.Verdict] = []
        let slotCount = Int64(LatencyBaselineSettings.slotCount)
        batch.withBytes { bytes in
            var services = TrapBaseline.ServiceNameCache()
            for candidate in candidates {
                let row = Int(candidate)
                let end = batch.endTimes[row]
                guard end != 0 else { continue }
                let start = batch.startTimes[row]
                let duration = end > start ? end - start : 0
                let slot = Int64(end / slotWidth)
                if slot > newestSlot { newestSlot = slot }
                TrapBaseline.seriesKey(of: row, in: batch, bytes, &services, into: &keyBuffer)
                var evidence: String?
                if let (found, isNew) = index.series(
                    for: keyBuffer, slot: slot, oldestLiveSlot: newestSlot - slotCount + 1)
                {
                    if found == series.count {
                        series.append(Series())
                    } else if isNew {
                        series[found].reset()
                    }
                    let seriesNewest = index.newestSlot(of: found)
                    let (threshold, samples) = readThreshold(found, newest: seriesNewest)
                    if samples >= UInt64(settings.minSamples) && Double(duration) > settings.factor * Double(threshold)
                    {
                        evidence = overBaseline(row, batch, duration: duration, threshold: threshold, samples: samples)
                    }
                    // A span older than its series' window is judged, not added.
                    if slot > seriesNewest - slotCount { add(duration, slot: slot, to: found) }
                } else {
                    untracked += 1
                }
                if evidence == nil, let objective = settings.objectiveNanoseconds, duration > objective {
                    evidence =
                        TrapBaseline.describeSpan(row, in: batch, key: keyBuffer) + " took "
                        + BaselineText.duration(duration) + ", over the objective of "
                        + BaselineText.duration(objective)
                }
                if let evidence { verdicts.append(TrapBaseline.Verdict(row: candidate, evidence: evidence)) }
            }
        }
        return verdicts
    }

    /// The series' percentile over the live slots and the spans it covers. The count is summed
    /// each time (a few additions); the percentile only once the window holds `min_samples`,
    /// and then again when the window moved or the series grew by an eighth (16 spans at least)
    /// since it was last read, so most spans cost a comparison. With one live slot the percentile is read
    /// from its histogram; with more, they are merged first.
    private mutating func readThreshold(_ seriesIndex: Int, newest: Int64) -> (UInt64, UInt64) {
        let oldestLive = newest - Int64(LatencyBaselineSettings.slotCount) + 1
        var samples = 0
        var liveSlots = 0
        var lastLive = 0
        for slot in 0..<LatencyBaselineSettings.slotCount
        where series[seriesIndex].slotIDs[slot] >= oldestLive && series[seriesIndex].counts[slot] > 0 {
            samples += series[seriesIndex].counts[slot]
            liveSlots += 1
            lastLive = slot
        }
        guard samples >= settings.minSamples else { return (0, UInt64(samples)) }
        let cached = series[seriesIndex]
        if cached.thresholdSlot == newest && cached.addedSinceThreshold <= max(16, Int(cached.samples / 8)) {
            return (cached.threshold, UInt64(samples))
        }
        let percentile: UInt64
        if liveSlots == 1, let histogram = cached.histograms[lastLive] {
            percentile = histogram.valueAtPercentile(settings.percentile)
        } else {
            merged.reset()
            for slot in 0..<LatencyBaselineSettings.slotCount
            where cached.slotIDs[slot] >= oldestLive && cached.counts[slot] > 0 {
                if let histogram = cached.histograms[slot] { merged.add(histogram) }
            }
            percentile = merged.valueAtPercentile(settings.percentile)
        }
        let threshold = percentile * 1000
        series[seriesIndex].threshold = threshold
        series[seriesIndex].samples = UInt64(samples)
        series[seriesIndex].thresholdSlot = newest
        series[seriesIndex].addedSinceThreshold = 0
        return (threshold, UInt64(samples))
    }

    private mutating func add(_ duration: UInt64, slot: Int64, to seriesIndex: Int) {
        let position = Int(slot % Int64(LatencyBaselineSettings.slotCount))
        if series[seriesIndex].slotIDs[position] != slot {
            series[seriesIndex].slotIDs[position] = slot
            series[seriesIndex].counts[position] = 0
            if series[seriesIndex].histograms[position] == nil {
                series[seriesIndex].histograms[position] = Self.makeHistogram()
            } else {
                series[seriesIndex].histograms[position]!.reset()
            }
        }
        let microseconds = min(duration / 1000, Self.highestMicroseconds)
        _ = series[seriesIndex].histograms[position]!.record(microseconds)
        series[seriesIndex].counts[position] += 1
        series[seriesIndex].addedSinceThreshold += 1
    }

    private func overBaseline(_ row: Int, _ batch: SpanBatch, duration: UInt64, threshold: UInt64, samples: UInt64)
        -> String
    {
        let times = threshold == 0 ? "" : BaselineText.ratio(Double(duration) / Double(threshold)) + "× "
        return TrapBaseline.describeSpan(row, in: batch, key: keyBuffer) + " took " + BaselineText.duration(duration)
            + ", " + times + "the p" + BaselineText.number(settings.percentile) + " of "
            + BaselineText.duration(threshold) + " over its last " + BaselineText.duration(settings.windowNanoseconds)
            + " (" + String(samples) + " spans; a trap past " + BaselineText.ratio(settings.factor) + "×)"
    }
}
