/// A 16-byte trace id, held as two big-endian words so columns stay fixed-width.
///
/// All zeros means unset (an empty `trace_id` on the wire), as in the OTLP specification.
public struct TraceID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Bytes 0–7, big-endian.
    public var high: UInt64
    /// Bytes 8–15, big-endian.
    public var low: UInt64

    /// Makes an id from its two halves. Allocates nothing.
    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The unset id.
    public static let zero = TraceID(high: 0, low: 0)

    /// Whether the id is unset.
    @inlinable public var isZero: Bool { high == 0 && low == 0 }

    /// Reads 16 bytes.
    @inlinable
    init(bytes: UnsafeRawBufferPointer) {
        high = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// Allocates nothing.
    public static func < (lhs: TraceID, rhs: TraceID) -> Bool { (lhs.high, lhs.low) < (rhs.high, rhs.low) }

    /// Lowercase hex, 32 digits.
    public var description: String { hex(high) + hex(low) }
}

/// An 8-byte span id, held as one big-endian word. Zero means unset.
public struct SpanID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The id, big-endian.
    public var value: UInt64

    /// Makes an id. Allocates nothing.
    @inlinable
    public init(_ value: UInt64) { self.value = value }

    /// The unset id.
    public static let zero = SpanID(0)

    /// Whether the id is unset.
    @inlinable public var isZero: Bool { value == 0 }

    /// Reads 8 bytes.
    @inlinable
    init(bytes: UnsafeRawBufferPointer) {
        value = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
    }

    /// Allocates nothing.
    public static func < (lhs: SpanID, rhs: SpanID) -> Bool { lhs.value < rhs.value }

    /// Lowercase hex, 16 digits.
    public var description: String { hex(value) }
}

private func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
