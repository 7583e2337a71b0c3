import Foundation
import Prometheus
import Synchronization
@_spi(Plumbing) public import TraplineCore
public import TraplineStages

/// What processing one OTLP export request gave.
@_spi(Plumbing) public struct RequestOutcome: Sendable {
    /// The request's signal.
    public var signal: Signal
    /// The accounting of the request's records.
    public var records: RecordCounts
    /// Records decoded (the rest of `records.received` could not be read).
    public var decodedRecords: Int
    /// The first problem, for a `partial_success` message or a `google.rpc.Status`.
    public var firstError: String?
    /// The records that go on, as one OTLP protobuf export request; empty when none do.
    public var forwarded: [UInt8]
    /// Trap events the pipeline's `traps` stages identified.
    public var trapEvents: [TrapLedger.Event]
    /// An exporter's storage could not keep the records (a full disk): the receiver answers
    /// 503 / `UNAVAILABLE`, so the sender tries again, rather than acknowledge what may be lost.
    public var notKept = false

    /// Whether nothing in the request could be read (answered 400, not `partial_success`).
    public var isUndecodable: Bool { decodedRecords == 0 && records.rejected > 0 }
}

/// A pipeline for requests that arrive one by one (a receiver), on any thread: the stage chain,
/// the file and quarantine exporters, the spanmetrics connector, and Trapline's metrics.
///
/// Each call borrows one of a pool of decoders and batches (made on demand, reused), so steady
/// traffic stops allocating per record as a replay does.
@_spi(Plumbing) public final class RequestPipeline: Sendable {
    private let chain: StageChain
    private let spanMetricsAggregator: SpanMetricsAggregator?
    private let routes: [OutputRoute]
    private let metrics: TraplineMetrics
    private let densityPerSecond: Double?
    private let hasTrapStage: Bool
    private let observedTime: UInt64
    private let processors = ProcessorPool()
    private let outputs: SharedOutputs

    /// What outlives a reload: the open exporters, the spanmetrics series, the TER counts.
    private final class SharedOutputs: Sendable {
        let state: Mutex<SharedState>
        init(_ state: SharedState) { self.state = Mutex(state) }
    }

    fileprivate struct SharedState: @unchecked Sendable {
        var outputs: OutputRoutes
        var spanMetrics: SpanMetricsTable?
        /// The accounting since start (with the TER tally), for the report written at shutdown.
        var report = ReplayReport()
    }

    /// Makes the pipeline of a loaded configuration (its diagnostics must be empty).
    ///
    /// - Parameters:
    ///   - loaded: the loaded pipeline file.
    ///   - routes: the file and stdout exporters (and quarantines) to write; the forwarding
    ///     exporter takes `RequestOutcome.forwarded` instead.
    /// - Throws: `IOFailure` when an output cannot be opened.
    public convenience init(loaded: ConfigLoader.Result, routes: [OutputRoute]) throws(IOFailure) {
        // The sidecar keeps running: its file exporters write as they go.
        var state = SharedState(outputs: try OutputRoutes(routes, inPlace: true))
        state.spanMetrics = loaded.config.spanMetrics.map {
            SpanMetricsTable(aggregator: SpanMetricsAggregator(config: $0))
        }
        state.report.stages = loaded.stages.stages.map { ($0.id, StageCounts()) }
        self.init(loaded: loaded, routes: routes, outputs: SharedOutputs(state), registry: nil)
    }

