import TraplineCore

/// The series of a success baseline: per service and span name, the outcomes that succeeded
/// and failed per slot of event time (a slot is the `recent` interval).
///
/// A span with failures is a trap when both its own success rate and the recent rate of its
/// series (itself included) are below the earlier rate less `max_drop` (once the earlier part
/// holds `min_samples`), or below `floor`.
struct SuccessBaselineState {
    let settings: SuccessBaselineSettings
    private(set) var index: SeriesIndex
    private var series: [Series] = []
    /// The newest slot any span reached (for giving a series' place to a new one).
    private var newestSlot = Int64.min
    private(set) var untracked = 0
    private var keyBuffer: [UInt8] = []
    private let okKey: [UInt8]?
    private let failedKey: [UInt8]?

    struct Series {
        var slotIDs: [Int64]
        var ok: [UInt64]
        var failed: [UInt64]

        init(slots: Int) {
            slotIDs = Array(repeating: .min, count: slots)
            ok = Array(repeating: 0, count: slots)
            failed = Array(repeating: 0, count: slots)
        }

        mutating func reset() {
            for slot in slotIDs.indices { slotIDs[slot] = .min }
        }
    }

    init(settings: SuccessBaselineSettings) {
        self.settings = settings
        index = SeriesIndex(maxSeries: settings.maxSeries)
        okKey = settings.okCountAttribute.map { Array($0.utf8) }
        failedKey = settings.failedCountAttribute.map { Array($0.utf8) }
    }

    /// `failedRows`: the rows `failed_when` matched, in row order; nil takes an error status.
    mutating func judge(_ batch: SpanBatch, candidates: [Int32], failedRows: [Int32]?) -> [TrapBaseline.Verdict] {
        var verdicts: [TrapBaseline.Verdict] = []
        let slots = settings.slotCount
        let slotWidth = max(1, settings.recentNanoseconds)
        var nextFailed = 0
        batch.withBytes { bytes in
            var services = TrapBaseline.ServiceNameCache()
            for candidate in candidates {
                let row = Int(candidate)
                let (ok, failed) = outcomes(of: row, batch, bytes, failedRows: failedRows, cursor: &nextFailed)
                let end = batch.endTimes[row]
                guard end != 0, ok + failed > 0 else { continue }
                let slot = Int64(end / slotWidth)
                if slot > newestSlot { newestSlot = slot }
                TrapBaseline.seriesKey(of: row, in: batch, bytes, &services, into: &keyBuffer)
                var found: Int?
                var oldestLive = slot
                if let (seriesIndex, isNew) = index.series(
                    for: keyBuffer, slot: slot, oldestLiveSlot: newestSlot - Int64(slots) + 1)
                {
                    if seriesIndex == series.count {
                        series.append(Series(slots: slots))
                    } else if isNew {
                        series[seriesIndex].reset()
                    }
                    oldestLive = index.newestSlot(of: seriesIndex) - Int64(slots) + 1
                    // A span older than its series' window is judged, not added.
                    if slot >= oldestLive { add(ok: ok, failed: failed, slot: slot, to: seriesIndex) }
                    found = seriesIndex
                } else {
                    untracked += 1
                }
                guard failed > 0 else { continue }
                let (recent, earlier) = rates(
                    found, slot: slot, oldestLive: oldestLive, into: Double(end % slotWidth) / Double(slotWidth),
                    own: (Double(ok), Double(failed)))
                let recentRate = recent.ok / (recent.ok + recent.failed)
                let earlierCount = earlier.ok + earlier.failed
                let earlierRate = earlierCount == 0 ? 1 : earlier.ok / earlierCount
                // The span's own rate must be as low as the recent one: a healthy span is no trap
                // while an earlier failure still weighs on the recent interval.
                let ownRate = Double(ok) / Double(ok + failed)
                var reason: String?
                let lowest = earlierRate - settings.maxDrop
                if earlierCount >= Double(settings.minSamples) && recentRate < lowest && ownRate < lowest {
                    reason =
                        ", against " + BaselineText.percent(earlierRate) + " in the "
                        + BaselineText.duration(settings.windowNanoseconds - settings.recentNanoseconds)
                        + " before (" + String(Int(earlierCount.rounded())) + " outcomes; a trap past a drop of "
                        + BaselineText.percent(settings.maxDrop) + ")"
                } else if let floor = settings.floor, recentRate < floor && ownRate < floor {
                    reason = ", below the floor of " + BaselineText.percent(floor)
                }
                guard let reason else { continue }
                let evidence =
                    TrapBaseline.describeSpan(row, in: batch, key: keyBuffer) + ": success "
                    + BaselineText.percent(recentRate) + " over the last "
                    + BaselineText.duration(settings.recentNanoseconds) + " (" + String(Int(recent.failed.rounded()))
                    + " of " + String(Int((recent.ok + recent.failed).rounded())) + " failed"
                    + (settings.countsByAttribute
                        ? "; " + String(failed) + " of " + String(ok + failed) + " in this span)" : ")")
                    + reason
                verdicts.append(TrapBaseline.Verdict(row: candidate, evidence: evidence))
            }
        }
        return verdicts
    }

