/// Writes batches as OTLP JSON: one `Export*ServiceRequest` per line, exactly the OTLP JSON
/// encoding (lowerCamelCase keys, lowercase hex ids, 64-bit integers as decimal strings, enums
/// as numbers, default values left out), as the Collector's `otlpjsonfile` receiver reads it.
///
/// Appends to a caller-owned byte array that is reused from batch to batch.
public struct OTLPJSONEncoder: Sendable {
    /// Makes an encoder. Allocates nothing.
    public init() {}

    /// Appends `batch` as one JSON line.
    ///
    /// - Parameters:
    ///   - batch: the records.
    ///   - mask: rows to leave out (dropped by a stage); nil keeps every row.
    ///   - out: the line is appended here.
    ///
    /// Allocates only when `out` grows.
    public func encode(_ batch: SpanBatch, keeping mask: RowMask? = nil, into out: inout [UInt8]) {
        encodeLine(batch, keeping: mask, into: &out)
    }

    /// Appends `batch` as one JSON line; see the span variant. Allocates only when `out` grows.
    public func encode(_ batch: LogBatch, keeping mask: RowMask? = nil, into out: inout [UInt8]) {
        encodeLine(batch, keeping: mask, into: &out)
    }

    /// Appends `batch` as one JSON line: the request as the protobuf encoder writes it (kept
    /// points under their metrics), then written as JSON by the metrics table.
    /// Allocates a scratch writer for the protobuf, and when `out` grows.
    public func encode(_ batch: MetricBatch, keeping mask: RowMask? = nil, into out: inout [UInt8]) {
        let writer = WireWriter(initialCapacity: 4096)
        OTLPProtobufEncoder(framing: .none).encode(batch, keeping: mask, into: writer)
        batch.withBytes { bytes in
            var json = JSONTextWriter(bytes: bytes, capacity: writer.bytes.count * 3)
            json.protobufMessage(OTLPMetricsSchema.request, writer.bytes)
            json.raw("\n")
            json.out.move(appendingTo: &out)
        }
    }

    /// One line of either signal (specialized for each batch type).
    private func encodeLine<Batch: OTLPContainerBatch>(_ batch: Batch, keeping mask: RowMask?, into out: inout [UInt8])
    {
        let names = Batch.containerNames
        batch.withBytes { bytes in
            // About 1.1 KB of JSON a span (less a log record); the buffer grows past it if needed.
            var writer = JSONTextWriter(bytes: bytes, capacity: 4096 + batch.count * 1280)
            writer.raw("{")
            writer.key(names.resourceEntriesKey)
            writer.raw("[")
            writer.containers(
                resources: batch.resources, scopes: batch.scopes, attributes: batch.attributes, mask: mask,
                scopesKey: names.scopeEntriesKey, recordsKey: names.recordsKey
            ) { writer, row in batch.writeJSON(ofRow: row, into: &writer) }
            writer.raw("]}\n")
            writer.out.move(appendingTo: &out)
        }
    }
}

/// JSON text building over a batch's bytes.
@usableFromInline
struct JSONTextWriter {
    /// What was written; the caller moves it out when done (it owns a buffer).
    var out: JSONOutput
    let bytes: BatchBytes
    /// Whether the next member or element needs a comma before it.
    private var needsComma = false

    /// A writer over `bytes` whose output starts with room for `capacity` bytes.
    init(bytes: BatchBytes, capacity: Int) {
        self.out = JSONOutput(capacity: capacity)
        self.bytes = bytes
    }

    mutating func raw(_ text: StaticString) {
        out.append(text)
        needsComma = false
    }

