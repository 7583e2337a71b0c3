public import TraplineCore

/// Renders a batch in the canonical text of the libprotobuf-c oracle (`otlp_oracle_dump`):
/// fields in number order, proto3 scalars always shown, absent messages left out. Comparing the
/// two texts compares what Trapline's columns hold with what libprotobuf-c decoded, field by field.
public enum BatchDump {
    /// The dump of a span batch as an `ExportTraceServiceRequest`.
    public static func render(_ batch: SpanBatch) -> String {
        batch.withBytes { bytes in
            var out = DumpText(bytes: bytes)
            for resource in batch.resources {
                out.open("resource_spans", 0)
                out.resource(resource, batch.attributes, 1)
                for scopeIndex in resource.scopes.range {
                    let scope = batch.scopes[scopeIndex]
                    out.open("scope_spans", 1)
                    out.scope(scope, batch.attributes, 2)
                    for row in scope.rows.range { out.span(batch, row, 2) }
                    out.string("schema_url", scope.schemaURL, 2)
                    out.close(1)
                }
                out.string("schema_url", resource.schemaURL, 1)
                out.close(0)
            }
            return out.text
        }
    }

    /// The dump of a log batch as an `ExportLogsServiceRequest`.
    public static func render(_ batch: LogBatch) -> String {
        batch.withBytes { bytes in
            var out = DumpText(bytes: bytes)
            for resource in batch.resources {
                out.open("resource_logs", 0)
                out.resource(resource, batch.attributes, 1)
                for scopeIndex in resource.scopes.range {
                    let scope = batch.scopes[scopeIndex]
                    out.open("scope_logs", 1)
                    out.scope(scope, batch.attributes, 2)
                    for row in scope.rows.range { out.logRecord(batch, row, 2) }
                    out.string("schema_url", scope.schemaURL, 2)
                    out.close(1)
                }
                out.string("schema_url", resource.schemaURL, 1)
                out.close(0)
            }
            return out.text
        }
    }
}

private struct DumpText {
    let bytes: BatchBytes
    var text = ""

    init(bytes: BatchBytes) { self.bytes = bytes }

    mutating func line(_ name: String, _ value: String, _ depth: Int) {
        text += String(repeating: "  ", count: depth) + name + ": " + value + "\n"
    }

    mutating func open(_ name: String, _ depth: Int) {
        text += String(repeating: "  ", count: depth) + name + ": {\n"
    }

    mutating func close(_ depth: Int) {
        text += String(repeating: "  ", count: depth) + "}\n"
    }

