public import TraplineCore

/// Counts one decoded batch: its rows were received, its rejections were received and
/// rejected. Stages move rows from forwarded to filtered or blocked.
public enum BatchAccounting {
    /// The counts for a batch of spans that every stage let through.
    public static func counts(for batch: SpanBatch) -> RecordCounts {
        counts(rows: batch.count, rejections: batch.rejections)
    }

    /// The counts for a batch of log records that every stage let through.
    public static func counts(for batch: LogBatch) -> RecordCounts {
        counts(rows: batch.count, rejections: batch.rejections)
    }

    /// The counts for input rejected before it could become a batch.
    public static func counts(rejectedRecords: Int) -> RecordCounts {
        RecordCounts(received: rejectedRecords, forwarded: 0, filtered: 0, blocked: 0, rejected: rejectedRecords)
    }

    private static func counts(rows: Int, rejections: BatchRejections) -> RecordCounts {
        let rejected = rejections.recordCount
        return RecordCounts(received: rows + rejected, forwarded: rows, filtered: 0, blocked: 0, rejected: rejected)
    }
}
