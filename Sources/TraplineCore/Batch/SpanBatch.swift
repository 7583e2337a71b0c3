/// Spans decoded from one frame, in columns.
///
/// One row per span. Fixed-width fields are columns of values; strings and bytes are
/// `ByteSlice`s into the retained input frame (or the arena); attributes, events and links
/// live in flat tables that rows refer to by `RowRange`. Resources and scopes have their own
/// tables. Storage is reused: `reset(frame:)` empties every column and keeps its capacity, so
/// a batch decoded over and over stops allocating.
public struct SpanBatch: TelemetryBatch {
    /// `.traces`.
    public static var signal: Signal { .traces }

    /// The bytes the batch's slices point into: the retained input frame and the arena.
    public var storage = SliceStorage()

    /// Resource entries.
    public var resources: [ResourceEntry] = []
    /// Scope entries, grouped by resource.
    public var scopes: [ScopeEntry] = []
    /// Attributes of resources, scopes, spans, events and links.
    public var attributes = AttributeTable()

    // Span columns (one element per row).
    /// `Span.trace_id` (zero when unset).
    public var traceIDs: [TraceID] = []
    /// `Span.span_id`.
    public var spanIDs: [SpanID] = []
    /// `Span.parent_span_id` (zero for a root span).
    public var parentSpanIDs: [SpanID] = []
    /// Trace, span and parent ids that arrived all zero (told apart from unset).
    public var zeroIDs = ZeroIDMarks()
    /// `Span.trace_state` (W3C tracestate text).
    public var traceStates: [ByteSlice] = []
    /// `Span.name`.
    public var names: [ByteSlice] = []
    /// `Span.kind` as its raw enum number (unknown numbers are kept).
    public var kinds: [Int32] = []
    /// `Span.start_time_unix_nano`.
    public var startTimes: [UInt64] = []
    /// `Span.end_time_unix_nano`.
    public var endTimes: [UInt64] = []
    /// Each span's attributes in `attributes`.
    public var spanAttributes: [RowRange] = []
    /// `spanAttributes`, under the name every batch uses (`TelemetryBatch`).
    @inlinable public var recordAttributes: [RowRange] {
        get { spanAttributes }
        set { spanAttributes = newValue }
        _modify { yield &spanAttributes }
    }
    /// `Span.dropped_{attributes,events,links}_count`.
    public var droppedCounts: [SpanDroppedCounts] = []
    /// Each span's events in `events`.
    public var eventRanges: [RowRange] = []
    /// Each span's links in `links`.
    public var linkRanges: [RowRange] = []
    /// `Span.status`.
    public var statuses: [SpanStatus] = []
    /// `Span.flags` (W3C trace flags and the remote-parent bits).
    public var flags: [UInt32] = []
    /// Index of each row's scope entry.
    public var scopeIndexes: [UInt32] = []
    /// The span's original encoding, copied through when the row is unchanged; empty once a
    /// stage modifies the row (`markModified`).
    public var encodedSpans: [ByteSlice] = []

    /// Span events.
    public var events = SpanEventTable()
    /// Span links.
    public var links = SpanLinkTable()

    /// What was rejected while decoding this frame.
    public var rejections = BatchRejections()

    /// The IP address of the client that sent the batch (a receiver's peer, as text); empty for
    /// input from files and stdin. The `connection` pod association reads it. Not reset with the
    /// batch: whoever hands a batch to the stages sets it.
    public var clientAddress: [UInt8] = []

    /// Makes an empty batch. Allocates nothing until the first decode.
    public init() {}

    /// Number of spans.
    @inlinable public var count: Int { spanIDs.count }

    /// Marks `row` as changed, so the encoder writes it from columns instead of copying it. Allocates nothing.
    @inlinable
    public mutating func markModified(_ row: Int) { encodedSpans[row] = .empty }

    /// Empties the batch for a new frame, keeping every column's storage.
    /// Keeps every column's capacity; allocates nothing.
    public mutating func reset(input: InputBuffer?, frame: Range<Int>, sourceOffset: Int) {
        storage.reset(input: input, frame: frame, sourceOffset: sourceOffset)
        resources.removeAll(keepingCapacity: true)
        scopes.removeAll(keepingCapacity: true)
        attributes.removeAll()
        truncateRows(to: 0)
        events.removeAll()
        links.removeAll()
        rejections.removeAll()
    }