    /// Quoted, escaped, and cut at the first NUL: libprotobuf-c holds strings as C strings, so
    /// the oracle cannot see past one.
    static func quoted(_ raw: UnsafeRawBufferPointer) -> String {
        var out = "\""
        for byte in raw.prefix(while: { $0 != 0 }) {
            if byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out += "\\x" + hex(byte)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out + "\""
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    static func hex(_ raw: UnsafeRawBufferPointer) -> String { raw.map { hex($0) }.joined() }

    mutating func string(_ name: String, _ slice: ByteSlice, _ depth: Int) {
        line(name, Self.quoted(bytes[slice]), depth)
    }

    mutating func traceID(_ name: String, _ id: TraceID, _ depth: Int) {
        line(name, id.isZero ? "" : id.description, depth)
    }

    mutating func spanID(_ name: String, _ id: SpanID, _ depth: Int) {
        line(name, id.isZero ? "" : id.description, depth)
    }

    mutating func resource(_ resource: ResourceEntry, _ table: AttributeTable, _ depth: Int) {
        guard let raw = resource.raw else { return }
        open("resource", depth)
        attributes("attributes", table, resource.attributes, depth + 1)
        line("dropped_attributes_count", String(resource.droppedAttributesCount), depth + 1)
        // Entity refs are kept only inside the raw resource bytes.
        var reader = RawMessage(bytes[raw])
        while let (field, value) = reader.next() {
            guard field == 3 else { continue }
            open("entity_refs", depth + 1)
            var ref = RawMessage(value.bytes)
            var strings: [UInt32: [UnsafeRawBufferPointer]] = [:]
            while let (inner, innerValue) = ref.next() { strings[inner, default: []].append(innerValue.bytes) }
            line("schema_url", Self.quoted(strings[1]?.last ?? UnsafeRawBufferPointer(start: nil, count: 0)), depth + 2)
            line("type", Self.quoted(strings[2]?.last ?? UnsafeRawBufferPointer(start: nil, count: 0)), depth + 2)
            for key in strings[3] ?? [] { line("id_keys", Self.quoted(key), depth + 2) }
            for key in strings[4] ?? [] { line("description_keys", Self.quoted(key), depth + 2) }
            close(depth + 1)
        }
        close(depth)
    }

    mutating func scope(_ scope: ScopeEntry, _ table: AttributeTable, _ depth: Int) {
        guard scope.raw != nil else { return }
        open("scope", depth)
        string("name", scope.name, depth + 1)
        string("version", scope.version, depth + 1)
        attributes("attributes", table, scope.attributes, depth + 1)
        line("dropped_attributes_count", String(scope.droppedAttributesCount), depth + 1)
        close(depth)
    }

    mutating func attributes(_ name: String, _ table: AttributeTable, _ range: RowRange, _ depth: Int) {
        for index in range.range {
            let value = table.values[index]
            if value.kind == .rawKeyValue {
                keyValue(name, RawMessage(bytes[value.slice]), depth)
                continue
            }
            open(name, depth)
            string("key", table.keys[index], depth + 1)
            if value.kind != .absent {
                open("value", depth + 1)
                anyValue(value, depth + 2)
                close(depth + 1)
            }
            line("key_strindex", "0", depth + 1)
            close(depth)
        }
    }

    /// A `KeyValue` from raw bytes (nested in lists, or kept raw).
    mutating func keyValue(_ name: String, _ message: RawMessage, _ depth: Int) {
        var message = message
        var key = UnsafeRawBufferPointer(start: nil, count: 0)
        // `value` met more than once merges, as protobuf merges a message: its bytes joined.
        var value: [UInt8]?
        var keyIndex: UInt64 = 0
        while let (field, item) = message.next() {
            switch field {
            case 1: key = item.bytes
            case 2: value = (value ?? []) + Array(item.bytes)
            case 3: keyIndex = item.number
            default: break
            }
        }
        open(name, depth)
        line("key", Self.quoted(key), depth + 1)
        if let value {
            open("value", depth + 1)
            value.withUnsafeBytes { rawAnyValue(RawMessage($0), depth + 2) }
            close(depth + 1)
        }
        line("key_strindex", String(Int32(truncatingIfNeeded: keyIndex)), depth + 1)
        close(depth)
    }

    mutating func anyValue(_ value: AnyValueRef, _ depth: Int) {
        switch value.kind {
        case .absent, .empty, .rawKeyValue: break
        case .string: string("string_value", value.slice, depth)
        case .bool: line("bool_value", value.bool ? "true" : "false", depth)
        case .int: line("int_value", String(value.int), depth)
        case .double:
            line(
                "double_value",
                "double:" + String(repeating: "0", count: 16 - String(value.payload, radix: 16).count)
                    + String(value.payload, radix: 16), depth)
        case .array: arrayValue(RawMessage(bytes[value.slice]), depth)
        case .keyValueList: keyValueList(RawMessage(bytes[value.slice]), depth)
        case .bytes: line("bytes_value", Self.hex(bytes[value.slice]), depth)
        case .stringIndex: line("string_value_strindex", String(Int32(truncatingIfNeeded: value.int)), depth)
        }
    }

    mutating func arrayValue(_ message: RawMessage, _ depth: Int) {
        var message = message
        open("array_value", depth)
        while let (field, item) = message.next() {
            guard field == 1 else { continue }
            open("values", depth + 1)
            rawAnyValue(RawMessage(item.bytes), depth + 2)
            close(depth + 1)
        }
        close(depth)
    }

    mutating func keyValueList(_ message: RawMessage, _ depth: Int) {
        var message = message
        open("kvlist_value", depth)
        while let (field, item) = message.next() {
            guard field == 1 else { continue }
            keyValue("values", RawMessage(item.bytes), depth + 1)
        }
        close(depth)
    }

    /// An `AnyValue` from raw bytes, as protobuf reads it: the last oneof case wins, and an array
    /// or list following one of its own kind joins it.
    mutating func rawAnyValue(_ message: RawMessage, _ depth: Int) {
        var message = message
        var last: (UInt32, RawMessage.Value)?
        var joined: [UInt8] = []
        while let (field, item) = message.next() {
            guard (1...8).contains(field) else { continue }
            if field == 5 || field == 6 {
                joined = (last?.0 == field ? joined : []) + Array(item.bytes)
            }
            last = (field, item)
        }
        guard let (field, item) = last else { return }
        switch field {
        case 1: line("string_value", Self.quoted(item.bytes), depth)
        case 2: line("bool_value", item.number != 0 ? "true" : "false", depth)
        case 3: line("int_value", String(Int64(bitPattern: item.number)), depth)
        case 4:
            line(
                "double_value",
                "double:" + String(repeating: "0", count: 16 - String(item.number, radix: 16).count)
                    + String(item.number, radix: 16), depth)
        case 5: joined.withUnsafeBytes { arrayValue(RawMessage($0), depth) }
        case 6: joined.withUnsafeBytes { keyValueList(RawMessage($0), depth) }
        case 7: line("bytes_value", Self.hex(item.bytes), depth)
        default: line("string_value_strindex", String(Int32(truncatingIfNeeded: item.number)), depth)
        }
    }

    mutating func span(_ batch: SpanBatch, _ row: Int, _ depth: Int) {
        open("spans", depth)
        let d = depth + 1
        traceID("trace_id", batch.traceIDs[row], d)
        spanID("span_id", batch.spanIDs[row], d)
        string("trace_state", batch.traceStates[row], d)
        spanID("parent_span_id", batch.parentSpanIDs[row], d)
        string("name", batch.names[row], d)
        line("kind", String(batch.kinds[row]), d)
        line("start_time_unix_nano", String(batch.startTimes[row]), d)
        line("end_time_unix_nano", String(batch.endTimes[row]), d)
        attributes("attributes", batch.attributes, batch.spanAttributes[row], d)
        line("dropped_attributes_count", String(batch.droppedCounts[row].attributes), d)
        for event in batch.eventRanges[row].range {
            open("events", d)
            line("time_unix_nano", String(batch.events.times[event]), d + 1)
            string("name", batch.events.names[event], d + 1)
            attributes("attributes", batch.events.attributeTable, batch.events.attributes[event], d + 1)
            line("dropped_attributes_count", String(batch.events.droppedAttributesCounts[event]), d + 1)
            close(d)
        }
        line("dropped_events_count", String(batch.droppedCounts[row].events), d)
        for link in batch.linkRanges[row].range {
            open("links", d)
            traceID("trace_id", batch.links.traceIDs[link], d + 1)
            spanID("span_id", batch.links.spanIDs[link], d + 1)
            string("trace_state", batch.links.traceStates[link], d + 1)
            attributes("attributes", batch.links.attributeTable, batch.links.attributes[link], d + 1)
            line("dropped_attributes_count", String(batch.links.droppedAttributesCounts[link]), d + 1)
            line("flags", String(batch.links.flags[link]), d + 1)
            close(d)
        }
        line("dropped_links_count", String(batch.droppedCounts[row].links), d)
        let status = batch.statuses[row]
        if status.isPresent {
            open("status", d)
            string("message", status.message, d + 1)
            line("code", String(status.code), d + 1)
            close(d)
        }
        line("flags", String(batch.flags[row]), d)
        close(depth)
    }

    mutating func logRecord(_ batch: LogBatch, _ row: Int, _ depth: Int) {
        open("log_records", depth)
        let d = depth + 1
        line("time_unix_nano", String(batch.times[row]), d)
        line("severity_number", String(batch.severityNumbers[row]), d)
        string("severity_text", batch.severityTexts[row], d)
        if batch.bodies[row].kind != .absent {
            open("body", d)
            anyValue(batch.bodies[row], d + 1)
            close(d)
        }
        attributes("attributes", batch.attributes, batch.recordAttributes[row], d)
        line("dropped_attributes_count", String(batch.droppedAttributesCounts[row]), d)
        line("flags", String(batch.flags[row]), d)
        traceID("trace_id", batch.traceIDs[row], d)
        spanID("span_id", batch.spanIDs[row], d)
        line("observed_time_unix_nano", String(batch.observedTimes[row]), d)
        string("event_name", batch.eventNames[row], d)
        close(depth)
    }
}

/// A forgiving walk over already-validated protobuf bytes (the decoder checked them). Written
/// apart from Core's `WireReader` (package access, and the code under test), it stops at the
/// first thing it cannot read.
struct RawMessage {
    struct Value {
        var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        var number: UInt64 = 0
    }

    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private mutating func varint() -> UInt64? {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) where position < bytes.count {
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return result }
        }
        return nil
    }

