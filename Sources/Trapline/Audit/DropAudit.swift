@_spi(Plumbing) public import TraplineCore
import TraplineStages

/// How much of the drop audit an `audit` exporter (or `--audit FILE`) writes.
public struct DropAuditSettings: Hashable, Sendable {
    /// The share of audited records written, in percent (default 100). The choice follows the
    /// trace id where there is one, so a trace's records are written or skipped together, as
    /// the Collector's `probabilistic_sampler` keeps traces; records the sampling skipped are
    /// counted (`trapline_audit_records_total{result="sampled_out"}`).
    public var samplingPercentage = 100.0
    /// The most lines written per second (a token bucket holding one second's worth); nil:
    /// no limit. Lines over it are counted (`result="rate_limited"`) and not written.
    public var maxPerSecond: Int?

    /// Makes the defaults: every line, no limit. Allocates nothing.
    public init() {}

    /// Whether a line with sampling `key` is written. Allocates nothing.
    func samples(_ key: UInt64) -> Bool {
        guard samplingPercentage < 100 else { return true }
        guard samplingPercentage > 0 else { return false }
        return Double(key) < samplingPercentage / 100 * 18_446_744_073_709_551_616.0
    }
}

/// A frame's drop audit lines (one JSON line per record that did not go on, or per rejected piece
/// of input), made by the worker that processed the frame and written in input order by the
/// audit routes, which sample and rate-limit them line by line.
struct AuditLines: Sendable {
    /// The lines, each ending in a newline.
    private(set) var bytes: [UInt8] = []
    /// Where each line ends in `bytes`.
    private(set) var ends: [Int] = []
    /// Each line's sampling key: the trace id's hash, or 0 (always written) without one.
    private(set) var keys: [UInt64] = []
    /// The records each line stands for (a rejected frame may hold several).
    private(set) var records: [Int] = []
    /// Each line's signal: a dropped record's; nil for rejected input, which every audit route takes.
    private(set) var signals: [Signal?] = []

    var isEmpty: Bool { ends.isEmpty }
    var count: Int { ends.count }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        keys.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
        signals.removeAll(keepingCapacity: true)
    }

    mutating func append(_ line: String, key: UInt64, records: Int, signal: Signal? = nil) {
        bytes.append(contentsOf: line.utf8)
        bytes.append(0x0A)
        ends.append(bytes.count)
        keys.append(key)
        self.records.append(records)
        signals.append(signal)
    }

    /// The bytes of line `index`.
    func line(_ index: Int) -> ArraySlice<UInt8> { bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]] }
}

/// Writes the audit lines: one per dropped record (its ids, the stage and rule), one per
/// rejection (source, offset, reason, records).
enum DropAuditLine {
    /// The line of a record a stage dropped.
    static func record<Batch: AuditableBatch>(
        _ dropped: DroppedRecord, in batch: Batch, processor: String, source: String
    ) -> (line: String, key: UInt64) {
        let row = Int(dropped.row)
        let out = JSONWriter()
        out.object {
            out.field("outcome", dropped.cause.outcome.rawValue)
            out.field("signal", Batch.signal.rawValue)
            out.field("processor", processor)
            if let index = dropped.cause.ruleIndex { out.field("rule_index", index) }
            if let rule = dropped.cause.rule { out.field("rule", rule) }
            out.field("reason", dropped.cause.reason)
            out.field("source", source)
            batch.describe(row: row, into: out)
        }
        let traceID = batch.traceIDs[row]
        return (out.text, traceID.isZero ? 0 : sampleKey(traceID))
    }

    /// The line of input rejected before any stage (undecodable, refused, not written).
    static func rejection(_ rejection: Rejection) -> String {
        let out = JSONWriter()
        out.object {
            out.field("outcome", "rejected")
            out.field("reason", rejection.error.reason.name)
            out.field("source", rejection.source)
            out.field("offset", rejection.error.offset)
            if let line = rejection.error.line { out.field("line", line) }
            out.field("records", rejection.records)
            out.field("message", rejection.error.description)
        }
        return out.text
    }

