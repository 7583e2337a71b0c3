public import TraplineCore

/// What one stage did to the records that reached it.
public struct StageCounts: Hashable, Sendable {
    /// Records that reached the stage (kept by the stages before it).
    public var received = 0
    /// Records the stage let through.
    public var forwarded = 0
    /// Records the stage dropped on purpose (a filter).
    public var filtered = 0
    /// Trap events the stage's rules blocked.
    public var blocked = 0
    /// Records the stage refused because a rule failed under `error_mode: propagate`.
    public var rejected = 0
    /// Rule failures counted and passed over (`error_mode: ignore` or `silent`).
    public var ruleErrors = 0
    /// Resources a `k8s_attributes` stage tried to associate with a pod.
    public var associationLookups = 0
    /// Of those, the ones no pod matched.
    public var associationMisses = 0
    /// Of the misses, the ones whose IP several pods share (host network).
    public var sharedIPMisses = 0
    /// Pods in the stage's table (the largest seen; a gauge, not a sum).
    public var podTableSize = 0
    /// Items of the stage's pod list that were no pod (null, not an object, no name or uid)
    /// and were skipped (a gauge, like the table size).
    public var podListItemsSkipped = 0
    /// Time spent in the stage, in nanoseconds.
    public var nanoseconds: UInt64 = 0

    /// Zero counts. Allocates nothing.
    public init() {}

    /// Whether every record that reached the stage is accounted for.
    public var isBalanced: Bool { received == forwarded + filtered + blocked + rejected }

    /// Adds another batch's counts. Allocates nothing.
    public static func += (lhs: inout StageCounts, rhs: StageCounts) {
        lhs.received += rhs.received
        lhs.forwarded += rhs.forwarded
        lhs.filtered += rhs.filtered
        lhs.blocked += rhs.blocked
        lhs.rejected += rhs.rejected
        lhs.ruleErrors += rhs.ruleErrors
        lhs.associationLookups += rhs.associationLookups
        lhs.associationMisses += rhs.associationMisses
        lhs.sharedIPMisses += rhs.sharedIPMisses
        lhs.podTableSize = max(lhs.podTableSize, rhs.podTableSize)
        lhs.podListItemsSkipped = max(lhs.podListItemsSkipped, rhs.podListItemsSkipped)
        lhs.nanoseconds += rhs.nanoseconds
    }
}

/// One step of a pipeline, over whole batches: dynamic dispatch happens once per stage per
/// batch, never per row (STYLE.md, Hot path).
///
/// A stage sees only the rows still kept in `mask`; to drop a row it clears it there and
/// counts it as filtered, blocked or rejected in `counts` (the chain counts what reached it and
/// what left). A stage may rewrite kept rows in place (then it calls the batch's `markModified`).
public protocol Stage: Sendable {
    /// The component id from the pipeline file; labels the stage's metrics and report rows.
    var id: String { get }

    /// Processes a batch of spans.
    /// Trapline's stages do not allocate per record; a stage of your own should not either.
    func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts)

    /// Processes a batch of log records.
    /// Trapline's stages do not allocate per record; a stage of your own should not either.
    func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts)

    /// Processes a batch of metric data points (one row per point; the batch's `metrics`
    /// table holds each point's metric). A stage that does not implement it lets metrics
    /// through untouched. Trapline's stages do not allocate per data point.
    func process(_ batch: inout MetricBatch, mask: inout RowMask, counts: inout StageCounts)

    /// Processes a batch of spans, recording the trap events it identifies in `traps`. Stages
    /// that identify no traps get this for free (it calls the method without `traps`).
    /// Trapline's stages do not allocate per record.
    func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts, traps: inout TrapLedger)

    /// Processes a batch of log records, recording the trap events it identifies in `traps`.
    /// Trapline's stages do not allocate per record.
    func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts, traps: inout TrapLedger)

    /// Why the stage dropped `row` of `batch`: a drop audit asks once per dropped row, right after
    /// the stage ran over the batch. The default names what the stage counted (``DropCause``);
    /// may allocate (it is off the hot path).
    ///
    /// - Parameters:
    ///   - row: a row the stage dropped from `batch`.
    ///   - batch: the batch as the stage left it.
    ///   - counts: what the stage counted for this batch.
    ///   - traps: the batch's trap events so far (the stage's own among them).
    func dropCause<Batch: StageBatch>(ofRow row: Int, in batch: Batch, counts: StageCounts, traps: TrapLedger)
        -> DropCause
}

extension Stage {
    /// Lets every data point through: a stage written before metrics existed, or for spans
    /// and logs only, has no opinion on them. Allocates nothing.
    public func process(_ batch: inout MetricBatch, mask: inout RowMask, counts: inout StageCounts) {}

    /// Allocates what the stage's own `process` allocates.
    public func process(
        _ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts, traps: inout TrapLedger
    ) {
        process(&batch, mask: &mask, counts: &counts)
    }

    /// Allocates what the stage's own `process` allocates.
    public func process(
        _ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts, traps: inout TrapLedger
    ) {
        process(&batch, mask: &mask, counts: &counts)
    }
}

/// A batch the stages can run over: `Stage` has a method per signal, and the batch type picks
/// its own, so the chain (and whoever runs it) is written once for every signal.
public protocol StageBatch: TelemetryBatch {
    /// Runs `stage` over `batch` with the stage's method for this signal.
    /// Allocates what the stage's own `process` allocates.
    static func process(
        _ batch: inout Self, by stage: any Stage, mask: inout RowMask, counts: inout StageCounts,
        traps: inout TrapLedger)
}

