extension LogBatch: OTLPJSONBatch {
    mutating func decodeJSONMembers(
        _ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, into row: inout LogRow, depth: Int
    ) throws(DecodeError) {
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
    }
}
