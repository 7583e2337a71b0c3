import TraplineCore
import TraplineStages

/// The output routes of a run (file, stdout and quarantine exporters) with their open sinks: the
/// one place that chooses which of a processed frame's encodings each route takes, writes them in
/// input order, and keeps the accounting of what a failed route lost. Replay and the sidecar's
/// `RequestPipeline` both write through it.
struct OutputRoutes {
    /// The routes' sinks, in route order.
    private(set) var sinks: [RouteSink] = []
    /// The first output failure, if any.
    private(set) var firstFailure: IOFailure?

    /// Opens a sink for every route.
    ///
    /// - Throws: `IOFailure` when an output cannot be opened.
    /// Opens every route's sink; `inPlace` writes regular files as it goes instead of through a
    /// temporary (see `ReplayOptions.writesOutputsAsTheyGo`).
    init(_ routes: [OutputRoute], inPlace: Bool = false) throws(IOFailure) {
        for route in routes {
            let sink = try OutputSink(
                route.destination, gzip: route.compression == .gzip, inPlace: inPlace, rotation: route.rotation)
            sinks.append(RouteSink(route: route, sink: sink))
        }
    }

    /// The routes.
    var routes: [OutputRoute] { sinks.map(\.route) }

    /// Bytes written so far, over every sink.
    var bytesWritten: Int { sinks.reduce(0) { $0 + $1.sink.bytesWritten } }

    /// The encodings a frame processor must produce for `routes`.
    ///
    /// - Parameter forwarding: protobuf is wanted whatever the routes, unframed: a forwarding
    ///   exporter sends it as the request body, and `deliver` frames it for file routes.
    static func encodings(for routes: [OutputRoute], forwarding: Bool = false) -> FrameEncodings {
        let telemetry = routes.filter { $0.audit == nil }
        return FrameEncodings(
            proto: forwarding || telemetry.contains { $0.format == .proto && !$0.isQuarantine },
            json: telemetry.contains { $0.format == .json && !$0.isQuarantine },
            quarantineProto: telemetry.contains { $0.format == .proto && $0.isQuarantine },
            quarantineJSON: telemetry.contains { $0.format == .json && $0.isQuarantine },
            audit: routes.contains { $0.audit != nil },
            framing: forwarding ? .none : .bigEndianLengthPrefix)
    }

    /// Writes a processed frame's output to every route of its signal. A sink that fails takes
    /// nothing more; the others go on.
    ///
    /// - Returns: the outcome as the metrics count it: when a failed route of the signal did not
    ///   take the frame's forwarded records, they are moved to `export_failed` (the report does
    ///   the same once, at the end, with `accountFailures`). Allocates nothing when nothing failed.
    mutating func deliver(_ outcome: FrameOutcome) -> FrameOutcome {
        var lostBy: Int?
        for index in sinks.indices {
            let route = sinks[index].route
            if let audit = route.audit {
                if !outcome.audit.isEmpty { writeAudit(outcome.audit, to: index, audit) }
                continue
            }
            let signal = route.isQuarantine ? outcome.quarantineSignal : outcome.signal
            guard let signal, route.signals.contains(signal) else { continue }
            let bytes =
                route.isQuarantine
                ? (route.format == .proto ? outcome.quarantineProto : outcome.quarantineJSON)
                : (route.format == .proto ? outcome.proto : outcome.json)
            guard !bytes.isEmpty else { continue }
            if let batch = route.batch, !route.isQuarantine {
                // A `batch` processor: merged with the requests before it, written when full.
                let records = outcome.forwarded[signal]
                let pending = sinks[index].pending[signal]?.records ?? 0
                if pending > 0 && !batch.fits(records, in: pending) { writePending(index, signal) }
                if sinks[index].failure == nil {
                    sinks[index].pending[signal, default: RequestBatch(isJSON: route.format == .json)].add(
                        bytes, records: records, framed: route.format == .proto && outcome.protoIsFramed)
                    if batch.isFull(sinks[index].pending[signal]!.records) { writePending(index, signal) }
                }
            } else if sinks[index].failure == nil {
                do throws(IOFailure) {
                    if route.format == .proto && !outcome.protoIsFramed {
                        // One request's message: the file exporter's 4-byte length goes first.
                        let length = UInt32(truncatingIfNeeded: bytes.count)
                        try sinks[index].sink.write((0..<4).map { UInt8(truncatingIfNeeded: length >> (24 - 8 * $0)) })
                    }
                    try sinks[index].sink.write(bytes)
                } catch {
                    sinks[index].failure = error
                    firstFailure = firstFailure ?? error
                }
            }
            if !route.isQuarantine && sinks[index].failure != nil { lostBy = lostBy ?? index }
        }
        let forwarded = outcome.forwarded
        if let lostBy {
            // A record is forwarded only when every route of its signal took it.
            for signal in Signal.allCases { sinks[lostBy].lost[signal] += forwarded[signal] }
            var counted = outcome
            counted.moveForwardedToExportFailed(output: sinks[lostBy].outputName)
            if let failed = counted.rejections.last { audit(failed) }
            return counted
        }
        for index in sinks.indices where sinks[index].failure == nil && !sinks[index].route.isQuarantine {
            let signals = sinks[index].route.signals
            for signal in signals { sinks[index].taken[signal] += forwarded[signal] }
        }
        return outcome
    }

