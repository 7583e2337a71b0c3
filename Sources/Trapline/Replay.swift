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
        switch frame.payload {
        case .protobuf(.traces):
            decoder.decodeTraces(input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, into: &spans)
            account(spans.rejections, path: path, into: &report)
            let counts = BatchAccounting.counts(for: spans)
            report.records += counts
            report.spansForwarded += counts.forwarded
            if sink != nil { encoder.encode(spans, into: writer) }
        case .protobuf(.logs):
            decoder.decodeLogs(input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, into: &logs)
            account(logs.rejections, path: path, into: &report)
            writeLogs(into: &report)
        case .text(let firstLine, let continuesLine):
            let summary = textDecoder.decode(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: firstLine,
                continuesLine: continuesLine, sourcePath: path, observedTime: observedTime, into: &logs)
            report.repairedTextLines += summary.repairedLines
            report.continuedTextLines += summary.continuedLines
            // A run of empty lines holds no record: nothing to write.
            if logs.count > 0 { writeLogs(into: &report) }
        }
        if let sink, writer.count > 0 { try sink.write(writer.bytes) }
    }

    private mutating func writeLogs(into report: inout ReplayReport) {
        let counts = BatchAccounting.counts(for: logs)
        report.records += counts
        report.logRecordsForwarded += counts.forwarded
        if sink != nil { encoder.encode(logs, into: writer) }
    }

    private func account(_ rejections: BatchRejections, path: String, into report: inout ReplayReport) {
        for index in rejections.errors.indices {
            report.record(
                Rejection(source: path, error: rejections.errors[index], records: rejections.recordCounts[index]),
                cap: options.maxReportedRejections)
        }
    }
}
