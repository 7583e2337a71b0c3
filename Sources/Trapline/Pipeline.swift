import Foundation
public import TraplineCore
public import TraplineStages

/// Trapline embedded: a pipeline built from a pipeline file's text, fed request bodies, giving
/// back what goes on and the accounting. The stages are the file's processors, then any
/// custom stages (the extension point: `Stage` works on whole batches).
///
/// Thread safe: calls may come from several threads at once (each borrows its own decoders).
public final class Pipeline: Sendable {
    /// A pipeline file with problems: every one of them, with its line and column.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        /// Every problem, in file order.
        public var diagnostics: [ConfigDiagnostic]
        public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
    }

    /// What a body holds.
    public enum PayloadFormat: Sendable {
        /// An OTLP protobuf export request of this signal.
        case protobuf(Signal)
        /// An OTLP JSON export request of this signal.
        case json(Signal)

        var signal: Signal {
            switch self {
            case .protobuf(let signal), .json(let signal): signal
            }
        }
    }

    private let requests: RequestPipeline
    private let chain: StageChain
    private let totals = Totals()

    /// Builds a pipeline from the text of a pipeline file (its receivers and exporters are not
    /// run: bodies come from `process`, output goes back to the caller).
    ///
    /// - Parameters:
    ///   - yaml: the pipeline file.
    ///   - extraStages: stages to run after the file's processors, in order.
    ///   - environment: values for `${env:…}`.
    /// - Throws: `ConfigurationError` with every problem of the file.
    ///
    /// Allocates the compiled stages once; calls to `process` reuse decoders and batches.
    public init(yaml: String, extraStages: [any Stage] = [], environment: [String: String] = [:])
        throws(ConfigurationError)
    {
        var loaded = ConfigLoader.load(
            yaml: yaml, file: "pipeline.yaml", environment: environment, checkingStartup: false)
        guard loaded.diagnostics.isEmpty else { throw ConfigurationError(diagnostics: loaded.diagnostics.sorted) }
        loaded.stages = StageChain(loaded.stages.stages + extraStages)
        chain = loaded.stages
        do throws(IOFailure) {
            requests = try RequestPipeline(loaded: loaded, routes: [])
        } catch {
            throw ConfigurationError(diagnostics: [])  // no routes, so nothing to open
        }
    }

    /// What one body gave.
    public struct Result: Sendable {
        /// The records that go on, as one OTLP protobuf export request (empty when none do).
        public var output: [UInt8]
        /// The body's accounting.
        public var records: RecordCounts
        /// The body's trap events.
        public var trapEvents: [TrapLedger.Event]
        /// The first problem found in the body, if any.
        public var firstError: String?
    }

    /// Runs one request body through the stages.
    ///
    /// - Returns: the output and the accounting. Allocates the output and per-batch storage;
    ///   decoders and batches are reused from call to call.
    public func process(_ bytes: [UInt8], format: PayloadFormat) -> Result {
        process(InputBuffer(bytes), format: format)
    }

    /// Runs one request body held in memory the caller owns, without copying it (the C ABI's
    /// path): nothing reads `bytes` after the call returns.
    /// Copies nothing of `bytes`; allocates the output, not per record.
    public func process(borrowing bytes: UnsafeRawBufferPointer, format: PayloadFormat) -> Result {
        process(InputBuffer(borrowing: bytes), format: format)
    }

    private func process(_ input: InputBuffer, format: PayloadFormat) -> Result {
        let isJSON: Bool
        if case .json = format { isJSON = true } else { isJSON = false }
        let outcome = requests.process(input, json: isJSON, signal: format.signal, source: "embedded")
        totals.add(outcome)
        return Result(
            output: outcome.forwarded, records: outcome.records, trapEvents: outcome.trapEvents,
            firstError: outcome.firstError)
    }

    /// Runs the stages over a batch the caller decoded (or built) itself: rows a stage drops are
    /// cleared in `mask`, trap events land in `traps`. The batch's own rejections and the rows
    /// are added to the running accounting.
    ///
    /// - Parameters:
    ///   - batch: the spans, rewritten in place by stages that change rows.
    ///   - mask: reset to keep every row, then cleared for the rows the stages drop.
    ///   - traps: reset, then filled with the batch's trap events.
    /// - Returns: what each stage did, in order. Allocates the counts array, not per record.
    @discardableResult
    public func process(_ batch: inout SpanBatch, mask: inout RowMask, traps: inout TrapLedger) -> [StageCounts] {
        var counts: [StageCounts] = []
        chain.run(&batch, mask: &mask, counts: &counts, traps: &traps)
        totals.add(BatchAccounting.counts(for: batch, mask: mask, stages: counts), traps: traps.events)
        return counts
    }

    /// Runs the stages over a batch of log records; see the span variant. Allocates the counts array, not per record.
    @discardableResult
    public func process(_ batch: inout LogBatch, mask: inout RowMask, traps: inout TrapLedger) -> [StageCounts] {
        var counts: [StageCounts] = []
        chain.run(&batch, mask: &mask, counts: &counts, traps: &traps)
        totals.add(BatchAccounting.counts(for: batch, mask: mask, stages: counts), traps: traps.events)
        return counts
    }

    /// The accounting of every body and batch so far: `received = forwarded + filtered + blocked + rejected`.
    public var records: RecordCounts { totals.records }

    /// Trap events identified and blocked so far (TER with the density estimated: the blocked
    /// share; see `metricsText` for the event-time window).
    public var trapEscapeRate: TrapEscapeRate { totals.rate }

    /// Trapline's metrics in the Prometheus text format.
    public var metricsText: String { requests.metricsText }
}

/// Running sums, shared by the threads that call `process`.
private final class Totals: @unchecked Sendable {
    private let lock = NSLock()
    private var counts = RecordCounts()
    private var tally = TrapEscapeTally()

    func add(_ outcome: RequestOutcome) { add(outcome.records, traps: outcome.trapEvents) }

    func add(_ records: RecordCounts, traps: [TrapLedger.Event]) {
        lock.withLock {
            counts += records
            tally.count(traps)
        }
    }

    var records: RecordCounts { lock.withLock { counts } }
    var rate: TrapEscapeRate { lock.withLock { tally.rate(configuredDensityPerSecond: nil) } }
}
