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

    @usableFromInline init() {}
}

/// What the request → resource entry → scope entry walk needs from a batch; spans and log
/// records differ only below the scope entry (`decodeRecord`).
@usableFromInline
protocol OTLPContainerBatch {
    /// Field names for errors: `ResourceSpans.scope_spans` or `ResourceLogs.scope_logs` …
    static var resourceEntryField: StaticString { get }
    static var scopeEntryField: StaticString { get }
    static var recordField: StaticString { get }

    var resources: [ResourceEntry] { get set }
    var scopes: [ScopeEntry] { get set }
    var attributes: AttributeTable { get set }
    var storage: SliceStorage { get set }
    var rejections: BatchRejections { get set }
    var count: Int { get }

    var mark: BatchMark { get }
    mutating func rollback(to mark: BatchMark)

    /// Decodes one record; on bad input it records the rejection itself and adds no row.
    mutating func decodeRecord(_ region: Range<Int>, depth: Int, scopeIndex: UInt32, using decoder: OTLPFieldDecoder)
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
                    try expect(tag, .lengthDelimited, at: tagStart, field: Batch.resourceEntryField)
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
                    try expect(tag, .lengthDelimited, at: tagStart, field: Batch.scopeEntryField)
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
                    try expect(tag, .lengthDelimited, at: tagStart, field: Batch.recordField)
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
