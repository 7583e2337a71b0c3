/// Rewrites an OTLP JSON document as the protobuf message a `ProtoJSONMessage` table describes,
/// front to back in one pass, so the protobuf decoder (and its batch) can take it from there.
///
/// Bad values lose what their unit says (`ProtoJSONMessage.Unit`): a data point alone, or a
/// metric, scope or resource entry with every point in it, each recorded with its JSON offset
/// in `rejections`. A syntax error is thrown; what was complete before it is kept.
struct JSONToProtobuf {
    let fields: JSONFieldDecoder
    /// The protobuf written so far.
    var out: [UInt8] = []
    /// Where strings with escapes, base64 bytes and attributes are decoded before they are copied.
    var scratch: [UInt8] = []
    /// What bad values lost.
    var rejections = BatchRejections()
    /// Data points written and kept so far.
    var pointsWritten = 0

    init(fields: JSONFieldDecoder) { self.fields = fields }

    /// Reads a document object (`{"resourceMetrics": [...]}`, or the same inside `{"result": …}`).
    mutating func document(_ schema: ProtoJSONMessage, _ state: inout JSONDecodeState, envelope: Bool)
        throws(DecodeError)
    {
        guard state.reader.peek() == UInt8(ascii: "{") else {
            var probe = state.reader
            let isValue = (try? probe.skipValue(depth: 0, maxDepth: fields.maxDepth)) != nil
            throw fields.error(isValue ? .wrongJSONType : .invalidJSON, at: state.reader.position)
        }
        try state.reader.beginObject()
        var first = true
        while let key = try state.reader.nextMember(&first) {
            if envelope && fields.equals(key, "result") && state.reader.peek() == UInt8(ascii: "{") {
                state.leniency.envelopes += 1
                try document(schema, &state, envelope: false)
            } else if let field = schema.fields.first(where: { fields.matches(key, $0.name, $0.snake, &state) }) {
                try member(field, &state, depth: 1)
                // A value problem outside every unit (none in these tables) loses nothing.
                state.problem = nil
            } else {
                try state.reader.skipValue(depth: 1, maxDepth: fields.maxDepth)
            }
        }
    }

    /// The members of a message object (its `{` next).
    mutating func message(_ schema: ProtoJSONMessage, _ state: inout JSONDecodeState, depth: Int) throws(DecodeError) {
        try state.reader.beginObject()
        var first = true
        while let key = try state.reader.nextMember(&first) {
            guard let field = schema.fields.first(where: { fields.matches(key, $0.name, $0.snake, &state) }) else {
                try state.reader.skipValue(depth: depth, maxDepth: fields.maxDepth)
                continue
            }
            try member(field, &state, depth: depth + 1)
        }
    }

    /// One member's value: an element, or each element of an array for a repeated field.
    mutating func member(_ field: ProtoJSONField, _ state: inout JSONDecodeState, depth: Int) throws(DecodeError) {
        if state.reader.readNullIfPresent() { return }
        guard field.repeated else { return try value(field, &state, depth: depth) }
        guard state.reader.peek() == UInt8(ascii: "[") else {
            return try fields.wrongType(&state, field: field.name, or: ())
        }
        guard try fields.withinDepth(depth, &state) else { return }
        try state.reader.beginArray()
        var first = true
        if field.isPackable {
            let mark = ProtoAppender.beginField(field.number, in: &out)
            while try state.reader.nextElement(&first) { try scalar(field, &state) }
            ProtoAppender.endField(mark, in: &out)
            return
        }
        while try state.reader.nextElement(&first) { try value(field, &state, depth: depth + 1) }
    }

    /// One value of `field`, written with its tag.
    mutating func value(_ field: ProtoJSONField, _ state: inout JSONDecodeState, depth: Int) throws(DecodeError) {
        switch field.kind {
        case .message(let id):
            try embedded(field, id.message, &state, depth: depth)
        case .keyValue:
            guard try fields.withinDepth(depth, &state) else { return }
            let start = scratch.count
            defer { scratch.removeSubrange(start...) }
            let (key, value) = try fields.readKeyValue(&state, arena: &scratch, depth: depth)
            var table = AttributeTable()
            table.append(key: key, value: value)
            let encoded = scratch.count
            fields.appendAttribute(field.number, table, 0, arena: &scratch)
            out.append(contentsOf: scratch[encoded...])
        case .string, .bytes, .hexID:
            if let content = try bytesContent(field, &state) {
                content.withUnsafeBytes { ProtoAppender.appendBytesField(field.number, $0, to: &out) }
            }
        default:
            ProtoAppender.appendTag(field.number, field.kind.wireType, to: &out)
            try scalar(field, &state)
        }
    }

