/// Appends protobuf to a byte array front to back, patching each length once its content is
/// written. Used where JSON input must become protobuf bytes a batch can point into (nested
/// `AnyValue` arrays and lists, the raw `Resource`/`InstrumentationScope` messages) and for the
/// small messages the sidecar answers with. `WireWriter` is the back-to-front writer for whole
/// requests; both encode varints with `Varint`.
package enum ProtoAppender {
    /// Where a length-delimited field's content starts, for `endField`.
    package struct Mark {
        let lengthAt: Int
    }

    package static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        Varint.append(value, to: &bytes)
    }

    package static func appendTag(_ field: UInt32, _ wireType: WireType, to bytes: inout [UInt8]) {
        appendVarint(UInt64(field) << 3 | UInt64(wireType.rawValue), to: &bytes)
    }

    /// Starts a length-delimited field: the tag, and one byte reserved for the length.
    package static func beginField(_ field: UInt32, in bytes: inout [UInt8]) -> Mark {
        appendTag(field, .lengthDelimited, to: &bytes)
        bytes.append(0)
        return Mark(lengthAt: bytes.count - 1)
    }

    /// Ends the field: writes the content's length, widening the reserved byte if needed.
    package static func endField(_ mark: Mark, in bytes: inout [UInt8]) {
        let length = bytes.count - mark.lengthAt - 1
        if length < 0x80 {
            bytes[mark.lengthAt] = UInt8(length)
            return
        }
        let width = Varint.length(of: UInt64(length))
        bytes.insert(contentsOf: repeatElement(0, count: width - 1), at: mark.lengthAt + 1)
        bytes.withUnsafeMutableBytes {
            Varint.store(UInt64(length), length: width, at: $0.baseAddress! + mark.lengthAt)
        }
    }

    package static func appendBytesField(_ field: UInt32, _ content: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        appendTag(field, .lengthDelimited, to: &bytes)
        appendVarint(UInt64(content.count), to: &bytes)
        bytes.append(contentsOf: content)
    }

    package static func appendVarintField(_ field: UInt32, _ value: UInt64, to bytes: inout [UInt8]) {
        appendTag(field, .varint, to: &bytes)
        appendVarint(value, to: &bytes)
    }

    package static func appendFixed64Field(_ field: UInt32, _ value: UInt64, to bytes: inout [UInt8]) {
        appendTag(field, .fixed64, to: &bytes)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `string` field (left out when empty, as proto3 writes defaults).
    package static func appendStringField(_ field: UInt32, _ text: String, to bytes: inout [UInt8]) {
        guard !text.isEmpty else { return }
        var text = text
        text.withUTF8 { appendBytesField(field, UnsafeRawBufferPointer($0), to: &bytes) }
    }
}