    private mutating func fixed(_ size: Int) -> UInt64? {
        guard position + size <= bytes.count else { return nil }
        var result: UInt64 = 0
        for index in (0..<size).reversed() { result = result << 8 | UInt64(bytes[position + index]) }
        position += size
        return result
    }

    /// Skips to just past the end-group tag matching the start-group tag just read.
    private mutating func skipGroup() -> Bool {
        var depth = 1
        while depth > 0, let tag = varint() {
            switch tag & 7 {
            case 0: guard varint() != nil else { return false }
            case 1: guard fixed(8) != nil else { return false }
            case 5: guard fixed(4) != nil else { return false }
            case 2:
                guard let length = varint(), position + Int(length) <= bytes.count else { return false }
                position += Int(length)
            case 3: depth += 1
            case 4: depth -= 1
            default: return false
            }
        }
        return depth == 0
    }

    mutating func next() -> (UInt32, Value)? {
        while position < bytes.count {
            guard let tag = varint() else { return nil }
            var value = Value()
            switch tag & 7 {
            case 0: value.number = varint() ?? 0
            case 1: value.number = fixed(8) ?? 0
            case 5: value.number = fixed(4) ?? 0
            case 2:
                guard let length = varint(), position + Int(length) <= bytes.count else { return nil }
                value.bytes = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + Int(length))])
                position += Int(length)
            case 3:
                // A group (only in unknown fields): skipped whole, as the decoder skips it.
                guard skipGroup() else { return nil }
                continue
            default: return nil
            }
            return (UInt32(tag >> 3), value)
        }
        return nil
    }
}
