/// An OTLP `AnyValue` as a batch stores it: a kind and one word of payload.
///
/// Scalars are held directly; strings and bytes are slices; arrays and key-value lists stay as
/// raw slices of their encoded content and are decoded only when asked (`AnyValueReader`).
public struct AnyValueRef: Hashable, Sendable {
    /// Which `AnyValue` case this is.
    public enum Kind: UInt8, Sendable {
        /// No value at all (a `KeyValue` without its `value` field, or a log without a body).
        case absent
        /// An `AnyValue` message with no case set.
        case empty
        /// `string_value` (a slice).
        case string
        /// `bool_value`.
        case bool
        /// `int_value`.
        case int
        /// `double_value` (its bit pattern).
        case double
        /// Raw `ArrayValue` content.
        case array
        /// Raw `KeyValueList` content.
        case keyValueList
        /// `bytes_value` (a slice).
        case bytes
        /// `string_value_strindex` (an index into a profiles string table).
        case stringIndex
        /// A whole `KeyValue` kept raw because it carries fields beyond key and value
        /// (`key_strindex` or unknown fields); only attribute values use it.
        case rawKeyValue
    }

    /// The case.
    public var kind: Kind
    /// Integer bits, double bits, 0/1, or a packed `ByteSlice`, by kind.
    public var payload: UInt64

    /// Makes a value. Allocates nothing.
    @inlinable
    public init(kind: Kind, payload: UInt64 = 0) {
        self.kind = kind
        self.payload = payload
    }

    /// The missing value.
    public static let absent = AnyValueRef(kind: .absent)

    /// A value held as bytes (string, bytes, array, key-value list, raw key-value). Allocates nothing.
    @inlinable
    public static func slice(_ kind: Kind, _ slice: ByteSlice) -> AnyValueRef {
        AnyValueRef(kind: kind, payload: slice.packed)
    }

    /// The slice, for kinds held as bytes.
    @inlinable public var slice: ByteSlice { ByteSlice(packed: payload) }

    /// The integer, for `.int` and `.stringIndex`.
    @inlinable public var int: Int64 { Int64(bitPattern: payload) }

    /// The double, for `.double`.
    @inlinable public var double: Double { Double(bitPattern: payload) }

    /// The boolean, for `.bool`.
    @inlinable public var bool: Bool { payload != 0 }
}