    @inline(__always)
    mutating func separator() {
        if needsComma { out.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    mutating func key(_ name: StaticString) {
        let count = name.utf8CodeUnitCount
        out.reserve(count &+ 4)
        if needsComma { out.appendReserved(UInt8(ascii: ",")) }
        out.appendReserved(UInt8(ascii: "\""))
        out.appendReservedShort(name.utf8Start, count: count)
        out.appendReserved(UInt8(ascii: "\""))
        out.appendReserved(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func open(_ bracket: UInt8) {
        separator()
        out.append(bracket)
        needsComma = false
    }

    mutating func close(_ bracket: UInt8) {
        out.append(bracket)
        needsComma = true
    }

    /// A JSON string of raw UTF-8 bytes, escaping what JSON requires. Eight bytes at a time: a
    /// word holding no quote, backslash or control byte is stored as it is (most strings hold
    /// none, and go through in one pass with no per-byte work).
    mutating func string(_ text: UnsafeRawBufferPointer) {
        separator()
        quoted(text)
    }

    /// `text` in quotes, escaped, with no separator before it. Most strings need no escape: one
    /// pass only reads them, eight bytes a step, and a second copies them with word stores, where
    /// one loop checking and storing each word updated the output's count in memory at every store
    /// (6% fewer instructions in this function, 140 a span of the benchmark's traces).
    private mutating func quoted(_ text: UnsafeRawBufferPointer) {
        let count = text.count
        // The quotes, and 8 bytes of slack for the word stores.
        out.reserve(count &+ 10)
        out.appendReserved(UInt8(ascii: "\""))
        guard let base = text.baseAddress, count > 0 else {
            out.appendReserved(UInt8(ascii: "\""))
            return
        }
        if Self.escapeBits(base, count: count) == 0 {
            out.appendReservedShort(base, count: count)
            out.appendReserved(UInt8(ascii: "\""))
        } else {
            quotedEscaping(base, count: count)
        }
    }

    /// Whether any of `count` (at least 1) bytes at `base` needs escaping: nonzero if so. Every
    /// word is checked and the results or-ed, with no branch a word.
    @inline(__always)
    static func escapeBits(_ base: UnsafeRawPointer, count: Int) -> UInt64 {
        var found: UInt64 = 0
        var index = 0
        while index &+ 8 < count {
            found |= JSONReader.endOrEscapeBits(
                UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            index &+= 8
        }
        return found | JSONReader.endOrEscapeBits(lastWord(base, count: count))
    }

    /// The last bytes of a string (at least 1) as one word to check: the word ending at the
    /// string's end when it has 8 bytes (overlapping the word before), else its two overlapping
    /// halves, or its first, middle and last byte, padded with a harmless 'A'.
    @inline(__always)
    static func lastWord(_ base: UnsafeRawPointer, count: Int) -> UInt64 {
        if count >= 8 {
            return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
        } else if count >= 4 {
            let first = UInt64(UInt32(littleEndian: base.loadUnaligned(as: UInt32.self)))
            let last = UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)))
            return first | last << 32
        } else {
            let first = UInt64(base.load(as: UInt8.self))
            let middle = UInt64(base.load(fromByteOffset: count >> 1, as: UInt8.self))
            let last = UInt64(base.load(fromByteOffset: count &- 1, as: UInt8.self))
            return first | middle << 8 | last << 16 | 0x4141_4141_4100_0000
        }
    }

    /// The rest of a string that has something to escape: a word at a time, stored as it is when
    /// it holds nothing to escape (a stack trace is mostly such words between its newlines),
    /// else escaped byte by byte; then the closing quote.
    private mutating func quotedEscaping(_ base: UnsafeRawPointer, count: Int) {
        var index = 0
        while index &+ 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            if Self.needsEscape(word) {
                escapeSlow(base, from: index, to: index &+ 8, thenReserve: count &- index &+ 2)
            } else {
                out.appendReserved(word: word, keeping: 8)
            }
            index &+= 8
        }
        let tail = count &- index
        if tail > 0 {
            // The last bytes in one check and one store.
            let word = Self.lastWord(base, count: count)
            if Self.needsEscape(word) {
                escapeSlow(base, from: index, to: count, thenReserve: 1)
            } else if count >= 8 {
                out.appendReserved(word: word, endingPast: tail)
            } else {
                out.appendReservedShort(base, count: count)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Whether any byte of `word` is a quote, a backslash or below 0x20: the bytes JSON escapes,
    /// which are the bytes the reader stops a string at.
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        JSONReader.endOrEscapeBits(word) != 0
    }

    /// Bytes `start..<end` of `base`, escaped one by one (a word that needs it, and the tail);
    /// then room for `extra` bytes, as escapes took some of what `string` reserved.
    private mutating func escapeSlow(_ base: UnsafeRawPointer, from start: Int, to end: Int, thenReserve extra: Int) {
        for index in start..<end {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                out.append(byte)
                continue
            }
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                out.append("u00")
                out.append(Self.hexDigit(byte >> 4))
                out.append(Self.hexDigit(byte & 0xF))
            }
        }
        out.reserve(extra)
    }

    /// The lowercase hex digit of a nibble.
    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ 0x30 : nibble &+ 0x57
    }

