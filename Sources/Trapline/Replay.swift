import Dispatch
import Foundation
import Synchronization
@_spi(Plumbing) import TraplineCore
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

    /// Paces merged frames under `options.pacing` (replaying thread only).
    private let pacer: PacerBox?

    /// Called after each window of frames, from the replaying thread; cheap enough to redraw
    /// a progress line (the caller throttles drawing).
    public var onProgress: (@Sendable (ReplayProgress) -> Void)?

    /// Makes a replay. Allocates nothing until `run`.
    public init(options: ReplayOptions) {
        self.options = options
        pacer = options.pacing.map { PacerBox(Pacer($0)) }
    }

    /// Runs the replay to the end of its inputs.
    ///
    /// Bad input never stops it: rejections are recorded in the report and reading goes on.
    /// An output failure stops it and is reported (`exitStatus` 74).
    ///
    /// - Returns: the report.
    ///
    /// Allocates one read buffer, one batch and one encoder per worker, reused for every frame, and the report.
    public func run() -> ReplayReport {
        pacer?.reset()
        var report = ReplayReport()
        let expansion = InputPaths.expand(options.inputs)
        report.inputFailures = expansion.failures
        report.emptyDirectories = expansion.emptyDirectories
        var outputs: OutputRoutes
        do throws(IOFailure) {
            outputs = try OutputRoutes(options.routes, inPlace: options.writesOutputsAsTheyGo)
        } catch {
            report.outputFailure = error
            return report
        }
        let metrics = TraplineMetrics(
            version: TraplineVersion.current, stages: options.stages.stages.map(\.id),
            trapClasses: options.stages.trapClasses)
        let workers = max(1, options.workers)
        let observedTime = options.observedTimeUnixNano ?? Self.now()
        // One processor per worker; with several, this thread is one of them (it takes frames
        // once it has merged and read, see below) and the pool runs the others, so the threads
        // busy at once never outnumber the workers asked for.
        var processors = (0..<workers).map { _ in
            FrameProcessor(
                encodings: OutputRoutes.encodings(for: options.routes, forwarding: !options.forwarders.isEmpty),
                observedTime: observedTime, chain: options.stages, spanMetrics: options.spanMetrics,
                signals: options.signals)
        }
        for index in processors.indices { processors[index].decoder.skipsSpanDetails = options.skimsSpanDetails }
        report.stages = options.stages.stages.map { ($0.id, StageCounts()) }
        if case .speed? = options.pacing {
            for index in processors.indices { processors[index].forwarder.notesEarliestTime = true }
        }
        // Two sets of outcome slots: while the workers fill one with window k, this thread
        // reads window k+1 and merges and writes window k-1 from the other.
        let windowFrames = workers * 32
        let slotSets = (0..<2).map { _ in
            let slots = UnsafeMutableBufferPointer<FrameOutcome>.allocate(capacity: windowFrames)
            _ = slots.initialize(from: repeatElement(FrameOutcome(), count: windowFrames))
            return slots
        }
        let states = UnsafeMutableBufferPointer<FrameProcessor>.allocate(capacity: processors.count)
        _ = states.initialize(from: processors)
        defer {
            for slots in slotSets {
                slots.deinitialize()
                slots.deallocate()
            }
            for index in states.indices { states[index].release() }
            states.deinitialize()
            states.deallocate()
        }
        var spanMetrics = options.spanMetrics.map(SpanMetricsTable.init)
        let pool = workers > 1 ? WorkerPool(workers: workers - 1) : nil
        defer { pool?.shutDown() }
        let start = Clock.nanoseconds()
        let firstPass = wholeTraceFirstPass(files: expansion.files, workers: workers, windowFrames: windowFrames)
        defer { firstPass?.release() }
        var progress = ReplayProgress(bytesTotal: expansion.files.reduce(0) { $0 + Self.size(of: $1) })
        for path in expansion.files {
            var reader: FrameReader
            do throws(IOFailure) {
                // Several workers read their own frames of plain protobuf streams with `pread`
                // (`deferFileFrames`): the kernel's copies run in parallel, and the replaying
                // thread, which every worker waits on, only reads length prefixes. Mapped, it
                // faulted the file's pages in as it framed them: its serial part of the replay
                // went from 0.15 to 0.33 with 2 workers, and the time did not improve (0.058 s
                // and 0.057 s for `Benchmarks/peers.sh`'s 200,000 spans). One worker does
                // everything on the replaying thread anyway, and there the mapping saves the
                // kernel's copy (0.105 s -> 0.088 s in that run; 7% less over 21 alternating
                // runs). A file cut short while mapped is guarded (`InputBuffer.intactCount`).
                var read = options.read
                read.deferFileFrames = workers > 1
                reader = try FrameReader(path: path, options: read)
            } catch {
                report.inputFailures.append(error)
                continue
            }
            report.filesRead += 1
            defer { reader.close() }
            // A whole-trace filter's first pass read the regular files already; any other input
            // (stdin, even from a file, and pipes) has it window by window, held for the decision
            // wait, as live input is.
            if reader.isLive || firstPass.map({ !$0.scanned.contains(path) }) == true {
                // A pipe or stdin a writer may trickle into: a window ends at the first frame
                // (the complete lines or requests that have arrived) after which the writer has
                // nothing more ready, and is processed and written before the next read, which
                // may wait for the writer. A writer far ahead (a capture piped in) fills whole
                // windows, which the workers share as for files.
                func process(_ window: [FrameEvent]) {
                    let slots = slotSets[0]
                    WindowRun(window, paths: .one(path), pool: pool, states: states, slots: slots).finish()
                    merge(
                        slots, count: window.count, into: &report, metrics: metrics, outputs: &outputs,
                        spanMetrics: &spanMetrics)
                }
                // A whole-trace filter: each window has its first pass now and is decided after
                // the filter's decision wait (`WholeTraceHold`).
                var hold = firstPass.map { WholeTraceHold(decisions: $0.decisions) }
                while true {
                    // Batches held back go out at their timeout even while the writer is quiet,
                    // and held windows at the end of their decision wait.
                    // (Input that is not live, stdin from a file, is always ready.)
                    while outputs.hasPendingBatches || hold?.isEmpty == false, reader.isLive, !reader.inputIsReady(),
                        options.read.stopRequested?() != true
                    {
                        Self.sleep(seconds: 0.01, wakingOn: [])
                        outputs.flushBatches()
                        for window in hold?.release(now: Clock.nanoseconds(), ending: false) ?? [] { process(window) }
                    }
                    waitForMemory()
                    let current = Self.readWindow(
                        &reader, frames: windowFrames, bytes: options.windowBytes, whileReady: reader.isLive)
                    let ending = current.window.isEmpty || current.readFailure != nil
                    if var held = hold, let firstPass {
                        let slots = firstPass.slots
                        WindowRun(current.window, paths: .one(path), pool: pool, states: firstPass.states, slots: slots)
                            .finish()
                        held.hold(current.window, now: Clock.nanoseconds())
                        for window in held.release(now: Clock.nanoseconds(), ending: ending) { process(window) }
                        hold = held
                    } else {
                        process(current.window)
                    }
                    if let readFailure = current.readFailure { report.inputFailures.append(readFailure) }
                    // A stop ends the input (reads return nothing), but what was read before it
                    // is drained first: complete frames go on, a cut one is `interrupted`.
                    if ending { break }
                }
                if options.read.stopRequested?() == true { break }
                continue
            }
            // The serial part: what this thread does alone (read, merge, write) while the
            // workers process, timed from here to the flush after each window's run.
            var serialStart = Clock.nanoseconds()
            var currentStart = reader.position
            var current = Self.readWindow(&reader, frames: windowFrames, bytes: options.windowBytes)
            var previous: (count: Int, slots: Int)?
            var turn = 0
            while true {
                let slots = slotSets[turn % 2]
                let window = current.window
                let run = WindowRun(window, paths: .one(path), pool: pool, states: states, slots: slots)
                // Overlapped with the workers: write out the window before, read the next.
                if let previous {
                    merge(
                        slotSets[previous.slots], count: previous.count, into: &report, metrics: metrics,
                        outputs: &outputs,
                        spanMetrics: &spanMetrics)
                }
                let stopped = options.read.stopRequested?() == true
                let ended = window.isEmpty || current.readFailure != nil || stopped
                // The windows before this one are written: a mapped file's pages behind it can go.
                reader.releaseInput(before: currentStart)
                if !ended { waitForMemory() }
                let nextStart = reader.position
                let next =
                    ended ? ([], nil) : Self.readWindow(&reader, frames: windowFrames, bytes: options.windowBytes)
                report.serialNanoseconds += Clock.nanoseconds() &- serialStart
                // Merged and read: take frames too until none are left, then wait.
                run.finish()
                serialStart = Clock.nanoseconds()
                if let readFailure = current.readFailure { report.inputFailures.append(readFailure) }
                if ended {
                    merge(
                        slots, count: window.count, into: &report, metrics: metrics, outputs: &outputs,
                        spanMetrics: &spanMetrics)
                }
                outputs.flushBatches()
                if let onProgress {
                    progress.bytesDone = min(progress.bytesTotal, progress.filesDoneBytes + reader.position)
                    progress.records = report.records.received
                    progress.rejected = report.records.rejected
                    progress.seconds = Double(Clock.nanoseconds() &- start) / 1e9
                    onProgress(progress)
                }
                if ended {
                    report.serialNanoseconds += Clock.nanoseconds() &- serialStart
                    break
                }
                previous = (window.count, turn % 2)
                current = next
                currentStart = nextStart
                turn += 1
            }
            progress.filesDoneBytes += Self.size(of: path)
            if options.read.stopRequested?() == true { break }
        }
        if report.serialNanoseconds > 0 { report.fileReplayNanoseconds = Clock.nanoseconds() &- start }
        var followedUncommitted = false
        if !options.followers.isEmpty && options.read.stopRequested?() != true {
            followedUncommitted = follow(
                states: states, pool: pool, report: &report, metrics: metrics, outputs: &outputs,
                spanMetrics: &spanMetrics)
        }
        report.filesRead += options.followers.reduce(0) { $0 + $1.filesFollowed }
        _ = outputs.finish(keepingAudits: true)
        for rejection in outputs.accountFailures(in: &report) { outputs.audit(rejection) }
        if followedUncommitted {
            // Stopped while sends were unanswered: their positions count only once answered.
            let deadline = ContinuousClock.now + .milliseconds(Int64(options.forwardingTimeoutSeconds * 1000))
            if options.forwarders.allSatisfy({ $0.waitUntilAnswered(until: deadline) }) {
                for follower in options.followers { follower.commit(follower.positions) }
            }
        }
        for rejection in finishForwarding(into: &report) { outputs.audit(rejection) }
        _ = outputs.finishAudits()
        outputs.accountAudits(in: &report)
        report.wholeTraceTallies = options.stages.wholeTraceTallies
        report.stoppedBySignal = options.read.stopRequested?() == true
        if options.stages.stages.contains(where: { $0 is TrapStage }) {
            report.settleTrapEscapeRate(densityPerSecond: options.trapDensityPerSecond)
            if let rate = report.trapEscapeRate { metrics.record(rate) }
        }
        if let metricsFile = options.metricsFile {
            do throws(IOFailure) {
                try metrics.write(
                    to: metricsFile,
                    appending: (spanMetrics?.exposition ?? "") + options.stages.baselineExposition
                        + options.memoryMonitors.map(\.exposition).joined()
                        + PrometheusExpositionMerge.merge(options.forwarders.map(\.exposition))
                        + outputs.auditExposition + options.stages.wholeTraceExposition)
            } catch {
                report.outputFailure = report.outputFailure ?? error
            }
        }
        report.metricsText =
            metrics.text + (spanMetrics?.exposition ?? "") + options.stages.baselineExposition
            + options.memoryMonitors.map(\.exposition).joined()
            + PrometheusExpositionMerge.merge(options.forwarders.map(\.exposition))
        return report
    }

    /// Follows the followed receivers' files until a stop: each poll's new records are one
    /// window, processed, written and (with network exporters) answered before the followers
    /// checkpoint where that window ended, so a restart sends again at most what was in flight.
    /// As for files, the window before is delivered and the next one read while the workers
    /// process this one.
    ///
    /// - Returns: whether the stop came while the last window's sends were unanswered or
    ///   batched (its positions are not checkpointed yet).
    private func follow(
        states: UnsafeMutableBufferPointer<FrameProcessor>, pool: WorkerPool?, report: inout ReplayReport,
        metrics: TraplineMetrics, outputs: inout OutputRoutes, spanMetrics: inout SpanMetricsTable?
    ) -> Bool {
        let followers = options.followers
        let pollInterval = followers.map(\.pollIntervalSeconds).min() ?? 0.2
        let changeDescriptors = followers.map(\.changeDescriptor)
        // Two sets of outcome slots, grown as windows need: while the workers fill one with
        // window k, this thread delivers window k-1 from the other and reads window k+1, as a
        // file replay overlaps them (delivering after the workers, as before, left a core idle
        // for each window's merge and checkpoint).
        var slotSets = [UnsafeMutableBufferPointer<FrameOutcome>](
            repeating: UnsafeMutableBufferPointer(start: nil, count: 0), count: 2)
        defer {
            for slots in slotSets {
                slots.deinitialize()
                slots.deallocate()
            }
        }
        // Where the delivered windows ended, not yet checkpointed (held in a batch, or sends
        // unanswered).
        var uncommitted: [[Checkpoint]]?
        // The window processed but not delivered yet: its size, slot set and end positions.
        var processed: (count: Int, set: Int, positions: [[Checkpoint]])?
        // Merges and writes a processed window in input order, waits for the network exporters
        // to answer, then checkpoints where it ended; false when a stop came while waiting.
        func deliver(_ window: (count: Int, set: Int, positions: [[Checkpoint]]), stopping: Bool) -> Bool {
            merge(
                slotSets[window.set], count: window.count, into: &report, metrics: metrics, outputs: &outputs,
                spanMetrics: &spanMetrics)
            // Written: the outputs took each batch as it was merged (a `batch` processor may hold
            // some back until full or due). Answered: wait for the network exporters (a stop cuts
            // the wait short; the positions then wait too).
            outputs.flushBatches(force: stopping)
            uncommitted = window.positions
            let done = answered(waiting: true)
            if done && !outputs.hasPendingBatches {
                for (follower, checkpoints) in zip(followers, window.positions) { follower.commit(checkpoints) }
                uncommitted = nil
            }
            return done
        }
        var current = pollFollowers()
        var turn = 0
        while true {
            let stopping = options.read.stopRequested?() == true
            if current.events.isEmpty {
                // Nothing new: the window processed last goes out at once (no added latency).
                if let window = processed {
                    processed = nil
                    if !deliver(window, stopping: stopping) || stopping { return uncommitted != nil }
                }
                // Quiet: batches whose timeout passed go out, and once nothing is held back
                // the positions they covered are checkpointed.
                outputs.flushBatches(force: stopping)
                if let positions = uncommitted, !outputs.hasPendingBatches && answered(waiting: false) {
                    for (follower, checkpoints) in zip(followers, positions) { follower.commit(checkpoints) }
                    uncommitted = nil
                }
                if stopping { return uncommitted != nil }
                let wait = outputs.hasPendingBatches ? min(pollInterval, 0.02) : pollInterval
                let woke = Self.sleep(seconds: wait, wakingOn: [options.read.stopDescriptor] + changeDescriptors)
                if woke != nil && woke != options.read.stopDescriptor {
                    // A followed directory changed: read a moment later, so a writer's burst of
                    // lines is one window rather than a window (and a send) a line.
                    Self.sleep(
                        seconds: min(pollInterval, Self.changeSettleSeconds), wakingOn: [options.read.stopDescriptor])
                }
                current = pollFollowers()
                continue
            }
            let window = current.events
            let set = turn % 2
            if slotSets[set].count < window.count {
                slotSets[set].deinitialize()
                slotSets[set].deallocate()
                slotSets[set] = .allocate(capacity: window.count)
                _ = slotSets[set].initialize(from: repeatElement(FrameOutcome(), count: window.count))
            }
            let run = WindowRun(window, paths: .each(current.paths), pool: pool, states: states, slots: slotSets[set])
            // Overlapped with the workers: deliver the window before, read the next (positions
            // move on in the followers; this window's end is `current.positions`).
            var stop = stopping
            if let previous = processed {
                processed = nil
                if !deliver(previous, stopping: stopping) { stop = true }
            }
            let next = stop ? (events: [], paths: [], positions: current.positions) : pollFollowers()
            run.finish()
            processed = (window.count, set, current.positions)
            if stop {
                // What was read is processed: it goes out before the stop.
                if let last = processed {
                    processed = nil
                    _ = deliver(last, stopping: true)
                }
                return uncommitted != nil
            }
            current = next
            turn += 1
        }
    }

    /// The most bytes of followed files one window takes.
    static let followWindowBytes = 8 << 20

    /// How long after a followed directory changed its files are read: long enough to gather a
    /// writer's burst (a line every 0.5 ms is a window of about ten), short beside the
    /// `poll_interval` it replaces.
    static let changeSettleSeconds = 0.005

    /// One window of the followed files' new records, their paths, and where each follower's
    /// files were read to (the checkpoints once the window is delivered).
    private func pollFollowers() -> (events: [FrameEvent], paths: [String], positions: [[Checkpoint]]) {
        waitForMemory()
        var events: [FrameEvent] = []
        var paths: [String] = []
        // Windows of a few MiB, as a file replay's: the next one is read while the workers
        // process this one, so reading overlaps processing most of the time.
        var budget = min(options.windowBytes, Self.followWindowBytes)
        for follower in options.followers {
            var read = options.read
            read.deferFileFrames = false
            read.maxLineBytes = follower.maxLogSize
            for piece in follower.poll(budget: max(1, budget)) {
                budget -= piece.rawCount
                let frames = piece.frames(options: read)
                events += frames
                paths += repeatElement(piece.path, count: frames.count)
            }
            for problem in follower.takeProblems() { options.onNotice?(problem) }
        }
        return (events, paths, options.followers.map(\.positions))
    }

    /// Whether every network exporter has answered every send; `waiting`: waits for that,
    /// until a stop is requested.
    private func answered(waiting: Bool) -> Bool {
        for forwarder in options.forwarders {
            while !forwarder.waitUntilAnswered(until: .now + .milliseconds(waiting ? 100 : 0)) {
                if !waiting || options.read.stopRequested?() == true { return false }
            }
        }
        return true
    }

    /// Holds reading back while a `memory_limiter` is above its soft limit (as the Collector's
    /// receivers back off when it refuses), until memory falls or a stop is requested.
    private func waitForMemory() {
        for monitor in options.memoryMonitors where monitor.isRefusing {
            monitor.countRefusal()
            options.onNotice?("\(monitor.id): memory above the soft limit; reading waits")
            while monitor.isRefusing && options.read.stopRequested?() != true {
                Self.sleep(seconds: 0.05, wakingOn: [options.read.stopDescriptor])
            }
        }
    }

    /// Waits `seconds`, or until one of `descriptors` (the stop pipe, followed directories'
    /// watches; nil ones are not waited on) becomes readable.
    ///
    /// - Returns: the first descriptor found readable; nil when the time ran out.
    @discardableResult
    private static func sleep(seconds: Double, wakingOn descriptors: [Int32?]) -> Int32? {
        var ready = descriptors.map { pollfd(fd: $0 ?? -1, events: Int16(POLLIN), revents: 0) }
        guard poll(&ready, nfds_t(ready.count), Int32(seconds * 1000)) > 0 else { return nil }
        return ready.first { $0.revents != 0 }?.fd
    }

    /// Reads up to `frames` events or about `bytes` of frames, whichever comes first; with
    /// `whileReady`, also stops after a frame when a live input has nothing more waiting.
    private static func readWindow(_ reader: inout FrameReader, frames: Int, bytes: Int, whileReady: Bool = false)
        -> (window: [FrameEvent], readFailure: IOFailure?)
    {
        var window: [FrameEvent] = []
        var size = 0
        do throws(IOFailure) {
            while window.count < frames && size < bytes, let event = try reader.next() {
                if case .frame(let frame) = event { size += frame.range.count }
                window.append(event)
                if whileReady && !reader.inputIsReady() { break }
            }
        } catch {
            return (window, error)
        }
        return (window, nil)
    }

    /// Folds a processed window into the report and metrics and writes its output, in input
    /// order. An output that fails takes nothing more, and reading goes on, so every record is
    /// still accounted for (`OutputRoutes.accountFailures` moves what was not written).
    private func merge(
        _ slots: UnsafeMutableBufferPointer<FrameOutcome>, count: Int, into report: inout ReplayReport,
        metrics: TraplineMetrics, outputs: inout OutputRoutes, spanMetrics: inout SpanMetricsTable?
    ) {
        for outcome in slots.prefix(count) {
            pacer?.wait(before: outcome, stopRequested: options.read.stopRequested)
            outcome.merge(into: &report, cap: options.maxReportedRejections)
            spanMetrics?.merge(outcome.spanMetrics)
            let delivered = outputs.deliver(outcome)
            metrics.record(delivered)
            forward(delivered)
        }
    }

    /// A whole-trace filter's first pass: over the regular files now (a replay of them through
    /// the stages before the filter and its collector, writing nothing), and the processors
    /// that give live input its first pass as it arrives. Nil without a whole-trace filter.
    private func wholeTraceFirstPass(files: [String], workers: Int, windowFrames: Int) -> WholeTraceFirstPass? {
        guard let pass = options.stages.wholeTracePass else { return nil }
        let regular = files.filter { path in
            var info = stat()
            return path != "-" && stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        }
        if !regular.isEmpty {
            var first = ReplayOptions(
                inputs: regular, read: options.read, outputFormat: .none, workers: workers,
                windowBytes: options.windowBytes)
            first.stages = pass.firstPass
            first.skimsSpanDetails = pass.skimsSpans
            first.signals = options.signals
            first.observedTimeUnixNano = options.observedTimeUnixNano
            _ = Replay(options: first).run()
        }
        // Live input (stdin, pipes) keeps each trace's decision from its first spans on.
        if regular.count < files.count { pass.decisions.remembersDecisions() }
        return WholeTraceFirstPass(
            decisions: pass.decisions, chain: pass.firstPass, skimsSpans: pass.skimsSpans, scanned: Set(regular),
            workers: workers, windowFrames: windowFrames, signals: options.signals)
    }

    /// Hands a merged frame's forwarded records to the network exporters of their signal (as
    /// one bare request: the encoder wrote it unframed when there are forwarders).
    private func forward(_ outcome: FrameOutcome) {
        guard let signal = outcome.signal, !outcome.proto.isEmpty else { return }
        let records = outcome.forwarded[signal]
        guard records > 0 else { return }
        for forwarder in options.forwarders where forwarder.signals.contains(signal) {
            forwarder.send(signal: signal, body: outcome.proto, records: records)
        }
    }

    /// Waits for the network exporters, then takes what they did not deliver out of the
    /// forwarded records: refused by the next hop (`rejected_downstream`) or failed after every
    /// retry (`export_failed`, and the exit status says an output failed).
    /// - Returns: the rejections it recorded (for the drop audit).
    private func finishForwarding(into report: inout ReplayReport) -> [Rejection] {
        var recorded: [Rejection] = []
        let deadline = ContinuousClock.now + .milliseconds(Int64(options.forwardingTimeoutSeconds * 1000))
        for forwarder in options.forwarders {
            let losses = forwarder.finish(until: deadline)
            for (lost, reason) in [
                (losses.rejected, Rejection.Reason.rejectedDownstream), (losses.failed, .exportFailed),
            ] {
                let records = lost.total
                guard records > 0 else { continue }
                report.records.forwarded -= records
                report.records.rejected += records
                report.subtractForwarded(lost)
                let rejection = Rejection(
                    source: forwarder.id, error: DecodeError(reason, offset: 0, value: records), records: records)
                report.record(rejection, cap: .max)
                recorded.append(rejection)
                if reason == .exportFailed {
                    report.outputFailure =
                        report.outputFailure ?? IOFailure(path: forwarder.id, operation: "export", errorNumber: EIO)
                }
            }
        }
        return recorded
    }

    private static func size(of path: String) -> Int {
        var info = stat()
        return path != "-" && stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    private static func now() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// Where a replay is, for progress displays.
public struct ReplayProgress: Sendable {
    /// Bytes of the inputs read (regular files' sizes; stdin counts none).
    public var bytesDone = 0
    /// Bytes of all inputs.
    public var bytesTotal: Int
    /// Records received so far.
    public var records = 0
    /// Records rejected so far.
    public var rejected = 0
    /// Seconds since the replay started.
    public var seconds = 0.0
    /// Bytes of the files finished before the current one.
    var filesDoneBytes = 0

    init(bytesTotal: Int) { self.bytesTotal = bytesTotal }

    /// Records per second so far.
    public var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }

    /// Seconds left at the rate so far, when it can be told.
    public var secondsLeft: Double? {
        guard bytesDone > 0, bytesTotal > bytesDone, seconds > 0 else { return nil }
        return seconds * Double(bytesTotal - bytesDone) / Double(bytesDone)
    }

    /// One line: `45.2 MB / 94.5 MB (48%)  1,234,567 records/s  3 rejected  ETA 0:02`.
    public var line: String {
        func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }
        var text = "\(megabytes(bytesDone)) / \(megabytes(bytesTotal))"
        if bytesTotal > 0 { text += " (\(bytesDone * 100 / bytesTotal)%)" }
        text += "  \(Int(recordsPerSecond)) records/s  \(rejected) rejected"
        if let left = secondsLeft { text += String(format: "  ETA %d:%02d", Int(left) / 60, Int(left) % 60) }
        return text
    }
}