    /// The outcomes of the last `recent` of event time up to the span, and of the rest of the
    /// window: the span's slot, plus the share of the slot before it that the interval still
    /// covers (`into`: how far into its slot the span is, 0…1), as a sliding-window counter
    /// estimates it, so the recent rate does not restart from nothing at each slot's start. A
    /// span too old for the window, or of a series not kept, is its own recent interval.
    private func rates(
        _ seriesIndex: Int?, slot: Int64, oldestLive: Int64, into: Double, own: (ok: Double, failed: Double)
    ) -> (recent: (ok: Double, failed: Double), earlier: (ok: Double, failed: Double)) {
        guard let seriesIndex, slot >= oldestLive else { return (own, (0, 0)) }
        let kept = series[seriesIndex]
        var recent = (ok: 0.0, failed: 0.0)
        var earlier = (ok: 0.0, failed: 0.0)
        for position in kept.slotIDs.indices where kept.slotIDs[position] >= oldestLive {
            let id = kept.slotIDs[position]
            let ok = Double(kept.ok[position])
            let failed = Double(kept.failed[position])
            let share = id == slot ? 1 : id == slot - 1 ? 1 - into : 0
            recent.ok += ok * share
            recent.failed += failed * share
            earlier.ok += ok * (1 - share)
            earlier.failed += failed * (1 - share)
        }
        return (recent, earlier)
    }

    /// What the span counts: its count attributes (a missing one counts 0), or itself, failed
    /// when `failed_when` (or an error status) says so.
    private func outcomes(
        of row: Int, _ batch: SpanBatch, _ bytes: BatchBytes, failedRows: [Int32]?, cursor: inout Int
    ) -> (ok: UInt64, failed: UInt64) {
        if settings.countsByAttribute {
            return (
                okKey.map { count($0, row, batch, bytes) } ?? 0, failedKey.map { count($0, row, batch, bytes) } ?? 0
            )
        }
        let failed: Bool
        if let failedRows {
            // Both lists are in row order: one pass over the failed rows for the whole batch.
            while cursor < failedRows.count && Int(failedRows[cursor]) < row { cursor += 1 }
            failed = cursor < failedRows.count && Int(failedRows[cursor]) == row
        } else {
            failed = batch.statuses[row].code == 2  // STATUS_CODE_ERROR
        }
        return failed ? (0, 1) : (1, 0)
    }

    /// A numeric span attribute as a count (a negative or non-numeric value counts 0).
    private func count(_ key: [UInt8], _ row: Int, _ batch: SpanBatch, _ bytes: BatchBytes) -> UInt64 {
        for index in batch.spanAttributes[row].range {
            let candidate = bytes[batch.attributes.keys[index]]
            guard candidate.count == key.count && candidate.elementsEqual(key) else { continue }
            let value = batch.attributes.values[index]
            switch value.kind {
            case .int: return value.int > 0 ? UInt64(value.int) : 0
            case .double:
                let number = value.double
                return number.isFinite && number > 0 ? UInt64(min(number.rounded(), 1e18)) : 0
            default: return 0
            }
        }
        return 0
    }

    private mutating func add(ok: UInt64, failed: UInt64, slot: Int64, to seriesIndex: Int) {
        let position = Int(slot % Int64(settings.slotCount))
        if series[seriesIndex].slotIDs[position] != slot {
            series[seriesIndex].slotIDs[position] = slot
            series[seriesIndex].ok[position] = 0
            series[seriesIndex].failed[position] = 0
        }
        series[seriesIndex].ok[position] &+= ok
        series[seriesIndex].failed[position] &+= failed
    }
}
