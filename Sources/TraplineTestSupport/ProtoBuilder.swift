/// Builds protobuf bytes front to back, independently of Trapline's own `WireWriter`, so tests
/// do not check the encoder with itself.
public struct ProtoBuilder {
    /// The bytes built so far.
    public private(set) var bytes: [UInt8] = []

    /// Makes an empty builder.
    public init() {}

    /// Appends a varint.
    public mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Appends a tag.
    public mutating func tag(_ field: UInt32, _ wireType: UInt8) {
        varint(UInt64(field) << 3 | UInt64(wireType))
    }

    /// Appends a varint field.
    public mutating func varintField(_ field: UInt32, _ value: UInt64) {
        tag(field, 0)
        varint(value)
    }

    /// Appends a fixed64 field.
    public mutating func fixed64Field(_ field: UInt32, _ value: UInt64) {
        tag(field, 1)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends a fixed32 field.
    public mutating func fixed32Field(_ field: UInt32, _ value: UInt32) {
        tag(field, 5)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends a length-delimited field holding `content`.
    public mutating func bytesField(_ field: UInt32, _ content: [UInt8]) {
        tag(field, 2)
        varint(UInt64(content.count))
        bytes.append(contentsOf: content)
    }

    /// Appends a string field.
    public mutating func stringField(_ field: UInt32, _ text: String) {
        bytesField(field, Array(text.utf8))
    }

    /// Appends a message field built by `body`.
    public mutating func messageField(_ field: UInt32, _ body: (inout ProtoBuilder) -> Void) {
        var inner = ProtoBuilder()
        body(&inner)
        bytesField(field, inner.bytes)
    }

    /// Appends raw bytes (for hand-made malformed input).
    public mutating func raw(_ extra: [UInt8]) {
        bytes.append(contentsOf: extra)
    }
}