/// One window of frames being processed: started on the worker pool when there is one (frames
/// go to whichever thread asks next, not in fixed shares: with this thread also running, a
/// fixed share left one worker's frames waiting while the other had finished), then `finish`
/// has the calling thread take frames too until none are left, and waits. The caller does
/// other work in between (merging the window before, reading the next).
struct WindowRun {
    /// The input path of each frame: one for a whole file, or one per frame (followed files).
    enum Paths: Sendable {
        case one(String)
        case each([String])

        subscript(index: Int) -> String {
            switch self {
            case .one(let path): path
            case .each(let paths): paths[index]
            }
        }
    }

    private let window: [FrameEvent]
    private let paths: Paths
    private let pool: WorkerPool?
    private let states: UnsafeMutableBufferPointer<FrameProcessor>
    private let slots: UnsafeMutableBufferPointer<FrameOutcome>
    private let cursor = FrameCursor()
    private let onPool: Bool
    /// The frames' turns at the traps' baselines, when frames run on several threads and a
    /// rule keeps one.
    private let turns: FrameTurns?

    /// Starts `window` on the pool's workers (the last state is this thread's). Allocates the
    /// cursor.
    init(
        _ window: [FrameEvent], paths: Paths, pool: WorkerPool?, states: UnsafeMutableBufferPointer<FrameProcessor>,
        slots: UnsafeMutableBufferPointer<FrameOutcome>
    ) {
        self.window = window
        self.paths = paths
        self.pool = pool
        self.states = states
        self.slots = slots
        onPool = pool != nil && window.count > 1
        turns = onPool && states[0].chain.keepsBaselines ? FrameTurns(frames: window.count) : nil
        guard let pool, onPool else { return }
        nonisolated(unsafe) let workerStates = states
        nonisolated(unsafe) let workerSlots = slots
        let cursor = cursor
        let turns = turns
        pool.begin { worker in
            while let index = cursor.next(below: window.count) {
                Self.process(window, paths, index, turns, &workerStates[worker], &workerSlots[index])
            }
        }
    }