    mutating func stringField(_ name: StaticString, _ slice: ByteSlice) {
        guard !slice.isEmpty else { return }
        key(name)
        string(bytes[slice])
    }

    /// A 64-bit integer as a decimal string, as OTLP JSON requires.
    mutating func quotedInteger(_ name: StaticString, _ value: UInt64, omitZero: Bool = true) {
        if omitZero && value == 0 { return }
        key(name)
        separator()
        out.append(UInt8(ascii: "\""))
        out.appendDecimal(value)
        out.append(UInt8(ascii: "\""))
    }

    /// A signed 64-bit integer as a decimal string (`intValue`).
    mutating func quotedInteger(_ name: StaticString, _ value: Int64) {
        key(name)
        separator()
        out.append(UInt8(ascii: "\""))
        out.appendDecimal(value)
        out.append(UInt8(ascii: "\""))
    }

    mutating func number(_ name: StaticString, _ value: Int64) {
        guard value != 0 else { return }
        key(name)
        separator()
        out.appendDecimal(value)
    }

    /// An id; a zero id is unset (not written) unless it arrived all zero (`present`).
    mutating func traceID(_ name: StaticString, _ id: TraceID, present: Bool = false) {
        guard !id.isZero || present else { return }
        key(name)
        separator()
        out.append(UInt8(ascii: "\""))
        out.appendHex(id.high)
        out.appendHex(id.low)
        out.append(UInt8(ascii: "\""))
    }

    mutating func spanID(_ name: StaticString, _ id: SpanID, present: Bool = false) {
        guard !id.isZero || present else { return }
        key(name)
        separator()
        out.append(UInt8(ascii: "\""))
        out.appendHex(id.value)
        out.append(UInt8(ascii: "\""))
    }

    // MARK: Values

    /// An `AnyValue` object.
    mutating func anyValue(_ value: AnyValueRef) {
        open(UInt8(ascii: "{"))
        switch value.kind {
        case .absent, .empty, .rawKeyValue: break
        case .string:
            key("stringValue")
            string(bytes[value.slice])
        case .bool:
            key("boolValue")
            separator()
            out.append(value.bool ? "true" : "false")
        case .int: quotedInteger("intValue", value.int)
        case .double: double(value.double)
        case .bytes:
            key("bytesValue")
            separator()
            out.append(UInt8(ascii: "\""))
            TextCodecs.appendBase64(bytes[value.slice], to: &out)
            out.append(UInt8(ascii: "\""))
        case .array: arrayValue(bytes[value.slice])
        case .keyValueList: keyValueList(bytes[value.slice])
        case .stringIndex:
            key("stringValueStrindex")
            separator()
            out.appendDecimal(value.int)
        }
        close(UInt8(ascii: "}"))
    }

    private mutating func double(_ value: Double) {
        key("doubleValue")
        separator()
        if value.isNaN {
            out.append("\"NaN\"")
        } else if value.isInfinite {
            out.append(value < 0 ? "\"-Infinity\"" : "\"Infinity\"")
        } else {
            out.appendText(value.description)
        }
    }

