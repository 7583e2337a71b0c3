/// The keys of one OTLP JSON object type, looked up by length first, so a member's key is
/// matched with one or two byte comparisons instead of one per known field.
///
/// Tables are built once and live for the whole process: their bytes sit in one allocation
/// that is never freed, so a lookup touches no reference counts.
struct JSONKeyTable: @unchecked Sendable {
    private struct Entry {
        var offset: Int32
        var id: Int16
        var isSnakeCase: Bool
    }

    /// Longest key length looked up; longer keys are never known keys.
    private static let maxLength = 47
    /// Key bytes, back to back.
    private let bytes: UnsafeMutableRawPointer
    /// Entries sorted by key length.
    private let entries: UnsafeMutablePointer<Entry>
    /// For each length, the first entry and the entry count.
    private let buckets: UnsafeMutablePointer<(start: Int32, count: Int32)>

    /// Makes a table; each field's id is its index in `fields`, matched as lowerCamelCase or
    /// snake_case.
    init(_ fields: [(camel: String, snake: String)]) {
        var keys: [(bytes: [UInt8], id: Int, isSnakeCase: Bool)] = []
        for (id, field) in fields.enumerated() {
            keys.append((Array(field.camel.utf8), id, false))
            if field.snake != field.camel { keys.append((Array(field.snake.utf8), id, true)) }
        }
        keys.sort { $0.bytes.count < $1.bytes.count }
        let totalBytes = keys.reduce(0) { $0 + $1.bytes.count }
        bytes = .allocate(byteCount: max(totalBytes, 1), alignment: 8)
        entries = .allocate(capacity: max(keys.count, 1))
        buckets = .allocate(capacity: Self.maxLength + 1)
        buckets.initialize(repeating: (0, 0), count: Self.maxLength + 1)
        var offset = 0
        for (index, key) in keys.enumerated() {
            precondition(key.bytes.count <= Self.maxLength, "OTLP JSON keys are short")
            key.bytes.withUnsafeBytes { (bytes + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            entries[index] = Entry(offset: Int32(offset), id: Int16(key.id), isSnakeCase: key.isSnakeCase)
            if buckets[key.bytes.count].count == 0 { buckets[key.bytes.count].start = Int32(index) }
            buckets[key.bytes.count].count += 1
            offset += key.bytes.count
        }
    }

    /// The id of `key` (an unescaped key's bytes), or nil; a snake_case match is counted.
    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, _ leniency: inout JSONLeniency) -> Int? {
        let count = key.count
        guard count <= Self.maxLength else { return nil }
        let bucket = buckets[count]
        var index = Int(bucket.start)
        let end = index + Int(bucket.count)
        while index < end {
            let entry = entries[index]
            if Self.same(key, bytes + Int(entry.offset)) {
                if entry.isSnakeCase { leniency.snakeCaseKeys += 1 }
                return Int(entry.id)
            }
            index += 1
        }
        return nil
    }

    /// Whether `key` equals the same number of bytes at `expected`. (A word loop and a byte loop:
    /// comparing the tail as overlapping words took more instructions here, since this is then
    /// no longer inlined into the per-member lookups.)
    @inline(__always)
    static func same(_ key: UnsafeRawBufferPointer, _ expected: UnsafeRawPointer) -> Bool {
        var index = 0
        let count = key.count
        // Safe: index + 8 <= count, and the expected key has the same length.
        while index + 8 <= count {
            if key.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                != expected.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            {
                return false
            }
            index += 8
        }
        while index < count {
            if key[index] != expected.load(fromByteOffset: index, as: UInt8.self) { return false }
            index += 1
        }
        return true
    }
}

extension JSONFieldDecoder {
    /// The id of `key` in `table`; escaped keys are unescaped first (rare).
    @inline(__always)
    func lookup(_ key: JSONString, in table: JSONKeyTable, _ state: inout JSONDecodeState) -> Int? {
        if !key.hasEscapes { return table.lookup(UnsafeRawBufferPointer(rebasing: frame[key.range]), &state.leniency) }
        var scratch: [UInt8] = []
        var unused = JSONDecodeState(reader: JSONReader(frame: frame, sourceOffset: sourceOffset))
        guard appendUnescaped(key, to: &scratch, &unused) else { return nil }
        return scratch.withUnsafeBytes { table.lookup($0, &state.leniency) }
    }
}

/// Key tables of the OTLP JSON objects read per record or per attribute.
struct OTLPJSONKeys: Sendable {
    /// All tables, fetched once per decode call (each static access costs a `swift_once` check).
    static let all = OTLPJSONKeys()

    let span = OTLPJSONKeys.span
    let logRecord = OTLPJSONKeys.logRecord
    let keyValue = OTLPJSONKeys.keyValue
    let anyValue = OTLPJSONKeys.anyValue

    private init() {}

    static let span = JSONKeyTable([
        ("traceId", "trace_id"), ("spanId", "span_id"), ("parentSpanId", "parent_span_id"), ("name", "name"),
        ("kind", "kind"), ("startTimeUnixNano", "start_time_unix_nano"), ("endTimeUnixNano", "end_time_unix_nano"),
        ("attributes", "attributes"), ("traceState", "trace_state"), ("flags", "flags"), ("status", "status"),
        ("events", "events"), ("links", "links"), ("droppedAttributesCount", "dropped_attributes_count"),
        ("droppedEventsCount", "dropped_events_count"), ("droppedLinksCount", "dropped_links_count"),
    ])
    static let logRecord = JSONKeyTable([
        ("timeUnixNano", "time_unix_nano"), ("observedTimeUnixNano", "observed_time_unix_nano"),
        ("severityNumber", "severity_number"), ("severityText", "severity_text"), ("body", "body"),
        ("attributes", "attributes"), ("droppedAttributesCount", "dropped_attributes_count"), ("flags", "flags"),
        ("traceId", "trace_id"), ("spanId", "span_id"), ("eventName", "event_name"),
    ])
    static let keyValue = JSONKeyTable([("key", "key"), ("value", "value")])
    static let anyValue = JSONKeyTable([
        ("stringValue", "string_value"), ("intValue", "int_value"), ("boolValue", "bool_value"),
        ("doubleValue", "double_value"), ("bytesValue", "bytes_value"), ("arrayValue", "array_value"),
        ("kvlistValue", "kvlist_value"),
    ])
}