    /// Takes frames on this thread until none are left, then waits for the workers.
    func finish() {
        while let index = cursor.next(below: window.count) {
            Self.process(window, paths, index, turns, &states[states.count - 1], &slots[index])
        }
        if onPool { pool?.wait() }
    }

    /// Processes frame `index`, and passes its turn when it has one (every frame passes, the
    /// ones that never reach a baseline too).
    private static func process(
        _ window: [FrameEvent], _ paths: Paths, _ index: Int, _ turns: FrameTurns?, _ state: inout FrameProcessor,
        _ slot: inout FrameOutcome
    ) {
        state.forwarder.traps.baselineTurn = turns.map { FrameTurn(turns: $0, index: index) }
        state.process(window[index], path: paths[index], into: &slot)
        turns?.pass(index)
    }
}

/// The next frame of a window to process, shared by the threads processing it.
final class FrameCursor: Sendable {
    private let taken = Atomic<Int>(0)

    /// The next index below `count`, or nil when every frame is taken.
    func next(below count: Int) -> Int? {
        let index = taken.wrappingAdd(1, ordering: .relaxed).oldValue
        return index < count ? index : nil
    }
}

/// The order a window's frames reach the traps' baselines in: input order. A frame's turn comes
/// once every frame before it has been processed. Frames are taken in order and a frame only
/// waits for earlier ones, which other threads are already processing, so the wait always ends.
///
/// `@unchecked Sendable`: every access holds the condition's lock.
final class FrameTurns: @unchecked Sendable {
    private let condition = NSCondition()
    /// The first frame not processed yet.
    private var next = 0
    private var processed: [Bool]

