@_spi(Plumbing) import TraplineCore
import TraplineStages

/// What processing one frame (or one rejected piece of input) gave: the accounting, the
/// rejections in input order, and the encoded output — no I/O, so frames can be processed on
/// any core and their outcomes merged in input order.
struct FrameOutcome: Sendable {
    var records = RecordCounts()
    /// Forwarded records by signal.
    var forwarded = SignalCounts()
    var frames = 0
    var rejections: [Rejection] = []
    var repairedTextLines = 0
    var continuedTextLines = 0
    var jsonLeniency = JSONLeniency()
    /// Bytes of the frame decoded.
    var inputBytes = 0
    /// The signal of the records written, when any were.
    var signal: Signal?
    /// The earliest record timestamp of the frame's records (0: none, or not asked for), for
    /// `--speed`.
    var firstRecordTime: UInt64 = 0
    /// The frame's records as OTLP protobuf, when a route wants it: length-prefixed requests,
    /// or (`protoIsFramed` false) one request's message, as a sidecar forwards it.
    var proto: [UInt8] = []
    var protoIsFramed = true
    /// The frame's records as one OTLP JSON line, when a route wants it.
    var json: [UInt8] = []
    /// What each stage of the chain did, in chain order.
    var stages: [StageCounts] = []
    /// The trap events of the frame, in row order (rows are the batch's).
    var trapEvents: [TrapLedger.Event] = []
    /// The source the trap events came from.
    var trapSource = ""
    /// Whether a trap stage saw the frame's records, and the event time they covered.
    var sawTrapStage = false
    var earliestTime = UInt64.max
    var latestTime: UInt64 = 0
    /// The records trap rules blocked, encoded for the quarantine routes.
    var quarantineProto: [UInt8] = []
    var quarantineJSON: [UInt8] = []
    /// The signal of the quarantined records, when any were.
    var quarantineSignal: Signal?
    /// The `spanmetrics` series of the frame's forwarded spans.
    var spanMetrics = SpanMetricsBatch()
    /// Time spent decoding and encoding the frame, in nanoseconds.
    var decodeNanoseconds: UInt64 = 0
    var encodeNanoseconds: UInt64 = 0
    /// The drop audit's lines for the frame, when an audit route wants them.
    var audit = AuditLines()

    /// Empties the outcome for the next frame, keeping its buffers' storage (so output
    /// buffers stop allocating, and stop faulting in new pages, once warm).
    mutating func reset(stageCount: Int) {
        records = RecordCounts()
        forwarded = SignalCounts()
        frames = 0
        rejections.removeAll(keepingCapacity: true)
        repairedTextLines = 0
        continuedTextLines = 0
        jsonLeniency = JSONLeniency()
        inputBytes = 0
        signal = nil
        firstRecordTime = 0
        proto.removeAll(keepingCapacity: true)
        json.removeAll(keepingCapacity: true)
        trapEvents.removeAll(keepingCapacity: true)
        sawTrapStage = false
        earliestTime = .max
        latestTime = 0
        quarantineProto.removeAll(keepingCapacity: true)
        quarantineJSON.removeAll(keepingCapacity: true)
        quarantineSignal = nil
        spanMetrics.reset()
        if stages.count != stageCount { stages = Array(repeating: StageCounts(), count: stageCount) }
        for index in stages.indices { stages[index] = StageCounts() }
        decodeNanoseconds = 0
        encodeNanoseconds = 0
        audit.reset()
    }

    /// Adds forwarded records of `signal`.
    mutating func addForwarded(_ records: Int, of signal: Signal) {
        forwarded[signal] += records
    }

    /// Counts the frame's forwarded records as rejected (`export_failed`): an output did not take
    /// them (the failure path only).
    mutating func moveForwardedToExportFailed(output: String) {
        let lost = forwarded.total
        guard lost > 0 else { return }
        records.forwarded -= lost
        records.rejected += lost
        forwarded = SignalCounts()
        rejections.append(Rejection(source: output, error: DecodeError(.exportFailed, offset: 0), records: lost))
    }