    /// An `AnyValue` from its protobuf encoding (nested values stay protobuf in batches), read as
    /// protobuf reads it: the oneof case set last wins, and an array or key-value list following
    /// one of its own kind joins it.
    mutating func rawAnyValue(_ encoded: UnsafeRawBufferPointer) {
        var reader = WireReader(frame: encoded)
        var last: (field: UInt32, number: UInt64, range: Range<Int>)?
        // Where the run of array (or key-value list) occurrences that `last` ends began, and how
        // many it holds: more than one is the rare case that needs joining.
        var runStart = 0
        var runLength = 0
        while !reader.isAtEnd {
            let tagStart = reader.position
            guard let tag = try? reader.readTag() else { break }
            var current: (field: UInt32, number: UInt64, range: Range<Int>)
            switch tag.wireType {
            case .varint: current = (tag.number, (try? reader.readVarint()) ?? 0, 0..<0)
            case .fixed64: current = (tag.number, (try? reader.readFixed64()) ?? 0, 0..<0)
            case .lengthDelimited: current = (tag.number, 0, (try? reader.readLengthDelimited()) ?? 0..<0)
            default:
                _ = try? reader.skipField(tag, depth: 0, maxDepth: 100)
                continue
            }
            // A field of another number, or of the oneof with the wire type of another kind,
            // is unknown to protobuf: it neither sets nor clears the value.
            guard (1...8).contains(current.field), tag.wireType == Self.anyValueWireType(current.field) else {
                continue
            }
            if (current.field == 5 || current.field == 6) && last?.field == current.field {
                runLength += 1
            } else {
                runStart = tagStart
                runLength = 1
            }
            last = current
        }
        guard let (field, number, range) = last else {
            open(UInt8(ascii: "{"))
            close(UInt8(ascii: "}"))
            return
        }
        let content = UnsafeRawBufferPointer(rebasing: encoded[range])
        open(UInt8(ascii: "{"))
        switch field {
        case 1:
            key("stringValue")
            string(content)
        case 2:
            key("boolValue")
            separator()
            out.append(number != 0 ? "true" : "false")
        case 3: quotedInteger("intValue", Int64(bitPattern: number))
        case 4: double(Double(bitPattern: number))
        case 5, 6:
            if runLength == 1 {
                listValue(field, content)
            } else {
                Self.joinedOccurrences(of: field, in: encoded, from: runStart).withUnsafeBytes { listValue(field, $0) }
            }
        case 7:
            key("bytesValue")
            separator()
            out.append(UInt8(ascii: "\""))
            TextCodecs.appendBase64(content, to: &out)
            out.append(UInt8(ascii: "\""))
        default:
            key("stringValueStrindex")
            separator()
            out.appendDecimal(Int64(Int32(truncatingIfNeeded: number)))
        }
        close(UInt8(ascii: "}"))
    }

    /// The wire type of the `AnyValue` oneof case numbered `field` (1...8).
    static func anyValueWireType(_ field: UInt32) -> WireType {
        switch field {
        case 1, 5, 6, 7: .lengthDelimited
        case 4: .fixed64
        default: .varint
        }
    }

    /// The contents of every length-delimited `field` in `encoded` from `start` on, joined: how
    /// protobuf merges a message field met more than once (its repeated `values` add up).
    static func joinedOccurrences(of field: UInt32, in encoded: UnsafeRawBufferPointer, from start: Int) -> [UInt8] {
        var joined: [UInt8] = []
        var reader = WireReader(frame: encoded, start: start)
        while !reader.isAtEnd, let tag = try? reader.readTag() {
            if tag.number == field, tag.wireType == .lengthDelimited, let range = try? reader.readLengthDelimited() {
                joined.append(contentsOf: UnsafeRawBufferPointer(rebasing: encoded[range]))
            } else if (try? reader.skipField(tag, depth: 0, maxDepth: 100)) == nil {
                break
            }
        }
        return joined
    }

    /// The array (`AnyValue` field 5) or key-value list (field 6) whose encoded content is `content`.
    private mutating func listValue(_ field: UInt32, _ content: UnsafeRawBufferPointer) {
        if field == 5 { arrayValue(content) } else { keyValueList(content) }
    }

    private mutating func arrayValue(_ content: UnsafeRawBufferPointer) {
        valuesList("arrayValue", content) { writer, element in writer.rawAnyValue(element) }
    }

