/// Appends protobuf to a byte array front to back, patching each length once its content is
/// written. Used where JSON input must become protobuf bytes a batch can point into: nested
/// `AnyValue` arrays and lists, and the raw `Resource`/`InstrumentationScope` messages.
struct ArenaProtoWriter {
    /// Where a length-delimited field's content starts, for `endField`.
    struct Mark {
        let lengthAt: Int
    }

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    static func appendTag(_ field: UInt32, _ wireType: WireType, to bytes: inout [UInt8]) {
        appendVarint(UInt64(field) << 3 | UInt64(wireType.rawValue), to: &bytes)
    }

    /// Starts a length-delimited field: the tag, and one byte reserved for the length.
    static func beginField(_ field: UInt32, in bytes: inout [UInt8]) -> Mark {
        appendTag(field, .lengthDelimited, to: &bytes)
        bytes.append(0)
        return Mark(lengthAt: bytes.count - 1)
    }

    /// Ends the field: writes the content's length, widening the reserved byte if needed.
    static func endField(_ mark: Mark, in bytes: inout [UInt8]) {
        let length = bytes.count - mark.lengthAt - 1
        if length < 0x80 {
            bytes[mark.lengthAt] = UInt8(length)
            return
        }
        var encoded: [UInt8] = []
        appendVarint(UInt64(length), to: &encoded)
        bytes.replaceSubrange(mark.lengthAt..<(mark.lengthAt + 1), with: encoded)
    }

    static func appendBytesField(_ field: UInt32, _ content: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        appendTag(field, .lengthDelimited, to: &bytes)
        appendVarint(UInt64(content.count), to: &bytes)
        bytes.append(contentsOf: content)
    }

    static func appendVarintField(_ field: UInt32, _ value: UInt64, to bytes: inout [UInt8]) {
        appendTag(field, .varint, to: &bytes)
        appendVarint(value, to: &bytes)
    }

    static func appendFixed64Field(_ field: UInt32, _ value: UInt64, to bytes: inout [UInt8]) {
        appendTag(field, .fixed64, to: &bytes)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