    /// Folds this outcome into `report`, keeping at most `cap` individual rejections and
    /// listing at most `trapCap` trap events (every event is counted in the TER tally).
    func merge(into report: inout ReplayReport, cap: Int, trapCap: Int = .max) {
        report.records += records
        report.spansForwarded += forwarded.spans
        report.logRecordsForwarded += forwarded.logs
        report.dataPointsForwarded += forwarded.dataPoints
        report.frames += frames
        report.repairedTextLines += repairedTextLines
        report.continuedTextLines += continuedTextLines
        report.jsonLeniency += jsonLeniency
        report.inputBytes += inputBytes
        report.decodeNanoseconds += decodeNanoseconds
        report.encodeNanoseconds += encodeNanoseconds
        for (index, counts) in stages.enumerated() where index < report.stages.count {
            report.stages[index].counts += counts
        }
        for rejection in rejections { report.record(rejection, cap: cap) }
        if sawTrapStage {
            report.trapTally.observe(earliest: earliestTime, latest: latestTime)
            report.trapTally.count(trapEvents)
            let base = report.recordsRead[trapSource, default: 0]
            for event in trapEvents.prefix(max(0, trapCap - report.traps.count)) {
                report.traps.append(
                    ReplayReport.TrapEventRow(
                        source: trapSource, line: event.line ?? 0,
                        record: event.line == nil ? base + Int(event.row) : nil,
                        trapClass: event.trapClass, blocked: event.blocked, evidence: event.evidence,
                        remedy: event.remedy))
            }
        }
        if !trapSource.isEmpty { report.recordsRead[trapSource, default: 0] += records.received }
    }
}

/// One worker's reusable decoding state: decoders, batches and the forwarder, kept from frame
/// to frame so steady-state processing does not allocate per record.
struct FrameProcessor {
    let observedTime: UInt64
    var decoder = OTLPProtobufDecoder()
    let textDecoder = TextLogDecoder()
    let jsonDecoder = OTLPJSONDecoder()
    var spans = SpanBatch()
    var logs = LogBatch()
    var metrics = MetricBatch()
    /// Runs decoded batches through the stages and the encoders.
    var forwarder: BatchForwarder
    /// This worker's buffer for frames read from their file (`Frame.load`), reused.
    var frameBuffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    /// Frees the frame buffer (the processor is done).
    mutating func release() {
        if frameBuffer.count > 0 { frameBuffer.deallocate() }
        frameBuffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    }

    init(
        encodings: FrameEncodings, observedTime: UInt64, chain: StageChain, spanMetrics: SpanMetricsAggregator? = nil,
        signals: Set<Signal> = Set(Signal.allCases)
    ) {
        self.observedTime = observedTime
        forwarder = BatchForwarder(encodings: encodings, chain: chain, spanMetrics: spanMetrics, signals: signals)
    }

    /// The stage chain.
    var chain: StageChain { forwarder.chain }

