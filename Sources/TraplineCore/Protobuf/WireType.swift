/// Protobuf wire types (the low three bits of a tag).
public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// A decoded field tag.
public struct FieldTag: Hashable, Sendable {
    /// The field number (1 ... 2^29 - 1).
    public var number: UInt32
    /// The wire type.
    public var wireType: WireType

    /// Makes a tag.
    @inlinable
    public init(number: UInt32, wireType: WireType) {
        self.number = number
        self.wireType = wireType
    }

    /// The tag as it is written on the wire.
    @inlinable
    public var encoded: UInt64 { UInt64(number) << 3 | UInt64(wireType.rawValue) }
}
