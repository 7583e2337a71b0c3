import Synchronization
public import TraplineCore
public import TraplineRules

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Run-time rule errors of `filter` and `transform` under `error_mode: ignore`, logged to
/// standard error as the Collector logs them, but at most one line a second per processor: the
/// first failing record of the batch by its ids, the error, and how many errors since the last
/// line. `silent` logs nothing; `propagate` refuses the batch, which the report already names.
public final class RuleErrorLog: Sendable {
    /// The log every processor of the process shares.
    public static let shared = RuleErrorLog()

    private struct Entry {
        var last: ContinuousClock.Instant
        /// Errors counted since the last line.
        var unlogged: Int
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let interval: Duration
    private let write: @Sendable (String) -> Void

    /// A log writing to `write` (standard error by default), a line at most every `interval`.
    /// Allocates nothing.
    public init(interval: Duration = .seconds(1), write: (@Sendable (String) -> Void)? = nil) {
        self.interval = interval
        self.write = write ?? Self.standardError
    }

    private static let standardError: @Sendable (String) -> Void = { text in
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// Counts a batch's errors and logs a line when one is due. Allocates the line when it logs.
    ///
    /// - Parameters:
    ///   - stage: the processor's id, which names the line and keys its rate limit.
    ///   - outcome: the batch's rule run: its error count, first error and the row it hit.
    ///   - record: names the record the first error happened on (its row).
    public func report(stage: String, outcome: RuleOutcome, record: (Int) -> String) {
        guard outcome.errors > 0, !outcome.failed else { return }
        let now = ContinuousClock.now
        let due = entries.withLock { entries -> Int? in
            var entry = entries[stage] ?? Entry(last: now - interval, unlogged: 0)
            entry.unlogged += outcome.errors
            defer { entries[stage] = entry }
            guard now - entry.last >= interval else { return nil }
            let count = entry.unlogged
            entry.last = now
            entry.unlogged = 0
            return count
        }
        guard let count = due else { return }
        let place = outcome.firstErrorRow.map { " on " + record($0) } ?? ""
        let message = outcome.firstError?.message ?? "run-time error"
        write(
            "trapline: \(stage): rule error\(place): \(message) (error_mode ignore: \(count) error\(count == 1 ? "" : "s") since the last line, each counted in trapline_rule_errors_total)\n"
        )
    }
}

extension SpanBatch {
    /// `span ID (trace ID) "name"` (allocates; for logs).
    public func recordName(_ row: Int) -> String {
        guard row < count else { return "record \(row)" }
        let name = withBytes { String(decoding: $0[names[row]], as: UTF8.self) }
        return "span \(spanIDs[row]) (trace \(traceIDs[row])) \"\(name)\""
    }
}

extension LogBatch {
    /// `log record TIME` with its trace id when it has one (allocates; for logs).
    public func recordName(_ row: Int) -> String {
        guard row < count else { return "record \(row)" }
        let time = times[row] != 0 ? times[row] : observedTimes[row]
        return "log record \(time)" + (traceIDs[row].isZero ? "" : " (trace \(traceIDs[row]))")
    }
}

extension MetricBatch {
    /// `data point N of "metric"` (allocates; for logs).
    public func recordName(_ row: Int) -> String {
        guard row < count else { return "record \(row)" }
        let name = withBytes { String(decoding: $0[metrics.names[metricIndex(ofRow: row)]], as: UTF8.self) }
        return "data point \(row) of \"\(name)\""
    }
}
