/// What a JSON document's top-level key says it holds.
public enum JSONPayloadKind: Hashable, Sendable {
    /// `resourceSpans`, `resourceLogs` or `resourceMetrics`.
    case signal(Signal)
    /// `resourceProfiles`: OTLP, but not a signal Trapline processes.
    case unsupportedSignal
    /// No OTLP key (or not an object at all).
    case unknown
}

/// Decodes OTLP JSON (`Export*ServiceRequest`, `TracesData`, `LogsData`) into the same batches
/// as protobuf.
///
/// Follows the OTLP JSON encoding (lowerCamelCase keys, hex ids, 64-bit integers as decimal
/// strings, enums as numbers) and reads, counting each case, what the Collector also reads:
/// snake_case keys, enum names, 64-bit integers as numbers, a `{"result": …}` envelope. A record
/// with a bad value (an id that is not hex, a fraction where an integer belongs, a lone
/// surrogate, nesting past the limit) is rejected alone; a syntax error loses the rest of the
/// document, counted as one record, and keeps what came before it.
public struct OTLPJSONDecoder: Sendable {
    /// The deepest nesting of JSON objects and arrays accepted.
    public var maxDepth: Int

    /// Makes a decoder. Allocates nothing.
    public init(maxDepth: Int = 100) { self.maxDepth = maxDepth }

    /// Finds which signal the document in `input[frame]` holds, from its top-level keys. Allocates nothing.
    public func payloadKind(input: InputBuffer, frame: Range<Int>) -> JSONPayloadKind {
        withExtendedLifetime(input) {
            let bytes = UnsafeRawBufferPointer(rebasing: input.bytes[frame])
            var state = JSONDecodeState(reader: JSONReader(frame: bytes, sourceOffset: 0))
            let fields = JSONFieldDecoder(frame: bytes, sourceOffset: 0, maxDepth: maxDepth)
            return (try? Self.findPayload(fields, &state, envelope: true)) ?? .unknown
        }
    }

    private static func findPayload(_ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, envelope: Bool)
        throws(DecodeError)
        -> JSONPayloadKind
    {
        guard state.reader.peek() == UInt8(ascii: "{") else { return .unknown }
        try state.reader.beginObject()
        var first = true
        while let key = try state.reader.nextMember(&first) {
            if fields.matches(key, "resourceSpans", "resource_spans", &state) { return .signal(.traces) }
            if fields.matches(key, "resourceLogs", "resource_logs", &state) { return .signal(.logs) }
            if fields.matches(key, "resourceMetrics", "resource_metrics", &state) { return .signal(.metrics) }
            if fields.matches(key, "resourceProfiles", "resource_profiles", &state) {
                return .unsupportedSignal
            }
            if envelope && fields.equals(key, "result") {
                let inner = try findPayload(fields, &state, envelope: false)
                if inner != .unknown { return inner }
                continue
            }
            try state.reader.skipValue(depth: 1, maxDepth: fields.maxDepth)
        }
        return .unknown
    }

    /// Decodes a traces document held in `input[frame]` into `batch` (reset first).
    ///
    /// - Parameters:
    ///   - input: the buffer holding the frame (the batch keeps slices of it).
    ///   - frame: the document's bytes within `input`.
    ///   - sourceOffset: offset of the frame in its source.
    ///   - firstLine: the source line the frame starts on, for error positions.
    ///   - batch: reset, then filled.
    /// - Returns: what was read leniently.
    ///
    /// Allocates only when the batch's columns or arena grow (reuse the batch: a warm batch allocates nothing).
    @discardableResult
    public func decodeTraces(
        input: InputBuffer, frame: Range<Int>, sourceOffset: Int, firstLine: Int = 1, into batch: inout SpanBatch
    ) -> JSONLeniency {
        batch.reset(input: input, frame: frame, sourceOffset: sourceOffset)
        return decode(input: input, frame: frame, sourceOffset: sourceOffset, firstLine: firstLine, into: &batch)
    }

    /// Decodes a logs document held in `input[frame]` into `batch` (reset first).
    ///
    /// - Parameters: as `decodeTraces`.
    /// - Returns: what was read leniently.
    ///
    /// Allocates only when the batch's columns or arena grow (reuse the batch: a warm batch allocates nothing).
    @discardableResult
    public func decodeLogs(
        input: InputBuffer, frame: Range<Int>, sourceOffset: Int, firstLine: Int = 1, into batch: inout LogBatch
    ) -> JSONLeniency {
        batch.reset(input: input, frame: frame, sourceOffset: sourceOffset)
        return decode(input: input, frame: frame, sourceOffset: sourceOffset, firstLine: firstLine, into: &batch)
    }