    /// An embedded message with its unit's bookkeeping: a problem inside drops what the unit
    /// says, and a syntax error drops a partial data point but closes anything larger.
    mutating func embedded(
        _ field: ProtoJSONField, _ schema: ProtoJSONMessage, _ state: inout JSONDecodeState, depth: Int
    ) throws(DecodeError) {
        guard try fields.withinDepth(depth, &state) else { return }
        if state.reader.peek() != UInt8(ascii: "{") {
            return try fields.wrongType(&state, field: schema.name, or: ())
        }
        let fieldStart = out.count
        let mark = ProtoAppender.beginField(field.number, in: &out)
        let outerProblem = state.problem
        let pointsBefore = pointsWritten
        if schema.unit != .none { state.problem = nil }
        do throws(DecodeError) {
            try message(schema, &state, depth: depth)
        } catch {
            if schema.unit == .point {
                out.removeSubrange(fieldStart...)
            } else {
                ProtoAppender.endField(mark, in: &out)
            }
            throw error
        }
        ProtoAppender.endField(mark, in: &out)
        guard schema.unit != .none else { return }
        if let problem = state.problem {
            out.removeSubrange(fieldStart...)
            let lost = schema.unit == .point ? 1 : pointsWritten - pointsBefore
            pointsWritten = pointsBefore
            rejections.append(problem, records: lost)
        } else if schema.unit == .point {
            pointsWritten += 1
        }
        state.problem = outerProblem
    }

    /// A string, base64 bytes or hex id, decoded; nil when empty or bad (a problem recorded).
    mutating func bytesContent(_ field: ProtoJSONField, _ state: inout JSONDecodeState) throws(DecodeError)
        -> [UInt8]?
    {
        let start = scratch.count
        defer { scratch.removeSubrange(start...) }
        switch field.kind {
        case .hexID(let count):
            var marks: ZeroIDMarks.Field = []
            var id: [UInt8] = []
            if count == 16 {
                let trace = try fields.readTraceID(&state, field: field.name, mark: .traceID, in: &marks)
                guard !trace.isZero || !marks.isEmpty else { return nil }
                for word in [trace.high, trace.low] {
                    id.append(contentsOf: withUnsafeBytes(of: word.bigEndian, Array.init))
                }
            } else {
                let span = try fields.readSpanID(&state, field: field.name, mark: .spanID, in: &marks)
                guard !span.isZero || !marks.isEmpty else { return nil }
                id.append(contentsOf: withUnsafeBytes(of: span.value.bigEndian, Array.init))
            }
            return id
        case .bytes:
            let slice = try fields.readBytes(&state, arena: &scratch)
            return fields.resolve(slice, arena: scratch)
        default:
            let slice = try fields.readString(&state, arena: &scratch, field: field.name)
            return fields.resolve(slice, arena: scratch)
        }
    }

    /// A scalar's value (its tag already written, or inside a packed run).
    mutating func scalar(_ field: ProtoJSONField, _ state: inout JSONDecodeState) throws(DecodeError) {
        switch field.kind {
        case .uint32: Varint.append(UInt64(try fields.readUInt32(&state, field: field.name)), to: &out)
        case .temporality:
            let number = try fields.readEnum(&state, names: OTLPMetricsSchema.temporalityNames, field: field.name)
            Varint.append(UInt64(bitPattern: Int64(number)), to: &out)
        case .sint32:
            let start = state.reader.position
            let wide = try fields.readInt64(&state, field: field.name)
            guard let number = Int32(exactly: wide) else {
                state.fail(fields.error(.invalidNumber, at: start, field: field.name))
                return Varint.append(0, to: &out)
            }
            Varint.append(UInt64(UInt32(bitPattern: (number << 1) ^ (number >> 31))), to: &out)
        case .bool: Varint.append(try fields.readBool(&state, field: field.name) ? 1 : 0, to: &out)
        case .uint64: Varint.append(try fields.readUInt64(&state, field: field.name), to: &out)
        case .double: appendFixed64(try fields.readDouble(&state, field: field.name).bitPattern)
        case .fixed64: appendFixed64(try fields.readUInt64(&state, field: field.name))
        case .sfixed64: appendFixed64(UInt64(bitPattern: try fields.readInt64(&state, field: field.name)))
        default: try state.reader.skipValue(depth: 0, maxDepth: fields.maxDepth)
        }
    }

    private mutating func appendFixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}

extension ProtoJSONField.Kind {
    /// The wire type of one value of this kind.
    var wireType: WireType {
        switch self {
        case .double, .fixed64, .sfixed64: .fixed64
        case .uint32, .temporality, .sint32, .bool, .uint64: .varint
        default: .lengthDelimited
        }
    }
}
