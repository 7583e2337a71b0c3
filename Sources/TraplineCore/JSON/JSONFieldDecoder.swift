/// Field-level OTLP JSON decoding shared by spans and logs: keys, strings, numbers, ids,
/// enums, `AnyValue`s, attributes, resources and scopes.
///
/// Strings without escapes stay slices of the input; escaped strings, base64 bytes and nested
/// arrays and lists (kept as protobuf, like every batch) go to the arena.
struct JSONFieldDecoder {
    let frame: UnsafeRawBufferPointer
    let sourceOffset: Int
    let maxDepth: Int
    /// The key tables, held here so the per-member lookups do not go through a global.
    let keys = OTLPJSONKeys.all

    func slice(_ range: Range<Int>) -> ByteSlice {
        ByteSlice(start: UInt32(truncatingIfNeeded: range.lowerBound), count: UInt32(truncatingIfNeeded: range.count))
    }

    func error(
        _ reason: Rejection.Reason, at position: Int, field: StaticString? = nil, value: Int? = nil, limit: Int? = nil
    )
        -> DecodeError
    {
        DecodeError(reason, offset: sourceOffset + position, field: field, value: value, limit: limit)
    }

    // MARK: Keys

    /// Whether `key` names a field, as lowerCamelCase or (counted as lenient) snake_case.
    func matches(_ key: JSONString, _ camel: StaticString, _ snake: StaticString, _ state: inout JSONDecodeState)
        -> Bool
    {
        if equals(key, camel) { return true }
        if snake.utf8CodeUnitCount != camel.utf8CodeUnitCount || snake.utf8Start != camel.utf8Start,
            equals(key, snake)
        {
            state.leniency.snakeCaseKeys += 1
            return true
        }
        return false
    }

    @inline(__always)
    func equals(_ key: JSONString, _ name: StaticString) -> Bool {
        let count = name.utf8CodeUnitCount
        if key.hasEscapes {
            var scratch: [UInt8] = []
            var unused = JSONDecodeState(reader: JSONReader(frame: frame, sourceOffset: sourceOffset))
            guard appendUnescaped(key, to: &scratch, &unused) else { return false }
            return scratch.elementsEqual(UnsafeBufferPointer(start: name.utf8Start, count: count))
        }
        guard key.range.count == count else { return false }
        return JSONKeyTable.same(UnsafeRawBufferPointer(rebasing: frame[key.range]), name.utf8Start)
    }

    // MARK: Scalars

    /// Reads a string field. `null` is the empty string; another type is a problem.
    func readString(_ state: inout JSONDecodeState, arena: inout [UInt8], field: StaticString) throws(DecodeError)
        -> ByteSlice
    {
        guard let next = state.reader.peek() else { throw error(.invalidJSON, at: state.reader.position) }
        if next != UInt8(ascii: "\"") {
            if state.reader.readNullIfPresent() { return .empty }
            return try wrongType(&state, field: field, or: .empty)
        }
        let token = try state.reader.readString()
        if !token.hasEscapes {
            if token.isASCII { return slice(token.range) }
            let bytes = UnsafeRawBufferPointer(rebasing: frame[token.range])
            if let bad = UTF8Validation.firstInvalidOffset(bytes) {
                state.fail(error(.invalidUTF8, at: token.range.lowerBound + bad, field: field))
                return .empty
            }
            return slice(token.range)
        }
        let start = arena.count
        guard appendUnescaped(token, to: &arena, &state) else {
            arena.removeSubrange(start...)
            return .empty
        }
        return .arena(start: start, count: arena.count - start)
    }