    /// Appends one row; every column gets exactly one element.
    @inlinable
    mutating func appendRow(_ row: SpanRow) {
        if !row.zeroIDs.isEmpty { zeroIDs.mark(row.zeroIDs, row: spanIDs.count) }
        traceIDs.append(row.traceID)
        spanIDs.append(row.spanID)
        parentSpanIDs.append(row.parentSpanID)
        traceStates.append(row.traceState)
        names.append(row.name)
        kinds.append(row.kind)
        startTimes.append(row.startTime)
        endTimes.append(row.endTime)
        spanAttributes.append(row.attributes)
        droppedCounts.append(row.dropped)
        eventRanges.append(row.events)
        linkRanges.append(row.links)
        statuses.append(row.status)
        flags.append(row.flags)
        scopeIndexes.append(row.scopeIndex)
        encodedSpans.append(row.encoded)
    }

    /// Drops rows from `count` on (used when a record is rejected after its row was added).
    @usableFromInline
    mutating func truncateRows(to count: Int) {
        zeroIDs.truncate(to: count)
        traceIDs.removeSubrange(count...)
        spanIDs.removeSubrange(count...)
        parentSpanIDs.removeSubrange(count...)
        traceStates.removeSubrange(count...)
        names.removeSubrange(count...)
        kinds.removeSubrange(count...)
        startTimes.removeSubrange(count...)
        endTimes.removeSubrange(count...)
        spanAttributes.removeSubrange(count...)
        droppedCounts.removeSubrange(count...)
        eventRanges.removeSubrange(count...)
        linkRanges.removeSubrange(count...)
        statuses.removeSubrange(count...)
        flags.removeSubrange(count...)
        scopeIndexes.removeSubrange(count...)
        encodedSpans.removeSubrange(count...)
    }

}

/// `Span.status`, present or not.
public struct SpanStatus: Hashable, Sendable {
    /// Whether the span carried a `status` message at all.
    public var isPresent: Bool
    /// `Status.code` as its raw enum number.
    public var code: Int32
    /// `Status.message`.
    public var message: ByteSlice

    /// Makes a status. Allocates nothing.
    @inlinable
    public init(isPresent: Bool = false, code: Int32 = 0, message: ByteSlice = .empty) {
        self.isPresent = isPresent
        self.code = code
        self.message = message
    }
}

/// The three dropped counts of a span.
public struct SpanDroppedCounts: Hashable, Sendable {
    /// `dropped_attributes_count`.
    public var attributes: UInt32 = 0
    /// `dropped_events_count`.
    public var events: UInt32 = 0
    /// `dropped_links_count`.
    public var links: UInt32 = 0

    /// Makes counts. Allocates nothing.
    @inlinable public init() {}
}

/// Span events of a batch, in columns.
public struct SpanEventTable: Sendable {
    /// Attributes of events, in their own table so a span's attributes stay contiguous in the
    /// batch table whatever order the span's fields arrive in.
    public var attributeTable = AttributeTable()
    /// `Event.time_unix_nano`.
    public var times: [UInt64] = []
    /// `Event.name`.
    public var names: [ByteSlice] = []
    /// Each event's attributes in `attributeTable`.
    public var attributes: [RowRange] = []
    /// `Event.dropped_attributes_count`.
    public var droppedAttributesCounts: [UInt32] = []

    /// Makes an empty table. Allocates nothing.
    public init() {}

    /// Number of events.
    @inlinable public var count: Int { times.count }

    /// Appends one event; every column gets exactly one element.
    @inlinable
    mutating func append(time: UInt64, name: ByteSlice, attributes range: RowRange, droppedAttributesCount: UInt32) {
        times.append(time)
        names.append(name)
        attributes.append(range)
        droppedAttributesCounts.append(droppedAttributesCount)
    }

    @usableFromInline
    mutating func truncate(to count: Int) {
        times.removeSubrange(count...)
        names.removeSubrange(count...)
        attributes.removeSubrange(count...)
        droppedAttributesCounts.removeSubrange(count...)
    }

    mutating func removeAll() {
        truncate(to: 0)
        attributeTable.removeAll()
    }
}

