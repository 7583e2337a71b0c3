/// Encodes batches as OTLP protobuf export requests.
///
/// A row no stage changed is written by copying its original bytes (unknown fields included);
/// a changed or synthesized row is written from its columns. Writes back to front through a
/// `WireWriter`, so there is no size pass; allocates only when the writer has to grow.
public struct OTLPProtobufEncoder: Sendable {
    /// How requests are delimited on output.
    public enum Framing: Sendable {
        /// The bare message (an OTLP/HTTP body).
        case none
        /// A 4-byte big-endian length before each request, as the Collector's file exporter
        /// writes with `format: proto`.
        case bigEndianLengthPrefix
    }

    /// The framing of each request.
    public var framing: Framing
    /// Write every row from its columns even when its original bytes could be copied. For
    /// tests that prove the columns hold every field.
    public var encodeFromColumns: Bool

    /// Makes an encoder. Allocates nothing.
    public init(framing: Framing = .bigEndianLengthPrefix, encodeFromColumns: Bool = false) {
        self.framing = framing
        self.encodeFromColumns = encodeFromColumns
    }

    /// Prepends `batch` as one `ExportTraceServiceRequest` to `writer`.
    ///
    /// - Parameters:
    ///   - batch: the records.
    ///   - mask: rows to leave out (dropped by a stage); nil keeps every row.
    ///   - writer: the request is written here (with the encoder's framing).
    ///
    /// Allocates only when the writer grows.
    public func encode(_ batch: SpanBatch, keeping mask: RowMask? = nil, into writer: WireWriter) {
        encodeRequest(batch, keeping: mask, into: writer)
    }

    /// Prepends `batch` as one `ExportLogsServiceRequest` to `writer`; see the span variant.
    /// Allocates only when the writer grows.
    public func encode(_ batch: LogBatch, keeping mask: RowMask? = nil, into writer: WireWriter) {
        encodeRequest(batch, keeping: mask, into: writer)
    }

    /// Prepends `batch` as one `ExportMetricsServiceRequest` to `writer`; see the span variant.
    /// Kept points are grouped under their metric again; a metric whose points were all
    /// dropped is left out, and one kept whole and unchanged is copied as it came.
    /// Allocates only when the writer grows.
    public func encode(_ batch: MetricBatch, keeping mask: RowMask? = nil, into writer: WireWriter) {
        let mark = writer.count
        let copyThrough = !encodeFromColumns
        let mask = mask.flatMap { $0.keepsAll ? nil : $0 }
        let metrics = batch.metrics
        batch.withBytes { bytes in
            // Scopes are written last to first, and their metrics lie in scope order: one
            // cursor walks the metric table backwards.
            var cursor = metrics.count
            encodeContainers(
                resources: batch.resources, scopes: batch.scopes, attributes: batch.attributes, mask: mask,
                bytes: bytes, writer: writer
            ) { scopeIndex, _ in
                while cursor > 0 && Int(metrics.scopeIndexes[cursor - 1]) > scopeIndex { cursor -= 1 }
                var first = cursor
                while first > 0 && Int(metrics.scopeIndexes[first - 1]) == scopeIndex { first -= 1 }
                for metric in (first..<cursor).reversed() {
                    encodeMetric(batch, metric, mask: mask, copyThrough: copyThrough, bytes: bytes, writer: writer)
                }
                cursor = first
            }
        }
        finishFrame(writer, since: mark)
    }

    /// One `Metric` (field 2 of its `ScopeMetrics`), left out when it had points and kept none.
    private func encodeMetric(
        _ batch: MetricBatch, _ metric: Int, mask: RowMask?, copyThrough: Bool, bytes: BatchBytes,
        writer: WireWriter
    ) {
        let metrics = batch.metrics
        let points = metrics.points[metric].range
        var keptAll = true
        if let mask {
            let kept = points.reduce(0) { $0 + (mask.kept[$1] ? 1 : 0) }
            if kept == 0 && !points.isEmpty { return }
            keptAll = kept == points.count
        }
        let unchanged =
            copyThrough && keptAll && !metrics.isModified[metric]
            && points.allSatisfy { !batch.encodedRecords[$0].isEmpty }
        let metricMark = writer.count
        if unchanged {
            writer.writeBytes(bytes[metrics.raws[metric]])
            writer.writeLengthDelimitedHeader(field: 2, since: metricMark)
            return
        }
        let type = metrics.types[metric]
        if type != .empty {
            let dataMark = writer.count
            writeRecords(batch, points, field: 1, mask: mask, copyThrough: copyThrough, bytes: bytes, writer: writer)
            let dataRaw = metrics.dataRaws[metric]
            if !dataRaw.isEmpty { writer.writeFields(of: bytes[dataRaw], except: 1...1) }
            writer.writeLengthDelimitedHeader(field: type.rawValue, since: dataMark)
        }
        // Metadata and unknown fields come from the original; the data oneof was written above.
        let raw = bytes[metrics.raws[metric]]
        writer.writeFields(of: raw) { $0 <= 3 || MetricType(rawValue: $0) != nil }
        writer.writeStringField(3, bytes[metrics.units[metric]])
        writer.writeStringField(2, bytes[metrics.descriptions[metric]])
        writer.writeStringField(1, bytes[metrics.names[metric]])
        writer.writeLengthDelimitedHeader(field: 2, since: metricMark)
    }