    private mutating func keyValueList(_ content: UnsafeRawBufferPointer) {
        valuesList("kvlistValue", content) { writer, element in writer.rawKeyValue(element) }
    }

    /// `"name": {"values": [...]}` with one element per `values` field (field 1) of `content`,
    /// the encoded `ArrayValue` or `KeyValueList`.
    private mutating func valuesList(
        _ name: StaticString, _ content: UnsafeRawBufferPointer,
        element: (inout JSONTextWriter, UnsafeRawBufferPointer) -> Void
    ) {
        key(name)
        open(UInt8(ascii: "{"))
        key("values")
        open(UInt8(ascii: "["))
        var reader = WireReader(frame: content)
        while !reader.isAtEnd, let tag = try? reader.readTag() {
            if tag.number == 1, tag.wireType == .lengthDelimited, let range = try? reader.readLengthDelimited() {
                element(&self, UnsafeRawBufferPointer(rebasing: content[range]))
            } else if (try? reader.skipField(tag, depth: 0, maxDepth: 100)) == nil {
                break
            }
        }
        close(UInt8(ascii: "]"))
        close(UInt8(ascii: "}"))
    }

    /// A `KeyValue` object from its protobuf encoding.
    mutating func rawKeyValue(_ encoded: UnsafeRawBufferPointer) {
        var reader = WireReader(frame: encoded)
        var keyRange = 0..<0
        var valueRange: Range<Int>?
        var valueCount = 0
        var keyIndex: UInt64 = 0
        while !reader.isAtEnd, let tag = try? reader.readTag() {
            switch (tag.number, tag.wireType) {
            case (1, .lengthDelimited): keyRange = (try? reader.readLengthDelimited()) ?? 0..<0
            case (2, .lengthDelimited):
                valueRange = try? reader.readLengthDelimited()
                valueCount += 1
            case (3, .varint): keyIndex = (try? reader.readVarint()) ?? 0
            default: _ = try? reader.skipField(tag, depth: 0, maxDepth: 100)
            }
        }
        open(UInt8(ascii: "{"))
        key("key")
        string(UnsafeRawBufferPointer(rebasing: encoded[keyRange]))
        if let valueRange {
            key("value")
            if valueCount == 1 {
                rawAnyValue(UnsafeRawBufferPointer(rebasing: encoded[valueRange]))
            } else {
                // A value met twice is one value: protobuf merges the occurrences.
                Self.joinedOccurrences(of: 2, in: encoded, from: 0).withUnsafeBytes { rawAnyValue($0) }
            }
        }
        if keyIndex != 0 { number("keyStrindex", Int64(Int32(truncatingIfNeeded: keyIndex))) }
        close(UInt8(ascii: "}"))
    }

    /// `"name": [KeyValue…]` for `table[range]`, left out when empty.
    mutating func attributes(_ name: StaticString, _ table: AttributeTable, _ range: RowRange) {
        guard range.count > 0 else { return }
        key(name)
        open(UInt8(ascii: "["))
        for index in range.range {
            let value = table.values[index]
            if value.kind == .rawKeyValue {
                rawKeyValue(bytes[value.slice])
                continue
            }
            if value.kind == .string {
                // Most attributes: the fixed parts of the general path below in three literals.
                separator()
                out.append("{\"key\":")
                quoted(bytes[table.keys[index]])
                out.append(",\"value\":{\"stringValue\":")
                quoted(bytes[value.slice])
                out.append("}}")
                continue
            }
            open(UInt8(ascii: "{"))
            key("key")
            string(bytes[table.keys[index]])
            if value.kind != .absent {
                key("value")
                anyValue(value)
            }
            close(UInt8(ascii: "}"))
        }
        close(UInt8(ascii: "]"))
    }

    // MARK: Containers and records