    private init(
        loaded: ConfigLoader.Result, routes: [OutputRoute], outputs: SharedOutputs,
        registry: PrometheusCollectorRegistry?
    ) {
        chain = loaded.stages
        spanMetricsAggregator = loaded.config.spanMetrics.map(SpanMetricsAggregator.init)
        self.routes = routes
        densityPerSecond = loaded.config.trapDensityPerSecond
        hasTrapStage = loaded.stages.stages.contains { $0 is TrapStage }
        metrics = TraplineMetrics(
            version: TraplineVersion.current, stages: loaded.stages.stages.map(\.id),
            trapClasses: loaded.stages.trapClasses, sharing: registry)
        self.outputs = outputs
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        observedTime = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// The pipeline of a new configuration that keeps this one's exporters (still open, so file
    /// outputs go on), metrics (counters never go back) and TER counts. The exporters must be the
    /// same: the caller checks it (`reloadProblem`).
    public func reloaded(with loaded: ConfigLoader.Result) -> RequestPipeline {
        let next = RequestPipeline(loaded: loaded, routes: routes, outputs: outputs, registry: metrics.registry)
        outputs.state.withLock { state in
            let config = loaded.config.spanMetrics
            if state.spanMetrics?.aggregator.config != config {
                // Other dimensions or buckets: the series start again.
                state.spanMetrics = config.map { SpanMetricsTable(aggregator: SpanMetricsAggregator(config: $0)) }
            }
        }
        return next
    }

    /// Counts a reload on SIGHUP in `trapline_config_reloads_total{result}`.
    public func recordReload(succeeded: Bool) { metrics.recordReload(succeeded: succeeded) }

    /// Runs one request through the pipeline.
    ///
    /// - Parameters:
    ///   - bytes: the request body, decompressed.
    ///   - json: OTLP JSON (else protobuf).
    ///   - signal: the signal the request's path names.
    ///   - source: names the receiver in rejections.
    ///   - clientAddress: the sender's IP (for the `connection` pod association), if known.
    /// - Returns: the accounting, the first error, and the bytes to forward. Copies nothing of
    ///   `bytes`; allocates the forwarded bytes and per-request state, not per record.
    public func process(
        _ bytes: [UInt8], json: Bool, signal: Signal, source: String, clientAddress: String? = nil
    ) -> RequestOutcome {
        return process(InputBuffer(bytes), json: json, signal: signal, source: source, clientAddress: clientAddress)
    }

    /// Runs one request held in `input` (which may borrow the caller's memory: nothing keeps
    /// reading it after the call returns).
    public func process(
        _ input: InputBuffer, json: Bool, signal: Signal, source: String, clientAddress: String? = nil
    ) -> RequestOutcome {
        var processor =
            processors.take()
            ?? FrameProcessor(
                encodings: OutputRoutes.encodings(for: routes, forwarding: true), observedTime: observedTime,
                chain: chain, spanMetrics: spanMetricsAggregator)
        var outcome = FrameOutcome()
        let frame = Frame(
            input: input, range: 0..<input.bytes.count, payload: json ? .json(firstLine: 1) : .protobuf(signal))
        processor.process(
            .frame(frame), path: source, forcedSignal: signal, clientAddress: Array((clientAddress ?? "").utf8),
            into: &outcome)
        processors.give(processor)
        record(outcome)
        // Encoded unframed (`OutputRoutes.encodings(forwarding: true)`): the next hop's body as is.
        let forwarded = outcome.records.forwarded > 0 ? outcome.proto : []
        return RequestOutcome(
            signal: signal, records: outcome.records,
            decodedRecords: outcome.records.received - outcome.rejections.reduce(0) { $0 + $1.records },
            firstError: outcome.rejections.first.map { $0.error.description }, forwarded: forwarded,
            trapEvents: outcome.trapEvents)
    }

    private func record(_ outcome: FrameOutcome) {
        let counted = outputs.state.withLock { state in
            // A long-running sidecar keeps memory bounded: past the cap, trap events are counted
            // (the TER tally, metrics) but no longer listed in the report.
            outcome.merge(into: &state.report, cap: Self.maxReportedRejections, trapCap: Self.maxReportedRejections)
            state.spanMetrics?.merge(outcome.spanMetrics)
            if hasTrapStage && outcome.sawTrapStage {
                // Under the lock, so a gauge never goes back to an older tally.
                metrics.record(state.report.trapTally.rate(configuredDensityPerSecond: densityPerSecond))
            }
            return state.outputs.deliver(outcome)
        }
        metrics.record(counted)
    }

    /// Counts records a receiver refused before decoding them (a body over the limit, an
    /// unsupported media type), one per request as their number cannot be known.
    ///
    /// - Parameter limit: the limit the request was over, for the message.
    public func recordRefused(_ reason: Rejection.Reason, source: String, limit: Int? = nil) {
        var outcome = FrameOutcome()
        outcome.records = BatchAccounting.counts(rejectedRecords: 1)
        outcome.rejections = [
            Rejection(source: source, error: DecodeError(reason, offset: 0, limit: limit), records: 1)
        ]
        metrics.record(outcome)
        outputs.state.withLock { state in
            outcome.merge(into: &state.report, cap: Self.maxReportedRejections)
            for rejection in outcome.rejections { state.outputs.audit(rejection) }
        }
    }

    /// Rejections and trap events the report lists one by one (all are counted).
    static let maxReportedRejections = 1000

    /// What the pipeline did since it started (reloads keep counting): the accounting, the
    /// rejections, each stage's counts, the traps and TER, and the metrics, as `trapline run`
    /// writes it with `--report-file` at shutdown.
    public func report() -> ReplayReport {
        var report = outputs.state.withLock { state in
            var report = state.report
            state.outputs.accountFailures(in: &report)
            state.outputs.accountAudits(in: &report)
            return report
        }
        // The running tally counts every trap event, also those past the listing cap.
        if hasTrapStage { report.settleTrapEscapeRate(densityPerSecond: densityPerSecond) }
        report.isSidecar = true
        report.metricsText = metricsText
        return report
    }

    /// Trapline's metrics now, with the spanmetrics series and the trap baselines', in the
    /// Prometheus text format.
    public var metricsText: String {
        let (spanMetrics, audits) = outputs.state.withLock {
            ($0.spanMetrics?.exposition ?? "", $0.outputs.auditExposition)
        }
        return metrics.text + spanMetrics + chain.baselineExposition + audits
    }

    /// The first output failure, if an exporter could not write.
    public var outputFailure: IOFailure? { outputs.state.withLock { $0.outputs.firstFailure } }

    /// Finishes every file exporter (the temporary becomes the file).
    public func finish() -> IOFailure? {
        outputs.state.withLock { $0.outputs.finish() }
    }
}

/// Idle frame processors, one taken per request in flight.
private final class ProcessorPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [FrameProcessor] = []

    func take() -> FrameProcessor? { lock.withLock { idle.popLast() } }
    func give(_ processor: FrameProcessor) { lock.withLock { idle.append(processor) } }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