    /// Decodes a metrics document held in `input[frame]` into `batch` (reset first), one row
    /// per data point.
    ///
    /// Metric data points come in five shapes whose fields rules mostly do not read, so the
    /// document is rewritten as protobuf in one pass (by the table in `OTLPMetricsSchema`) and
    /// the batch decoded from that: its slices point into the rewritten bytes, not the JSON.
    /// Bad values lose a data point, or the metric, scope or resource entry they belong to,
    /// with their line and column; a syntax error loses the rest of the document.
    ///
    /// - Parameters: as `decodeTraces`.
    /// - Returns: what was read leniently.
    ///
    /// Allocates the rewritten request and what the batch's columns need.
    @discardableResult
    public func decodeMetrics(
        input: InputBuffer, frame: Range<Int>, sourceOffset: Int, firstLine: Int = 1, into batch: inout MetricBatch
    ) -> JSONLeniency {
        withExtendedLifetime(input) {
            let bytes = UnsafeRawBufferPointer(rebasing: input.bytes[frame])
            let fields = JSONFieldDecoder(frame: bytes, sourceOffset: sourceOffset, maxDepth: maxDepth)
            var state = JSONDecodeState(reader: JSONReader(frame: bytes, sourceOffset: sourceOffset))
            var transcoder = JSONToProtobuf(fields: fields)
            var syntaxError: DecodeError?
            do throws(DecodeError) {
                try transcoder.document(OTLPMetricsSchema.request, &state, envelope: true)
                if state.reader.peek() != nil { throw fields.error(.invalidJSON, at: state.reader.position) }
            } catch {
                syntaxError = error
            }
            let rewritten = InputBuffer(transcoder.out)
            OTLPProtobufDecoder(maxDepth: maxDepth).decodeMetrics(
                input: rewritten, frame: 0..<rewritten.bytes.count, sourceOffset: sourceOffset, into: &batch)
            let rejectionsBefore = batch.rejections.errors.count
            for index in transcoder.rejections.errors.indices {
                batch.rejections.append(
                    transcoder.rejections.errors[index], records: transcoder.rejections.recordCounts[index])
            }
            if let syntaxError { batch.rejections.append(syntaxError, records: 1) }
            batch.locateRejections(from: rejectionsBefore, in: bytes, sourceOffset: sourceOffset, firstLine: firstLine)
            return state.leniency
        }
    }

    private func decode<Batch: OTLPJSONBatch>(
        input: InputBuffer, frame: Range<Int>, sourceOffset: Int, firstLine: Int, into batch: inout Batch
    ) -> JSONLeniency {
        withExtendedLifetime(input) {
            let bytes = UnsafeRawBufferPointer(rebasing: input.bytes[frame])
            let fields = JSONFieldDecoder(frame: bytes, sourceOffset: sourceOffset, maxDepth: maxDepth)
            var state = JSONDecodeState(reader: JSONReader(frame: bytes, sourceOffset: sourceOffset))
            let rejectionsBefore = batch.rejections.errors.count
            do throws(DecodeError) {
                try decodeDocument(fields, &state, into: &batch, envelope: true)
                if state.reader.peek() != nil { throw fields.error(.invalidJSON, at: state.reader.position) }
            } catch {
                batch.rejections.append(error, records: 1)
            }
            batch.locateRejections(from: rejectionsBefore, in: bytes, sourceOffset: sourceOffset, firstLine: firstLine)
            return state.leniency
        }
    }

    private func decodeDocument<Batch: OTLPJSONBatch>(
        _ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, into batch: inout Batch, envelope: Bool
    ) throws(DecodeError) {
        guard state.reader.peek() == UInt8(ascii: "{") else {
            // A JSON value of another type (`[]`, `"text"`) is the wrong type; `oops {` is no JSON.
            var probe = state.reader
            let isValue = (try? probe.skipValue(depth: 0, maxDepth: fields.maxDepth)) != nil
            throw fields.error(isValue ? .wrongJSONType : .invalidJSON, at: state.reader.position)
        }
        try state.reader.beginObject()
        var first = true
        while let key = try state.reader.nextMember(&first) {
            if fields.matches(
                key, Batch.containerNames.resourceEntriesKey, Batch.containerNames.resourceEntriesSnakeKey, &state)
            {
                guard state.reader.peek() == UInt8(ascii: "[") else {
                    if state.reader.readNullIfPresent() { continue }
                    throw fields.error(
                        .wrongJSONType, at: state.reader.position, field: Batch.containerNames.resourceEntriesKey)
                }
                try state.reader.beginArray()
                var firstEntry = true
                while try state.reader.nextElement(&firstEntry) {
                    try decodeResourceEntry(fields, &state, into: &batch)
                }
            } else if envelope && fields.equals(key, "result") && state.reader.peek() == UInt8(ascii: "{") {
                state.leniency.envelopes += 1
                try decodeDocument(fields, &state, into: &batch, envelope: false)
            } else {
                try state.reader.skipValue(depth: 1, maxDepth: maxDepth)
            }
        }
    }