    /// One request of either signal (specialized for each batch type).
    private func encodeRequest<Batch: OTLPContainerBatch>(
        _ batch: Batch, keeping mask: RowMask?, into writer: WireWriter
    ) {
        let mark = writer.count
        let copyThrough = !encodeFromColumns
        let mask = mask.flatMap { $0.keepsAll ? nil : $0 }
        batch.withBytes { bytes in
            encodeContainers(
                resources: batch.resources, scopes: batch.scopes, attributes: batch.attributes, mask: mask,
                bytes: bytes, writer: writer
            ) { _, scope in
                writeRecords(
                    batch, scope.rows.range, field: 2, mask: mask, copyThrough: copyThrough, bytes: bytes,
                    writer: writer)
            }
        }
        finishFrame(writer, since: mark)
    }

    /// Prepends the kept rows of `rows` as field `field` each, in their order: a row's original
    /// bytes when it is unchanged and copying is allowed, else its columns.
    @inline(__always)
    private func writeRecords<Batch: OTLPContainerBatch>(
        _ batch: Batch, _ rows: Range<Int>, field: UInt32, mask: RowMask?, copyThrough: Bool, bytes: BatchBytes,
        writer: WireWriter
    ) {
        for row in rows.reversed() {
            if let mask, !mask.kept[row] { continue }
            let recordMark = writer.count
            let encoded = batch.encodedRecords[row]
            if copyThrough && !encoded.isEmpty {
                writer.writeBytes(bytes[encoded])
            } else {
                batch.writeColumns(ofRow: row, bytes, into: writer)
            }
            writer.writeLengthDelimitedHeader(field: field, since: recordMark)
        }
    }

    private func finishFrame(_ writer: WireWriter, since mark: Int) {
        if case .bigEndianLengthPrefix = framing {
            writer.writeBigEndianLength(UInt32(truncatingIfNeeded: writer.count - mark))
        }
    }

    /// Writes resource entries → scope entries → records (field 1 → 2 → 2 in every signal);
    /// `encodeRecords` writes a scope's records, each with its field-2 header. With a mask
    /// (nil when it keeps every row), dropped rows are left out, and so are scopes and
    /// resources that had rows and kept none (as the Collector's processors do).
    @inline(__always)
    private func encodeContainers(
        resources: [ResourceEntry], scopes: [ScopeEntry], attributes: AttributeTable, mask: RowMask?,
        bytes: BatchBytes, writer: WireWriter, encodeRecords: (Int, ScopeEntry) -> Void
    ) {
        func keptRows(_ scope: ScopeEntry) -> Int {
            guard let mask else { return Int(scope.rows.count) }
            return scope.rows.range.reduce(0) { $0 + (mask.kept[$1] ? 1 : 0) }
        }
        for resource in resources.reversed() {
            if mask != nil, resource.scopes.count > 0,
                resource.scopes.range.allSatisfy({ scopes[$0].rows.count > 0 && keptRows(scopes[$0]) == 0 })
            {
                continue
            }
            let resourceMark = writer.count
            writer.writeStringField(3, bytes[resource.schemaURL])
            for scopeIndex in resource.scopes.range.reversed() {
                let scope = scopes[scopeIndex]
                if mask != nil && scope.rows.count > 0 && keptRows(scope) == 0 { continue }
                let scopeMark = writer.count
                writer.writeStringField(3, bytes[scope.schemaURL])
                encodeRecords(scopeIndex, scope)
                if scope.isModified {
                    let mark = writer.count
                    if let raw = scope.raw { writer.writeFields(of: bytes[raw], except: 1...4) }
                    writer.writeVarintField(4, UInt64(scope.droppedAttributesCount))
                    writer.writeAttributes(3, attributes, scope.attributes, bytes)
                    writer.writeStringField(2, bytes[scope.version])
                    writer.writeStringField(1, bytes[scope.name])
                    writer.writeLengthDelimitedHeader(field: 1, since: mark)
                } else if let raw = scope.raw {
                    writer.writeMessageField(1, bytes[raw])
                }
                writer.writeLengthDelimitedHeader(field: 2, since: scopeMark)
            }
            if resource.isModified {
                let mark = writer.count
                if let raw = resource.raw { writer.writeFields(of: bytes[raw], except: 1...2) }
                writer.writeVarintField(2, UInt64(resource.droppedAttributesCount))
                writer.writeAttributes(1, attributes, resource.attributes, bytes)
                writer.writeLengthDelimitedHeader(field: 1, since: mark)
            } else if let raw = resource.raw {
                writer.writeMessageField(1, bytes[raw])
            }
            writer.writeLengthDelimitedHeader(field: 1, since: resourceMark)
        }
    }
}