    /// Turns for a window of `frames` frames.
    init(frames: Int) { processed = Array(repeating: false, count: frames) }

    /// Blocks until every frame before `index` is processed.
    func wait(for index: Int) {
        condition.lock()
        while next < index { condition.wait() }
        condition.unlock()
    }

    /// Marks frame `index` processed.
    func pass(_ index: Int) {
        condition.lock()
        processed[index] = true
        let before = next
        while next < processed.count && processed[next] { next += 1 }
        if next != before { condition.broadcast() }
        condition.unlock()
    }
}

/// One frame's turn (``TrapBaselineTurn``).
struct FrameTurn: TrapBaselineTurn {
    let turns: FrameTurns
    let index: Int

    func wait() { turns.wait(for: index) }
}

/// The processors and outcome slots that give live input a whole-trace filter's first pass.
final class WholeTraceFirstPass {
    let decisions: WholeTraceDecisions
    /// The regular files the first pass read before the replay.
    let scanned: Set<String>
    let states: UnsafeMutableBufferPointer<FrameProcessor>
    let slots: UnsafeMutableBufferPointer<FrameOutcome>

    init(
        decisions: WholeTraceDecisions, chain: StageChain, skimsSpans: Bool, scanned: Set<String>, workers: Int,
        windowFrames: Int, signals: Set<Signal>
    ) {
        self.decisions = decisions
        self.scanned = scanned
        let processors = (0..<workers).map { _ in
            var processor = FrameProcessor(
                encodings: FrameEncodings(proto: false, json: false), observedTime: 0, chain: chain, signals: signals)
            processor.decoder.skipsSpanDetails = skimsSpans
            return processor
        }
        states = UnsafeMutableBufferPointer<FrameProcessor>.allocate(capacity: processors.count)
        _ = states.initialize(from: processors)
        slots = UnsafeMutableBufferPointer<FrameOutcome>.allocate(capacity: windowFrames)
        _ = slots.initialize(from: repeatElement(FrameOutcome(), count: windowFrames))
    }

    func release() {
        for index in states.indices { states[index].release() }
        states.deinitialize()
        states.deallocate()
        slots.deinitialize()
        slots.deallocate()
    }
}