    /// Decodes, accounts for and encodes one event of `path` into `outcome` (reset first).
    ///
    /// - Parameter forcedSignal: the signal a receiver's path names, for JSON (whose signal is
    ///   otherwise read from its keys).
    ///   - clientAddress: the sender's IP, for the `connection` pod association; empty for files.
    mutating func process(
        _ event: FrameEvent, path: String, forcedSignal: Signal? = nil, clientAddress: [UInt8] = [],
        into outcome: inout FrameOutcome
    ) {
        if spans.clientAddress != clientAddress { spans.clientAddress = clientAddress }
        if logs.clientAddress != clientAddress { logs.clientAddress = clientAddress }
        if metrics.clientAddress != clientAddress { metrics.clientAddress = clientAddress }
        outcome.reset(stageCount: chain.stages.count)
        // Rejected input is audited once the frame is done: decode errors, refused signals, a
        // file that shrank (a rule error's records have lines of their own, from the chain).
        defer { if forwarder.audits { auditRejections(in: &outcome) } }
        switch event {
        case .rejected(let error, let records):
            outcome.records += BatchAccounting.counts(rejectedRecords: records)
            outcome.rejections.append(Rejection(source: path, error: error, records: records))
        case .frame(let deferred):
            guard let frame = deferred.load(into: &frameBuffer) else {
                // The file shrank after the frame was found in it.
                let error = DecodeError(
                    .inputShrank, offset: deferred.sourceOffset, value: deferred.fileRegion?.count)
                outcome.records += BatchAccounting.counts(rejectedRecords: 1)
                outcome.rejections.append(Rejection(source: path, error: error, records: 1))
                return
            }
            outcome.frames = 1
            outcome.inputBytes = frame.range.count
            let start = Clock.nanoseconds()
            process(frame, path: path, forcedSignal: forcedSignal, into: &outcome)
            if Self.wasReadFromLostBytes(frame) {
                // Its mapped file shrank while the frame was read: some of what was decoded
                // were zeros standing in for bytes the file no longer has. Nothing of it goes on.
                outcome.reset(stageCount: chain.stages.count)
                let error = DecodeError(.inputShrank, offset: frame.sourceOffset, value: frame.range.count)
                outcome.records += BatchAccounting.counts(rejectedRecords: 1)
                outcome.rejections.append(Rejection(source: path, error: error, records: 1))
                return
            }
            // Decoding is the frame's time less what the stages and the encoders took.
            let stageTime = outcome.stages.reduce(0) { $0 + $1.nanoseconds }
            outcome.decodeNanoseconds = (Clock.nanoseconds() &- start) &- stageTime &- outcome.encodeNanoseconds
        }
    }

    /// Whether `frame` was read, at least in part, from zeros standing in for bytes its mapped
    /// file no longer has (it shrank while being read): the frame reaches past where the file's
    /// bytes end, or ends there in the middle of its line (a text frame's last line without its
    /// line feed, a JSON line whose line feed is gone). A protobuf frame ending there is whole.
    static func wasReadFromLostBytes(_ frame: Frame) -> Bool {
        let input = frame.input
        guard input.hasLostBytes else { return false }
        let end = frame.range.upperBound
        let intact = input.intactCount
        if end > intact { return true }
        guard end == intact, end > frame.range.lowerBound else { return false }
        if case .protobuf = frame.payload { return false }
        return input.bytes[end - 1] != 0x0A
    }

    private func auditRejections(in outcome: inout FrameOutcome) {
        for rejection in outcome.rejections where rejection.error.reason != .ruleError {
            outcome.audit.append(DropAuditLine.rejection(rejection), key: 0, records: rejection.records)
        }
    }

    private mutating func process(
        _ frame: Frame, path: String, forcedSignal: Signal?, into outcome: inout FrameOutcome
    ) {
        switch frame.payload {
        case .protobuf(.traces):
            decoder.decodeTraces(input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, into: &spans)
            forwarder.forward(&spans, path: path, into: &outcome)
        case .protobuf(.logs):
            decoder.decodeLogs(input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, into: &logs)
            forwarder.forward(&logs, path: path, into: &outcome)
        case .protobuf(.metrics):
            decoder.decodeMetrics(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, into: &metrics)
            forwarder.forward(&metrics, path: path, into: &outcome)
        case .textRecord(let firstLine):
            let summary = textDecoder.decodeRecord(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: firstLine,
                sourcePath: path, observedTime: observedTime, into: &logs)
            outcome.repairedTextLines += summary.repairedLines
            forwarder.forward(&logs, path: path, into: &outcome)
        case .json(let firstLine):
            processJSON(frame, firstLine: firstLine, path: path, forcedSignal: forcedSignal, into: &outcome)
        case .text(let firstLine, let continuesLine):
            let summary = textDecoder.decode(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: firstLine,
                continuesLine: continuesLine, sourcePath: path, observedTime: observedTime, into: &logs)
            outcome.repairedTextLines += summary.repairedLines
            outcome.continuedTextLines += summary.continuedLines
            // A run of empty lines holds no record: nothing to write.
            if logs.count > 0 { forwarder.forward(&logs, path: path, into: &outcome) }
        }
    }

