// libFuzzer target: format detection, framing, gzip, protobuf decode of every signal, text lines
// and re-encoding, on arbitrary bytes. Any crash, sanitizer report or broken invariant is a bug.
// Build and run with Fuzz/run.sh.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let input = InputBuffer(bytes)
    let decoder = OTLPProtobufDecoder()
    let writer = WireWriter(initialCapacity: 256)
    var spans = SpanBatch()
    var logs = LogBatch()
    var metrics = MetricBatch()

    // The bytes as a bare request of either signal.
    decoder.decodeTraces(input: input, frame: 0..<size, sourceOffset: 0, into: &spans)
    checkRoundTrip(spans, decoder: decoder, writer: writer)
    checkJSONRoundTrip(spans)
    decoder.decodeLogs(input: input, frame: 0..<size, sourceOffset: 0, into: &logs)
    checkRoundTrip(logs, decoder: decoder, writer: writer)
    checkJSONRoundTrip(logs)
    decoder.decodeMetrics(input: input, frame: 0..<size, sourceOffset: 0, into: &metrics)
    checkRoundTrip(metrics, decoder: decoder, writer: writer)
    checkJSONRoundTrip(metrics)

    // The bytes as one OTLP JSON document of either signal; whatever is accepted must also
    // survive the JSON encoder and decoder.
    let jsonDecoder = OTLPJSONDecoder()
    jsonDecoder.decodeTraces(input: input, frame: 0..<size, sourceOffset: 0, into: &spans)
    checkRoundTrip(spans, decoder: decoder, writer: writer)
    checkJSONRoundTrip(spans)
    jsonDecoder.decodeLogs(input: input, frame: 0..<size, sourceOffset: 0, into: &logs)
    checkRoundTrip(logs, decoder: decoder, writer: writer)
    jsonDecoder.decodeMetrics(input: input, frame: 0..<size, sourceOffset: 0, into: &metrics)
    checkRoundTrip(metrics, decoder: decoder, writer: writer)
    checkJSONRoundTrip(metrics)

    // The bytes as an input file: detection, gzip, framing, text.
    var options = ReadOptions()
    options.maxDecompressedBytes = 1 << 20
    options.maxLineBytes = 64
    var reader = FrameReader(name: "fuzz", buffer: input, options: options)
    while let event = try? reader.next() {
        guard case .frame(let frame) = event else { continue }
        precondition(frame.range.upperBound <= frame.input.bytes.count, "frame outside its buffer")
        switch frame.payload {
        case .protobuf(.traces):
            decoder.decodeTraces(input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, into: &spans)
            checkRoundTrip(spans, decoder: decoder, writer: writer)
        case .protobuf(.logs):
            decoder.decodeLogs(input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, into: &logs)
            checkRoundTrip(logs, decoder: decoder, writer: writer)
        case .protobuf(.metrics):
            decoder.decodeMetrics(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, into: &metrics)
            checkRoundTrip(metrics, decoder: decoder, writer: writer)
        case .json(let line):
            jsonDecoder.decodeTraces(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: line, into: &spans)
            checkRoundTrip(spans, decoder: decoder, writer: writer)
        case .text(let line, let continues):
            _ = TextLogDecoder().decode(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: line,
                continuesLine: continues, sourcePath: "fuzz", observedTime: 1, into: &logs)
            checkRoundTrip(logs, decoder: decoder, writer: writer)
        case .textRecord(let line):
            // Only a followed file's multiline records are framed so; a reader of bytes never is.
            _ = TextLogDecoder().decodeRecord(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: line,
                sourcePath: "fuzz", observedTime: 1, into: &logs)
            checkRoundTrip(logs, decoder: decoder, writer: writer)
        }
    }
    return 0
}

/// What was accepted must encode (copied and from columns) to bytes that decode again to the
/// same number of records with no rejection.
func checkRoundTrip(_ batch: SpanBatch, decoder: OTLPProtobufDecoder, writer: WireWriter) {
    for fromColumns in [false, true] {
        writer.reset()
        OTLPProtobufEncoder(framing: .none, encodeFromColumns: fromColumns).encode(batch, into: writer)
        var again = SpanBatch()
        let copy = InputBuffer(copying: writer.bytes)
        decoder.decodeTraces(input: copy, frame: 0..<copy.bytes.count, sourceOffset: 0, into: &again)
        precondition(again.count == batch.count && again.rejections.isEmpty, "span re-encoding changed the records")
    }
}

func checkRoundTrip(_ batch: LogBatch, decoder: OTLPProtobufDecoder, writer: WireWriter) {
    for fromColumns in [false, true] {
        writer.reset()
        OTLPProtobufEncoder(framing: .none, encodeFromColumns: fromColumns).encode(batch, into: writer)
        var again = LogBatch()
        let copy = InputBuffer(copying: writer.bytes)
        decoder.decodeLogs(input: copy, frame: 0..<copy.bytes.count, sourceOffset: 0, into: &again)
        precondition(again.count == batch.count && again.rejections.isEmpty, "log re-encoding changed the records")
    }
}

/// Spans accepted (from either encoding) re-encode to JSON that decodes to the same number of spans.
func checkJSONRoundTrip(_ batch: SpanBatch) {
    var json: [UInt8] = []
    OTLPJSONEncoder().encode(batch, into: &json)
    var again = SpanBatch()
    let copy = InputBuffer(json)
    OTLPJSONDecoder().decodeTraces(input: copy, frame: 0..<json.count, sourceOffset: 0, into: &again)
    precondition(again.count == batch.count && again.rejections.isEmpty, "JSON re-encoding changed the spans")
}

/// Log records accepted from protobuf re-encode to JSON that decodes to the same number of records.
func checkJSONRoundTrip(_ batch: LogBatch) {
    var json: [UInt8] = []
    OTLPJSONEncoder().encode(batch, into: &json)
    var again = LogBatch()
    let copy = InputBuffer(json)
    OTLPJSONDecoder().decodeLogs(input: copy, frame: 0..<json.count, sourceOffset: 0, into: &again)
    precondition(again.count == batch.count && again.rejections.isEmpty, "JSON re-encoding changed the log records")
}

/// Data points accepted re-encode (copied, and with every point rewritten from its fields) to
/// bytes that decode to the same points and metrics.
func checkRoundTrip(_ batch: MetricBatch, decoder: OTLPProtobufDecoder, writer: WireWriter) {
    var changed = batch
    for row in 0..<changed.count { changed.markModified(row) }
    for candidate in [batch, changed] {
        writer.reset()
        OTLPProtobufEncoder(framing: .none).encode(candidate, into: writer)
        var again = MetricBatch()
        let copy = InputBuffer(copying: writer.bytes)
        decoder.decodeMetrics(input: copy, frame: 0..<copy.bytes.count, sourceOffset: 0, into: &again)
        precondition(
            again.count == batch.count && again.metrics.count == batch.metrics.count && again.rejections.isEmpty,
            "metrics re-encoding changed the data points")
    }
}

/// Data points accepted re-encode to JSON (by the metrics table) that decodes to the same points.
func checkJSONRoundTrip(_ batch: MetricBatch) {
    var json: [UInt8] = []
    OTLPJSONEncoder().encode(batch, into: &json)
    var again = MetricBatch()
    let copy = InputBuffer(json)
    OTLPJSONDecoder().decodeMetrics(input: copy, frame: 0..<json.count, sourceOffset: 0, into: &again)
    precondition(
        again.count == batch.count && again.rejections.isEmpty,
        "JSON re-encoding changed the data points: \(again.rejections.errors)")
}
