extension LogBatch: OTLPJSONBatch {
    static var resourceEntriesKey: StaticString { "resourceLogs" }
    static var resourceEntriesSnakeKey: StaticString { "resource_logs" }
    static var scopeEntriesKey: StaticString { "scopeLogs" }
    static var scopeEntriesSnakeKey: StaticString { "scope_logs" }
    static var recordsKey: StaticString { "logRecords" }
    static var recordsSnakeKey: StaticString { "log_records" }

    mutating func decodeJSONRecord(
        _ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, depth: Int, scopeIndex: UInt32
    ) throws(DecodeError) {
        if state.reader.peek() != UInt8(ascii: "{") {
            return try fields.wrongType(&state, field: "LogRecord", or: ())
        }
        try state.reader.beginObject()
        var row = LogRow()
        row.scopeIndex = scopeIndex
        let firstAttribute = attributes.count
        var first = true
        while let key = try state.reader.nextMember(&first) {
            switch fields.lookup(key, in: fields.keys.logRecord, &state) {
            case 0: row.time = try fields.readUInt64(&state, field: "LogRecord.timeUnixNano")
            case 1: row.observedTime = try fields.readUInt64(&state, field: "LogRecord.observedTimeUnixNano")
            case 2:
                row.severityNumber = try fields.readEnum(
                    &state, names: OTLPEnumNames.severityNumber, field: "LogRecord.severityNumber")
            case 3:
                row.severityText = try fields.readString(&state, arena: &storage.arena, field: "LogRecord.severityText")
            case 4: row.body = try fields.readAnyValue(&state, arena: &storage.arena, depth: depth + 1)
            case 5: try fields.readAttributes(&state, arena: &storage.arena, depth: depth + 1, into: &attributes)
            case 6:
                row.droppedAttributesCount = try fields.readUInt32(&state, field: "LogRecord.droppedAttributesCount")
            case 7: row.flags = try fields.readUInt32(&state, field: "LogRecord.flags")
            case 8:
                row.traceID = try fields.readTraceID(
                    &state, field: "LogRecord.traceId", mark: .traceID, in: &row.zeroIDs)
            case 9:
                row.spanID = try fields.readSpanID(&state, field: "LogRecord.spanId", mark: .spanID, in: &row.zeroIDs)
            case 10: row.eventName = try fields.readString(&state, arena: &storage.arena, field: "LogRecord.eventName")
            default: try state.reader.skipValue(depth: depth, maxDepth: fields.maxDepth)
            }
        }
        row.attributes = RowRange(start: firstAttribute, end: attributes.count)
        appendRow(row)
    }
}