    private func decodeResourceEntry<Batch: OTLPJSONBatch>(
        _ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, into batch: inout Batch
    ) throws(DecodeError) {
        guard state.reader.peek() == UInt8(ascii: "{") else {
            throw fields.error(.wrongJSONType, at: state.reader.position)
        }
        let start = batch.mark
        let resourceIndex = batch.resources.count
        batch.resources.append(ResourceEntry())
        var resourceProblem: DecodeError?
        do throws(DecodeError) {
            try state.reader.beginObject()
            var first = true
            while let key = try state.reader.nextMember(&first) {
                if fields.matches(key, "resource", "resource", &state) {
                    state.problem = nil
                    var entry = batch.resources[resourceIndex]
                    // Take the arena and table out of the batch for the call (a move, not a copy):
                    // a generic batch cannot lend two of its properties at once.
                    var arena = batch.storage.arena
                    var table = batch.attributes
                    batch.storage.arena = []
                    batch.attributes = AttributeTable()
                    defer {
                        batch.storage.arena = arena
                        batch.attributes = table
                    }
                    try fields.readResource(&state, arena: &arena, depth: 4, into: &entry, attributes: &table)
                    batch.resources[resourceIndex] = entry
                    if let problem = state.problem { resourceProblem = resourceProblem ?? problem }
                } else if fields.matches(
                    key, Batch.containerNames.scopeEntriesKey, Batch.containerNames.scopeEntriesSnakeKey, &state)
                {
                    guard state.reader.peek() == UInt8(ascii: "[") else {
                        if state.reader.readNullIfPresent() { continue }
                        throw fields.error(
                            .wrongJSONType, at: state.reader.position, field: Batch.containerNames.scopeEntriesKey)
                    }
                    try state.reader.beginArray()
                    var firstScope = true
                    while try state.reader.nextElement(&firstScope) {
                        try decodeScopeEntry(fields, &state, resourceIndex: resourceIndex, into: &batch)
                    }
                } else if fields.matches(key, "schemaUrl", "schema_url", &state) {
                    state.problem = nil
                    batch.resources[resourceIndex].schemaURL = try fields.readString(
                        &state, arena: &batch.storage.arena, field: "schemaUrl")
                    if let problem = state.problem { resourceProblem = resourceProblem ?? problem }
                } else {
                    try state.reader.skipValue(depth: 3, maxDepth: maxDepth)
                }
            }
        } catch {
            // A syntax error leaves through here: the entry still covers what was decoded.
            batch.resources[resourceIndex].scopes = RowRange(start: start.scopes, end: batch.scopes.count)
            throw error
        }
        batch.resources[resourceIndex].scopes = RowRange(start: start.scopes, end: batch.scopes.count)
        if let resourceProblem {
            let lost = batch.count - start.rows
            batch.rollback(to: start)
            batch.rejections.append(resourceProblem, records: lost)
        }
    }

