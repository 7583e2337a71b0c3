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
            if fields.matches(key, "timeUnixNano", "time_unix_nano", &state) {
                row.time = try fields.readUInt64(&state, field: "LogRecord.timeUnixNano")
            } else if fields.matches(key, "observedTimeUnixNano", "observed_time_unix_nano", &state) {
                row.observedTime = try fields.readUInt64(&state, field: "LogRecord.observedTimeUnixNano")
            } else if fields.matches(key, "severityNumber", "severity_number", &state) {
                row.severityNumber = try fields.readEnum(
                    &state, names: OTLPEnumNames.severityNumber, field: "LogRecord.severityNumber")
            } else if fields.matches(key, "severityText", "severity_text", &state) {
                row.severityText = try fields.readString(&state, arena: &storage.arena, field: "LogRecord.severityText")
            } else if fields.matches(key, "body", "body", &state) {
                row.body = try fields.readAnyValue(&state, arena: &storage.arena, depth: depth + 1)
            } else if fields.matches(key, "attributes", "attributes", &state) {
                try fields.readAttributes(&state, arena: &storage.arena, depth: depth + 1, into: &attributes)
            } else if fields.matches(key, "droppedAttributesCount", "dropped_attributes_count", &state) {
                row.droppedAttributesCount = try fields.readUInt32(&state, field: "LogRecord.droppedAttributesCount")
            } else if fields.matches(key, "flags", "flags", &state) {
                row.flags = try fields.readUInt32(&state, field: "LogRecord.flags")
            } else if fields.matches(key, "traceId", "trace_id", &state) {
                row.traceID = try fields.readTraceID(&state, field: "LogRecord.traceId")
            } else if fields.matches(key, "spanId", "span_id", &state) {
                row.spanID = try fields.readSpanID(&state, field: "LogRecord.spanId")
            } else if fields.matches(key, "eventName", "event_name", &state) {
                row.eventName = try fields.readString(&state, arena: &storage.arena, field: "LogRecord.eventName")
            } else {
                try state.reader.skipValue(depth: depth, maxDepth: fields.maxDepth)
            }
        }
        row.attributes = RowRange(start: firstAttribute, end: attributes.count)
        appendRow(row)
    }
}
