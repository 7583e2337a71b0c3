extension LogBatch: OTLPContainerBatch {
    @usableFromInline static var containerNames: OTLPContainerNames { .logs }

    @usableFromInline func writeJSON(ofRow row: Int, into writer: inout JSONTextWriter) { writer.logRecord(self, row) }

    @usableFromInline
    func markRecordTables(_ mark: inout BatchMark) {}

    @usableFromInline
    mutating func rollbackRecords(to mark: BatchMark) { truncateRows(to: mark.rows) }

    @usableFromInline
    func finishRecordTables(of row: inout LogRow, since mark: BatchMark) {}

    /// Reads a `LogRecord`'s fields into `row`; on an error the caller rolls back the
    /// attributes already added.
    @inlinable
    mutating func decodeFields(
        _ reader: inout WireReader, into row: inout LogRow, depth: Int, using decoder: OTLPFieldDecoder
    ) throws(DecodeError) {
        while let (tag, tagStart) = try reader.nextField() {
            switch tag.number {
            case 1:
                try decoder.expect(tag, .fixed64, at: tagStart, field: "LogRecord.time_unix_nano")
                row.time = try reader.readFixed64()
            case 2:
                try decoder.expect(tag, .varint, at: tagStart, field: "LogRecord.severity_number")
                row.severityNumber = Int32(truncatingIfNeeded: try reader.readVarint())
            case 3:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "LogRecord.severity_text")
                row.severityText = try decoder.readString(&reader, field: "LogRecord.severity_text")
            case 5:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "LogRecord.body")
                let body = try reader.readLengthDelimited()
                var needsMerge = row.body.kind != .absent
                let value = try decoder.decodeAnyValue(body, depth: depth + 1, needsMerge: &needsMerge)
                // `body` met twice, or an array or list met twice in it: protobuf merges them.
                row.body = needsMerge ? try decoder.mergeAnyValue(body, into: row.body, storage: &storage) : value
            case 6:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "LogRecord.attributes")
                try decoder.decodeKeyValue(try reader.readLengthDelimited(), depth: depth + 1, into: &attributes)
            case 7:
                try decoder.expect(tag, .varint, at: tagStart, field: "LogRecord.dropped_attributes_count")
                row.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint())
            case 8:
                try decoder.expect(tag, .fixed32, at: tagStart, field: "LogRecord.flags")
                row.flags = try reader.readFixed32()
            case 9:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "LogRecord.trace_id")
                row.traceID = try decoder.readTraceID(
                    &reader, field: "LogRecord.trace_id", mark: .traceID, in: &row.zeroIDs)
            case 10:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "LogRecord.span_id")
                row.spanID = try decoder.readSpanID(
                    &reader, field: "LogRecord.span_id", mark: .spanID, in: &row.zeroIDs)
            case 11:
                try decoder.expect(tag, .fixed64, at: tagStart, field: "LogRecord.observed_time_unix_nano")
                row.observedTime = try reader.readFixed64()
            case 12:
                try decoder.expect(tag, .lengthDelimited, at: tagStart, field: "LogRecord.event_name")
                row.eventName = try decoder.readString(&reader, field: "LogRecord.event_name")
            default:
                try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
            }
        }
    }
}
