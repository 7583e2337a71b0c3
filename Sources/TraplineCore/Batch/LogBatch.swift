/// Log records decoded from one frame (or one run of text lines), in columns.
///
/// Same layout rules as `SpanBatch`: one row per log record, fixed-width columns, slices into
/// the retained input or the arena, attributes in a flat table, storage reused by `reset`.
public struct LogBatch: TelemetryBatch {
    /// `.logs`.
    public static var signal: Signal { .logs }

    /// The bytes the batch's slices point into: the retained input frame and the arena.
    public var storage = SliceStorage()

    /// Resource entries.
    public var resources: [ResourceEntry] = []
    /// Scope entries, grouped by resource.
    public var scopes: [ScopeEntry] = []
    /// Attributes of resources, scopes and log records.
    public var attributes = AttributeTable()

    // Log record columns (one element per row).
    /// `LogRecord.time_unix_nano`.
    public var times: [UInt64] = []
    /// `LogRecord.observed_time_unix_nano`.
    public var observedTimes: [UInt64] = []
    /// `severity_number` as its raw enum number.
    public var severityNumbers: [Int32] = []
    /// `LogRecord.severity_text`.
    public var severityTexts: [ByteSlice] = []
    /// `LogRecord.body` (`.absent` when the record has none).
    public var bodies: [AnyValueRef] = []
    /// Each record's attributes in `attributes`.
    public var recordAttributes: [RowRange] = []
    /// `LogRecord.dropped_attributes_count`.
    public var droppedAttributesCounts: [UInt32] = []
    /// `LogRecord.flags`.
    public var flags: [UInt32] = []
    /// `LogRecord.trace_id` (zero when unset).
    public var traceIDs: [TraceID] = []
    /// `LogRecord.span_id` (zero when unset).
    public var spanIDs: [SpanID] = []
    /// Trace and span ids that arrived all zero (told apart from unset).
    public var zeroIDs = ZeroIDMarks()
    /// `LogRecord.event_name`.
    public var eventNames: [ByteSlice] = []
    /// Index of each row's scope entry.
    public var scopeIndexes: [UInt32] = []
    /// The record's original encoding, copied through when unchanged; empty when the row was
    /// built from text or modified by a stage.
    public var encodedRecords: [ByteSlice] = []

    /// What was rejected while decoding this frame.
    public var rejections = BatchRejections()

    /// The IP address of the client that sent the batch (a receiver's peer, as text); empty for
    /// input from files and stdin. The `connection` pod association reads it. Not reset with the
    /// batch: whoever hands a batch to the stages sets it.
    public var clientAddress: [UInt8] = []

    /// Makes an empty batch. Allocates nothing until the first decode.
    public init() {}

    /// Number of log records.
    @inlinable public var count: Int { times.count }

    /// Marks `row` as changed, so the encoder writes it from columns instead of copying it. Allocates nothing.
    @inlinable
    public mutating func markModified(_ row: Int) { encodedRecords[row] = .empty }

    /// Empties the batch for a new frame, keeping every column's storage.
    /// Keeps every column's capacity; allocates nothing.
    public mutating func reset(input: InputBuffer?, frame: Range<Int>, sourceOffset: Int) {
        storage.reset(input: input, frame: frame, sourceOffset: sourceOffset)
        resources.removeAll(keepingCapacity: true)
        scopes.removeAll(keepingCapacity: true)
        attributes.removeAll()
        truncateRows(to: 0)
        rejections.removeAll()
    }

    /// Appends one row; every column gets exactly one element.
    @inlinable
    mutating func appendRow(_ row: LogRow) {
        if !row.zeroIDs.isEmpty { zeroIDs.mark(row.zeroIDs, row: spanIDs.count) }
        times.append(row.time)
        observedTimes.append(row.observedTime)
        severityNumbers.append(row.severityNumber)
        severityTexts.append(row.severityText)
        bodies.append(row.body)
        recordAttributes.append(row.attributes)
        droppedAttributesCounts.append(row.droppedAttributesCount)
        flags.append(row.flags)
        traceIDs.append(row.traceID)
        spanIDs.append(row.spanID)
        eventNames.append(row.eventName)
        scopeIndexes.append(row.scopeIndex)
        encodedRecords.append(row.encoded)
    }

    /// Drops rows from `count` on.
    @usableFromInline
    mutating func truncateRows(to count: Int) {
        zeroIDs.truncate(to: count)
        times.removeSubrange(count...)
        observedTimes.removeSubrange(count...)
        severityNumbers.removeSubrange(count...)
        severityTexts.removeSubrange(count...)
        bodies.removeSubrange(count...)
        recordAttributes.removeSubrange(count...)
        droppedAttributesCounts.removeSubrange(count...)
        flags.removeSubrange(count...)
        traceIDs.removeSubrange(count...)
        spanIDs.removeSubrange(count...)
        eventNames.removeSubrange(count...)
        scopeIndexes.removeSubrange(count...)
        encodedRecords.removeSubrange(count...)
    }

}

/// One log record's fixed fields, gathered while decoding and appended at once.
@usableFromInline
struct LogRow: DecodedRow {
    @usableFromInline var time: UInt64 = 0
    @usableFromInline var observedTime: UInt64 = 0
    @usableFromInline var severityNumber: Int32 = 0
    @usableFromInline var severityText: ByteSlice = .empty
    @usableFromInline var body: AnyValueRef = .absent
    @usableFromInline var attributes: RowRange = .empty
    @usableFromInline var droppedAttributesCount: UInt32 = 0
    @usableFromInline var flags: UInt32 = 0
    @usableFromInline var traceID: TraceID = .zero
    @usableFromInline var spanID: SpanID = .zero
    @usableFromInline var zeroIDs: ZeroIDMarks.Field = []
    @usableFromInline var eventName: ByteSlice = .empty
    @usableFromInline var scopeIndex: UInt32 = 0
    @usableFromInline var encoded: ByteSlice = .empty

    @usableFromInline init() {}
}