/// Span links of a batch, in columns.
public struct SpanLinkTable: Sendable {
    /// Attributes of links (see `SpanEventTable.attributeTable`).
    public var attributeTable = AttributeTable()
    /// `Link.trace_id`.
    public var traceIDs: [TraceID] = []
    /// `Link.span_id`.
    public var spanIDs: [SpanID] = []
    /// Link trace and span ids that arrived all zero.
    public var zeroIDs = ZeroIDMarks()
    /// `Link.trace_state`.
    public var traceStates: [ByteSlice] = []
    /// Each link's attributes in `attributeTable`.
    public var attributes: [RowRange] = []
    /// `Link.dropped_attributes_count`.
    public var droppedAttributesCounts: [UInt32] = []
    /// `Link.flags`.
    public var flags: [UInt32] = []

    /// Makes an empty table. Allocates nothing.
    public init() {}

    /// Number of links.
    @inlinable public var count: Int { spanIDs.count }

    /// Appends one link; every column gets exactly one element.
    @inlinable
    mutating func append(
        traceID: TraceID, spanID: SpanID, traceState: ByteSlice, attributes range: RowRange,
        droppedAttributesCount: UInt32, flags linkFlags: UInt32, zeroIDs marked: ZeroIDMarks.Field = []
    ) {
        if !marked.isEmpty { zeroIDs.mark(marked, row: spanIDs.count) }
        traceIDs.append(traceID)
        spanIDs.append(spanID)
        traceStates.append(traceState)
        attributes.append(range)
        droppedAttributesCounts.append(droppedAttributesCount)
        flags.append(linkFlags)
    }

    @usableFromInline
    mutating func truncate(to count: Int) {
        zeroIDs.truncate(to: count)
        traceIDs.removeSubrange(count...)
        spanIDs.removeSubrange(count...)
        traceStates.removeSubrange(count...)
        attributes.removeSubrange(count...)
        droppedAttributesCounts.removeSubrange(count...)
        flags.removeSubrange(count...)
    }

    mutating func removeAll() {
        truncate(to: 0)
        attributeTable.removeAll()
    }
}

/// Resolves a batch's slices to bytes. Valid only inside `withBytes`.
public struct BatchBytes {
    /// The input frame.
    public let frame: UnsafeRawBufferPointer
    /// The arena.
    public let arena: UnsafeRawBufferPointer

    /// Makes a resolver (only `SliceStorage.withBytes` does). Allocates nothing.
    @inlinable
    public init(frame: UnsafeRawBufferPointer, arena: UnsafeRawBufferPointer) {
        self.frame = frame
        self.arena = arena
    }

    /// The bytes of `slice`. Allocates nothing: the buffer points into the batch's storage.
    @inlinable
    public subscript(_ slice: ByteSlice) -> UnsafeRawBufferPointer {
        let storage = slice.isArena ? arena : frame
        guard let base = storage.baseAddress else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + slice.offset, count: Int(slice.count))
    }

    /// The slice as a `String` (allocates; for reports and tests, not the hot path).
    public func string(_ slice: ByteSlice) -> String {
        String(decoding: self[slice], as: UTF8.self)
    }
}

/// One span's fixed fields, gathered while decoding and appended at once.
@usableFromInline
struct SpanRow: DecodedRow {
    @usableFromInline var traceID = TraceID.zero
    @usableFromInline var spanID = SpanID.zero
    @usableFromInline var parentSpanID = SpanID.zero
    @usableFromInline var zeroIDs: ZeroIDMarks.Field = []
    @usableFromInline var traceState = ByteSlice.empty
    @usableFromInline var name = ByteSlice.empty
    @usableFromInline var kind: Int32 = 0
    @usableFromInline var startTime: UInt64 = 0
    @usableFromInline var endTime: UInt64 = 0
    @usableFromInline var attributes = RowRange.empty
    @usableFromInline var dropped = SpanDroppedCounts()
    @usableFromInline var events = RowRange.empty
    @usableFromInline var links = RowRange.empty
    @usableFromInline var status = SpanStatus()
    @usableFromInline var flags: UInt32 = 0
    @usableFromInline var scopeIndex: UInt32 = 0
    @usableFromInline var encoded = ByteSlice.empty

    @usableFromInline init() {}
}