extension WireWriter {
    /// Prepends the fields of `message` whose numbers are outside `excluded`, in their order
    /// (what a re-encoded resource or scope keeps of its original: entity refs, unknown fields).
    func writeFields(of message: UnsafeRawBufferPointer, except excluded: ClosedRange<UInt32>) {
        writeFields(of: message) { excluded.contains($0) }
    }

    /// Prepends the fields of `message` for which `isExcluded` is false, in their order.
    func writeFields(of message: UnsafeRawBufferPointer, except isExcluded: (UInt32) -> Bool) {
        var reader = WireReader(frame: message)
        var kept: [Range<Int>] = []
        while !reader.isAtEnd {
            let start = reader.position
            // The decoder validated these bytes; a failure here ends the copy.
            guard let tag = try? reader.readTag(), (try? reader.skipField(tag, depth: 0, maxDepth: 100)) != nil else {
                break
            }
            if !isExcluded(tag.number) { kept.append(start..<reader.position) }
        }
        for range in kept.reversed() { writeBytes(UnsafeRawBufferPointer(rebasing: message[range])) }
    }

    /// Prepends a `string` field, omitted when empty (proto3 implicit presence).
    @inlinable
    func writeStringField(_ field: UInt32, _ value: UnsafeRawBufferPointer) {
        guard value.count > 0 else { return }
        writeMessageField(field, value)
    }

    /// Prepends a length-delimited field whatever its length (a present message or oneof case).
    @inlinable
    func writeMessageField(_ field: UInt32, _ value: UnsafeRawBufferPointer) {
        let mark = count
        writeBytes(value)
        writeLengthDelimitedHeader(field: field, since: mark)
    }

    @inlinable
    func writeVarintField(_ field: UInt32, _ value: UInt64) {
        guard value != 0 else { return }
        writeVarint(value)
        writeTag(field, .varint)
    }

    /// An enum or int32: negative values are sign-extended to ten bytes, as protobuf requires.
    @inlinable
    func writeInt32Field(_ field: UInt32, _ value: Int32) {
        writeVarintField(field, UInt64(bitPattern: Int64(value)))
    }

    @inlinable
    func writeFixed64Field(_ field: UInt32, _ value: UInt64) {
        guard value != 0 else { return }
        writeFixed64(value)
        writeTag(field, .fixed64)
    }

    @inlinable
    func writeFixed32Field(_ field: UInt32, _ value: UInt32) {
        guard value != 0 else { return }
        writeFixed32(value)
        writeTag(field, .fixed32)
    }

    /// An id field; a zero id is unset (not written) unless it arrived all zero (`present`).
    @inlinable
    func writeTraceIDField(_ field: UInt32, _ id: TraceID, present: Bool = false) {
        guard !id.isZero || present else { return }
        writeBigEndian64(id.low)
        writeBigEndian64(id.high)
        writeVarint(16)
        writeTag(field, .lengthDelimited)
    }

    @inlinable
    func writeSpanIDField(_ field: UInt32, _ id: SpanID, present: Bool = false) {
        guard !id.isZero || present else { return }
        writeBigEndian64(id.value)
        writeVarint(8)
        writeTag(field, .lengthDelimited)
    }

    /// Prepends the fields of an `AnyValue` message (its content, not its header).
    @inlinable
    func writeAnyValueContent(_ value: AnyValueRef, _ bytes: BatchBytes) {
        switch value.kind {
        case .absent, .empty, .rawKeyValue: return
        case .string: writeMessageField(1, bytes[value.slice])
        case .bool:
            writeVarint(value.payload)
            writeTag(2, .varint)
        case .int:
            writeVarint(value.payload)
            writeTag(3, .varint)
        case .double:
            writeFixed64(value.payload)
            writeTag(4, .fixed64)
        case .array: writeMessageField(5, bytes[value.slice])
        case .keyValueList: writeMessageField(6, bytes[value.slice])
        case .bytes: writeMessageField(7, bytes[value.slice])
        case .stringIndex:
            writeVarint(value.payload)
            writeTag(8, .varint)
        }
    }