    /// A trace id mixed to 64 uniform bits (splitmix64's finaliser over both halves), so a
    /// share of traces is a share of keys.
    static func sampleKey(_ traceID: TraceID) -> UInt64 {
        var value = traceID.high ^ (traceID.low &* 0x9E37_79B9_7F4A_7C15)
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// What a batch's audit line says about one of its records.
protocol AuditableBatch: StageBatch {
    /// Writes the record's identifying fields (ids, name or body, time) into the line.
    func describe(row: Int, into out: JSONWriter)
}

extension SpanBatch: AuditableBatch {
    func describe(row: Int, into out: JSONWriter) {
        out.field("trace_id", traceIDs[row].description)
        out.field("span_id", spanIDs[row].description)
        out.field("name", withBytes { String(decoding: $0[names[row]], as: UTF8.self) })
        out.field("start_time_unix_nano", String(startTimes[row]))
    }
}

extension LogBatch: AuditableBatch {
    /// How much of a log body a line carries.
    static let auditBodyPrefix = 120

    func describe(row: Int, into out: JSONWriter) {
        out.field("time_unix_nano", String(times[row] != 0 ? times[row] : observedTimes[row]))
        if !traceIDs[row].isZero {
            out.field("trace_id", traceIDs[row].description)
            out.field("span_id", spanIDs[row].description)
        }
        let body = bodies[row]
        guard body.kind == .string else { return }
        let text = withBytes { String(decoding: $0[body.slice], as: UTF8.self) }
        out.field("body_prefix", String(text.prefix(Self.auditBodyPrefix)))
    }
}

extension MetricBatch: AuditableBatch {
    func describe(row: Int, into out: JSONWriter) {
        let metric = metricIndex(ofRow: row)
        out.field("metric", withBytes { String(decoding: $0[metrics.names[metric]], as: UTF8.self) })
        out.field("time_unix_nano", String(times[row]))
    }
}

/// What an audit route did with the records audited, in records.
public struct AuditTally: Hashable, Sendable {
    /// Written as lines.
    public var written = 0
    /// Left out by `sampling_percentage`.
    public var sampledOut = 0
    /// Left out by `max_per_second`.
    public var rateLimited = 0
    /// Not written because the audit's output failed.
    public var notWritten = 0

    /// Nothing counted. Allocates nothing.
    public init() {}

    /// Every record the route was given.
    public var total: Int { written + sampledOut + rateLimited + notWritten }
}

/// A token bucket of one second's worth: `limit` lines a second, bursts up to `limit`.
struct TokenBucket {
    private var tokens = 0.0
    private var last: ContinuousClock.Instant?

    /// Takes a token when one is there (always, without a limit). Allocates nothing.
    mutating func take(limit: Int?, now: ContinuousClock.Instant = .now) -> Bool {
        guard let limit else { return true }
        let capacity = Double(max(0, limit))
        if let last {
            let elapsed = now - last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            tokens = min(capacity, tokens + seconds * capacity)
        } else {
            tokens = capacity
        }
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// The audit routes' series in the Prometheus text format.
enum DropAuditMetrics {
    static func exposition(_ tallies: [(route: String, tally: AuditTally)]) -> String {
        guard !tallies.isEmpty else { return "" }
        var text = "# HELP trapline_audit_records_total Records the drop audit was given, by what it did with them.\n"
        text += "# TYPE trapline_audit_records_total counter\n"
        for (route, tally) in tallies {
            for (result, count) in [
                ("written", tally.written), ("sampled_out", tally.sampledOut), ("rate_limited", tally.rateLimited),
                ("not_written", tally.notWritten),
            ] {
                text += "trapline_audit_records_total{exporter=\"\(route)\",result=\"\(result)\"} \(count)\n"
            }
        }
        return text
    }
}
