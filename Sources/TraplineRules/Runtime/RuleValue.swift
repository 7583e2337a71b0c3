public import TraplineCore

/// A value while rules run. Strings, bytes and nested values read from a batch stay slices of it
/// (`text`, `byteSlice`, `rawMap`, `rawList`) until something needs them owned, so comparing an
/// attribute with a literal copies nothing.
public enum RuleValue: Sendable {
    /// No value (`nil` in OTTL).
    case null
    /// A boolean.
    case bool(Bool)
    /// A 64-bit integer.
    case int(Int64)
    /// A double.
    case double(Double)
    /// An owned string (a literal or a converter's result).
    case string(String)
    /// A string in the batch.
    case text(ByteSlice)
    /// Owned bytes.
    case bytes([UInt8])
    /// Bytes in the batch.
    case byteSlice(ByteSlice)
    /// Nanoseconds since the Unix epoch.
    case time(Int64)
    /// Nanoseconds.
    case duration(Int64)
    /// A trace id.
    case traceID(TraceID)
    /// A span id.
    case spanID(SpanID)
    /// An owned map.
    case map(RuleMap)
    /// An owned list.
    case list([RuleValue])
    /// `KeyValueList` content in the batch.
    case rawMap(ByteSlice)
    /// `ArrayValue` content in the batch.
    case rawList(ByteSlice)

    /// The value as an attribute holds it. Allocates nothing: strings and nested values stay slices of the batch.
    @inlinable
    public init(_ value: AnyValueRef) {
        switch value.kind {
        case .absent, .empty, .stringIndex: self = .null
        case .string: self = .text(value.slice)
        case .bytes: self = .byteSlice(value.slice)
        case .int: self = .int(value.int)
        case .double: self = .double(value.double)
        case .bool: self = .bool(value.bool)
        case .array: self = .rawList(value.slice)
        case .keyValueList: self = .rawMap(value.slice)
        // A whole `KeyValue` kept raw: its value needs the bytes (`RuleValue(attribute:_:)`).
        case .rawKeyValue: self = .null
        }
    }

    /// An attribute's value, reading the value out of a `KeyValue` kept raw.
    init(attribute value: AnyValueRef, _ bytes: BatchBytes) {
        if value.kind == .rawKeyValue {
            self = RawAnyValue.keyValue(bytes[value.slice]).1
        } else {
            self.init(value)
        }
    }

    /// Whether this is `nil`.
    @inlinable public var isNull: Bool { if case .null = self { true } else { false } }

    /// The type name OTTL users see in messages.
    var typeName: String {
        switch self {
        case .null: "nil"
        case .bool: "bool"
        case .int: "int"
        case .double: "double"
        case .string, .text: "string"
        case .bytes, .byteSlice: "bytes"
        case .time: "time"
        case .duration: "duration"
        case .traceID: "trace id"
        case .spanID: "span id"
        case .map, .rawMap: "map"
        case .list, .rawList: "list"
        }
    }

    /// The value with nothing left pointing into a batch.
    func owned(_ bytes: BatchBytes) -> RuleValue {
        switch self {
        case .text(let slice): return .string(bytes.string(slice))
        case .byteSlice(let slice): return .bytes(Array(bytes[slice]))
        case .rawMap(let slice): return .map(RawAnyValue.map(bytes[slice]))
        case .rawList(let slice): return .list(RawAnyValue.list(bytes[slice]))
        default: return self
        }
    }

    /// Calls `body` with the UTF-8 bytes of a string value; nil for other kinds.
    @inlinable
    func withUTF8<Result>(_ bytes: BatchBytes, _ body: (UnsafeRawBufferPointer) -> Result) -> Result? {
        switch self {
        case .text(let slice): return body(bytes[slice])
        case .string(var string): return string.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        default: return nil
        }
    }

    /// A string value as a `String`; nil for other kinds.
    func string(_ bytes: BatchBytes) -> String? {
        switch self {
        case .text(let slice): bytes.string(slice)
        case .string(let string): string
        default: nil
        }
    }

    /// A map value, owned; nil for other kinds.
    func map(_ bytes: BatchBytes) -> RuleMap? {
        switch self {
        case .map(let map): map
        case .rawMap(let slice): RawAnyValue.map(bytes[slice])
        default: nil
        }
    }

    /// A list value, owned; nil for other kinds.
    func list(_ bytes: BatchBytes) -> [RuleValue]? {
        switch self {
        case .list(let list): list
        case .rawList(let slice): RawAnyValue.list(bytes[slice])
        default: nil
        }
    }

    /// The value indexed by a map key or list index; nil when absent or not indexable.
    func index(_ key: RuleValue, _ bytes: BatchBytes) -> RuleValue {
        switch (self, key) {
        case (.map(let map), _):
            guard let name = key.string(bytes) else { return .null }
            return map[name] ?? .null
        case (.rawMap(let slice), _):
            guard let name = key.string(bytes) else { return .null }
            return RawAnyValue.lookup(bytes[slice], key: name) ?? .null
        case (.list, .int(let position)), (.rawList, .int(let position)):
            guard let list = list(bytes), position >= 0, position < list.count else { return .null }
            return list[Int(position)]
        default: return .null
        }
    }
}

/// An ordered map of string keys, as `pcommon.Map` keeps insertion order.
public struct RuleMap: Sendable {
    /// The entries, in insertion order.
    public var entries: [(key: String, value: RuleValue)] = []

    /// Makes an empty map. Allocates nothing.
    public init() {}

    /// The value of `key`; setting nil removes it. Reading allocates nothing; setting may grow the entries.
    public subscript(key: String) -> RuleValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let index = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    /// How many entries the map has.
    public var count: Int { entries.count }
}

extension RuleValue {
    /// A timestamp column's value: the time, or its Unix nanoseconds for the `*_unix_nano` paths.
    @inline(__always)
    static func time(_ unixNanoseconds: UInt64, unixNano: Bool) -> RuleValue {
        let time = Int64(bitPattern: unixNanoseconds)
        return unixNano ? .int(time) : .time(time)
    }
}