    mutating func containers(
        resources: [ResourceEntry], scopes: [ScopeEntry], attributes table: AttributeTable, mask: RowMask?,
        scopesKey: StaticString, recordsKey: StaticString,
        record: (inout JSONTextWriter, Int) -> Void
    ) {
        let mask = mask.flatMap { $0.keepsAll ? nil : $0 }
        // With a mask, scopes and resources that had rows and kept none are left out.
        func emptied(_ scope: ScopeEntry) -> Bool {
            guard let mask, scope.rows.count > 0 else { return false }
            return !scope.rows.range.contains { mask.kept[$0] }
        }
        for resource in resources {
            if mask != nil, resource.scopes.count > 0, resource.scopes.range.allSatisfy({ emptied(scopes[$0]) }) {
                continue
            }
            open(UInt8(ascii: "{"))
            if resource.raw != nil || resource.isModified {
                key("resource")
                open(UInt8(ascii: "{"))
                attributes("attributes", table, resource.attributes)
                number("droppedAttributesCount", Int64(resource.droppedAttributesCount))
                if let raw = resource.raw { entityRefs(bytes[raw]) }
                close(UInt8(ascii: "}"))
            }
            key(scopesKey)
            open(UInt8(ascii: "["))
            for scopeIndex in resource.scopes.range {
                let scope = scopes[scopeIndex]
                if emptied(scope) { continue }
                open(UInt8(ascii: "{"))
                if scope.raw != nil || scope.isModified {
                    key("scope")
                    open(UInt8(ascii: "{"))
                    stringField("name", scope.name)
                    stringField("version", scope.version)
                    attributes("attributes", table, scope.attributes)
                    number("droppedAttributesCount", Int64(scope.droppedAttributesCount))
                    close(UInt8(ascii: "}"))
                }
                key(recordsKey)
                open(UInt8(ascii: "["))
                for row in scope.rows.range where mask?.kept[row] ?? true { record(&self, row) }
                close(UInt8(ascii: "]"))
                stringField("schemaUrl", scope.schemaURL)
                close(UInt8(ascii: "}"))
            }
            close(UInt8(ascii: "]"))
            stringField("schemaUrl", resource.schemaURL)
            close(UInt8(ascii: "}"))
        }
    }

    /// `entityRefs` from a raw `Resource` (they live only there).
    private mutating func entityRefs(_ resource: UnsafeRawBufferPointer) {
        var reader = WireReader(frame: resource)
        var wroteKey = false
        while !reader.isAtEnd, let tag = try? reader.readTag() {
            guard tag.number == 3, tag.wireType == .lengthDelimited, let range = try? reader.readLengthDelimited()
            else {
                if (try? reader.skipField(tag, depth: 0, maxDepth: 100)) == nil { break }
                continue
            }
            if !wroteKey {
                key("entityRefs")
                open(UInt8(ascii: "["))
                wroteKey = true
            }
            let ref = UnsafeRawBufferPointer(rebasing: resource[range])
            var fields = WireReader(frame: ref)
            var schemaURL = 0..<0
            var type = 0..<0
            var idKeys: [Range<Int>] = []
            var descriptionKeys: [Range<Int>] = []
            while !fields.isAtEnd, let inner = try? fields.readTag() {
                guard inner.wireType == .lengthDelimited, let value = try? fields.readLengthDelimited() else {
                    if (try? fields.skipField(inner, depth: 0, maxDepth: 100)) == nil { break }
                    continue
                }
                switch inner.number {
                case 1: schemaURL = value
                case 2: type = value
                case 3: idKeys.append(value)
                case 4: descriptionKeys.append(value)
                default: break
                }
            }
            open(UInt8(ascii: "{"))
            if !schemaURL.isEmpty {
                key("schemaUrl")
                string(UnsafeRawBufferPointer(rebasing: ref[schemaURL]))
            }
            if !type.isEmpty {
                key("type")
                string(UnsafeRawBufferPointer(rebasing: ref[type]))
            }
            for (name, list) in [("idKeys", idKeys), ("descriptionKeys", descriptionKeys)] where !list.isEmpty {
                if name == "idKeys" { key("idKeys") } else { key("descriptionKeys") }
                open(UInt8(ascii: "["))
                for item in list { string(UnsafeRawBufferPointer(rebasing: ref[item])) }
                close(UInt8(ascii: "]"))
            }
            close(UInt8(ascii: "}"))
        }
        if wroteKey { close(UInt8(ascii: "]")) }
    }

