/// Field-level decoding shared by the trace and log decoders: strings, ids, attributes,
/// `AnyValue`s, resources and scopes.
///
/// Holds the frame pointer for the duration of one decode call. Nested `AnyValue` arrays and
/// key-value lists are validated (framing, UTF-8, depth) and stored raw; nothing here allocates
/// except the amortized growth of the batch columns it appends to.
@usableFromInline
struct OTLPFieldDecoder {
    @usableFromInline let frame: UnsafeRawBufferPointer
    @usableFromInline let sourceOffset: Int
    @usableFromInline let maxDepth: Int
    /// Spans' attributes, events and links are skipped (`OTLPProtobufDecoder.skipsSpanDetails`).
    @usableFromInline let skipsSpanDetails: Bool

    @usableFromInline
    init(frame: UnsafeRawBufferPointer, sourceOffset: Int, maxDepth: Int, skipsSpanDetails: Bool = false) {
        self.frame = frame
        self.sourceOffset = sourceOffset
        self.maxDepth = maxDepth
        self.skipsSpanDetails = skipsSpanDetails
    }

    @inlinable
    func reader(_ region: Range<Int>) -> WireReader {
        WireReader(frame: frame, start: region.lowerBound, end: region.upperBound, sourceOffset: sourceOffset)
    }

    @inlinable
    func slice(_ region: Range<Int>) -> ByteSlice {
        // Safe: frames are capped below 2 GiB, so offsets fit 31 bits.
        ByteSlice(start: UInt32(truncatingIfNeeded: region.lowerBound), count: UInt32(truncatingIfNeeded: region.count))
    }

    @inlinable
    func error(
        _ reason: Rejection.Reason, at position: Int, field: StaticString? = nil, value: Int? = nil, limit: Int? = nil
    ) -> DecodeError {
        DecodeError(reason, offset: sourceOffset + position, field: field, value: value, limit: limit)
    }

    /// Checks a known field's wire type; `at` is where its tag started.
    @inlinable
    func expect(_ tag: FieldTag, _ wireType: WireType, at position: Int, field: StaticString) throws(DecodeError) {
        if tag.wireType != wireType {
            throw error(.wrongWireType, at: position, field: field, value: Int(tag.wireType.rawValue))
        }
    }

    // One call per known field: the wire type checked, then the value read (each field of a
    // record's switch is then one line, whatever its signal).

    /// A `fixed64` field.
    @inlinable
    func fixed64(_ tag: FieldTag, at position: Int, _ reader: inout WireReader, field: StaticString)
        throws(DecodeError) -> UInt64
    {
        try expect(tag, .fixed64, at: position, field: field)
        return try reader.readFixed64()
    }

    /// A `fixed32` field.
    @inlinable
    func fixed32(_ tag: FieldTag, at position: Int, _ reader: inout WireReader, field: StaticString)
        throws(DecodeError) -> UInt32
    {
        try expect(tag, .fixed32, at: position, field: field)
        return try reader.readFixed32()
    }

    /// A varint field kept as its low 32 bits (counts, flags), as protobuf truncates `uint32`.
    @inlinable
    func uint32(_ tag: FieldTag, at position: Int, _ reader: inout WireReader, field: StaticString)
        throws(DecodeError) -> UInt32
    {
        try expect(tag, .varint, at: position, field: field)
        return UInt32(truncatingIfNeeded: try reader.readVarint())
    }

    /// A varint `int32` or enum field.
    @inlinable
    func int32(_ tag: FieldTag, at position: Int, _ reader: inout WireReader, field: StaticString)
        throws(DecodeError) -> Int32
    {
        try expect(tag, .varint, at: position, field: field)
        return Int32(truncatingIfNeeded: try reader.readVarint())
    }

    /// A `string` field, checked for UTF-8.
    @inlinable
    func string(_ tag: FieldTag, at position: Int, _ reader: inout WireReader, field: StaticString)
        throws(DecodeError) -> ByteSlice
    {
        try expect(tag, .lengthDelimited, at: position, field: field)
        return try readString(&reader, field: field)
    }

    /// An embedded message or packed field: its byte range.
    @inlinable
    func message(_ tag: FieldTag, at position: Int, _ reader: inout WireReader, field: StaticString)
        throws(DecodeError) -> Range<Int>
    {
        try expect(tag, .lengthDelimited, at: position, field: field)
        return try reader.readLengthDelimited()
    }

