/// Sizes of every table of a batch at one moment, so a rejected container can be undone.
@usableFromInline
struct BatchMark {
    @usableFromInline var resources = 0
    @usableFromInline var scopes = 0
    @usableFromInline var attributes = 0
    @usableFromInline var rows = 0
    @usableFromInline var events = 0
    @usableFromInline var eventAttributes = 0
    @usableFromInline var links = 0
    @usableFromInline var linkAttributes = 0
    @usableFromInline var metrics = 0

    @usableFromInline init() {}
}

/// The names of a signal's containers: protobuf field names for errors, and the JSON keys
/// (camelCase as the OTLP JSON mapping writes them, snake_case as some senders do).
@usableFromInline
struct OTLPContainerNames: Sendable {
    @usableFromInline let resourceEntryField: StaticString
    @usableFromInline let scopeEntryField: StaticString
    @usableFromInline let recordField: StaticString
    let resourceEntriesKey: StaticString
    let resourceEntriesSnakeKey: StaticString
    let scopeEntriesKey: StaticString
    let scopeEntriesSnakeKey: StaticString
    let recordsKey: StaticString
    let recordsSnakeKey: StaticString
    /// The record message, for errors about a record that is not an object.
    let recordName: StaticString

    static let traces = OTLPContainerNames(
        resourceEntryField: "ExportTraceServiceRequest.resource_spans", scopeEntryField: "ResourceSpans.scope_spans",
        recordField: "ScopeSpans.spans", resourceEntriesKey: "resourceSpans", resourceEntriesSnakeKey: "resource_spans",
        scopeEntriesKey: "scopeSpans", scopeEntriesSnakeKey: "scope_spans", recordsKey: "spans",
        recordsSnakeKey: "spans", recordName: "Span")

    static let logs = OTLPContainerNames(
        resourceEntryField: "ExportLogsServiceRequest.resource_logs", scopeEntryField: "ResourceLogs.scope_logs",
        recordField: "ScopeLogs.log_records", resourceEntriesKey: "resourceLogs",
        resourceEntriesSnakeKey: "resource_logs", scopeEntriesKey: "scopeLogs", scopeEntriesSnakeKey: "scope_logs",
        recordsKey: "logRecords", recordsSnakeKey: "log_records", recordName: "LogRecord")

    static let metrics = OTLPContainerNames(
        resourceEntryField: "ExportMetricsServiceRequest.resource_metrics",
        scopeEntryField: "ResourceMetrics.scope_metrics", recordField: "ScopeMetrics.metrics",
        resourceEntriesKey: "resourceMetrics", resourceEntriesSnakeKey: "resource_metrics",
        scopeEntriesKey: "scopeMetrics", scopeEntriesSnakeKey: "scope_metrics", recordsKey: "metrics",
        recordsSnakeKey: "metrics", recordName: "Metric")
}

/// What the request → resource entry → scope entry walk of both decoders needs from a batch
/// beyond `TelemetryBatch`; signals differ only below the scope entry (`decodeRow`) and in the
/// record-level tables a rejected record must undo (span events and links).
@usableFromInline
protocol OTLPContainerBatch: TelemetryBatch {
    /// The signal's container names.
    static var containerNames: OTLPContainerNames { get }

    /// Adds the sizes of the record-level tables beyond rows (span events and links) to `mark`.
    func markRecordTables(_ mark: inout BatchMark)
    /// Drops rows and record-level table entries past `mark`.
    mutating func rollbackRecords(to mark: BatchMark)
    /// Each record's original encoding (empty once modified or built from text).
    var encodedRecords: [ByteSlice] { get }
    /// Writes the protobuf content of `row` from its columns, back to front.
    func writeColumns(ofRow row: Int, _ bytes: BatchBytes, into writer: WireWriter)
    /// Writes `row` as an OTLP JSON object.
    func writeJSON(ofRow row: Int, into writer: inout JSONTextWriter)

