import TraplineCore

/// Reads and writes the protobuf forms of nested values: `AnyValue`, `ArrayValue` and
/// `KeyValueList` content. The decoders validated these bytes already, so a read that fails
/// here yields what was read so far.
enum RawAnyValue {
    /// `KeyValueList` content (repeated `KeyValue values = 1`) as an owned map.
    static func map(_ bytes: UnsafeRawBufferPointer) -> RuleMap {
        var map = RuleMap()
        var reader = WireReader(frame: bytes)
        while !reader.isAtEnd, let tag = try? reader.readTag() {
            guard tag.number == 1, tag.wireType == .lengthDelimited, let region = try? reader.readLengthDelimited()
            else {
                if (try? reader.skipField(tag, depth: 0, maxDepth: 100)) == nil { break }
                continue
            }
            let (key, value) = keyValue(reader.bytes(region))
            map.entries.append((key, value))
        }
        return map
    }

    /// A `KeyValue` message: its key and its value, owned.
    static func keyValue(_ bytes: UnsafeRawBufferPointer) -> (String, RuleValue) {
        var reader = WireReader(frame: bytes)
        var key = ""
        var value = RuleValue.null
        while !reader.isAtEnd, let tag = try? reader.readTag() {
            if tag.wireType == .lengthDelimited, tag.number == 1 || tag.number == 2,
                let region = try? reader.readLengthDelimited()
            {
                if tag.number == 1 {
                    key = String(decoding: reader.bytes(region), as: UTF8.self)
                } else {
                    value = anyValue(reader.bytes(region))
                }
            } else if (try? reader.skipField(tag, depth: 0, maxDepth: 100)) == nil {
                break
            }
        }
        return (key, value)
    }

    /// The value of `key` in `KeyValueList` content, without decoding the others.
    static func lookup(_ bytes: UnsafeRawBufferPointer, key: String) -> RuleValue? {
        var found: RuleValue?
        for entry in map(bytes).entries where entry.key == key { found = entry.value }
        return found
    }

    /// `ArrayValue` content (repeated `AnyValue values = 1`) as an owned list.
    static func list(_ bytes: UnsafeRawBufferPointer) -> [RuleValue] {
        var list: [RuleValue] = []
        var reader = WireReader(frame: bytes)
        while !reader.isAtEnd, let tag = try? reader.readTag() {
            guard tag.number == 1, tag.wireType == .lengthDelimited, let region = try? reader.readLengthDelimited()
            else {
                if (try? reader.skipField(tag, depth: 0, maxDepth: 100)) == nil { break }
                continue
            }
            list.append(anyValue(reader.bytes(region)))
        }
        return list
    }

    /// An `AnyValue` message, owned.
    static func anyValue(_ bytes: UnsafeRawBufferPointer) -> RuleValue {
        var reader = WireReader(frame: bytes)
        var value = RuleValue.null
        while !reader.isAtEnd, let tag = try? reader.readTag() {
            switch (tag.number, tag.wireType) {
            case (1, .lengthDelimited), (5, .lengthDelimited), (6, .lengthDelimited), (7, .lengthDelimited):
                guard let region = try? reader.readLengthDelimited() else { return value }
                let content = reader.bytes(region)
                switch tag.number {
                case 1: value = .string(String(decoding: content, as: UTF8.self))
                case 5: value = .list(list(content))
                case 6: value = .map(map(content))
                default: value = .bytes(Array(content))
                }
            case (2, .varint): value = .bool(((try? reader.readVarint()) ?? 0) != 0)
            case (3, .varint): value = .int(Int64(bitPattern: (try? reader.readVarint()) ?? 0))
            case (4, .fixed64): value = .double(Double(bitPattern: (try? reader.readFixed64()) ?? 0))
            default:
                if (try? reader.skipField(tag, depth: 0, maxDepth: 100)) == nil { return value }
            }
        }
        return value
    }

    // MARK: Encoding (forward, small values: sizes are known after each part is built)

    /// `AnyValue` message bytes for an owned value (`nil` is an empty `AnyValue`).
    static func encodeAnyValue(_ value: RuleValue, _ bytes: BatchBytes, into out: inout [UInt8]) {
        switch value.owned(bytes) {
        case .null: break
        case .bool(let flag):
            out.append(0x10)
            out.append(flag ? 1 : 0)
        case .int(let number), .time(let number), .duration(let number):
            out.append(0x18)
            appendVarint(UInt64(bitPattern: number), to: &out)
        case .double(let number):
            out.append(0x21)
            withUnsafeBytes(of: number.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        case .string(let string): appendField(1, Array(string.utf8), to: &out)
        case .bytes(let data): appendField(7, data, to: &out)
        case .traceID(let id): appendField(1, Array(id.description.utf8), to: &out)
        case .spanID(let id): appendField(1, Array(id.description.utf8), to: &out)
        case .list(let items): appendField(5, encodeList(items, bytes), to: &out)
        case .map(let map): appendField(6, encodeMap(map, bytes), to: &out)
        case .text, .byteSlice, .rawMap, .rawList: break  // `owned` resolved these
        }
    }

    /// `ArrayValue` content.
    static func encodeList(_ items: [RuleValue], _ bytes: BatchBytes) -> [UInt8] {
        var out: [UInt8] = []
        for item in items {
            var element: [UInt8] = []
            encodeAnyValue(item, bytes, into: &element)
            appendField(1, element, to: &out)
        }
        return out
    }

    /// `KeyValueList` content.
    static func encodeMap(_ map: RuleMap, _ bytes: BatchBytes) -> [UInt8] {
        var out: [UInt8] = []
        for entry in map.entries {
            var keyValue: [UInt8] = []
            appendField(1, Array(entry.key.utf8), to: &keyValue)
            var value: [UInt8] = []
            encodeAnyValue(entry.value, bytes, into: &value)
            appendField(2, value, to: &keyValue)
            appendField(1, keyValue, to: &out)
        }
        return out
    }

    static func appendField(_ number: UInt64, _ content: [UInt8], to out: inout [UInt8]) {
        appendVarint(number << 3 | 2, to: &out)
        appendVarint(UInt64(content.count), to: &out)
        out.append(contentsOf: content)
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }
}
