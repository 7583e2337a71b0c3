extension SpanBatch: OTLPJSONBatch {
    mutating func decodeJSONMembers(
        _ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, into row: inout SpanRow, depth: Int
    ) throws(DecodeError) {
        var first = true
        while let key = try state.reader.nextMember(&first) {
            switch fields.lookup(key, in: fields.keys.span, &state) {
            case 0:
                row.traceID = try fields.readTraceID(&state, field: "Span.traceId", mark: .traceID, in: &row.zeroIDs)
            case 1: row.spanID = try fields.readSpanID(&state, field: "Span.spanId", mark: .spanID, in: &row.zeroIDs)
            case 2:
                row.parentSpanID = try fields.readSpanID(
                    &state, field: "Span.parentSpanId", mark: .parentSpanID, in: &row.zeroIDs)
            case 3: row.name = try fields.readString(&state, arena: &storage.arena, field: "Span.name")
            case 4: row.kind = try fields.readEnum(&state, names: OTLPEnumNames.spanKind, field: "Span.kind")
            case 5: row.startTime = try fields.readUInt64(&state, field: "Span.startTimeUnixNano")
            case 6: row.endTime = try fields.readUInt64(&state, field: "Span.endTimeUnixNano")
            case 7: try fields.readAttributes(&state, arena: &storage.arena, depth: depth + 1, into: &attributes)
            case 8: row.traceState = try fields.readString(&state, arena: &storage.arena, field: "Span.traceState")
            case 9: row.flags = try fields.readUInt32(&state, field: "Span.flags")
            case 10: try readStatus(fields, &state, depth: depth + 1, into: &row.status)
            case 11:
                try readArray(fields, &state, field: "Span.events") { batch, state throws(DecodeError) in
                    try batch.readEvent(fields, &state, depth: depth + 2)
                }
            case 12:
                try readArray(fields, &state, field: "Span.links") { batch, state throws(DecodeError) in
                    try batch.readLink(fields, &state, depth: depth + 2)
                }
            case 13: row.dropped.attributes = try fields.readUInt32(&state, field: "Span.droppedAttributesCount")
            case 14: row.dropped.events = try fields.readUInt32(&state, field: "Span.droppedEventsCount")
            case 15: row.dropped.links = try fields.readUInt32(&state, field: "Span.droppedLinksCount")
            default: try state.reader.skipValue(depth: depth, maxDepth: fields.maxDepth)
            }
        }
    }

    /// Reads a JSON array, calling `element` for each item.
    private mutating func readArray(
        _ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, field: StaticString,
        _ element: (inout SpanBatch, inout JSONDecodeState) throws(DecodeError) -> Void
    ) throws(DecodeError) {
        guard state.reader.peek() == UInt8(ascii: "[") else {
            if state.reader.readNullIfPresent() { return }
            return try fields.wrongType(&state, field: field, or: ())
        }
        try state.reader.beginArray()
        var first = true
        while try state.reader.nextElement(&first) { try element(&self, &state) }
    }

    private mutating func readStatus(
        _ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, depth: Int, into status: inout SpanStatus
    ) throws(DecodeError) {
        if state.reader.peek() != UInt8(ascii: "{") {
            if state.reader.readNullIfPresent() { return }
            return try fields.wrongType(&state, field: "Span.status", or: ())
        }
        try state.reader.beginObject()
        status.isPresent = true
        var first = true
        while let key = try state.reader.nextMember(&first) {
            if fields.matches(key, "code", "code", &state) {
                status.code = try fields.readEnum(&state, names: OTLPEnumNames.statusCode, field: "Status.code")
            } else if fields.matches(key, "message", "message", &state) {
                status.message = try fields.readString(&state, arena: &storage.arena, field: "Status.message")
            } else {
                try state.reader.skipValue(depth: depth, maxDepth: fields.maxDepth)
            }
        }
    }

    private mutating func readEvent(_ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, depth: Int)
        throws(DecodeError)
    {
        if state.reader.peek() != UInt8(ascii: "{") { return try fields.wrongType(&state, field: "Span.Event", or: ()) }
        try state.reader.beginObject()
        var time: UInt64 = 0
        var name = ByteSlice.empty
        var dropped: UInt32 = 0
        let firstAttribute = events.attributeTable.count
        var first = true
        while let key = try state.reader.nextMember(&first) {
            if fields.matches(key, "timeUnixNano", "time_unix_nano", &state) {
                time = try fields.readUInt64(&state, field: "Event.timeUnixNano")
            } else if fields.matches(key, "name", "name", &state) {
                name = try fields.readString(&state, arena: &storage.arena, field: "Event.name")
            } else if fields.matches(key, "attributes", "attributes", &state) {
                try fields.readAttributes(&state, arena: &storage.arena, depth: depth + 1, into: &events.attributeTable)
            } else if fields.matches(key, "droppedAttributesCount", "dropped_attributes_count", &state) {
                dropped = try fields.readUInt32(&state, field: "Event.droppedAttributesCount")
            } else {
                try state.reader.skipValue(depth: depth, maxDepth: fields.maxDepth)
            }
        }
        events.append(
            time: time, name: name, attributes: RowRange(start: firstAttribute, end: events.attributeTable.count),
            droppedAttributesCount: dropped)
    }

    private mutating func readLink(_ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, depth: Int)
        throws(DecodeError)
    {
        if state.reader.peek() != UInt8(ascii: "{") { return try fields.wrongType(&state, field: "Span.Link", or: ()) }
        try state.reader.beginObject()
        var traceID = TraceID.zero
        var spanID = SpanID.zero
        var zeroIDs: ZeroIDMarks.Field = []
        var traceState = ByteSlice.empty
        var dropped: UInt32 = 0
        var linkFlags: UInt32 = 0
        let firstAttribute = links.attributeTable.count
        var first = true
        while let key = try state.reader.nextMember(&first) {
            if fields.matches(key, "traceId", "trace_id", &state) {
                traceID = try fields.readTraceID(&state, field: "Link.traceId", mark: .traceID, in: &zeroIDs)
            } else if fields.matches(key, "spanId", "span_id", &state) {
                spanID = try fields.readSpanID(&state, field: "Link.spanId", mark: .spanID, in: &zeroIDs)
            } else if fields.matches(key, "traceState", "trace_state", &state) {
                traceState = try fields.readString(&state, arena: &storage.arena, field: "Link.traceState")
            } else if fields.matches(key, "attributes", "attributes", &state) {
                try fields.readAttributes(&state, arena: &storage.arena, depth: depth + 1, into: &links.attributeTable)
            } else if fields.matches(key, "droppedAttributesCount", "dropped_attributes_count", &state) {
                dropped = try fields.readUInt32(&state, field: "Link.droppedAttributesCount")
            } else if fields.matches(key, "flags", "flags", &state) {
                linkFlags = try fields.readUInt32(&state, field: "Link.flags")
            } else {
                try state.reader.skipValue(depth: depth, maxDepth: fields.maxDepth)
            }
        }
        links.append(
            traceID: traceID, spanID: spanID, traceState: traceState,
            attributes: RowRange(start: firstAttribute, end: links.attributeTable.count),
            droppedAttributesCount: dropped, flags: linkFlags, zeroIDs: zeroIDs)
    }
}