    private mutating func processJSON(
        _ frame: Frame, firstLine: Int, path: String, forcedSignal: Signal?, into outcome: inout FrameOutcome
    ) {
        switch forcedSignal.map({ .signal($0) }) ?? jsonDecoder.payloadKind(input: frame.input, frame: frame.range) {
        case .signal(.logs):
            outcome.jsonLeniency += jsonDecoder.decodeLogs(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: firstLine,
                into: &logs)
            forwarder.forward(&logs, path: path, into: &outcome)
        case .signal(.metrics):
            outcome.jsonLeniency += jsonDecoder.decodeMetrics(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: firstLine,
                into: &metrics)
            forwarder.forward(&metrics, path: path, into: &outcome)
        case .unsupportedSignal:
            let error = DecodeError(.unsupportedSignal, offset: frame.sourceOffset, line: firstLine, column: 1)
            outcome.records += BatchAccounting.counts(rejectedRecords: 1)
            outcome.rejections.append(Rejection(source: path, error: error, records: 1))
        case .signal(.traces), .unknown:
            outcome.jsonLeniency += jsonDecoder.decodeTraces(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: firstLine,
                into: &spans)
            if spans.count == 0 && spans.rejections.isEmpty
                && jsonDecoder.payloadKind(input: frame.input, frame: frame.range) == .unknown
            {
                // Well-formed JSON that is no OTLP document: one record that cannot be read.
                spans.rejections.append(
                    DecodeError(.unknownSignal, offset: frame.sourceOffset, line: firstLine, column: 1), records: 1)
            }
            forwarder.forward(&spans, path: path, into: &outcome)
        }
    }
}

/// Runs decoded batches through the stage chain and the encoders the routes want, and accounts
/// for every record: the same path for every signal (`ForwardableBatch`).
struct BatchForwarder {
    /// The encodings the output routes want.
    let encodings: FrameEncodings
    let chain: StageChain
    /// The `spanmetrics` connector, when a traces pipeline exports to one.
    let spanMetrics: SpanMetricsAggregator?
    /// The signals some pipeline takes; records of another are rejected (`no_pipeline`).
    let signals: Set<Signal>
    /// Whether each outcome notes its earliest record time (`--speed`).
    var notesEarliestTime = false
    let encoder: OTLPProtobufEncoder
    let writer = WireWriter()
    let jsonEncoder = OTLPJSONEncoder()
    var mask = RowMask()
    /// The trap events of the current batch, reused.
    var traps = TrapLedger()
    /// The rows trap rules blocked, for the quarantine encoders; reused.
    var quarantineMask = RowMask()
    /// Per-batch stage counts, reused.
    var batchStageCounts: [StageCounts] = []
    /// Whether each dropped record gets a drop audit line (an audit route is configured).
    var audits: Bool { encodings.audit }
    /// The records the stages dropped from the current batch, when auditing; reused.
    var drops: [DroppedRecord] = []

    init(encodings: FrameEncodings, chain: StageChain, spanMetrics: SpanMetricsAggregator?, signals: Set<Signal>) {
        self.encodings = encodings
        self.chain = chain
        self.spanMetrics = spanMetrics
        self.signals = signals
        encoder = OTLPProtobufEncoder(framing: encodings.framing)
    }

