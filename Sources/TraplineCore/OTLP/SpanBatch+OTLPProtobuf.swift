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
        // A whole-trace first pass skips the span's attributes, events and links
        // (`OTLPProtobufDecoder.skipsSpanDetails`): its own loop, checked once a span, so the full
        // decode's loop carries no check per field.
        if _slowPath(decoder.skipsSpanDetails) {
            while let (tag, tagStart) = try reader.nextField() {
                switch tag.number {
                case 9, 11, 13: try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
                default: try decodeField(tag, at: tagStart, &reader, into: &row, depth: depth, using: decoder)
                }
            }
            return
        }
        while let (tag, tagStart) = try reader.nextField() {
            try decodeField(tag, at: tagStart, &reader, into: &row, depth: depth, using: decoder)
        }
    }

    /// Reads one field of a `Span`.
    @inlinable @inline(__always)
    mutating func decodeField(
        _ tag: FieldTag, at tagStart: Int, _ reader: inout WireReader, into row: inout SpanRow, depth: Int,
        using decoder: OTLPFieldDecoder
    ) throws(DecodeError) {
        switch tag.number {
        case 1:
            row.traceID = try decoder.traceID(
                tag, at: tagStart, &reader, field: "Span.trace_id", mark: .traceID, in: &row.zeroIDs)
        case 2:
            row.spanID = try decoder.spanID(
                tag, at: tagStart, &reader, field: "Span.span_id", mark: .spanID, in: &row.zeroIDs)
        case 3:
            row.traceState = try decoder.string(tag, at: tagStart, &reader, field: "Span.trace_state")
        case 4:
            row.parentSpanID = try decoder.spanID(
                tag, at: tagStart, &reader, field: "Span.parent_span_id", mark: .parentSpanID, in: &row.zeroIDs)
        case 5:
            row.name = try decoder.string(tag, at: tagStart, &reader, field: "Span.name")
        case 6:
            row.kind = try decoder.int32(tag, at: tagStart, &reader, field: "Span.kind")
        case 7:
            row.startTime = try decoder.fixed64(tag, at: tagStart, &reader, field: "Span.start_time_unix_nano")
        case 8:
            row.endTime = try decoder.fixed64(tag, at: tagStart, &reader, field: "Span.end_time_unix_nano")
        case 9:
            try decoder.attribute(
                tag, at: tagStart, &reader, field: "Span.attributes", depth: depth + 1, into: &attributes)
        case 10:
            row.dropped.attributes = try decoder.uint32(
                tag, at: tagStart, &reader, field: "Span.dropped_attributes_count")
        case 11:
            try decodeEvent(
                try decoder.message(tag, at: tagStart, &reader, field: "Span.events"), depth: depth + 1,
                using: decoder)
        case 12:
            row.dropped.events = try decoder.uint32(tag, at: tagStart, &reader, field: "Span.dropped_events_count")
        case 13:
            try decodeLink(
                try decoder.message(tag, at: tagStart, &reader, field: "Span.links"), depth: depth + 1,
                using: decoder)
        case 14:
            row.dropped.links = try decoder.uint32(tag, at: tagStart, &reader, field: "Span.dropped_links_count")
        case 15:
            try decodeStatus(
                try decoder.message(tag, at: tagStart, &reader, field: "Span.status"), depth: depth + 1,
                into: &row.status, using: decoder)
        case 16:
            row.flags = try decoder.fixed32(tag, at: tagStart, &reader, field: "Span.flags")
        default:
            try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
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
                status.message = try decoder.string(tag, at: tagStart, &reader, field: "Status.message")
            case 3:
                status.code = try decoder.int32(tag, at: tagStart, &reader, field: "Status.code")
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
                time = try decoder.fixed64(tag, at: tagStart, &reader, field: "Span.Event.time_unix_nano")
            case 2:
                name = try decoder.string(tag, at: tagStart, &reader, field: "Span.Event.name")
            case 3:
                try decoder.attribute(
                    tag, at: tagStart, &reader, field: "Span.Event.attributes", depth: depth + 1,
                    into: &events.attributeTable)
            case 4:
                dropped = try decoder.uint32(tag, at: tagStart, &reader, field: "Span.Event.dropped_attributes_count")
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
                traceID = try decoder.traceID(
                    tag, at: tagStart, &reader, field: "Span.Link.trace_id", mark: .traceID, in: &zeroIDs)
            case 2:
                spanID = try decoder.spanID(
                    tag, at: tagStart, &reader, field: "Span.Link.span_id", mark: .spanID, in: &zeroIDs)
            case 3:
                traceState = try decoder.string(tag, at: tagStart, &reader, field: "Span.Link.trace_state")
            case 4:
                try decoder.attribute(
                    tag, at: tagStart, &reader, field: "Span.Link.attributes", depth: depth + 1,
                    into: &links.attributeTable)
            case 5:
                dropped = try decoder.uint32(tag, at: tagStart, &reader, field: "Span.Link.dropped_attributes_count")
            case 6:
                linkFlags = try decoder.fixed32(tag, at: tagStart, &reader, field: "Span.Link.flags")
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