    /// Prepends `attributes[range]` as repeated `KeyValue` field `field`, keeping their order.
    @inlinable
    func writeAttributes(_ field: UInt32, _ table: AttributeTable, _ range: RowRange, _ bytes: BatchBytes) {
        for index in range.range.reversed() {
            let value = table.values[index]
            if value.kind == .rawKeyValue {
                writeMessageField(field, bytes[value.slice])
                continue
            }
            let mark = count
            if value.kind != .absent {
                let valueMark = count
                writeAnyValueContent(value, bytes)
                writeLengthDelimitedHeader(field: 2, since: valueMark)
            }
            writeStringField(1, bytes[table.keys[index]])
            writeLengthDelimitedHeader(field: field, since: mark)
        }
    }
}

extension SpanBatch {
    /// The span's content from its columns (back to front).
    @usableFromInline @inline(__always)
    func writeColumns(ofRow row: Int, _ bytes: BatchBytes, into writer: WireWriter) {
        let batch = self
        writer.writeFixed32Field(16, batch.flags[row])
        let status = batch.statuses[row]
        if status.isPresent {
            let mark = writer.count
            writer.writeInt32Field(3, status.code)
            writer.writeStringField(2, bytes[status.message])
            writer.writeLengthDelimitedHeader(field: 15, since: mark)
        }
        let dropped = batch.droppedCounts[row]
        writer.writeVarintField(14, UInt64(dropped.links))
        let links = batch.links
        for link in batch.linkRanges[row].range.reversed() {
            let mark = writer.count
            writer.writeFixed32Field(6, links.flags[link])
            writer.writeVarintField(5, UInt64(links.droppedAttributesCounts[link]))
            writer.writeAttributes(4, links.attributeTable, links.attributes[link], bytes)
            writer.writeStringField(3, bytes[links.traceStates[link]])
            writer.writeSpanIDField(2, links.spanIDs[link], present: links.zeroIDs.contains(.spanID, row: link))
            writer.writeTraceIDField(1, links.traceIDs[link], present: links.zeroIDs.contains(.traceID, row: link))
            writer.writeLengthDelimitedHeader(field: 13, since: mark)
        }
        writer.writeVarintField(12, UInt64(dropped.events))
        let events = batch.events
        for event in batch.eventRanges[row].range.reversed() {
            let mark = writer.count
            writer.writeVarintField(4, UInt64(events.droppedAttributesCounts[event]))
            writer.writeAttributes(3, events.attributeTable, events.attributes[event], bytes)
            writer.writeStringField(2, bytes[events.names[event]])
            writer.writeFixed64Field(1, events.times[event])
            writer.writeLengthDelimitedHeader(field: 11, since: mark)
        }
        writer.writeVarintField(10, UInt64(dropped.attributes))
        writer.writeAttributes(9, batch.attributes, batch.spanAttributes[row], bytes)
        writer.writeFixed64Field(8, batch.endTimes[row])
        writer.writeFixed64Field(7, batch.startTimes[row])
        writer.writeInt32Field(6, batch.kinds[row])
        writer.writeStringField(5, bytes[batch.names[row]])
        let zeroIDs = batch.zeroIDs
        writer.writeSpanIDField(4, batch.parentSpanIDs[row], present: zeroIDs.contains(.parentSpanID, row: row))
        writer.writeStringField(3, bytes[batch.traceStates[row]])
        writer.writeSpanIDField(2, batch.spanIDs[row], present: zeroIDs.contains(.spanID, row: row))
        writer.writeTraceIDField(1, batch.traceIDs[row], present: zeroIDs.contains(.traceID, row: row))
    }
}

extension LogBatch {
    /// The log record's content from its columns (back to front).
    @usableFromInline @inline(__always)
    func writeColumns(ofRow row: Int, _ bytes: BatchBytes, into writer: WireWriter) {
        let batch = self
        writer.writeStringField(12, bytes[batch.eventNames[row]])
        writer.writeFixed64Field(11, batch.observedTimes[row])
        writer.writeSpanIDField(10, batch.spanIDs[row], present: batch.zeroIDs.contains(.spanID, row: row))
        writer.writeTraceIDField(9, batch.traceIDs[row], present: batch.zeroIDs.contains(.traceID, row: row))
        writer.writeFixed32Field(8, batch.flags[row])
        writer.writeVarintField(7, UInt64(batch.droppedAttributesCounts[row]))
        writer.writeAttributes(6, batch.attributes, batch.recordAttributes[row], bytes)
        let body = batch.bodies[row]
        if body.kind != .absent {
            let mark = writer.count
            writer.writeAnyValueContent(body, bytes)
            writer.writeLengthDelimitedHeader(field: 5, since: mark)
        }
        writer.writeStringField(3, bytes[batch.severityTexts[row]])
        writer.writeInt32Field(2, batch.severityNumbers[row])
        writer.writeFixed64Field(1, batch.times[row])
    }
}