    mutating func span(_ batch: SpanBatch, _ row: Int) {
        open(UInt8(ascii: "{"))
        let zeroIDs = batch.zeroIDs
        traceID("traceId", batch.traceIDs[row], present: zeroIDs.contains(.traceID, row: row))
        spanID("spanId", batch.spanIDs[row], present: zeroIDs.contains(.spanID, row: row))
        stringField("traceState", batch.traceStates[row])
        spanID("parentSpanId", batch.parentSpanIDs[row], present: zeroIDs.contains(.parentSpanID, row: row))
        number("flags", Int64(batch.flags[row]))
        stringField("name", batch.names[row])
        number("kind", Int64(batch.kinds[row]))
        quotedInteger("startTimeUnixNano", batch.startTimes[row])
        quotedInteger("endTimeUnixNano", batch.endTimes[row])
        attributes("attributes", batch.attributes, batch.spanAttributes[row])
        let dropped = batch.droppedCounts[row]
        number("droppedAttributesCount", Int64(dropped.attributes))
        let eventRange = batch.eventRanges[row]
        if eventRange.count > 0 {
            key("events")
            open(UInt8(ascii: "["))
            for event in eventRange.range {
                open(UInt8(ascii: "{"))
                quotedInteger("timeUnixNano", batch.events.times[event])
                stringField("name", batch.events.names[event])
                attributes("attributes", batch.events.attributeTable, batch.events.attributes[event])
                number("droppedAttributesCount", Int64(batch.events.droppedAttributesCounts[event]))
                close(UInt8(ascii: "}"))
            }
            close(UInt8(ascii: "]"))
        }
        number("droppedEventsCount", Int64(dropped.events))
        let linkRange = batch.linkRanges[row]
        if linkRange.count > 0 {
            key("links")
            open(UInt8(ascii: "["))
            for link in linkRange.range {
                open(UInt8(ascii: "{"))
                traceID(
                    "traceId", batch.links.traceIDs[link], present: batch.links.zeroIDs.contains(.traceID, row: link))
                spanID("spanId", batch.links.spanIDs[link], present: batch.links.zeroIDs.contains(.spanID, row: link))
                stringField("traceState", batch.links.traceStates[link])
                attributes("attributes", batch.links.attributeTable, batch.links.attributes[link])
                number("droppedAttributesCount", Int64(batch.links.droppedAttributesCounts[link]))
                number("flags", Int64(batch.links.flags[link]))
                close(UInt8(ascii: "}"))
            }
            close(UInt8(ascii: "]"))
        }
        number("droppedLinksCount", Int64(dropped.links))
        let status = batch.statuses[row]
        if status.isPresent {
            key("status")
            open(UInt8(ascii: "{"))
            stringField("message", status.message)
            number("code", Int64(status.code))
            close(UInt8(ascii: "}"))
        }
        close(UInt8(ascii: "}"))
    }

    mutating func logRecord(_ batch: LogBatch, _ row: Int) {
        open(UInt8(ascii: "{"))
        quotedInteger("timeUnixNano", batch.times[row])
        quotedInteger("observedTimeUnixNano", batch.observedTimes[row])
        number("severityNumber", Int64(batch.severityNumbers[row]))
        stringField("severityText", batch.severityTexts[row])
        let body = batch.bodies[row]
        if body.kind != .absent {
            key("body")
            anyValue(body)
        }
        attributes("attributes", batch.attributes, batch.recordAttributes[row])
        number("droppedAttributesCount", Int64(batch.droppedAttributesCounts[row]))
        number("flags", Int64(batch.flags[row]))
        traceID("traceId", batch.traceIDs[row], present: batch.zeroIDs.contains(.traceID, row: row))
        spanID("spanId", batch.spanIDs[row], present: batch.zeroIDs.contains(.spanID, row: row))
        stringField("eventName", batch.eventNames[row])
        close(UInt8(ascii: "}"))
    }
}
