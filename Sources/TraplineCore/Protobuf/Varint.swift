/// Base-128 varints, the one encoding every protobuf writer in the package uses: `WireWriter`
/// back to front, `ProtoAppender` front to back.
@usableFromInline package enum Varint {
    /// How many bytes `value` takes (1 to 10).
    @inlinable package static func length(of value: UInt64) -> Int {
        // Each byte carries 7 bits; zero still takes one byte.
        (64 &- (value | 1).leadingZeroBitCount &+ 6) / 7
    }

    /// Stores `value` in the `length` bytes at `destination` (`length` from `length(of:)`).
    @inlinable package static func store(_ value: UInt64, length: Int, at destination: UnsafeMutableRawPointer) {
        var remaining = value
        for index in 0..<length {
            let more: UInt8 = index == length &- 1 ? 0 : 0x80
            destination.storeBytes(
                of: UInt8(truncatingIfNeeded: remaining & 0x7F) | more, toByteOffset: index, as: UInt8.self)
            remaining >>= 7
        }
    }

    /// Appends `value` to `bytes`.
    @inlinable package static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        if value < 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value))
            return
        }
        let length = length(of: value)
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: length))
        bytes.withUnsafeMutableBytes { store(value, length: length, at: $0.baseAddress! + start) }
    }
}
