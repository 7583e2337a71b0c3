import TraplineCore
import TraplineStages

/// One output route's sink during a replay, with what it took and what its failure lost, so
/// the accounting says which records really left: a record is forwarded only when every route
/// of its signal wrote it.
struct RouteSink {
    /// The route.
    let route: OutputRoute
    /// Its writer.
    let sink: OutputSink
    /// The failure that stopped this sink, if any; it takes nothing after it.
    var failure: IOFailure?
    /// Forwarded records it wrote (spans, log records), counted as forwarded so far.
    var taken = (spans: 0, logs: 0)
    /// Forwarded records that could not be written because this sink had failed (the first
    /// failed sink of their signal is charged, so no record is counted twice).
    var lost = (spans: 0, logs: 0)

    /// The output as messages name it: its path, or `-` for standard output.
    var outputName: String {
        switch route.destination {
        case .file(let path): return path
        case .standardOutput: return "-"
        case .none: return route.name
        }
    }

    /// Moves the records failed sinks did not deliver from forwarded to rejected
    /// (`export_failed`), one rejection per failed sink, named after its output.
    ///
    /// A sink written all or nothing (a regular file through a temporary) delivered none of
    /// what it took either; since every route of a signal takes the same records, the records it
    /// took are counted once per signal, however many such sinks failed.
    static func accountFailures(_ sinks: [RouteSink], in report: inout ReplayReport) {
        var undelivered = (spans: 0, logs: 0)
        for sink in sinks where sink.failure != nil && sink.sink.isAllOrNothing && !sink.route.isQuarantine {
            undelivered.spans = max(undelivered.spans, sink.taken.spans)
            undelivered.logs = max(undelivered.logs, sink.taken.logs)
        }
        var takenBack = undelivered
        for sink in sinks where sink.failure != nil && !sink.route.isQuarantine {
            var spans = sink.lost.spans
            var logs = sink.lost.logs
            if sink.sink.isAllOrNothing {
                // The records it took count here, once: the first all-or-nothing sink that took them.
                let spansHere = min(takenBack.spans, sink.taken.spans)
                let logsHere = min(takenBack.logs, sink.taken.logs)
                spans += spansHere
                logs += logsHere
                takenBack.spans -= spansHere
                takenBack.logs -= logsHere
            }
            let records = spans + logs
            guard records > 0 else { continue }
            report.records.forwarded -= records
            report.records.rejected += records
            report.spansForwarded -= spans
            report.logRecordsForwarded -= logs
            let error = DecodeError(.exportFailed, offset: sink.sink.bytesWritten)
            report.record(Rejection(source: sink.outputName, error: error, records: records), cap: .max)
        }
    }
}