    /// Accounts for `batch`'s rejections, runs the stages over its rows, and encodes what they
    /// kept (and what trap rules quarantined) into `outcome`.
    mutating func forward<Batch: ForwardableBatch>(_ batch: inout Batch, path: String, into outcome: inout FrameOutcome)
    {
        record(batch.rejections, path: path, into: &outcome)
        guard signals.contains(Batch.signal) else {
            return refuseUnpiped(
                rows: batch.count, rejections: batch.rejections, offset: batch.storage.frameSourceOffset, path: path,
                into: &outcome)
        }
        resetStageCounts()
        if audits {
            chain.run(&batch, mask: &mask, counts: &batchStageCounts, traps: &traps, drops: &drops)
            for dropped in drops {
                let processor = chain.stages[Int(dropped.stage)].id
                let (line, key) = DropAuditLine.record(dropped, in: batch, processor: processor, source: path)
                outcome.audit.append(line, key: key, records: 1, signal: Batch.signal)
            }
        } else {
            chain.run(&batch, mask: &mask, counts: &batchStageCounts, traps: &traps)
        }
        recordRefused(offset: batch.storage.frameSourceOffset, path: path, into: &outcome)
        let counts = BatchAccounting.counts(for: batch, mask: mask, stages: batchStageCounts)
        addStageCounts(into: &outcome)
        outcome.records += counts
        outcome.addForwarded(counts.forwarded, of: Batch.signal)
        if notesEarliestTime {
            outcome.firstRecordTime = batch.recordTimes.lazy.filter { $0 > 0 }.min() ?? 0
        }
        if traps.sawTrapStage { recordTraps(count: batch.count, path: path, into: &outcome) }
        if let spanMetrics { batch.aggregate(by: spanMetrics, mask: mask, into: &outcome.spanMetrics) }
        if traps.blocksAny && (encodings.quarantineProto || encodings.quarantineJSON) {
            let start = Clock.nanoseconds()
            encode(
                batch, keeping: quarantineMask, proto: encodings.quarantineProto, json: encodings.quarantineJSON,
                into: &outcome.quarantineProto, &outcome.quarantineJSON)
            outcome.quarantineSignal = Batch.signal
            outcome.encodeNanoseconds += Clock.nanoseconds() &- start
        }
        // A request whose every record was rejected writes nothing; an empty one stays empty.
        guard batch.count > 0 || batch.rejections.isEmpty, mask.keptCount > 0 || batch.count == 0 else { return }
        outcome.signal = Batch.signal
        let start = Clock.nanoseconds()
        if case .none = encodings.framing { outcome.protoIsFramed = false }
        encode(batch, keeping: mask, proto: encodings.proto, json: encodings.json, into: &outcome.proto, &outcome.json)
        outcome.encodeNanoseconds += Clock.nanoseconds() &- start
    }

    /// Appends the rows `mask` keeps as a length-prefixed protobuf request and/or a JSON line.
    private func encode<Batch: ForwardableBatch>(
        _ batch: Batch, keeping mask: RowMask, proto: Bool, json: Bool, into protoOut: inout [UInt8],
        _ jsonOut: inout [UInt8]
    ) {
        if proto {
            writer.reset()
            batch.encode(by: encoder, keeping: mask, into: writer)
            protoOut.append(contentsOf: writer.bytes)
        }
        if json { batch.encode(by: jsonEncoder, keeping: mask, into: &jsonOut) }
    }

    /// Records of a signal no pipeline takes: no stage runs on them and nothing writes them, so
    /// they are rejected (`no_pipeline`) rather than counted as forwarded to nowhere.
    private func refuseUnpiped(
        rows: Int, rejections: BatchRejections, offset: Int, path: String, into outcome: inout FrameOutcome
    ) {
        outcome.records += BatchAccounting.counts(rejectedRecords: rejections.recordCount)
        guard rows > 0 else { return }
        outcome.records += BatchAccounting.counts(rejectedRecords: rows)
        outcome.rejections.append(
            Rejection(source: path, error: DecodeError(.noPipeline, offset: offset), records: rows))
    }

    /// Moves the batch's trap events into the outcome and marks the blocked rows for the
    /// quarantine encoders (only when something was blocked).
    private mutating func recordTraps(count: Int, path: String, into outcome: inout FrameOutcome) {
        outcome.sawTrapStage = true
        outcome.trapSource = path
        outcome.earliestTime = min(outcome.earliestTime, traps.earliest)
        outcome.latestTime = max(outcome.latestTime, traps.latest)
        outcome.trapEvents.append(contentsOf: traps.events)
        guard traps.blocksAny else { return }
        quarantineMask.reset(count: count)
        var blocked = [Bool](repeating: false, count: count)
        for row in traps.blockedRows { blocked[Int(row)] = true }
        for row in 0..<count where !blocked[row] { quarantineMask.drop(row) }
    }