    /// Writes the audit lines a route takes (every rejection, the dropped records of its signals),
    /// sampled and rate-limited as its settings say, counting what each step left out. A failed
    /// audit route stops writing and counts the rest as not written; the records' accounting
    /// does not depend on it.
    private mutating func writeAudit(_ lines: AuditLines, to index: Int, _ settings: DropAuditSettings) {
        var out: [UInt8] = []
        var taken = 0
        let signals = sinks[index].route.signals
        for line in 0..<lines.count {
            if let signal = lines.signals[line], !signals.contains(signal) { continue }
            let records = lines.records[line]
            guard settings.samples(lines.keys[line]) else {
                sinks[index].auditTally.sampledOut += records
                continue
            }
            guard sinks[index].auditBucket.take(limit: settings.maxPerSecond) else {
                sinks[index].auditTally.rateLimited += records
                continue
            }
            taken += records
            out.append(contentsOf: lines.line(line))
        }
        guard taken > 0 else { return }
        if sinks[index].failure == nil {
            do throws(IOFailure) {
                try sinks[index].sink.write(out)
                sinks[index].auditTally.written += taken
                return
            } catch {
                sinks[index].failure = error
                firstFailure = firstFailure ?? error
            }
        }
        sinks[index].auditTally.notWritten += taken
    }

    /// Audits a rejection made after the frames were processed (an output or a next hop that
    /// did not take records): one line on every audit route.
    mutating func audit(_ rejection: Rejection) {
        guard sinks.contains(where: { $0.route.audit != nil }) else { return }
        var lines = AuditLines()
        lines.append(DropAuditLine.rejection(rejection), key: 0, records: rejection.records)
        for index in sinks.indices {
            if let settings = sinks[index].route.audit { writeAudit(lines, to: index, settings) }
        }
    }

    /// `trapline_audit_records_total{exporter,result}`: what each audit route wrote and left out;
    /// empty without audit routes.
    var auditExposition: String { DropAuditMetrics.exposition(auditTallies) }

    /// What the audit routes wrote and left out, by route.
    var auditTallies: [(route: String, tally: AuditTally)] {
        sinks.filter { $0.route.audit != nil }.map { ($0.route.name, $0.auditTally) }
    }

    /// Writes one route's merged requests of `signal`. A failure charges their records to the
    /// sink as lost (they were counted as taken when they were merged).
    private mutating func writePending(_ index: Int, _ signal: Signal) {
        guard var batch = sinks[index].pending[signal], !batch.isEmpty else { return }
        let (bytes, records) = batch.take()
        sinks[index].pending[signal] = batch
        guard sinks[index].failure == nil else { return }
        do throws(IOFailure) {
            if sinks[index].route.format == .proto {
                let length = UInt32(truncatingIfNeeded: bytes.count)
                try sinks[index].sink.write((0..<4).map { UInt8(truncatingIfNeeded: length >> (24 - 8 * $0)) })
            }
            try sinks[index].sink.write(bytes)
            sinks[index].batchesWritten += 1
        } catch {
            sinks[index].failure = error
            firstFailure = firstFailure ?? error
            sinks[index].lost[signal] += records
            sinks[index].taken[signal] -= records
        }
    }

    /// Whether some route holds merged requests not written yet.
    var hasPendingBatches: Bool { sinks.contains { $0.pending.values.contains { !$0.isEmpty } } }

    /// Writes the merged requests whose first request has waited the `batch` processor's
    /// `timeout` (all of them with `force`, at the end or a stop).
    mutating func flushBatches(force: Bool = false) {
        let now = ContinuousClock.now
        for index in sinks.indices {
            guard let batch = sinks[index].route.batch else { continue }
            for (signal, pending) in sinks[index].pending where force || pending.isDue(batch, now: now) {
                writePending(index, signal)
            }
        }
    }

    /// Finishes every sink that has not failed (a temporary becomes its file), after writing
    /// what batches hold.
    ///
    /// - Returns: the first output failure of the run, if any.
    /// - Parameter keepingAudits: leaves the audit routes open, for the rejections the end of the
    ///   run makes (`finishAudits` closes them).
    mutating func finish(keepingAudits: Bool = false) -> IOFailure? {
        flushBatches(force: true)
        return finishSinks { !(keepingAudits && $0.audit != nil) }
    }

