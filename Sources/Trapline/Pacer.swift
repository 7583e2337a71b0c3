import Foundation
import TraplineStages

/// How fast a replay hands records to its exporters (`--rate`, `--speed`).
public enum Pacing: Hashable, Sendable {
    /// At most this many records a second (spans and log records alike).
    case recordsPerSecond(Double)
    /// The capture's own timing, from each request's earliest record timestamp, this many
    /// times faster (2: twice as fast; 0.5: half).
    case speed(Double)
}

/// Holds each merged frame back until its turn under a `Pacing`, on the replaying thread (so
/// reading, processing and writing all slow down together, and nothing piles up).
struct Pacer {
    let pacing: Pacing
    private var start: ContinuousClock.Instant?
    private var records = 0
    private var firstTime: UInt64 = 0
    private var latestTime: UInt64 = 0

    init(_ pacing: Pacing) { self.pacing = pacing }

    /// Waits until `outcome` may go on; returns early when `stopRequested` says so (a stop
    /// drains what was read without pacing).
    mutating func wait(before outcome: FrameOutcome, stopRequested: (() -> Bool)?) {
        let now = ContinuousClock.now
        var target: ContinuousClock.Instant?
        switch pacing {
        case .recordsPerSecond(let rate):
            let begin = start ?? now
            start = begin
            target = begin + .nanoseconds(Int64(Double(records) / rate * 1e9))
            records += outcome.records.received
        case .speed(let factor):
            let time = outcome.firstRecordTime
            guard time > 0 else { return }
            guard let begin = start else {
                start = now
                firstTime = time
                latestTime = time
                return
            }
            // Never backwards: a request older than one already sent goes at once.
            latestTime = max(latestTime, time)
            target = begin + .nanoseconds(Int64(Double(latestTime - firstTime) / factor))
        }
        guard let target else { return }
        while ContinuousClock.now < target {
            if stopRequested?() == true { return }
            let left = target - ContinuousClock.now
            let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
            Thread.sleep(forTimeInterval: min(0.1, seconds))
        }
    }
}

/// A `Pacer` the replay's merge (a non-mutating method) can advance.
final class PacerBox: @unchecked Sendable {
    // Unchecked: used by the one replaying thread only.
    private var pacer: Pacer

    init(_ pacer: Pacer) { self.pacer = pacer }

    /// Starts over (a new run).
    func reset() { pacer = Pacer(pacer.pacing) }

    func wait(before outcome: FrameOutcome, stopRequested: (@Sendable () -> Bool)?) {
        pacer.wait(before: outcome, stopRequested: stopRequested)
    }
}
