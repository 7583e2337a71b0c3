/// Protobuf wire types (the low three bits of a tag).
@usableFromInline package enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// A decoded field tag.
@usableFromInline package struct FieldTag: Hashable, Sendable {
    /// The field number (1 ... 2^29 - 1).
    @usableFromInline package var number: UInt32
    /// The wire type.
    @usableFromInline package var wireType: WireType

    /// Makes a tag.
    @inlinable
    package init(number: UInt32, wireType: WireType) {
        self.number = number
        self.wireType = wireType
    }

    /// The tag as it is written on the wire.
    @inlinable
    package var encoded: UInt64 { UInt64(number) << 3 | UInt64(wireType.rawValue) }
}