    /// A record's fixed fields, gathered while decoding and appended at once.
    associatedtype Row: DecodedRow
    /// Appends one row; every column gets exactly one element.
    mutating func appendRow(_ row: Row)
    /// Reads a protobuf record's fields into `row` and the batch's tables, skipping fields it
    /// does not know; `decodeRecord` does what every record shares (depth, scope, attribute
    /// range, original bytes). One call per record: the field loop stays in the concrete type,
    /// where the reader lives in registers.
    mutating func decodeFields(
        _ reader: inout WireReader, into row: inout Row, depth: Int, using decoder: OTLPFieldDecoder
    ) throws(DecodeError)
    /// Sets the row's ranges in the record-level tables beyond attributes (span events and
    /// links), which have grown since `mark`.
    func finishRecordTables(of row: inout Row, since mark: BatchMark)
    /// Decodes one record of a scope entry (a span, a log record, a metric with its data
    /// points); on bad input it records the rejection itself and keeps nothing of it.
    mutating func decodeRecord(_ region: Range<Int>, depth: Int, scopeIndex: UInt32, using decoder: OTLPFieldDecoder)
}

/// What every decoded row carries whatever its signal.
@usableFromInline
protocol DecodedRow {
    init()
    var scopeIndex: UInt32 { get set }
    var attributes: RowRange { get set }
    var encoded: ByteSlice { get set }
}

extension OTLPContainerBatch {
    /// Sizes of every table now, so a rejected container can be undone.
    @inlinable
    var mark: BatchMark {
        var mark = BatchMark()
        mark.resources = resources.count
        mark.scopes = scopes.count
        mark.attributes = attributes.count
        mark.rows = count
        markRecordTables(&mark)
        return mark
    }

    /// Undoes everything added since `mark`.
    @inlinable
    mutating func rollback(to mark: BatchMark) {
        resources.removeSubrange(mark.resources...)
        scopes.removeSubrange(mark.scopes...)
        attributes.truncate(to: mark.attributes)
        rollbackRecords(to: mark)
    }

    /// Decodes one record; on bad input it records the rejection itself and adds no row.
    @inlinable
    mutating func decodeRecord(_ region: Range<Int>, depth: Int, scopeIndex: UInt32, using decoder: OTLPFieldDecoder) {
        var row = Row()
        row.scopeIndex = scopeIndex
        decodeRow(region, depth: depth, startingWith: row, using: decoder)
    }

    /// Decodes the message in `region` into one row begun as `row` (what the caller knows
    /// before reading it: its scope, and for a data point its metric); on bad input it records
    /// the rejection (one record), keeps nothing of it and returns false.
    @inlinable @discardableResult
    mutating func decodeRow(_ region: Range<Int>, depth: Int, startingWith row: Row, using decoder: OTLPFieldDecoder)
        -> Bool
    {
        let start = mark
        do throws(DecodeError) {
            try decoder.checkDepth(depth, at: region.lowerBound)
            var reader = decoder.reader(region)
            var row = row
            try decodeFields(&reader, into: &row, depth: depth, using: decoder)
            row.attributes = RowRange(start: start.attributes, end: attributes.count)
            finishRecordTables(of: &row, since: start)
            row.encoded = decoder.slice(region)
            appendRow(row)
            return true
        } catch {
            rollback(to: start)
            rejections.append(error, records: 1)
            return false
        }
    }
}

extension OTLPFieldDecoder {
    /// Decodes an `Export*ServiceRequest` (or `TracesData`/`LogsData`, the same wire shape).
    ///
    /// Damage is confined as tightly as the framing allows: a bad record loses that record; a
    /// container whose own framing breaks loses the rest of that container (counted as one
    /// record) and keeps what came before; a bad resource or scope loses the records under it.
    @inlinable
    func decodeRequest<Batch: OTLPContainerBatch>(into batch: inout Batch) {
        var reader = reader(0..<frame.count)
        while !reader.isAtEnd {
            let tagStart = reader.position
            do throws(DecodeError) {
                let tag = try reader.readTag()
                if tag.number == 1 {
                    try expect(tag, .lengthDelimited, at: tagStart, field: Batch.containerNames.resourceEntryField)
                    decodeResourceEntry(try reader.readLengthDelimited(), depth: 1, into: &batch)
                } else {
                    try reader.skipField(tag, depth: 0, maxDepth: maxDepth)
                }
            } catch {
                batch.rejections.append(error, records: 1)
                return
            }
        }
    }

