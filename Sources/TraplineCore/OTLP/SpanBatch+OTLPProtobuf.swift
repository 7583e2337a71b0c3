extension SpanBatch: OTLPContainerBatch {
    @usableFromInline static var containerNames: OTLPContainerNames { .traces }

    @usableFromInline var encodedRecords: [ByteSlice] { encodedSpans }

    @usableFromInline func writeJSON(ofRow row: Int, into writer: inout JSONTextWriter) { writer.span(self, row) }

    @usableFromInline
    func markRecordTables(_ mark: inout BatchMark) {
        mark.events = events.count
        mark.eventAttributes = events.attributeTable.count
        mark.links = links.count
        mark.linkAttributes = links.attributeTable.count
    }

    @usableFromInline
    mutating func rollbackRecords(to mark: BatchMark) {
        truncateRows(to: mark.rows)
        events.truncate(to: mark.events)
        events.attributeTable.truncate(to: mark.eventAttributes)
        links.truncate(to: mark.links)
        links.attributeTable.truncate(to: mark.linkAttributes)
    }

    @usableFromInline
    func finishRecordTables(of row: inout SpanRow, since mark: BatchMark) {
        row.events = RowRange(start: mark.events, end: events.count)
        row.links = RowRange(start: mark.links, end: links.count)
    }

    /// Reads a `Span`'s fields. Any error leaves partial table rows behind for the caller to
    /// roll back.
    @inlinable
    mutating func decodeFields(
        _ reader: inout WireReader, into row: inout SpanRow, depth: Int, using decoder: OTLPFieldDecoder
    ) throws(DecodeError) {
        while let (tag, tagStart) = try reader.nextField() {
            switch tag.number {
            case 1:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.trace_id")
                row.traceID = try decoder.readTraceID(
                    &reader, field: "Span.trace_id", mark: .traceID, in: &row.zeroIDs)
            case 2:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.span_id")
                row.spanID = try decoder.readSpanID(&reader, field: "Span.span_id", mark: .spanID, in: &row.zeroIDs)
            case 3:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.trace_state")
                row.traceState = try decoder.readString(&reader, field: "Span.trace_state")
            case 4:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.parent_span_id")
                row.parentSpanID = try decoder.readSpanID(
                    &reader, field: "Span.parent_span_id", mark: .parentSpanID, in: &row.zeroIDs)
            case 5:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.name")
                row.name = try decoder.readString(&reader, field: "Span.name")
            case 6:
                try decoder.expect(tag, .varint, at: tagStart, field: "Span.kind")
                row.kind = Int32(truncatingIfNeeded: try reader.readVarint())
            case 7:
                try decoder.expect(tag, .fixed64, at: tagStart, field: "Span.start_time_unix_nano")
                row.startTime = try reader.readFixed64()
            case 8:
                try decoder.expect(tag, .fixed64, at: tagStart, field: "Span.end_time_unix_nano")
                row.endTime = try reader.readFixed64()
            case 9:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.attributes")
                try decoder.decodeKeyValue(try reader.readLengthDelimited(), depth: depth + 1, into: &attributes)
            case 10:
                try decoder.expect(tag, .varint, at: tagStart, field: "Span.dropped_attributes_count")
                row.dropped.attributes = UInt32(truncatingIfNeeded: try reader.readVarint())
            case 11:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.events")
                try decodeEvent(try reader.readLengthDelimited(), depth: depth + 1, using: decoder)
            case 12:
                try decoder.expect(tag, .varint, at: tagStart, field: "Span.dropped_events_count")
                row.dropped.events = UInt32(truncatingIfNeeded: try reader.readVarint())
            case 13:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.links")
                try decodeLink(try reader.readLengthDelimited(), depth: depth + 1, using: decoder)
            case 14:
                try decoder.expect(tag, .varint, at: tagStart, field: "Span.dropped_links_count")
                row.dropped.links = UInt32(truncatingIfNeeded: try reader.readVarint())
            case 15:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.status")
                try decodeStatus(try reader.readLengthDelimited(), depth: depth + 1, into: &row.status, using: decoder)
            case 16:
                try decoder.expect(tag, .fixed32, at: tagStart, field: "Span.flags")
                row.flags = try reader.readFixed32()
            default:
                try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
            }
        }
    }

    @inlinable
    mutating func decodeStatus(
        _ region: Range<Int>, depth: Int, into status: inout SpanStatus, using decoder: OTLPFieldDecoder
    ) throws(DecodeError) {
        try decoder.checkDepth(depth, at: region.lowerBound)
        var reader = decoder.reader(region)
        // A repeated `status` field merges into the earlier one, as protobuf specifies.
        status.isPresent = true
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            switch tag.number {
            case 2:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Status.message")
                status.message = try decoder.readString(&reader, field: "Status.message")
            case 3:
                try decoder.expect(tag, .varint, at: tagStart, field: "Status.code")
                status.code = Int32(truncatingIfNeeded: try reader.readVarint())
            default:
                try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
            }
        }
    }

    @inlinable
    mutating func decodeEvent(_ region: Range<Int>, depth: Int, using decoder: OTLPFieldDecoder) throws(DecodeError) {
        try decoder.checkDepth(depth, at: region.lowerBound)
        var reader = decoder.reader(region)
        var time: UInt64 = 0
        var name = ByteSlice.empty
        var dropped: UInt32 = 0
        let firstAttribute = events.attributeTable.count
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            switch tag.number {
            case 1:
                try decoder.expect(tag, .fixed64, at: tagStart, field: "Span.Event.time_unix_nano")
                time = try reader.readFixed64()
            case 2:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.Event.name")
                name = try decoder.readString(&reader, field: "Span.Event.name")
            case 3:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.Event.attributes")
                try decoder.decodeKeyValue(
                    try reader.readLengthDelimited(), depth: depth + 1, into: &events.attributeTable)
            case 4:
                try decoder.expect(tag, .varint, at: tagStart, field: "Span.Event.dropped_attributes_count")
                dropped = UInt32(truncatingIfNeeded: try reader.readVarint())
            default:
                try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
            }
        }
        events.append(
            time: time, name: name, attributes: RowRange(start: firstAttribute, end: events.attributeTable.count),
            droppedAttributesCount: dropped)
    }

    @inlinable
    mutating func decodeLink(_ region: Range<Int>, depth: Int, using decoder: OTLPFieldDecoder) throws(DecodeError) {
        try decoder.checkDepth(depth, at: region.lowerBound)
        var reader = decoder.reader(region)
        var traceID = TraceID.zero
        var spanID = SpanID.zero
        var zeroIDs: ZeroIDMarks.Field = []
        var traceState = ByteSlice.empty
        var dropped: UInt32 = 0
        var linkFlags: UInt32 = 0
        let firstAttribute = links.attributeTable.count
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            switch tag.number {
            case 1:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.Link.trace_id")
                traceID = try decoder.readTraceID(
                    &reader, field: "Span.Link.trace_id", mark: .traceID, in: &zeroIDs)
            case 2:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.Link.span_id")
                spanID = try decoder.readSpanID(&reader, field: "Span.Link.span_id", mark: .spanID, in: &zeroIDs)
            case 3:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.Link.trace_state")
                traceState = try decoder.readString(&reader, field: "Span.Link.trace_state")
            case 4:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "Span.Link.attributes")
                try decoder.decodeKeyValue(
                    try reader.readLengthDelimited(), depth: depth + 1, into: &links.attributeTable)
            case 5:
                try decoder.expect(tag, .varint, at: tagStart, field: "Span.Link.dropped_attributes_count")
                dropped = UInt32(truncatingIfNeeded: try reader.readVarint())
            case 6:
                try decoder.expect(tag, .fixed32, at: tagStart, field: "Span.Link.flags")
                linkFlags = try reader.readFixed32()
            default:
                try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
            }
        }
        links.append(
            traceID: traceID, spanID: spanID, traceState: traceState,
            attributes: RowRange(start: firstAttribute, end: links.attributeTable.count),
            droppedAttributesCount: dropped, flags: linkFlags, zeroIDs: zeroIDs)
    }
}