    private func decodeScopeEntry<Batch: OTLPJSONBatch>(
        _ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, resourceIndex: Int, into batch: inout Batch
    ) throws(DecodeError) {
        guard state.reader.peek() == UInt8(ascii: "{") else {
            throw fields.error(.wrongJSONType, at: state.reader.position)
        }
        let start = batch.mark
        let scopeIndex = batch.scopes.count
        var entry = ScopeEntry()
        entry.resourceIndex = UInt32(truncatingIfNeeded: resourceIndex)
        batch.scopes.append(entry)
        var scopeProblem: DecodeError?
        do throws(DecodeError) {
            try state.reader.beginObject()
            var first = true
            while let key = try state.reader.nextMember(&first) {
                if fields.matches(key, "scope", "scope", &state) {
                    state.problem = nil
                    var scope = batch.scopes[scopeIndex]
                    var arena = batch.storage.arena
                    var table = batch.attributes
                    batch.storage.arena = []
                    batch.attributes = AttributeTable()
                    defer {
                        batch.storage.arena = arena
                        batch.attributes = table
                    }
                    try fields.readScope(&state, arena: &arena, depth: 6, into: &scope, attributes: &table)
                    batch.scopes[scopeIndex] = scope
                    if let problem = state.problem { scopeProblem = scopeProblem ?? problem }
                } else if fields.matches(
                    key, Batch.containerNames.recordsKey, Batch.containerNames.recordsSnakeKey, &state)
                {
                    guard state.reader.peek() == UInt8(ascii: "[") else {
                        if state.reader.readNullIfPresent() { continue }
                        throw fields.error(
                            .wrongJSONType, at: state.reader.position, field: Batch.containerNames.recordsKey)
                    }
                    try state.reader.beginArray()
                    var firstRecord = true
                    while try state.reader.nextElement(&firstRecord) {
                        let recordStart = batch.mark
                        state.problem = nil
                        do throws(DecodeError) {
                            try batch.decodeJSONRecord(
                                fields, &state, depth: 7, scopeIndex: UInt32(truncatingIfNeeded: scopeIndex),
                                since: recordStart)
                        } catch {
                            // A syntax error inside the record: drop its partial rows, then stop.
                            batch.rollback(to: recordStart)
                            throw error
                        }
                        if let problem = state.problem {
                            batch.rollback(to: recordStart)
                            batch.rejections.append(problem, records: 1)
                        }
                    }
                } else if fields.matches(key, "schemaUrl", "schema_url", &state) {
                    state.problem = nil
                    batch.scopes[scopeIndex].schemaURL = try fields.readString(
                        &state, arena: &batch.storage.arena, field: "schemaUrl")
                    if let problem = state.problem { scopeProblem = scopeProblem ?? problem }
                } else {
                    try state.reader.skipValue(depth: 5, maxDepth: maxDepth)
                }
            }
        } catch {
            // A syntax error leaves through here: the entry still covers what was decoded.
            batch.scopes[scopeIndex].rows = RowRange(start: start.rows, end: batch.count)
            throw error
        }
        batch.scopes[scopeIndex].rows = RowRange(start: start.rows, end: batch.count)
        if let scopeProblem {
            let lost = batch.count - start.rows
            batch.rollback(to: start)
            batch.rejections.append(scopeProblem, records: lost)
        }
    }
}

/// What the JSON container walk needs from a batch beyond `OTLPContainerBatch`.
protocol OTLPJSONBatch: OTLPContainerBatch {
    /// Reads the members of a record object (its `{` already read) into `row` and the batch's
    /// tables; value problems go to `state.problem`. One call per record: the member loop stays
    /// in the concrete type.
    mutating func decodeJSONMembers(
        _ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, into row: inout Row, depth: Int
    ) throws(DecodeError)
}

extension OTLPJSONBatch {
    /// Reads one record object and appends its row (`start` is the batch's mark before it).
    mutating func decodeJSONRecord(
        _ fields: JSONFieldDecoder, _ state: inout JSONDecodeState, depth: Int, scopeIndex: UInt32,
        since start: BatchMark
    ) throws(DecodeError) {
        if state.reader.peek() != UInt8(ascii: "{") {
            return try fields.wrongType(&state, field: Self.containerNames.recordName, or: ())
        }
        try state.reader.beginObject()
        var row = Row()
        row.scopeIndex = scopeIndex
        try decodeJSONMembers(fields, &state, into: &row, depth: depth)
        row.attributes = RowRange(start: start.attributes, end: attributes.count)
        finishRecordTables(of: &row, since: start)
        // No protobuf bytes to copy: the row is encoded from its columns.
        row.encoded = .empty
        appendRow(row)
    }
}

extension OTLPContainerBatch {
    /// Adds line and column to the rejections recorded from `first` on (cold: only on errors).
    mutating func locateRejections(from first: Int, in frame: UnsafeRawBufferPointer, sourceOffset: Int, firstLine: Int)
    {
        guard rejections.errors.count > first else { return }
        var located = BatchRejections()
        for index in rejections.errors.indices {
            var error = rejections.errors[index]
            if index >= first {
                let offset = min(max(error.offset - sourceOffset, 0), frame.count)
                var line = firstLine
                var lineStart = 0
                for position in 0..<offset where frame[position] == 0x0A {
                    line += 1
                    lineStart = position + 1
                }
                error.line = line
                error.column = offset - lineStart + 1
            }
            located.append(error, records: rejections.recordCounts[index])
        }
        rejections = located
    }
}
