extension JSONTextWriter {
    /// Writes the protobuf message `encoded` as an OTLP JSON object by its table: fields in
    /// table order, repeated fields as arrays (packed or not on the wire), a singular scalar
    /// met twice as its last value, a singular message met twice as the merge of both (their
    /// joined bytes), unknown fields left out (JSON has no place for them). The bytes were
    /// checked by the decoder; a field that does not read ends the message.
    mutating func protobufMessage(_ schema: ProtoJSONMessage, _ encoded: UnsafeRawBufferPointer) {
        open(UInt8(ascii: "{"))
        for field in schema.fields { protobufField(field, in: encoded) }
        close(UInt8(ascii: "}"))
    }

    private mutating func protobufField(_ field: ProtoJSONField, in encoded: UnsafeRawBufferPointer) {
        var reader = WireReader(frame: encoded)
        var last: (wireType: WireType, start: Int, value: UInt64, range: Range<Int>)?
        var occurrences = 0
        var opened = false
        while !reader.isAtEnd {
            let start = reader.position
            guard let tag = try? reader.readTag() else { break }
            guard tag.number == field.number else {
                guard (try? reader.skipField(tag, depth: 0, maxDepth: 100)) != nil else { break }
                continue
            }
            var value: UInt64 = 0
            var range = 0..<0
            switch tag.wireType {
            case .varint: value = (try? reader.readVarint()) ?? 0
            case .fixed64: value = (try? reader.readFixed64()) ?? 0
            case .fixed32: value = UInt64((try? reader.readFixed32()) ?? 0)
            case .lengthDelimited: range = (try? reader.readLengthDelimited()) ?? 0..<0
            default:
                guard (try? reader.skipField(tag, depth: 0, maxDepth: 100)) != nil else { return }
                continue
            }
            occurrences += 1
            guard field.repeated else {
                // A message keeps its first occurrence's start, to join every occurrence from there.
                if case .message = field.kind, let earlier = last, earlier.wireType == .lengthDelimited,
                    tag.wireType == .lengthDelimited
                {
                    continue
                }
                last = (tag.wireType, start, value, range)
                continue
            }
            if !opened {
                key(field.name)
                open(UInt8(ascii: "["))
                opened = true
            }
            if field.isPackable && tag.wireType == .lengthDelimited && field.kind.wireType != .lengthDelimited {
                packedValues(field, UnsafeRawBufferPointer(rebasing: encoded[range]))
            } else {
                element(field, wireType: tag.wireType, value: value, UnsafeRawBufferPointer(rebasing: encoded[range]))
            }
        }
        if opened { close(UInt8(ascii: "]")) }
        guard let last else { return }
        key(field.name)
        if occurrences > 1, case .message = field.kind, last.wireType == .lengthDelimited {
            let joined = Self.joinedOccurrences(of: field.number, in: encoded, from: last.start)
            joined.withUnsafeBytes { element(field, wireType: .lengthDelimited, value: 0, $0) }
        } else {
            element(
                field, wireType: last.wireType, value: last.value, UnsafeRawBufferPointer(rebasing: encoded[last.range])
            )
        }
    }

    /// The values of a packed run.
    private mutating func packedValues(_ field: ProtoJSONField, _ content: UnsafeRawBufferPointer) {
        var reader = WireReader(frame: content)
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        while !reader.isAtEnd {
            let value: UInt64?
            switch field.kind.wireType {
            case .fixed64: value = try? reader.readFixed64()
            default: value = try? reader.readVarint()
            }
            guard let value else { return }
            element(field, wireType: field.kind.wireType, value: value, empty)
        }
    }

    /// One value (an array element, or the value after its key).
    private mutating func element(
        _ field: ProtoJSONField, wireType: WireType, value: UInt64, _ content: UnsafeRawBufferPointer
    ) {
        switch field.kind {
        case .message(let id): protobufMessage(id.message, content)
        case .keyValue: rawKeyValue(content)
        case .string: string(content)
        case .bytes:
            separator()
            out.append(UInt8(ascii: "\""))
            TextCodecs.appendBase64(content, to: &out)
            out.append(UInt8(ascii: "\""))
        case .hexID:
            separator()
            out.append(UInt8(ascii: "\""))
            for byte in content {
                out.append(Self.hexDigit(byte >> 4))
                out.append(Self.hexDigit(byte & 0xF))
            }
            out.append(UInt8(ascii: "\""))
        case .uint32: bare(String(UInt32(truncatingIfNeeded: value)))
        case .temporality: bare(String(Int32(truncatingIfNeeded: value)))
        case .sint32:
            let raw = UInt32(truncatingIfNeeded: value)
            bare(String(Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))))
        case .bool: bare(value != 0 ? "true" : "false")
        case .uint64, .fixed64:
            separator()
            out.append(UInt8(ascii: "\""))
            out.appendDecimal(value)
            out.append(UInt8(ascii: "\""))
        case .sfixed64:
            separator()
            out.append(UInt8(ascii: "\""))
            out.appendDecimal(Int64(bitPattern: value))
            out.append(UInt8(ascii: "\""))
        case .double:
            let number = Double(bitPattern: value)
            if number.isNaN {
                quoted("NaN")
            } else if number.isInfinite {
                quoted(number < 0 ? "-Infinity" : "Infinity")
            } else {
                bare(number.description)
            }
        }
    }

    private mutating func bare(_ text: String) {
        separator()
        out.appendText(text)
    }

    private mutating func quoted(_ text: String) {
        separator()
        out.append(UInt8(ascii: "\""))
        out.appendText(text)
        out.append(UInt8(ascii: "\""))
    }

    /// A data point of `batch` as a JSON object: its original fields, its attributes from the
    /// table (a stage may have changed them).
    mutating func metricPoint(_ batch: MetricBatch, _ row: Int) {
        let type = batch.metrics.types[batch.metricIndex(ofRow: row)]
        guard let schema = OTLPMetricsSchema.point(type) else { return }
        let writer = WireWriter()
        batch.writeColumns(ofRow: row, bytes, into: writer)
        protobufMessage(schema, writer.bytes)
    }
}