extension SpanBatch: StageBatch {
    /// Runs the stage's span method. Allocates what the stage's own `process` allocates.
    public static func process(
        _ batch: inout Self, by stage: any Stage, mask: inout RowMask, counts: inout StageCounts,
        traps: inout TrapLedger
    ) { stage.process(&batch, mask: &mask, counts: &counts, traps: &traps) }
}

extension LogBatch: StageBatch {
    /// Runs the stage's log method. Allocates what the stage's own `process` allocates.
    public static func process(
        _ batch: inout Self, by stage: any Stage, mask: inout RowMask, counts: inout StageCounts,
        traps: inout TrapLedger
    ) { stage.process(&batch, mask: &mask, counts: &counts, traps: &traps) }
}

extension MetricBatch: StageBatch {
    /// Runs the stage's metrics method (no stage identifies traps in metrics).
    /// Allocates what the stage's own `process` allocates.
    public static func process(
        _ batch: inout Self, by stage: any Stage, mask: inout RowMask, counts: inout StageCounts,
        traps: inout TrapLedger
    ) { stage.process(&batch, mask: &mask, counts: &counts) }
}

/// The stages of one pipeline, run in order over each batch.
public struct StageChain: Sendable {
    /// The stages, in pipeline order.
    public let stages: [any Stage]

    /// Makes a chain. Allocates nothing (keeps the array).
    public init(_ stages: [any Stage] = []) { self.stages = stages }

    /// Runs every stage over `batch`, resetting `mask` to keep all rows first.
    ///
    /// - Parameters:
    ///   - batch: the batch, changed in place by stages that rewrite rows.
    ///   - mask: reset to keep every row, then cleared for each row a stage drops.
    ///   - counts: one entry per stage (resized if needed), added to.
    ///   - traps: reset, then filled with the trap events the stages identify.
    ///
    /// Allocates what the stages allocate; the chain itself allocates nothing once `counts` has one entry per stage.
    public func run<Batch: StageBatch>(
        _ batch: inout Batch, mask: inout RowMask, counts: inout [StageCounts], traps: inout TrapLedger
    ) {
        mask.reset(count: batch.count)
        traps.reset()
        run(mask: &mask, counts: &counts) { stage, mask, stageCounts in
            Batch.process(&batch, by: stage, mask: &mask, counts: &stageCounts, traps: &traps)
        }
    }

    /// Runs every stage over `batch` as `run(_:mask:counts:traps:)` does, and lists each record a
    /// stage dropped with its cause (a drop audit). Keeps a copy of the mask per stage and asks
    /// the stage about each row it dropped: allocates per dropped record, so only an audited run
    /// takes this path.
    ///
    /// - Parameters:
    ///   - batch: the batch, changed in place by stages that rewrite rows.
    ///   - mask: reset to keep every row, then cleared for each row a stage drops.
    ///   - counts: one entry per stage (resized if needed), added to.
    ///   - traps: reset, then filled with the trap events the stages identify.
    ///   - drops: emptied, then one entry per dropped record, in stage order then row order.
    public func run<Batch: StageBatch>(
        _ batch: inout Batch, mask: inout RowMask, counts: inout [StageCounts], traps: inout TrapLedger,
        drops: inout [DroppedRecord]
    ) {
        mask.reset(count: batch.count)
        traps.reset()
        drops.removeAll(keepingCapacity: true)
        var before: [Bool] = []
        var stageIndex: Int32 = 0
        run(mask: &mask, counts: &counts) { stage, mask, stageCounts in
            before = mask.kept
            Batch.process(&batch, by: stage, mask: &mask, counts: &stageCounts, traps: &traps)
            defer { stageIndex += 1 }
            guard stageCounts.filtered + stageCounts.blocked + stageCounts.rejected > 0 else { return }
            for row in before.indices where before[row] && !mask.kept[row] {
                let cause = stage.dropCause(ofRow: row, in: batch, counts: stageCounts, traps: traps)
                drops.append(DroppedRecord(row: Int32(row), stage: stageIndex, cause: cause))
            }
        }
    }

    /// Runs every stage over `batch`, discarding trap events.
    /// Allocates what the stages allocate; the chain itself allocates nothing once `counts` has one entry per stage.
    public func run<Batch: StageBatch>(_ batch: inout Batch, mask: inout RowMask, counts: inout [StageCounts]) {
        var traps = TrapLedger()
        run(&batch, mask: &mask, counts: &counts, traps: &traps)
    }

    private func run(
        mask: inout RowMask, counts: inout [StageCounts],
        _ body: (any Stage, inout RowMask, inout StageCounts) -> Void
    ) {
        if counts.count != stages.count { counts = Array(repeating: StageCounts(), count: stages.count) }
        for (index, stage) in stages.enumerated() {
            var stageCounts = StageCounts()
            stageCounts.received = mask.keptCount
            let start = Clock.nanoseconds()
            body(stage, &mask, &stageCounts)
            stageCounts.nanoseconds = Clock.nanoseconds() &- start
            stageCounts.forwarded = mask.keptCount
            assert(stageCounts.isBalanced, "stage \(stage.id) dropped rows it did not count (or counted rows it kept)")
            counts[index] += stageCounts
        }
    }
}

/// A monotonic clock in nanoseconds (no Foundation in the hot path): once per stage per batch.
public enum Clock {
    /// Monotonic nanoseconds (for stage timings). Allocates nothing.
    public static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
