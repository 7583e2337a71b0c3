/// The keys of one OTLP JSON object type, looked up by length first, so a member's key is
/// matched with one or two byte comparisons instead of one per known field.
struct JSONKeyTable: Sendable {
    private struct Entry: Sendable {
        let bytes: [UInt8]
        let id: Int
        let isSnakeCase: Bool
    }

    /// Entries by key length (keys are short; longer ones are never known keys).
    private let buckets: [[Entry]]

    /// Makes a table; each field's id is its index in `fields`, matched as lowerCamelCase or
    /// snake_case.
    init(_ fields: [(camel: String, snake: String)]) {
        var buckets = [[Entry]](repeating: [], count: 48)
        for (id, field) in fields.enumerated() {
            buckets[field.camel.utf8.count].append(Entry(bytes: Array(field.camel.utf8), id: id, isSnakeCase: false))
            if field.snake != field.camel {
                buckets[field.snake.utf8.count].append(Entry(bytes: Array(field.snake.utf8), id: id, isSnakeCase: true))
            }
        }
        self.buckets = buckets
    }

    /// The id of `key` (an unescaped key's bytes), or nil; a snake_case match is counted.
    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, _ leniency: inout JSONLeniency) -> Int? {
        guard key.count < buckets.count else { return nil }
        for entry in buckets[key.count] where Self.same(key, entry.bytes) {
            if entry.isSnakeCase { leniency.snakeCaseKeys += 1 }
            return entry.id
        }
        return nil
    }

    @inline(__always)
    private static func same(_ key: UnsafeRawBufferPointer, _ name: [UInt8]) -> Bool {
        name.withUnsafeBytes { expected in
            var index = 0
            let count = key.count
            // Safe: index + 8 <= count == expected.count.
            while index + 8 <= count {
                if key.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    != expected.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                {
                    return false
                }
                index += 8
            }
            while index < count {
                if key[index] != expected[index] { return false }
                index += 1
            }
            return true
        }
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
enum OTLPJSONKeys {
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