    /// Records refused by a stage (a rule failed under `error_mode: propagate`) go to the
    /// rejection ledger with the frame's offset, so they are listed and counted by reason.
    private func recordRefused(offset: Int, path: String, into outcome: inout FrameOutcome) {
        let refused = batchStageCounts.reduce(0) { $0 + $1.rejected }
        guard refused > 0 else { return }
        outcome.rejections.append(
            Rejection(source: path, error: DecodeError(.ruleError, offset: offset), records: refused))
    }

    private mutating func resetStageCounts() {
        for index in batchStageCounts.indices { batchStageCounts[index] = StageCounts() }
    }

    private func addStageCounts(into outcome: inout FrameOutcome) {
        for (index, counts) in batchStageCounts.enumerated() where index < outcome.stages.count {
            outcome.stages[index] += counts
        }
    }

    private func record(_ rejections: BatchRejections, path: String, into outcome: inout FrameOutcome) {
        for index in rejections.errors.indices {
            outcome.rejections.append(
                Rejection(source: path, error: rejections.errors[index], records: rejections.recordCounts[index]))
        }
    }
}

/// A batch the forwarder takes: the stages run over it (`StageBatch`), and it names the
/// encoders' overload for its signal (one line each, so the forwarder is written once).
protocol ForwardableBatch: AuditableBatch {
    /// Each record's own time (a span's start, a log record's time), 0 when unset.
    var recordTimes: [UInt64] { get }
    func encode(by encoder: OTLPProtobufEncoder, keeping mask: RowMask, into writer: WireWriter)
    func encode(by encoder: OTLPJSONEncoder, keeping mask: RowMask, into out: inout [UInt8])
    /// Adds the forwarded rows to the `spanmetrics` series (spans only).
    func aggregate(by spanMetrics: SpanMetricsAggregator, mask: RowMask, into series: inout SpanMetricsBatch)
}

extension SpanBatch: ForwardableBatch {
    var recordTimes: [UInt64] { startTimes }
    func encode(by encoder: OTLPProtobufEncoder, keeping mask: RowMask, into writer: WireWriter) {
        encoder.encode(self, keeping: mask, into: writer)
    }
    func encode(by encoder: OTLPJSONEncoder, keeping mask: RowMask, into out: inout [UInt8]) {
        encoder.encode(self, keeping: mask, into: &out)
    }
    func aggregate(by spanMetrics: SpanMetricsAggregator, mask: RowMask, into series: inout SpanMetricsBatch) {
        spanMetrics.aggregate(self, mask: mask, into: &series)
    }
}

extension LogBatch: ForwardableBatch {
    var recordTimes: [UInt64] { times }
    func encode(by encoder: OTLPProtobufEncoder, keeping mask: RowMask, into writer: WireWriter) {
        encoder.encode(self, keeping: mask, into: writer)
    }
    func encode(by encoder: OTLPJSONEncoder, keeping mask: RowMask, into out: inout [UInt8]) {
        encoder.encode(self, keeping: mask, into: &out)
    }
    func aggregate(by spanMetrics: SpanMetricsAggregator, mask: RowMask, into series: inout SpanMetricsBatch) {}
}

extension MetricBatch: ForwardableBatch {
    /// A point's own time.
    var recordTimes: [UInt64] { times }
    func encode(by encoder: OTLPProtobufEncoder, keeping mask: RowMask, into writer: WireWriter) {
        encoder.encode(self, keeping: mask, into: writer)
    }
    func encode(by encoder: OTLPJSONEncoder, keeping mask: RowMask, into out: inout [UInt8]) {
        encoder.encode(self, keeping: mask, into: &out)
    }
    func aggregate(by spanMetrics: SpanMetricsAggregator, mask: RowMask, into series: inout SpanMetricsBatch) {}
}