    @inlinable
    func decodeResourceEntry<Batch: OTLPContainerBatch>(_ region: Range<Int>, depth: Int, into batch: inout Batch) {
        let start = batch.mark
        let resourceIndex = batch.resources.count
        batch.resources.append(ResourceEntry())
        var resourceError: DecodeError?
        var reader = reader(region)
        do throws(DecodeError) {
            try checkDepth(depth, at: region.lowerBound)
            while !reader.isAtEnd {
                let tagStart = reader.position
                let tag = try reader.readTag()
                switch tag.number {
                case 1:
                    try expect(tag, .lengthDelimited, at: tagStart, field: "Resource")
                    let inner = try reader.readLengthDelimited()
                    do throws(DecodeError) {
                        // Met again, `resource` merges into the earlier one, as protobuf specifies.
                        var entry = batch.resources[resourceIndex]
                        let earlier = entry.raw
                        if earlier != nil { entry.attributes = batch.attributes.growableAtEnd(entry.attributes) }
                        try decodeResource(inner, depth: depth + 1, into: &entry, attributes: &batch.attributes)
                        if let earlier, let later = entry.raw {
                            entry.raw = batch.storage.appendToArena(joining: earlier, later)
                        }
                        batch.resources[resourceIndex] = entry
                    } catch {
                        resourceError = resourceError ?? error
                    }
                case 2:
                    try expect(tag, .lengthDelimited, at: tagStart, field: Batch.containerNames.scopeEntryField)
                    decodeScopeEntry(
                        try reader.readLengthDelimited(), depth: depth + 1, resourceIndex: resourceIndex, into: &batch)
                case 3:
                    try expect(tag, .lengthDelimited, at: tagStart, field: "schema_url")
                    do throws(DecodeError) {
                        batch.resources[resourceIndex].schemaURL = try readString(&reader, field: "schema_url")
                    } catch {
                        resourceError = resourceError ?? error
                    }
                default:
                    try reader.skipField(tag, depth: depth, maxDepth: maxDepth)
                }
            }
        } catch {
            batch.rejections.append(error, records: 1)
        }
        batch.resources[resourceIndex].scopes = RowRange(start: start.scopes, end: batch.scopes.count)
        if let resourceError {
            let lost = batch.count - start.rows
            batch.rollback(to: start)
            batch.rejections.append(resourceError, records: lost)
        }
    }

    @inlinable
    func decodeScopeEntry<Batch: OTLPContainerBatch>(
        _ region: Range<Int>, depth: Int, resourceIndex: Int, into batch: inout Batch
    ) {
        let start = batch.mark
        let scopeIndex = batch.scopes.count
        var entry = ScopeEntry()
        entry.resourceIndex = UInt32(truncatingIfNeeded: resourceIndex)
        batch.scopes.append(entry)
        var scopeError: DecodeError?
        var reader = reader(region)
        do throws(DecodeError) {
            try checkDepth(depth, at: region.lowerBound)
            while !reader.isAtEnd {
                let tagStart = reader.position
                let tag = try reader.readTag()
                switch tag.number {
                case 1:
                    try expect(tag, .lengthDelimited, at: tagStart, field: "InstrumentationScope")
                    let inner = try reader.readLengthDelimited()
                    do throws(DecodeError) {
                        // Met again, `scope` merges into the earlier one, as protobuf specifies.
                        var entry = batch.scopes[scopeIndex]
                        let earlier = entry.raw
                        if earlier != nil { entry.attributes = batch.attributes.growableAtEnd(entry.attributes) }
                        try decodeScope(inner, depth: depth + 1, into: &entry, attributes: &batch.attributes)
                        if let earlier, let later = entry.raw {
                            entry.raw = batch.storage.appendToArena(joining: earlier, later)
                        }
                        batch.scopes[scopeIndex] = entry
                    } catch {
                        scopeError = scopeError ?? error
                    }
                case 2:
                    try expect(tag, .lengthDelimited, at: tagStart, field: Batch.containerNames.recordField)
                    batch.decodeRecord(
                        try reader.readLengthDelimited(), depth: depth + 1,
                        scopeIndex: UInt32(truncatingIfNeeded: scopeIndex), using: self)
                case 3:
                    try expect(tag, .lengthDelimited, at: tagStart, field: "schema_url")
                    do throws(DecodeError) {
                        batch.scopes[scopeIndex].schemaURL = try readString(&reader, field: "schema_url")
                    } catch {
                        scopeError = scopeError ?? error
                    }
                default:
                    try reader.skipField(tag, depth: depth, maxDepth: maxDepth)
                }
            }
        } catch {
            batch.rejections.append(error, records: 1)
        }
        batch.scopes[scopeIndex].rows = RowRange(start: start.rows, end: batch.count)
        if let scopeError {
            let lost = batch.count - start.rows
            batch.rollback(to: start)
            batch.rejections.append(scopeError, records: lost)
        }
    }
}