    /// An `attributes` field: one `KeyValue` appended to `table`.
    @inlinable
    func attribute(
        _ tag: FieldTag, at position: Int, _ reader: inout WireReader, field: StaticString, depth: Int,
        into table: inout AttributeTable
    ) throws(DecodeError) {
        try expect(tag, .lengthDelimited, at: position, field: field)
        try decodeKeyValue(try reader.readLengthDelimited(), depth: depth, into: &table)
    }

    /// A `trace_id` field (see `readTraceID`).
    @inlinable
    func traceID(
        _ tag: FieldTag, at position: Int, _ reader: inout WireReader, field: StaticString, mark: ZeroIDMarks.Field,
        in marks: inout ZeroIDMarks.Field
    ) throws(DecodeError) -> TraceID {
        try expect(tag, .lengthDelimited, at: position, field: field)
        return try readTraceID(&reader, field: field, mark: mark, in: &marks)
    }

    /// A `span_id` field (see `readSpanID`).
    @inlinable
    func spanID(
        _ tag: FieldTag, at position: Int, _ reader: inout WireReader, field: StaticString, mark: ZeroIDMarks.Field,
        in marks: inout ZeroIDMarks.Field
    ) throws(DecodeError) -> SpanID {
        try expect(tag, .lengthDelimited, at: position, field: field)
        return try readSpanID(&reader, field: field, mark: mark, in: &marks)
    }

    @inlinable
    func checkDepth(_ depth: Int, at position: Int) throws(DecodeError) {
        if depth > maxDepth { throw error(.nestingTooDeep, at: position, value: depth, limit: maxDepth) }
    }

    /// A length-delimited `string` field, checked for UTF-8.
    @inlinable
    func readString(_ reader: inout WireReader, field: StaticString) throws(DecodeError) -> ByteSlice {
        let region = try reader.readLengthDelimited()
        if let bad = UTF8Validation.firstInvalidOffset(reader.bytes(region)) {
            throw error(.invalidUTF8, at: region.lowerBound + bad, field: field)
        }
        return slice(region)
    }

    /// A `trace_id`: 16 bytes, or empty for unset. Sixteen zero bytes are marked in `marks`
    /// as `mark`, since the column cannot tell them from unset.
    @inlinable
    func readTraceID(
        _ reader: inout WireReader, field: StaticString, mark: ZeroIDMarks.Field, in marks: inout ZeroIDMarks.Field
    ) throws(DecodeError) -> TraceID {
        let region = try reader.readLengthDelimited()
        switch region.count {
        case 16:
            let id = TraceID(bytes: reader.bytes(region))
            // A mark matters only while the id is zero, so a non-zero id leaves it (no store on
            // the hot path); an empty id after a zero one clears it below.
            if id.isZero { marks.formUnion(mark) }
            return id
        case 0:
            marks.subtract(mark)
            return .zero
        default: throw error(.invalidIDLength, at: region.lowerBound, field: field, value: region.count, limit: 16)
        }
    }

    /// A `span_id`: 8 bytes, or empty for unset; eight zero bytes are marked as for trace ids.
    @inlinable
    func readSpanID(
        _ reader: inout WireReader, field: StaticString, mark: ZeroIDMarks.Field, in marks: inout ZeroIDMarks.Field
    ) throws(DecodeError) -> SpanID {
        let region = try reader.readLengthDelimited()
        switch region.count {
        case 8:
            let id = SpanID(bytes: reader.bytes(region))
            if id.isZero { marks.formUnion(mark) }
            return id
        case 0:
            marks.subtract(mark)
            return .zero
        default: throw error(.invalidIDLength, at: region.lowerBound, field: field, value: region.count, limit: 8)
        }
    }

    /// Decodes one `KeyValue` at `depth` and appends it to `table`.
    @inlinable
    func decodeKeyValue(_ region: Range<Int>, depth: Int, into table: inout AttributeTable) throws(DecodeError) {
        let (key, value) = try parseKeyValue(region, depth: depth)
        table.append(key: key, value: value)
    }

