import TraplineCore
import TraplineStages

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Batch replay: reads every input, decodes each frame into a batch, accounts for every
/// record and writes the survivors on.
///
/// Batches and the output writer are reused from frame to frame, so steady-state replay does
/// not allocate per record.
public struct Replay {
    /// What to read and write.
    public let options: ReplayOptions

    /// Makes a replay.
    public init(options: ReplayOptions) {
        self.options = options
    }

    /// Runs the replay to the end of its inputs.
    ///
    /// Bad input never stops it: rejections are recorded in the report and reading goes on.
    /// An output failure stops it and is reported (`exitStatus` 74).
    ///
    /// - Returns: the report.
    public func run() -> ReplayReport {
        var report = ReplayReport()
        let expansion = InputPaths.expand(options.inputs)
        report.inputFailures = expansion.failures
        report.emptyDirectories = expansion.emptyDirectories
        let sink: OutputSink?
        do throws(IOFailure) {
            sink = options.outputFormat == .none ? nil : try OutputSink(options.output)
        } catch {
            report.outputFailure = error
            return report
        }
        var state = ReplayState(options: options, sink: sink)
        for path in expansion.files {
            do throws(IOFailure) {
                try state.replay(path: path, into: &report)
            } catch {
                if error.operation == "write" || error.path == (sinkPath ?? "") {
                    report.outputFailure = error
                    return report
                }
                report.inputFailures.append(error)
            }
        }
        do throws(IOFailure) {
            try sink?.finish()
        } catch {
            report.outputFailure = error
        }
        report.bytesWritten = sink?.bytesWritten ?? 0
        return report
    }

    private var sinkPath: String? {
        if case .file(let path) = options.output { return path }
        return nil
    }
}

/// Reused state of one replay: batches, decoders, the writer.
struct ReplayState {
    let options: ReplayOptions
    let sink: OutputSink?
    let decoder = OTLPProtobufDecoder()
    let textDecoder = TextLogDecoder()
    let encoder = OTLPProtobufEncoder(framing: .bigEndianLengthPrefix)
    let writer = WireWriter()
    let jsonDecoder = OTLPJSONDecoder()
    let jsonEncoder = OTLPJSONEncoder()
    /// JSON output of the current frame (reused).
    var jsonOutput: [UInt8] = []
    let observedTime: UInt64
    var spans = SpanBatch()
    var logs = LogBatch()

    init(options: ReplayOptions, sink: OutputSink?) {
        self.options = options
        self.sink = sink
        if let time = options.observedTimeUnixNano {
            observedTime = time
        } else {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            observedTime = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        }
    }

    /// Replays one file (or stdin).
    ///
    /// - Throws: `IOFailure` for the input (reading) or the output (writing).
    mutating func replay(path: String, into report: inout ReplayReport) throws(IOFailure) {
        var reader = try FrameReader(path: path, options: options.read)
        defer { reader.close() }
        report.filesRead += 1
        while let event = try reader.next() {
            switch event {
            case .rejected(let error, let records):
                report.records += BatchAccounting.counts(rejectedRecords: records)
                report.record(
                    Rejection(source: path, error: error, records: records), cap: options.maxReportedRejections)
            case .frame(let frame):
                report.frames += 1
                try process(frame, path: path, into: &report)
            }
        }
    }

    private mutating func process(_ frame: Frame, path: String, into report: inout ReplayReport) throws(IOFailure) {
        writer.reset()
        jsonOutput.removeAll(keepingCapacity: true)
        switch frame.payload {
        case .protobuf(.traces):
            decoder.decodeTraces(input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, into: &spans)
            forwardSpans(path: path, into: &report)
        case .protobuf(.logs):
            decoder.decodeLogs(input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, into: &logs)
            forwardLogs(path: path, into: &report)
        case .json(let firstLine):
            processJSON(frame, firstLine: firstLine, path: path, into: &report)
        case .text(let firstLine, let continuesLine):
            let summary = textDecoder.decode(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: firstLine,
                continuesLine: continuesLine, sourcePath: path, observedTime: observedTime, into: &logs)
            report.repairedTextLines += summary.repairedLines
            report.continuedTextLines += summary.continuedLines
            // A run of empty lines holds no record: nothing to write.
            if logs.count > 0 { forwardLogs(path: path, into: &report) }
        }
        guard let sink else { return }
        if writer.count > 0 { try sink.write(writer.bytes) }
        if !jsonOutput.isEmpty { try sink.write(jsonOutput) }
    }

    private mutating func processJSON(_ frame: Frame, firstLine: Int, path: String, into report: inout ReplayReport) {
        switch jsonDecoder.payloadKind(input: frame.input, frame: frame.range) {
        case .signal(.logs):
            report.jsonLeniency += jsonDecoder.decodeLogs(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: firstLine,
                into: &logs)
            forwardLogs(path: path, into: &report)
        case .unsupportedSignal:
            let error = DecodeError(.unsupportedSignal, offset: frame.sourceOffset, line: firstLine, column: 1)
            report.records += BatchAccounting.counts(rejectedRecords: 1)
            report.record(Rejection(source: path, error: error, records: 1), cap: options.maxReportedRejections)
        case .signal(.traces), .unknown:
            report.jsonLeniency += jsonDecoder.decodeTraces(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: firstLine,
                into: &spans)
            if spans.count == 0 && spans.rejections.isEmpty
                && jsonDecoder.payloadKind(input: frame.input, frame: frame.range) == .unknown
            {
                // Well-formed JSON that is no OTLP document: one record that cannot be read.
                spans.rejections.append(
                    DecodeError(.unknownSignal, offset: frame.sourceOffset, line: firstLine, column: 1), records: 1)
            }
            forwardSpans(path: path, into: &report)
        }
    }

    private mutating func forwardSpans(path: String, into report: inout ReplayReport) {
        account(spans.rejections, path: path, into: &report)
        let counts = BatchAccounting.counts(for: spans)
        report.records += counts
        report.spansForwarded += counts.forwarded
        // A request whose every record was rejected writes nothing; an empty one stays empty.
        guard sink != nil, spans.count > 0 || spans.rejections.isEmpty else { return }
        switch options.outputFormat {
        case .otlpProto: encoder.encode(spans, into: writer)
        case .otlpJSON: jsonEncoder.encode(spans, into: &jsonOutput)
        case .none: break
        }
    }

    private mutating func forwardLogs(path: String, into report: inout ReplayReport) {
        account(logs.rejections, path: path, into: &report)
        let counts = BatchAccounting.counts(for: logs)
        report.records += counts
        report.logRecordsForwarded += counts.forwarded
        guard sink != nil, logs.count > 0 || logs.rejections.isEmpty else { return }
        switch options.outputFormat {
        case .otlpProto: encoder.encode(logs, into: writer)
        case .otlpJSON: jsonEncoder.encode(logs, into: &jsonOutput)
        case .none: break
        }
    }

    private func account(_ rejections: BatchRejections, path: String, into report: inout ReplayReport) {
        for index in rejections.errors.indices {
            report.record(
                Rejection(source: path, error: rejections.errors[index], records: rejections.recordCounts[index]),
                cap: options.maxReportedRejections)
        }
    }
}
