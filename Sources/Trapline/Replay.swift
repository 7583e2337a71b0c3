import Dispatch
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
/// Frames are read in windows and processed on `workers` cores at once, each worker with its
/// own reusable batches; their outcomes are merged and written in input order, so the output
/// and the report do not depend on the number of workers.
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
        var sinks: [(route: OutputRoute, sink: OutputSink)] = []
        for route in options.routes {
            do throws(IOFailure) {
                sinks.append((route, try OutputSink(route.destination, gzip: route.compression == .gzip)))
            } catch {
                report.outputFailure = error
                return report
            }
        }
        let metrics = TraplineMetrics(version: TraplineVersion.current, stages: options.stages.stages.map(\.id))
        let workers = max(1, options.workers)
        let observedTime = options.observedTimeUnixNano ?? Self.now()
        var processors = (0..<workers).map { _ in
            FrameProcessor(
                encodesProto: options.routes.contains { $0.format == .proto },
                encodesJSON: options.routes.contains { $0.format == .json }, observedTime: observedTime,
                chain: options.stages)
        }
        report.stages = options.stages.stages.map { ($0.id, StageCounts()) }
        for path in expansion.files {
            var reader: FrameReader
            do throws(IOFailure) {
                reader = try FrameReader(path: path, options: options.read)
            } catch {
                report.inputFailures.append(error)
                continue
            }
            report.filesRead += 1
            defer { reader.close() }
            while true {
                let (window, readFailure) = Self.readWindow(&reader, frames: workers * 8, bytes: options.windowBytes)
                let outcomes = Self.process(window, path: path, with: &processors)
                for outcome in outcomes {
                    outcome.merge(into: &report, cap: options.maxReportedRejections)
                    metrics.record(outcome)
                    guard let signal = outcome.signal else { continue }
                    for (route, sink) in sinks where route.signals.contains(signal) {
                        let bytes = route.format == .proto ? outcome.proto : outcome.json
                        guard !bytes.isEmpty else { continue }
                        do throws(IOFailure) {
                            try sink.write(bytes)
                        } catch {
                            report.outputFailure = error
                            return report
                        }
                    }
                }
                if let readFailure { report.inputFailures.append(readFailure) }
                if window.isEmpty || readFailure != nil { break }
            }
        }
        for (_, sink) in sinks {
            do throws(IOFailure) {
                try sink.finish()
            } catch {
                report.outputFailure = report.outputFailure ?? error
            }
            report.bytesWritten += sink.bytesWritten
        }
        if let metricsFile = options.metricsFile {
            do throws(IOFailure) {
                try metrics.write(to: metricsFile)
            } catch {
                report.outputFailure = report.outputFailure ?? error
            }
        }
        report.metricsText = metrics.text
        return report
    }

    /// Reads up to `frames` events or about `bytes` of frames, whichever comes first.
    private static func readWindow(_ reader: inout FrameReader, frames: Int, bytes: Int) -> ([FrameEvent], IOFailure?) {
        var window: [FrameEvent] = []
        var size = 0
        do throws(IOFailure) {
            while window.count < frames && size < bytes, let event = try reader.next() {
                if case .frame(let frame) = event { size += frame.range.count }
                window.append(event)
            }
        } catch {
            return (window, error)
        }
        return (window, nil)
    }

    /// Processes a window: with one worker in place, else spread over the workers (worker `w`
    /// takes events `w`, `w + workers`, …), outcomes kept in input order.
    private static func process(_ window: [FrameEvent], path: String, with processors: inout [FrameProcessor])
        -> [FrameOutcome]
    {
        if processors.count == 1 || window.count < 2 {
            return window.map { processors[0].process($0, path: path) }
        }
        let workers = min(processors.count, window.count)
        let outcomes = UnsafeMutableBufferPointer<FrameOutcome>.allocate(capacity: window.count)
        outcomes.initialize(repeating: FrameOutcome())
        defer { outcomes.deallocate() }
        processors.withUnsafeMutableBufferPointer { states in
            // Each worker touches only its own state and its own outcome slots.
            nonisolated(unsafe) let states = states
            nonisolated(unsafe) let outcomes = outcomes
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var index = worker
                while index < window.count {
                    outcomes[index] = states[worker].process(window[index], path: path)
                    index += workers
                }
            }
        }
        return Array(outcomes)
    }

    private static func now() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