    /// Finishes the audit routes `finish(keepingAudits:)` left open.
    ///
    /// - Returns: the first output failure of the run, if any.
    mutating func finishAudits() -> IOFailure? { finishSinks { $0.audit != nil } }

    /// Finishes the sinks, not failed, of the routes `chosen` picks.
    private mutating func finishSinks(_ chosen: (OutputRoute) -> Bool) -> IOFailure? {
        for index in sinks.indices where sinks[index].failure == nil && chosen(sinks[index].route) {
            do throws(IOFailure) {
                try sinks[index].sink.finish()
            } catch {
                sinks[index].failure = error
                firstFailure = firstFailure ?? error
            }
        }
        return firstFailure
    }

    /// Moves the records failed sinks did not deliver from forwarded to rejected
    /// (`export_failed`), one rejection per failed sink, named after its output.
    ///
    /// A sink written all or nothing (a regular file through a temporary) delivered none of
    /// what it took either; since every route of a signal takes the same records, the records it
    /// took are counted once per signal, however many such sinks failed.
    /// - Returns: the rejections it recorded (for the drop audit).
    @discardableResult
    func accountFailures(in report: inout ReplayReport) -> [Rejection] {
        var recorded: [Rejection] = []
        report.outputFailure = report.outputFailure ?? firstFailure
        report.bytesWritten = bytesWritten
        var undelivered = SignalCounts()
        for sink in sinks
        where sink.failure != nil && sink.sink.isAllOrNothing && !sink.route.isQuarantine && sink.route.audit == nil {
            for signal in Signal.allCases { undelivered[signal] = max(undelivered[signal], sink.taken[signal]) }
        }
        var takenBack = undelivered
        for sink in sinks where sink.failure != nil && !sink.route.isQuarantine && sink.route.audit == nil {
            var lost = sink.lost
            if sink.sink.isAllOrNothing {
                // The records it took count here, once: the first all-or-nothing sink that took them.
                for signal in Signal.allCases {
                    let here = min(takenBack[signal], sink.taken[signal])
                    lost[signal] += here
                    takenBack[signal] -= here
                }
            }
            let records = lost.total
            guard records > 0 else { continue }
            report.records.forwarded -= records
            report.records.rejected += records
            report.subtractForwarded(lost)
            let error = DecodeError(.exportFailed, offset: sink.sink.bytesWritten)
            let rejection = Rejection(source: sink.outputName, error: error, records: records)
            report.record(rejection, cap: .max)
            recorded.append(rejection)
        }
        return recorded
    }

    /// Puts what the audit routes wrote and left out into the report.
    func accountAudits(in report: inout ReplayReport) {
        report.auditTallies = auditTallies.map { ReplayReport.AuditRouteTally(route: $0.route, tally: $0.tally) }
    }
}

/// One output route's sink, with what it took and what its failure lost, so the accounting says
/// which records really left: a record is forwarded only when every route of its signal wrote it.
struct RouteSink {
    /// The route.
    let route: OutputRoute
    /// Its writer.
    let sink: OutputSink
    /// The failure that stopped this sink, if any; it takes nothing after it.
    var failure: IOFailure?
    /// Forwarded records it wrote (spans, log records), counted as forwarded so far.
    var taken = SignalCounts()
    /// Forwarded records that could not be written because this sink had failed (the first
    /// failed sink of their signal is charged, so no record is counted twice).
    var lost = SignalCounts()
    /// Merged requests waiting to be written, by signal (a `batch` processor upstream).
    var pending: [Signal: RequestBatch] = [:]
    /// Merged requests written.
    var batchesWritten = 0
    /// An audit route's lines written and left out, in records.
    var auditTally = AuditTally()
    /// An audit route's rate limit.
    var auditBucket = TokenBucket()

    /// The output as messages name it: its path, or `-` for standard output.
    var outputName: String {
        switch route.destination {
        case .file(let path): return path
        case .standardOutput: return "-"
        case .none: return route.name
        }
    }
}

/// Which encodings of a frame's records the output routes want.
struct FrameEncodings: Sendable {
    /// Protobuf (some route writes it, or a forwarding exporter sends it).
    var proto: Bool
    /// JSON lines.
    var json: Bool
    /// Protobuf, and JSON, of the records trap rules blocked (quarantine routes).
    var quarantineProto = false
    var quarantineJSON = false
    /// The drop audit's lines (an audit route).
    var audit = false
    /// How each protobuf request is delimited: a 4-byte length (replay: many requests to one
    /// file) or nothing (a sidecar request: its message is the next hop's request body).
    var framing = OTLPProtobufEncoder.Framing.bigEndianLengthPrefix
}
