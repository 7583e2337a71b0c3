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
                row.time = try decoder.fixed64(tag, at: tagStart, &reader, field: "LogRecord.time_unix_nano")
            case 2:
                row.severityNumber = try decoder.int32(tag, at: tagStart, &reader, field: "LogRecord.severity_number")
            case 3:
                row.severityText = try decoder.string(tag, at: tagStart, &reader, field: "LogRecord.severity_text")
            case 5:
                let body = try decoder.message(tag, at: tagStart, &reader, field: "LogRecord.body")
                var needsMerge = row.body.kind != .absent
                let value = try decoder.decodeAnyValue(body, depth: depth + 1, needsMerge: &needsMerge)
                // `body` met twice, or an array or list met twice in it: protobuf merges them.
                row.body = needsMerge ? try decoder.mergeAnyValue(body, into: row.body, storage: &storage) : value
            case 6:
                try decoder.attribute(
                    tag, at: tagStart, &reader, field: "LogRecord.attributes", depth: depth + 1, into: &attributes)
            case 7:
                row.droppedAttributesCount = try decoder.uint32(
                    tag, at: tagStart, &reader, field: "LogRecord.dropped_attributes_count")
            case 8:
                row.flags = try decoder.fixed32(tag, at: tagStart, &reader, field: "LogRecord.flags")
            case 9:
                row.traceID = try decoder.traceID(
                    tag, at: tagStart, &reader, field: "LogRecord.trace_id", mark: .traceID, in: &row.zeroIDs)
            case 10:
                row.spanID = try decoder.spanID(
                    tag, at: tagStart, &reader, field: "LogRecord.span_id", mark: .spanID, in: &row.zeroIDs)
            case 11:
                row.observedTime = try decoder.fixed64(
                    tag, at: tagStart, &reader, field: "LogRecord.observed_time_unix_nano")
            case 12:
                row.eventName = try decoder.string(tag, at: tagStart, &reader, field: "LogRecord.event_name")
            default:
                try reader.skipField(tag, depth: depth, maxDepth: decoder.maxDepth)
            }
        }
    }
}