    /// Unescapes a string token onto `out`, checking UTF-8 and surrogates; false on a problem.
    func appendUnescaped(_ token: JSONString, to out: inout [UInt8], _ state: inout JSONDecodeState) -> Bool {
        var index = token.range.lowerBound
        let end = token.range.upperBound
        var runStart = index
        func flushRun(_ upTo: Int) -> Bool {
            let run = UnsafeRawBufferPointer(rebasing: frame[runStart..<upTo])
            if let bad = UTF8Validation.firstInvalidOffset(run) {
                state.fail(error(.invalidUTF8, at: runStart + bad))
                return false
            }
            out.append(contentsOf: run)
            return true
        }
        while index < end {
            guard frame[index] == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            guard flushRun(index), index + 1 < end else { return false }
            let escape = frame[index + 1]
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = hexUnit(at: index + 2, end: end) else {
                    state.fail(error(.invalidJSON, at: index))
                    return false
                }
                var scalar = UInt32(unit)
                if (0xD800...0xDBFF).contains(unit) {
                    // A high surrogate must be followed by an escaped low one.
                    guard index + 11 < end + 0, frame[index + 6] == UInt8(ascii: "\\"),
                        frame[index + 7] == UInt8(ascii: "u"),
                        let low = hexUnit(at: index + 8, end: end), (0xDC00...0xDFFF).contains(low)
                    else {
                        state.fail(error(.loneSurrogate, at: index))
                        return false
                    }
                    scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    index += 6
                } else if (0xDC00...0xDFFF).contains(unit) {
                    state.fail(error(.loneSurrogate, at: index))
                    return false
                }
                out.append(contentsOf: String(Unicode.Scalar(scalar)!).utf8)
                index += 4
            default:
                state.fail(error(.invalidJSON, at: index))
                return false
            }
            index += 2
            runStart = index
        }
        return flushRun(end)
    }

    private func hexUnit(at start: Int, end: Int) -> UInt16? {
        guard start + 4 <= end else { return nil }
        var value: UInt16 = 0
        for index in start..<(start + 4) {
            guard let digit = TextCodecs.hexValue(frame[index]) else { return nil }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    /// Records a wrong-type problem and skips the value.
    func wrongType<T>(_ state: inout JSONDecodeState, field: StaticString, or fallback: T) throws(DecodeError) -> T {
        state.fail(error(.wrongJSONType, at: state.reader.position, field: field))
        try state.reader.skipValue(depth: 0, maxDepth: maxDepth)
        return fallback
    }

    /// The digits of an integer given as a number or a decimal string; `isString` tells which.
    private func integerText(_ state: inout JSONDecodeState, field: StaticString) throws(DecodeError)
        -> (UnsafeRawBufferPointer, Int, isString: Bool)?
    {
        guard let next = state.reader.peek() else { throw error(.invalidJSON, at: state.reader.position) }
        let start = state.reader.position
        if next == UInt8(ascii: "\"") {
            let token = try state.reader.readString()
            return (UnsafeRawBufferPointer(rebasing: frame[token.range]), start, true)
        }
        if next == UInt8(ascii: "-") || (0x30...0x39).contains(next) {
            let range = try state.reader.readNumber()
            return (UnsafeRawBufferPointer(rebasing: frame[range]), start, false)
        }
        if state.reader.readNullIfPresent() { return nil }
        return try wrongType(&state, field: field, or: nil)
    }

    /// A 64-bit unsigned field (times): a decimal string, or a number (lenient).
    func readUInt64(_ state: inout JSONDecodeState, field: StaticString) throws(DecodeError) -> UInt64 {
        guard let (text, start, isString) = try integerText(&state, field: field) else { return 0 }
        if !isString { state.leniency.int64AsNumbers += 1 }
        guard let value = TextCodecs.parseUnsigned(text) else {
            state.fail(error(.invalidNumber, at: start, field: field))
            return 0
        }
        return value
    }

    /// A 64-bit signed field (`intValue`): a decimal string, or a number (lenient).
    func readInt64(_ state: inout JSONDecodeState, field: StaticString) throws(DecodeError) -> Int64 {
        guard let (text, start, isString) = try integerText(&state, field: field) else { return 0 }
        if !isString { state.leniency.int64AsNumbers += 1 }
        guard let value = TextCodecs.parseSigned(text) else {
            state.fail(error(.invalidNumber, at: start, field: field))
            return 0
        }
        return value
    }

    /// A 32-bit unsigned field (counts, flags): a number, or a decimal string.
    func readUInt32(_ state: inout JSONDecodeState, field: StaticString) throws(DecodeError) -> UInt32 {
        guard let (text, start, _) = try integerText(&state, field: field) else { return 0 }
        guard let value = TextCodecs.parseUnsigned(text), value <= UInt64(UInt32.max) else {
            state.fail(error(.invalidNumber, at: start, field: field))
            return 0
        }
        return UInt32(value)
    }

    /// An enum: a number, or (lenient) one of `names`, whose index is its number.
    func readEnum(_ state: inout JSONDecodeState, names: [String], field: StaticString) throws(DecodeError) -> Int32 {
        guard let next = state.reader.peek() else { throw error(.invalidJSON, at: state.reader.position) }
        let start = state.reader.position
        if next == UInt8(ascii: "\"") {
            let token = try state.reader.readString()
            let text = UnsafeRawBufferPointer(rebasing: frame[token.range])
            if let index = names.firstIndex(where: { $0.utf8.elementsEqual(text) }) {
                state.leniency.enumNames += 1
                return Int32(index)
            }
            if let number = TextCodecs.parseSigned(text), let value = Int32(exactly: number) { return value }
            state.fail(error(.unknownEnumName, at: start, field: field))
            return 0
        }
        guard let (text, _, _) = try integerText(&state, field: field) else { return 0 }
        guard let number = TextCodecs.parseSigned(text), let value = Int32(exactly: number) else {
            state.fail(error(.invalidNumber, at: start, field: field))
            return 0
        }
        return value
    }

    /// A double: a number, or the strings `NaN`, `Infinity`, `-Infinity` (or a numeric string).
    func readDouble(_ state: inout JSONDecodeState, field: StaticString) throws(DecodeError) -> Double {
        guard let next = state.reader.peek() else { throw error(.invalidJSON, at: state.reader.position) }
        let start = state.reader.position
        var range: Range<Int>
        if next == UInt8(ascii: "\"") {
            range = try state.reader.readString().range
            let text = UnsafeRawBufferPointer(rebasing: frame[range])
            if "NaN".utf8.elementsEqual(text) { return .nan }
            if "Infinity".utf8.elementsEqual(text) { return .infinity }
            if "-Infinity".utf8.elementsEqual(text) { return -.infinity }
        } else if state.reader.readNullIfPresent() {
            return 0
        } else if next == UInt8(ascii: "-") || (0x30...0x39).contains(next) {
            range = try state.reader.readNumber()
        } else {
            return try wrongType(&state, field: field, or: 0)
        }
        // Double's parser takes a String; doubles are rare in OTLP, so the allocation is too.
        guard let value = Double(String(decoding: UnsafeRawBufferPointer(rebasing: frame[range]), as: UTF8.self)) else {
            state.fail(error(.invalidNumber, at: start, field: field))
            return 0
        }
        return value
    }

    /// A boolean (`null` is false).
    func readBool(_ state: inout JSONDecodeState, field: StaticString) throws(DecodeError) -> Bool {
        guard let next = state.reader.peek() else { throw error(.invalidJSON, at: state.reader.position) }
        if next == UInt8(ascii: "t") || next == UInt8(ascii: "f") { return try state.reader.readBool() }
        if state.reader.readNullIfPresent() { return false }
        return try wrongType(&state, field: field, or: false)
    }

    /// A trace id: 32 hex digits (either case) or empty for unset. Thirty-two zeros are marked
    /// in `marks` as `mark`, as the protobuf decoder marks sixteen zero bytes.
    func readTraceID(
        _ state: inout JSONDecodeState, field: StaticString, mark: ZeroIDMarks.Field, in marks: inout ZeroIDMarks.Field
    ) throws(DecodeError) -> TraceID {
        marks.subtract(mark)  // the last occurrence wins, mark included
        guard let (text, start) = try idText(&state, field: field) else { return .zero }
        guard text.count == 32 else { return badID(&state, text, start, expected: 16, field: field, or: .zero) }
        guard let high = TextCodecs.hexWord(text, 0), let low = TextCodecs.hexWord(text, 16) else {
            state.fail(error(.invalidHexID, at: start, field: field))
            return .zero
        }
        let id = TraceID(high: high, low: low)
        if id.isZero { marks.formUnion(mark) }
        return id
    }

    /// A span id: 16 hex digits or empty for unset; sixteen zeros are marked as for trace ids.
    func readSpanID(
        _ state: inout JSONDecodeState, field: StaticString, mark: ZeroIDMarks.Field, in marks: inout ZeroIDMarks.Field
    ) throws(DecodeError) -> SpanID {
        marks.subtract(mark)
        guard let (text, start) = try idText(&state, field: field) else { return .zero }
        guard text.count == 16 else { return badID(&state, text, start, expected: 8, field: field, or: .zero) }
        guard let value = TextCodecs.hexWord(text, 0) else {
            state.fail(error(.invalidHexID, at: start, field: field))
            return .zero
        }
        if value == 0 { marks.formUnion(mark) }
        return SpanID(value)
    }

    private func idText(_ state: inout JSONDecodeState, field: StaticString) throws(DecodeError)
        -> (UnsafeRawBufferPointer, Int)?
    {
        guard let next = state.reader.peek() else { throw error(.invalidJSON, at: state.reader.position) }
        guard next == UInt8(ascii: "\"") else {
            if state.reader.readNullIfPresent() { return nil }
            return try wrongType(&state, field: field, or: nil)
        }
        let token = try state.reader.readString()
        if token.range.isEmpty { return nil }
        return (UnsafeRawBufferPointer(rebasing: frame[token.range]), token.range.lowerBound)
    }

    /// An id of the wrong length: hex of the wrong length, or not hex at all (base64, odd length).
    private func badID<T>(
        _ state: inout JSONDecodeState, _ text: UnsafeRawBufferPointer, _ start: Int, expected: Int,
        field: StaticString,
        or fallback: T
    ) -> T {
        let digitsOnly = text.allSatisfy { TextCodecs.hexValue($0) != nil }
        if digitsOnly && text.count % 2 == 0 {
            state.fail(error(.invalidIDLength, at: start, field: field, value: text.count / 2, limit: expected))
        } else if digitsOnly {
            // Hex, but an odd number of digits: half a byte is missing, which says more than "not hex".
            state.fail(error(.invalidHexID, at: start, field: field, value: text.count, limit: expected * 2))
        } else {
            state.fail(error(.invalidHexID, at: start, field: field))
        }
        return fallback
    }

    // MARK: Values and attributes

    /// An `AnyValue` object at `depth`. Arrays and lists are written to the arena as protobuf.
    func readAnyValue(_ state: inout JSONDecodeState, arena: inout [UInt8], depth: Int) throws(DecodeError)
        -> AnyValueRef
    {
        guard try withinDepth(depth, &state) else { return .absent }
        if state.reader.peek() != UInt8(ascii: "{") {
            if state.reader.readNullIfPresent() { return .absent }
            return try wrongType(&state, field: "AnyValue", or: .absent)
        }
        try state.reader.beginObject()
        var value = AnyValueRef(kind: .empty)
        var first = true
        while let key = try state.reader.nextMember(&first) {
            switch lookup(key, in: keys.anyValue, &state) {
            case 0: value = .slice(.string, try readString(&state, arena: &arena, field: "AnyValue.stringValue"))
            case 1:
                value = AnyValueRef(
                    kind: .int, payload: UInt64(bitPattern: try readInt64(&state, field: "AnyValue.intValue")))
            case 2: value = AnyValueRef(kind: .bool, payload: try readBool(&state, field: "AnyValue.boolValue") ? 1 : 0)
            case 3:
                value = AnyValueRef(
                    kind: .double, payload: try readDouble(&state, field: "AnyValue.doubleValue").bitPattern)
            case 4: value = .slice(.bytes, try readBytes(&state, arena: &arena))
            case 5:
                let start = arena.count
                try writeArrayValue(&state, arena: &arena, depth: depth + 1)
                value = .slice(.array, .arena(start: start, count: arena.count - start))
            case 6:
                let start = arena.count
                try writeKeyValueList(&state, arena: &arena, depth: depth + 1)
                value = .slice(.keyValueList, .arena(start: start, count: arena.count - start))
            default:
                try state.reader.skipValue(depth: depth, maxDepth: maxDepth)
            }
        }
        return value
    }

    /// Whether a value at `depth` is within the nesting limit; if not, records the problem and
    /// skips the value (so the record is rejected and the next one can be read).
    func withinDepth(_ depth: Int, _ state: inout JSONDecodeState) throws(DecodeError) -> Bool {
        guard depth > maxDepth else { return true }
        state.fail(error(.nestingTooDeep, at: state.reader.position, value: depth, limit: maxDepth))
        try state.reader.skipValue(depth: 0, maxDepth: Int.max)
        return false
    }

    /// `bytesValue`: base64, into the arena.
    func readBytes(_ state: inout JSONDecodeState, arena: inout [UInt8]) throws(DecodeError) -> ByteSlice {
        guard state.reader.peek() == UInt8(ascii: "\"") else {
            if state.reader.readNullIfPresent() { return .empty }
            return try wrongType(&state, field: "AnyValue.bytesValue", or: .empty)
        }
        let token = try state.reader.readString()
        let start = arena.count
        guard TextCodecs.appendBase64Decoded(UnsafeRawBufferPointer(rebasing: frame[token.range]), to: &arena) else {
            arena.removeSubrange(start...)
            state.fail(error(.invalidBase64, at: token.range.lowerBound, field: "AnyValue.bytesValue"))
            return .empty
        }
        return .arena(start: start, count: arena.count - start)
    }

    /// The bytes of `slice`. Arena offsets at or past `scratchStart` are read from `scratch`:
    /// bytes an element left in the arena, moved out so its protobuf can be written in their place.
    func resolve(_ slice: ByteSlice, arena: [UInt8], scratch: [UInt8] = [], scratchStart: Int = Int.max) -> [UInt8] {
        let range = slice.offset..<(slice.offset + Int(slice.count))
        guard slice.isArena else { return Array(frame[range]) }
        if slice.offset >= scratchStart {
            return Array(scratch[(range.lowerBound - scratchStart)..<(range.upperBound - scratchStart)])
        }
        return Array(arena[range])
    }

    /// Appends the protobuf encoding of an `AnyValue` (its content); `content` holds the bytes
    /// of kinds held as bytes.
    func appendAnyValueProto(_ value: AnyValueRef, content: [UInt8], arena: inout [UInt8]) {
        switch value.kind {
        case .absent, .empty, .rawKeyValue: return
        case .string, .bytes, .array, .keyValueList:
            let field: UInt32 =
                switch value.kind {
                case .string: 1
                case .array: 5
                case .keyValueList: 6
                default: 7
                }
            content.withUnsafeBytes { ProtoAppender.appendBytesField(field, $0, to: &arena) }
        case .bool: ProtoAppender.appendVarintField(2, value.payload, to: &arena)
        case .int: ProtoAppender.appendVarintField(3, value.payload, to: &arena)
        case .double: ProtoAppender.appendFixed64Field(4, value.payload, to: &arena)
        case .stringIndex: ProtoAppender.appendVarintField(8, value.payload, to: &arena)
        }
    }

    /// Whether a kind is held as bytes (a slice).
    func holdsBytes(_ kind: AnyValueRef.Kind) -> Bool {
        kind == .string || kind == .bytes || kind == .array || kind == .keyValueList
    }

    /// `{"values": [AnyValue…]}` written as `ArrayValue` content.
    func writeArrayValue(_ state: inout JSONDecodeState, arena: inout [UInt8], depth: Int) throws(DecodeError) {
        try writeValues(&state, arena: &arena, depth: depth, field: "ArrayValue") {
            (state, arena) throws(DecodeError) in try appendNestedAnyValue(&state, arena: &arena, depth: depth + 2)
        }
    }

    /// `{"values": [KeyValue…]}` written as `KeyValueList` content.
    func writeKeyValueList(_ state: inout JSONDecodeState, arena: inout [UInt8], depth: Int) throws(DecodeError) {
        try writeValues(&state, arena: &arena, depth: depth, field: "KeyValueList") {
            (state, arena) throws(DecodeError) in
            let mark = ProtoAppender.beginField(1, in: &arena)
            let scratchStart = arena.count
            let (key, value) = try readKeyValue(&state, arena: &arena, depth: depth + 2)
            let scratch = Array(arena[scratchStart...])
            arena.removeSubrange(scratchStart...)
            let keyBytes = resolve(key, arena: arena, scratch: scratch, scratchStart: scratchStart)
            let content =
                holdsBytes(value.kind)
                ? resolve(value.slice, arena: arena, scratch: scratch, scratchStart: scratchStart) : []
            appendKeyValueContent(key: keyBytes, value: value, content: content, arena: &arena)
            ProtoAppender.endField(mark, in: &arena)
        }
    }

    /// The object of an `ArrayValue` or `KeyValueList` at `depth`: its `values` array, each
    /// element written by `element`; other keys skipped.
    private func writeValues(
        _ state: inout JSONDecodeState, arena: inout [UInt8], depth: Int, field: StaticString,
        element: (inout JSONDecodeState, inout [UInt8]) throws(DecodeError) -> Void
    ) throws(DecodeError) {
        guard try withinDepth(depth, &state) else { return }
        if state.reader.peek() != UInt8(ascii: "{") {
            if state.reader.readNullIfPresent() { return }
            return try wrongType(&state, field: field, or: ())
        }
        try state.reader.beginObject()
        var first = true
        while let key = try state.reader.nextMember(&first) {
            guard matches(key, "values", "values", &state), state.reader.peek() == UInt8(ascii: "[") else {
                try state.reader.skipValue(depth: depth, maxDepth: maxDepth)
                continue
            }
            guard try withinDepth(depth + 1, &state) else { continue }
            try state.reader.beginArray()
            var firstElement = true
            while try state.reader.nextElement(&firstElement) { try element(&state, &arena) }
        }
    }

    /// One element of an array: `values { … }` holding the element's `AnyValue`.
    private func appendNestedAnyValue(_ state: inout JSONDecodeState, arena: inout [UInt8], depth: Int)
        throws(DecodeError)
    {
        let mark = ProtoAppender.beginField(1, in: &arena)
        let scratchStart = arena.count
        let value = try readAnyValue(&state, arena: &arena, depth: depth)
        let scratch = Array(arena[scratchStart...])
        arena.removeSubrange(scratchStart...)
        let content =
            holdsBytes(value.kind)
            ? resolve(value.slice, arena: arena, scratch: scratch, scratchStart: scratchStart) : []
        appendAnyValueProto(value, content: content, arena: &arena)
        ProtoAppender.endField(mark, in: &arena)
    }

    /// Appends `KeyValue` content (key, then value) as protobuf.
    func appendKeyValueContent(key: [UInt8], value: AnyValueRef, content: [UInt8], arena: inout [UInt8]) {
        key.withUnsafeBytes { if !$0.isEmpty { ProtoAppender.appendBytesField(1, $0, to: &arena) } }
        if value.kind != .absent {
            let mark = ProtoAppender.beginField(2, in: &arena)
            appendAnyValueProto(value, content: content, arena: &arena)
            ProtoAppender.endField(mark, in: &arena)
        }
    }

    /// Appends attribute `index` of `table` as `KeyValue` field `field`, copying key and value
    /// bytes straight from the frame or the arena (no intermediate buffers: once per resource
    /// and scope attribute, which is most attributes of small requests).
    func appendAttribute(_ field: UInt32, _ table: AttributeTable, _ index: Int, arena: inout [UInt8]) {
        let value = table.values[index]
        let key = table.keys[index]
        let mark = ProtoAppender.beginField(field, in: &arena)
        if !key.isEmpty { appendSliceField(1, key, arena: &arena) }
        if value.kind != .absent {
            let valueMark = ProtoAppender.beginField(2, in: &arena)
            switch value.kind {
            case .string: appendSliceField(1, value.slice, arena: &arena)
            case .bytes: appendSliceField(7, value.slice, arena: &arena)
            case .array: appendSliceField(5, value.slice, arena: &arena)
            case .keyValueList: appendSliceField(6, value.slice, arena: &arena)
            default: appendAnyValueProto(value, content: [], arena: &arena)
            }
            ProtoAppender.endField(valueMark, in: &arena)
        }
        ProtoAppender.endField(mark, in: &arena)
    }

    /// Appends a length-delimited field holding `slice`'s bytes, from the frame or the arena.
    func appendSliceField(_ field: UInt32, _ slice: ByteSlice, arena: inout [UInt8]) {
        let count = Int(slice.count)
        ProtoAppender.appendTag(field, .lengthDelimited, to: &arena)
        ProtoAppender.appendVarint(UInt64(count), to: &arena)
        guard count > 0 else { return }
        if !slice.isArena {
            arena.append(contentsOf: UnsafeRawBufferPointer(rebasing: frame[slice.offset..<(slice.offset + count)]))
            return
        }
        // Copy within the arena: grow first, then move bytes inside one buffer (appending a
        // slice of the array to itself would copy the whole array).
        let destination = arena.count
        arena.append(contentsOf: repeatElement(0, count: count))
        arena.withUnsafeMutableBytes { buffer in
            (buffer.baseAddress! + destination).copyMemory(from: buffer.baseAddress! + slice.offset, byteCount: count)
        }
    }

    /// A `KeyValue` object.
    func readKeyValue(_ state: inout JSONDecodeState, arena: inout [UInt8], depth: Int) throws(DecodeError)
        -> (ByteSlice, AnyValueRef)
    {
        guard try withinDepth(depth, &state) else { return (.empty, .absent) }
        if state.reader.peek() != UInt8(ascii: "{") {
            return try wrongType(&state, field: "KeyValue", or: (.empty, .absent))
        }
        try state.reader.beginObject()
        var key = ByteSlice.empty
        var value = AnyValueRef.absent
        var first = true
        while let member = try state.reader.nextMember(&first) {
            switch lookup(member, in: keys.keyValue, &state) {
            case 0: key = try readString(&state, arena: &arena, field: "KeyValue.key")
            case 1: value = try readAnyValue(&state, arena: &arena, depth: depth + 1)
            default: try state.reader.skipValue(depth: depth, maxDepth: maxDepth)
            }
        }
        return (key, value)
    }

    /// An array of `KeyValue`s appended to `table`.
    func readAttributes(
        _ state: inout JSONDecodeState, arena: inout [UInt8], depth: Int, into table: inout AttributeTable
    ) throws(DecodeError) {
        guard state.reader.peek() == UInt8(ascii: "[") else {
            if state.reader.readNullIfPresent() { return }
            return try wrongType(&state, field: "attributes", or: ())
        }
        try state.reader.beginArray()
        var first = true
        let fastPathAllowed = depth + 2 <= maxDepth
        // An array value nests three levels more (ArrayValue, its values, an AnyValue).
        let arraysAllowed = depth + 5 <= maxDepth
        while try state.reader.nextElement(&first) {
            if fastPathAllowed,
                let (key, value) = readKeyValueFast(&state.reader, arena: &arena, arrays: arraysAllowed)
            {
                table.append(key: key, value: value)
                continue
            }
            let (key, value) = try readKeyValue(&state, arena: &arena, depth: depth + 1)
            table.append(key: key, value: value)
        }
    }

    /// Reads the attribute shape nearly every OTLP JSON writer produces, compact and in
    /// canonical order — `{"key":"K","value":{"stringValue":"V"}}`, or `intValue`,
    /// `boolValue`, or (with `arrays`) an `arrayValue` of strings — with fixed byte patterns
    /// instead of the general object walk. Returns nil with the reader and the arena untouched
    /// when the bytes differ in any way (white space, other order, escapes, other kinds), and the
    /// general path reads them.
    @inline(__always)
    func readKeyValueFast(_ reader: inout JSONReader, arena: inout [UInt8], arrays: Bool) -> (ByteSlice, AnyValueRef)? {
        var probe = reader
        guard probe.matchLiteral(#"{"key":""#), let key = try? probe.readStringContent(), !key.hasEscapes,
            key.isASCII || UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: frame[key.range])),
            probe.matchLiteral(#","value":{""#)
        else { return nil }
        var value: AnyValueRef
        if probe.matchLiteral(#"stringValue":""#) {
            guard let text = try? probe.readStringContent(), !text.hasEscapes,
                text.isASCII || UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: frame[text.range]))
            else { return nil }
            value = .slice(.string, slice(text.range))
        } else if probe.matchLiteral(#"intValue":""#) {
            guard let digits = try? probe.readStringContent(),
                let number = TextCodecs.parseSigned(UnsafeRawBufferPointer(rebasing: frame[digits.range]))
            else { return nil }
            value = AnyValueRef(kind: .int, payload: UInt64(bitPattern: number))
        } else if probe.matchLiteral(#"boolValue":"#) {
            if probe.matchLiteral("true") {
                value = AnyValueRef(kind: .bool, payload: 1)
            } else if probe.matchLiteral("false") {
                value = AnyValueRef(kind: .bool, payload: 0)
            } else {
                return nil
            }
        } else if arrays, probe.matchLiteral(#"arrayValue":{"values":["#) {
            let start = arena.count
            guard appendStringArrayFast(&probe, arena: &arena), probe.matchLiteral("}}}") else {
                arena.removeSubrange(start...)
                return nil
            }
            reader = probe
            return (slice(key.range), .slice(.array, .arena(start: start, count: arena.count - start)))
        } else {
            return nil
        }
        guard probe.matchLiteral("}}") else { return nil }
        reader = probe
        return (slice(key.range), value)
    }

    /// The elements of a compact array of strings, `{"stringValue":"V"},…]`, written to the
    /// arena as `ArrayValue` content (each a `values` field holding an `AnyValue` with its
    /// `string_value`), the bytes the general path writes; false at anything else.
    private func appendStringArrayFast(_ probe: inout JSONReader, arena: inout [UInt8]) -> Bool {
        if probe.matchLiteral("]") { return true }
        repeat {
            guard probe.matchLiteral(#"{"stringValue":""#), let text = try? probe.readStringContent(),
                !text.hasEscapes,
                text.isASCII || UTF8Validation.isValid(UnsafeRawBufferPointer(rebasing: frame[text.range])),
                probe.matchLiteral("}")
            else { return false }
            let count = text.range.count
            let inner = 1 + Varint.length(of: UInt64(count)) + count
            arena.append(0x0A)
            Varint.append(UInt64(inner), to: &arena)
            arena.append(0x0A)
            Varint.append(UInt64(count), to: &arena)
            arena.append(contentsOf: UnsafeRawBufferPointer(rebasing: frame[text.range]))
        } while probe.matchLiteral(",")
        return probe.matchLiteral("]")
    }

    // MARK: Resource and scope

    /// A `Resource` object; its protobuf encoding goes to the arena as the entry's raw bytes.
    func readResource(
        _ state: inout JSONDecodeState, arena: inout [UInt8], depth: Int, into entry: inout ResourceEntry,
        attributes table: inout AttributeTable
    ) throws(DecodeError) {
        if state.reader.peek() != UInt8(ascii: "{") {
            if state.reader.readNullIfPresent() { return }
            return try wrongType(&state, field: "Resource", or: ())
        }
        try state.reader.beginObject()
        let firstAttribute = table.count
        var entityRefs: [[UInt8]] = []
        var first = true
        while let key = try state.reader.nextMember(&first) {
            if matches(key, "attributes", "attributes", &state) {
                try readAttributes(&state, arena: &arena, depth: depth + 1, into: &table)
            } else if matches(key, "droppedAttributesCount", "dropped_attributes_count", &state) {
                entry.droppedAttributesCount = try readUInt32(&state, field: "Resource.droppedAttributesCount")
            } else if matches(key, "entityRefs", "entity_refs", &state), state.reader.peek() == UInt8(ascii: "[") {
                try state.reader.beginArray()
                var firstElement = true
                while try state.reader.nextElement(&firstElement) {
                    entityRefs.append(try readEntityRef(&state, arena: &arena, depth: depth + 2))
                }
            } else {
                try state.reader.skipValue(depth: depth, maxDepth: maxDepth)
            }
        }
        entry.attributes = RowRange(start: firstAttribute, end: table.count)
        let start = arena.count
        for index in entry.attributes.range { appendAttribute(1, table, index, arena: &arena) }
        if entry.droppedAttributesCount != 0 {
            ProtoAppender.appendVarintField(2, UInt64(entry.droppedAttributesCount), to: &arena)
        }
        for ref in entityRefs { ref.withUnsafeBytes { ProtoAppender.appendBytesField(3, $0, to: &arena) } }
        entry.raw = .arena(start: start, count: arena.count - start)
    }

    /// An `EntityRef`, returned as its protobuf encoding (resources are few; entity refs rarer).
    private func readEntityRef(_ state: inout JSONDecodeState, arena: inout [UInt8], depth: Int) throws(DecodeError)
        -> [UInt8]
    {
        var encoded: [UInt8] = []
        if state.reader.peek() != UInt8(ascii: "{") { return try wrongType(&state, field: "EntityRef", or: []) }
        try state.reader.beginObject()
        var first = true
        while let key = try state.reader.nextMember(&first) {
            let field: UInt32? =
                matches(key, "schemaUrl", "schema_url", &state) ? 1 : matches(key, "type", "type", &state) ? 2 : nil
            if let field {
                let value = try readString(&state, arena: &arena, field: "EntityRef")
                appendSlice(field, value, from: arena, to: &encoded)
            } else if let listField: UInt32 =
                matches(key, "idKeys", "id_keys", &state)
                ? 3 : matches(key, "descriptionKeys", "description_keys", &state) ? 4 : nil,
                state.reader.peek() == UInt8(ascii: "[")
            {
                try state.reader.beginArray()
                var firstElement = true
                while try state.reader.nextElement(&firstElement) {
                    let value = try readString(&state, arena: &arena, field: "EntityRef")
                    appendSlice(listField, value, from: arena, to: &encoded, always: true)
                }
            } else {
                try state.reader.skipValue(depth: depth, maxDepth: maxDepth)
            }
        }
        return encoded
    }

    private func appendSlice(
        _ field: UInt32, _ slice: ByteSlice, from arena: [UInt8], to out: inout [UInt8], always: Bool = false
    ) {
        guard always || !slice.isEmpty else { return }
        resolve(slice, arena: arena).withUnsafeBytes { ProtoAppender.appendBytesField(field, $0, to: &out) }
    }

    /// An `InstrumentationScope` object; its protobuf encoding goes to the arena as raw bytes.
    func readScope(
        _ state: inout JSONDecodeState, arena: inout [UInt8], depth: Int, into entry: inout ScopeEntry,
        attributes table: inout AttributeTable
    ) throws(DecodeError) {
        if state.reader.peek() != UInt8(ascii: "{") {
            if state.reader.readNullIfPresent() { return }
            return try wrongType(&state, field: "InstrumentationScope", or: ())
        }
        try state.reader.beginObject()
        let firstAttribute = table.count
        var first = true
        while let key = try state.reader.nextMember(&first) {
            if matches(key, "name", "name", &state) {
                entry.name = try readString(&state, arena: &arena, field: "InstrumentationScope.name")
            } else if matches(key, "version", "version", &state) {
                entry.version = try readString(&state, arena: &arena, field: "InstrumentationScope.version")
            } else if matches(key, "attributes", "attributes", &state) {
                try readAttributes(&state, arena: &arena, depth: depth + 1, into: &table)
            } else if matches(key, "droppedAttributesCount", "dropped_attributes_count", &state) {
                entry.droppedAttributesCount = try readUInt32(
                    &state, field: "InstrumentationScope.droppedAttributesCount")
            } else {
                try state.reader.skipValue(depth: depth, maxDepth: maxDepth)
            }
        }
        entry.attributes = RowRange(start: firstAttribute, end: table.count)
        let start = arena.count
        if !entry.name.isEmpty { appendSliceField(1, entry.name, arena: &arena) }
        if !entry.version.isEmpty { appendSliceField(2, entry.version, arena: &arena) }
        for index in entry.attributes.range { appendAttribute(3, table, index, arena: &arena) }
        if entry.droppedAttributesCount != 0 {
            ProtoAppender.appendVarintField(4, UInt64(entry.droppedAttributesCount), to: &arena)
        }
        entry.raw = .arena(start: start, count: arena.count - start)
    }
}
