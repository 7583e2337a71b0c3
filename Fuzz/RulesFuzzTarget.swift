// libFuzzer target: the OTTL parser, type checker and compiler, and the regex engine, on
// arbitrary text. A compiled regex must agree with itself (the DFA's "matches anywhere" and the
// Pike VM's leftmost match); a compiled rule must run on a small batch without breaking the
// accounting. Any crash, sanitizer report or broken invariant is a bug. Build and run with
// `Fuzz/run.sh SECONDS rules`.

let probes = ["", "a", "GET /api/v1/orders", "password=secret -v", "\u{e9}\u{e9} x_1", "{\"a\":[1,2]}"]

let fixture = Array(
    #"""
    {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
     "scopeSpans":[{"scope":{"name":"s"},"spans":[
      {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1111111111111111","name":"GET /x","kind":2,
       "startTimeUnixNano":"1","endTimeUnixNano":"5000000",
       "attributes":[{"key":"a","value":{"stringValue":"b"}},{"key":"n","value":{"intValue":"3"}}],
       "events":[{"name":"e","timeUnixNano":"2"}]}]}]}]}
    """#.utf8)

let metricsFixture = Array(
    #"""
    {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
     "scopeMetrics":[{"scope":{"name":"s"},"metrics":[
      {"name":"requests","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[
       {"asInt":"3","timeUnixNano":"5","attributes":[{"key":"a","value":{"stringValue":"b"}}]},
       {"asDouble":1.5,"attributes":[{"key":"n","value":{"intValue":"3"}}]}]}},
      {"name":"latency","histogram":{"dataPoints":[{"count":"2","bucketCounts":["1","1"],"explicitBounds":[1]}]}}]}]}]}
    """#.utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)

    if let regex = try? ByteRegex(text) {
        for probe in probes {
            let bytes = Array(probe.utf8)
            bytes.withUnsafeBytes { raw in
                let anywhere = regex.isMatch(raw)
                let first = regex.firstMatch(raw)
                precondition(anywhere == (first != nil), "DFA and Pike VM disagree on \(text) / \(probe)")
                if let whole = first?[0] { precondition(whole.upperBound <= raw.count, "match outside the input") }
                _ = regex.allMatches(raw)
            }
        }
    }

    for signal in [RuleSignal.traces, .logs, .metrics] {
        let compiled = [
            RuleGroup.compile(statements: [text], conditions: [], signal: signal, context: nil, errorMode: .ignore),
            RuleGroup.compile(statements: [], conditions: [text], signal: signal, context: nil, errorMode: .ignore),
        ]
        for case .success(let group) in compiled where signal == .traces {
            var batch = SpanBatch()
            let input = InputBuffer(fixture)
            OTLPJSONDecoder().decodeTraces(input: input, frame: 0..<fixture.count, sourceOffset: 0, into: &batch)
            var mask = RowMask()
            mask.reset(count: batch.count)
            let dropped = FilterProgram(groups: [group]).apply(to: &batch, mask: &mask)
            precondition(dropped.droppedRecords + mask.keptCount == batch.count, "filter lost a span")
            _ = TransformProgram(groups: [group]).apply(to: &batch, mask: mask)
            let writer = WireWriter(initialCapacity: 256)
            OTLPProtobufEncoder(framing: .none).encode(batch, keeping: mask, into: writer)
            var again = SpanBatch()
            let encoded = InputBuffer(copying: writer.bytes)
            OTLPProtobufDecoder().decodeTraces(
                input: encoded, frame: 0..<encoded.bytes.count, sourceOffset: 0, into: &again)
            precondition(
                again.rejections.isEmpty && again.count == mask.keptCount, "transformed batch does not re-decode")
        }
    }
    let metricRules = [
        RuleGroup.compile(statements: [text], conditions: [], signal: .metrics, context: nil, errorMode: .ignore),
        RuleGroup.compile(statements: [], conditions: [text], signal: .metrics, context: nil, errorMode: .ignore),
    ]
    for case .success(let group) in metricRules {
        var batch = MetricBatch()
        let input = InputBuffer(metricsFixture)
        OTLPJSONDecoder().decodeMetrics(input: input, frame: 0..<metricsFixture.count, sourceOffset: 0, into: &batch)
        var mask = RowMask()
        mask.reset(count: batch.count)
        let dropped = FilterProgram(groups: [group]).apply(to: &batch, mask: &mask)
        precondition(dropped.droppedRecords + mask.keptCount == batch.count, "filter lost a data point")
        _ = TransformProgram(groups: [group]).apply(to: &batch, mask: mask)
        let writer = WireWriter(initialCapacity: 256)
        OTLPProtobufEncoder(framing: .none).encode(batch, keeping: mask, into: writer)
        var again = MetricBatch()
        let encoded = InputBuffer(copying: writer.bytes)
        OTLPProtobufDecoder().decodeMetrics(
            input: encoded, frame: 0..<encoded.bytes.count, sourceOffset: 0, into: &again)
        precondition(
            again.rejections.isEmpty && again.count == mask.keptCount, "transformed metrics do not re-decode")
    }
    return 0
}
