public import TraplineCore

/// Counts one decoded batch: its rows were received, its rejections were received and
/// rejected. Stages move rows from forwarded to filtered or blocked.
public enum BatchAccounting {
    /// The counts for a batch after a stage chain: rows the mask kept are forwarded, the rest
    /// filtered or blocked as the stages counted them. Allocates nothing.
    public static func counts(for batch: some TelemetryBatch, mask: RowMask, stages: [StageCounts]) -> RecordCounts {
        counts(rows: batch.count, rejections: batch.rejections, mask: mask, stages: stages)
    }

    private static func counts(rows: Int, rejections: BatchRejections, mask: RowMask, stages: [StageCounts])
        -> RecordCounts
    {
        var counts = counts(rows: rows, rejections: rejections)
        counts.forwarded = mask.keptCount
        counts.filtered = stages.reduce(0) { $0 + $1.filtered }
        counts.blocked = stages.reduce(0) { $0 + $1.blocked }
        // Records a stage refused (a rule failed under `propagate`) count as rejected.
        counts.rejected += stages.reduce(0) { $0 + $1.rejected }
        return counts
    }

    /// The counts for input rejected before it could become a batch. Allocates nothing.
    public static func counts(rejectedRecords: Int) -> RecordCounts {
        RecordCounts(received: rejectedRecords, forwarded: 0, filtered: 0, blocked: 0, rejected: rejectedRecords)
    }

    private static func counts(rows: Int, rejections: BatchRejections) -> RecordCounts {
        let rejected = rejections.recordCount
        return RecordCounts(received: rows + rejected, forwarded: rows, filtered: 0, blocked: 0, rejected: rejected)
    }
}