    /// Decodes one `KeyValue` at `depth`. One with fields beyond key and value comes back as a
    /// `.rawKeyValue` so nothing is lost on output.
    @inlinable
    func parseKeyValue(_ region: Range<Int>, depth: Int) throws(DecodeError) -> (ByteSlice, AnyValueRef) {
        try checkDepth(depth, at: region.lowerBound)
        if depth < maxDepth, let pair = canonicalKeyValue(region) { return pair }
        var reader = reader(region)
        var key = ByteSlice.empty
        var value = AnyValueRef.absent
        var keepRaw = false
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            switch tag.number {
            case 1:
                try expect(tag, .lengthDelimited, at: tagStart, field: "KeyValue.key")
                key = try readString(&reader, field: "KeyValue.key")
            case 2:
                try expect(tag, .lengthDelimited, at: tagStart, field: "KeyValue.value")
                // `value` met twice, or an array or list met twice inside it, is a protobuf merge
                // one column cannot hold: the bytes are kept as they came, and a reader merges.
                var needsMerge = value.kind != .absent
                value = try decodeAnyValue(try reader.readLengthDelimited(), depth: depth + 1, needsMerge: &needsMerge)
                keepRaw = keepRaw || needsMerge
            case 3:
                try expect(tag, .varint, at: tagStart, field: "KeyValue.key_strindex")
                _ = try reader.readVarint()
                keepRaw = true
            default:
                try reader.skipField(tag, depth: depth, maxDepth: maxDepth)
                keepRaw = true
            }
        }
        return (key, keepRaw ? .slice(.rawKeyValue, slice(region)) : value)
    }

    /// The `KeyValue` most attributes are, read without the field loop: `key` then a `value`
    /// holding only a string, an int, a bool or a double, with one-byte lengths, every field
    /// filling its message exactly, key and string valid UTF-8. Anything else (another layout,
    /// another kind, a bad varint, bad UTF-8) is nil, and the general path reads it and reports
    /// what is wrong. The general path's loops and checks took about a fifth of the protobuf
    /// decode's instructions on these. The caller checks the value's depth (one below the pair's).
    @inlinable @inline(__always)
    func canonicalKeyValue(_ region: Range<Int>) -> (ByteSlice, AnyValueRef)? {
        let start = region.lowerBound
        let end = region.upperBound
        // 0x0A keyLength key 0x12 valueLength, then at least a tag and one byte of value.
        guard end &- start >= 6, let base = frame.baseAddress else { return nil }
        @inline(__always) func byte(_ at: Int) -> Int { Int(base.load(fromByteOffset: at, as: UInt8.self)) }
        guard byte(start) == 0x0A else { return nil }
        let keyLength = byte(start &+ 1)
        let keyEnd = start &+ 2 &+ keyLength
        // Safe: keyEnd + 4 <= end bounds the loads up to the value's first two bytes.
        guard keyLength < 0x80, keyEnd &+ 4 <= end, byte(keyEnd) == 0x12, keyEnd &+ 2 &+ byte(keyEnd &+ 1) == end else {
            return nil
        }
        let valueStart = keyEnd &+ 2
        let value: AnyValueRef
        switch byte(valueStart) {
        case 0x0A:  // string_value
            let textLength = byte(valueStart &+ 1)
            let textStart = valueStart &+ 2
            guard textLength < 0x80, textStart &+ textLength == end,
                UTF8Validation.isShortASCII(base + textStart, count: textLength)
                    || UTF8Validation.isValid(UnsafeRawBufferPointer(start: base + textStart, count: textLength))
            else { return nil }
            value = .slice(.string, slice(textStart..<end))
        case 0x18, 0x10:  // int_value, bool_value: a varint to the end
            var number: UInt64 = 0
            var shift: UInt64 = 0
            var position = valueStart &+ 1
            while true {
                guard position < end, shift < 63 else { return nil }
                let next = byte(position)
                number |= UInt64(next & 0x7F) &<< shift
                position &+= 1
                if next < 0x80 { break }
                shift &+= 7
            }
            guard position == end else { return nil }
            value =
                byte(valueStart) == 0x18
                ? AnyValueRef(kind: .int, payload: number) : AnyValueRef(kind: .bool, payload: number != 0 ? 1 : 0)
        case 0x21:  // double_value
            guard end &- valueStart == 9 else { return nil }
            value = AnyValueRef(
                kind: .double,
                payload: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: valueStart &+ 1, as: UInt64.self)))
        default:
            return nil
        }
        let keyStart = base + (start &+ 2)
        guard
            UTF8Validation.isShortASCII(keyStart, count: keyLength)
                || UTF8Validation.isValid(UnsafeRawBufferPointer(start: keyStart, count: keyLength))
        else { return nil }
        return (slice(start &+ 2..<keyEnd), value)
    }

    /// Decodes one `AnyValue` at `depth`; arrays and key-value lists are validated and kept raw.
    @inlinable
    func decodeAnyValue(_ region: Range<Int>, depth: Int) throws(DecodeError) -> AnyValueRef {
        var needsMerge = false
        return try decodeAnyValue(region, depth: depth, needsMerge: &needsMerge)
    }

    /// Decodes one `AnyValue` at `depth`, setting `needsMerge` when an array or key-value list
    /// follows one of its own kind: protobuf joins the two, which one slice cannot point at, so
    /// the value returned holds only the later one (`mergeAnyValue` joins them).
    @inlinable
    func decodeAnyValue(_ region: Range<Int>, depth: Int, needsMerge: inout Bool) throws(DecodeError) -> AnyValueRef {
        try checkDepth(depth, at: region.lowerBound)
        var reader = reader(region)
        var value = AnyValueRef(kind: .empty)
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            switch tag.number {
            case 1:
                try expect(tag, .lengthDelimited, at: tagStart, field: "AnyValue.string_value")
                value = .slice(.string, try readString(&reader, field: "AnyValue.string_value"))
            case 2:
                try expect(tag, .varint, at: tagStart, field: "AnyValue.bool_value")
                value = AnyValueRef(kind: .bool, payload: try reader.readVarint() != 0 ? 1 : 0)
            case 3:
                try expect(tag, .varint, at: tagStart, field: "AnyValue.int_value")
                value = AnyValueRef(kind: .int, payload: try reader.readVarint())
            case 4:
                try expect(tag, .fixed64, at: tagStart, field: "AnyValue.double_value")
                value = AnyValueRef(kind: .double, payload: try reader.readFixed64())
            case 5:
                try expect(tag, .lengthDelimited, at: tagStart, field: "AnyValue.array_value")
                let inner = try reader.readLengthDelimited()
                try validateArrayValue(inner, depth: depth + 1)
                needsMerge = needsMerge || value.kind == .array
                value = .slice(.array, slice(inner))
            case 6:
                try expect(tag, .lengthDelimited, at: tagStart, field: "AnyValue.kvlist_value")
                let inner = try reader.readLengthDelimited()
                try validateKeyValueList(inner, depth: depth + 1)
                needsMerge = needsMerge || value.kind == .keyValueList
                value = .slice(.keyValueList, slice(inner))
            case 7:
                try expect(tag, .lengthDelimited, at: tagStart, field: "AnyValue.bytes_value")
                value = .slice(.bytes, slice(try reader.readLengthDelimited()))
            case 8:
                try expect(tag, .varint, at: tagStart, field: "AnyValue.string_value_strindex")
                value = AnyValueRef(
                    kind: .stringIndex,
                    payload: UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: try reader.readVarint()))))
            default:
                try reader.skipField(tag, depth: depth, maxDepth: maxDepth)
            }
        }
        return value
    }

    /// Merges the already validated `AnyValue` in `region` into `earlier`, as protobuf merges a
    /// message met twice: the oneof case set last wins, except that an array or key-value list
    /// following one of its own kind joins it (the joined bytes go to `storage`'s arena), and an
    /// `AnyValue` that sets no case leaves `earlier` as it was. The rare path: only input that
    /// repeats a message field comes here.
    @usableFromInline
    func mergeAnyValue(
        _ region: Range<Int>, into earlier: AnyValueRef, storage: inout SliceStorage
    ) throws(DecodeError) -> AnyValueRef {
        var value = earlier.kind == .absent ? AnyValueRef(kind: .empty) : earlier
        var reader = reader(region)
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            switch tag.number {
            case 5, 6:
                let kind: AnyValueRef.Kind = tag.number == 5 ? .array : .keyValueList
                let later = slice(try reader.readLengthDelimited())
                value = .slice(kind, value.kind == kind ? storage.appendToArena(joining: value.slice, later) : later)
            case 1...8:
                // A scalar case replaces whatever was set: decode the field alone, as an AnyValue.
                try reader.skipField(tag, depth: 0, maxDepth: maxDepth)
                value = try decodeAnyValue(tagStart..<reader.position, depth: 0)
            default:
                try reader.skipField(tag, depth: 0, maxDepth: maxDepth)
            }
        }
        return value
    }

    /// Validates `ArrayValue` content without storing it.
    @usableFromInline
    func validateArrayValue(_ region: Range<Int>, depth: Int) throws(DecodeError) {
        try checkDepth(depth, at: region.lowerBound)
        var reader = reader(region)
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            if tag.number == 1 {
                try expect(tag, .lengthDelimited, at: tagStart, field: "ArrayValue.values")
                _ = try decodeAnyValue(try reader.readLengthDelimited(), depth: depth + 1)
            } else {
                try reader.skipField(tag, depth: depth, maxDepth: maxDepth)
            }
        }
    }

    /// Validates `KeyValueList` content without storing it.
    @usableFromInline
    func validateKeyValueList(_ region: Range<Int>, depth: Int) throws(DecodeError) {
        try checkDepth(depth, at: region.lowerBound)
        var reader = reader(region)
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            if tag.number == 1 {
                try expect(tag, .lengthDelimited, at: tagStart, field: "KeyValueList.values")
                _ = try parseKeyValue(try reader.readLengthDelimited(), depth: depth + 1)
            } else {
                try reader.skipField(tag, depth: depth, maxDepth: maxDepth)
            }
        }
    }

    /// Decodes a `Resource` into `entry`, appending its attributes to `table`.
    @inlinable
    func decodeResource(
        _ region: Range<Int>, depth: Int, into entry: inout ResourceEntry, attributes table: inout AttributeTable
    ) throws(DecodeError) {
        try checkDepth(depth, at: region.lowerBound)
        var reader = reader(region)
        // An entry decoded before (the field met twice) keeps its rows, which the caller put at
        // the table's end, and the new ones follow them.
        let firstAttribute = entry.raw == nil ? table.count : Int(entry.attributes.start)
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            switch tag.number {
            case 1:
                try expect(tag, .lengthDelimited, at: tagStart, field: "Resource.attributes")
                try decodeKeyValue(try reader.readLengthDelimited(), depth: depth + 1, into: &table)
            case 2:
                try expect(tag, .varint, at: tagStart, field: "Resource.dropped_attributes_count")
                entry.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint())
            case 3:
                try expect(tag, .lengthDelimited, at: tagStart, field: "Resource.entity_refs")
                try validateEntityRef(try reader.readLengthDelimited(), depth: depth + 1)
            default:
                try reader.skipField(tag, depth: depth, maxDepth: maxDepth)
            }
        }
        entry.raw = slice(region)
        entry.attributes = RowRange(start: firstAttribute, end: table.count)
    }

    /// Validates an `EntityRef` (kept only inside the raw resource bytes).
    @usableFromInline
    func validateEntityRef(_ region: Range<Int>, depth: Int) throws(DecodeError) {
        try checkDepth(depth, at: region.lowerBound)
        var reader = reader(region)
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            if (1...4).contains(tag.number) {
                try expect(tag, .lengthDelimited, at: tagStart, field: "EntityRef")
                _ = try readString(&reader, field: "EntityRef")
            } else {
                try reader.skipField(tag, depth: depth, maxDepth: maxDepth)
            }
        }
    }

    /// Decodes an `InstrumentationScope` into `entry`, appending its attributes to `table`.
    @inlinable
    func decodeScope(
        _ region: Range<Int>, depth: Int, into entry: inout ScopeEntry, attributes table: inout AttributeTable
    ) throws(DecodeError) {
        try checkDepth(depth, at: region.lowerBound)
        var reader = reader(region)
        // An entry decoded before (the field met twice) keeps its rows, which the caller put at
        // the table's end, and the new ones follow them.
        let firstAttribute = entry.raw == nil ? table.count : Int(entry.attributes.start)
        while !reader.isAtEnd {
            let tagStart = reader.position
            let tag = try reader.readTag()
            switch tag.number {
            case 1:
                try expect(tag, .lengthDelimited, at: tagStart, field: "InstrumentationScope.name")
                entry.name = try readString(&reader, field: "InstrumentationScope.name")
            case 2:
                try expect(tag, .lengthDelimited, at: tagStart, field: "InstrumentationScope.version")
                entry.version = try readString(&reader, field: "InstrumentationScope.version")
            case 3:
                try expect(tag, .lengthDelimited, at: tagStart, field: "InstrumentationScope.attributes")
                try decodeKeyValue(try reader.readLengthDelimited(), depth: depth + 1, into: &table)
            case 4:
                try expect(tag, .varint, at: tagStart, field: "InstrumentationScope.dropped_attributes_count")
                entry.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.readVarint())
            default:
                try reader.skipField(tag, depth: depth, maxDepth: maxDepth)
            }
        }
        entry.raw = slice(region)
        entry.attributes = RowRange(start: firstAttribute, end: table.count)
    }
}
