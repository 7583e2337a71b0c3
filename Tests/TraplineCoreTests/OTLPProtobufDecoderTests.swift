import Testing
import TraplineCore
import TraplineTestSupport

/// One kind of damage inside the middle span of three.
struct SpanDamage: CustomTestStringConvertible, Sendable {
    let name: String
    let span: [UInt8]
    /// Bytes in the damaged span whose first byte is where the error must point.
    let marker: [UInt8]
    let reason: Rejection.Reason
    var testDescription: String { name }
}

@Suite struct OTLPProtobufDecoderTests {
    @Test(arguments: [
        ("corpus/otlp/ctraces/sample_trace.bin", Signal.traces, 2),
        ("corpus/otlp/otlp2parquet/trace.pb", .traces, 2),
        ("corpus/otlp/otlp2parquet/traces.pb", .traces, 19),
        ("corpus/otlp/otlp2parquet/logs.pb", .logs, 81),
        ("generated/shop-traces-single.pb", .traces, 60),
    ])
    func decodesFixtures(path: String, signal: Signal, records: Int) throws {
        let bytes = try Fixtures.bytes(path)
        switch signal {
        case .traces:
            let batch = TestDecode.traces(bytes)
            #expect(batch.count == records)
            #expect(batch.rejections.isEmpty)
        case .logs:
            let batch = TestDecode.logs(bytes)
            #expect(batch.count == records)
            #expect(batch.rejections.isEmpty)
        case .metrics:
            let batch = TestDecode.metrics(bytes)
            #expect(batch.count == records)
            #expect(batch.rejections.isEmpty)
        }
        #expect(bytes.withUnsafeBytes { SignalDetector.detect($0) } == signal)
    }

    /// `skipsSpanDetails`: the spans' ids, names, times, kinds and status are the full decode's,
    /// their attributes, events and links are left out; resources keep their attributes.
    @Test func skippingSpanDetailsKeepsTheRestOfEachSpan() throws {
        let bytes = try Fixtures.bytes("generated/shop-traces-single.pb")
        let full = TestDecode.traces(bytes)
        var skimmed = SpanBatch()
        var decoder = OTLPProtobufDecoder()
        decoder.skipsSpanDetails = true
        decoder.decodeTraces(input: InputBuffer(bytes), frame: 0..<bytes.count, sourceOffset: 0, into: &skimmed)
        #expect(skimmed.rejections.isEmpty)
        #expect(skimmed.count == full.count)
        #expect(skimmed.traceIDs == full.traceIDs)
        #expect(skimmed.spanIDs == full.spanIDs)
        #expect(skimmed.startTimes == full.startTimes && skimmed.endTimes == full.endTimes)
        let names = { (batch: SpanBatch) in
            batch.withBytes { bytes in batch.names.map { String(decoding: bytes[$0], as: UTF8.self) } }
        }
        #expect(names(skimmed) == names(full))
        #expect(skimmed.statuses.map(\.code) == full.statuses.map(\.code))
        #expect(full.spanAttributes.contains { !$0.range.isEmpty } && full.events.count > 0)
        #expect(skimmed.spanAttributes.allSatisfy { $0.range.isEmpty })
        #expect(skimmed.events.count == 0 && skimmed.links.count == 0)
        #expect(skimmed.resources.count == full.resources.count)
        #expect(skimmed.resources.map { $0.attributes.range.count } == full.resources.map { $0.attributes.range.count })
    }

    @Test func ctracesZeroLengthIdsAreUnset() throws {
        let batch = TestDecode.traces(try Fixtures.bytes("corpus/otlp/ctraces/sample_trace.bin"))
        #expect(batch.traceIDs.contains(.zero))
        #expect(batch.links.count == 2)
        #expect(batch.events.count == 2)
        #expect(batch.statuses.contains { $0.code == 2 })
    }

    static let damages: [SpanDamage] = {
        var cases: [SpanDamage] = []
        var span = ProtoBuilder(bytes: RequestBuilders.span())
        span.bytesField(5, [0x5A, 0xFF, 0x5A])
        cases.append(
            SpanDamage(name: "invalid UTF-8 name", span: span.bytes, marker: [0xFF, 0x5A], reason: .invalidUTF8))

        span = ProtoBuilder()
        span.bytesField(1, [0xAB, 0xAB, 0xAB, 0xAB, 0xAB])
        cases.append(
            SpanDamage(name: "5-byte trace id", span: span.bytes, marker: [0xAB, 0xAB, 0xAB], reason: .invalidIDLength))

        span = ProtoBuilder(bytes: RequestBuilders.span())
        span.bytesField(4, [0xCD, 0xCD, 0xCD])
        cases.append(
            SpanDamage(
                name: "3-byte parent span id", span: span.bytes, marker: [0xCD, 0xCD, 0xCD], reason: .invalidIDLength))

        span = ProtoBuilder(bytes: RequestBuilders.span())
        span.raw([0x7E, 0x01])  // field 15, wire type 6
        cases.append(SpanDamage(name: "wire type 6", span: span.bytes, marker: [0x7E, 0x01], reason: .invalidWireType))

        span = ProtoBuilder(bytes: RequestBuilders.span())
        span.raw([0x7F, 0x01])  // field 15, wire type 7
        cases.append(SpanDamage(name: "wire type 7", span: span.bytes, marker: [0x7F, 0x01], reason: .invalidWireType))

        span = ProtoBuilder(bytes: RequestBuilders.span())
        span.raw([0x00, 0x01])  // field 0
        cases.append(
            SpanDamage(name: "field number 0", span: span.bytes, marker: [0x00, 0x01], reason: .fieldNumberZero))

        span = ProtoBuilder(bytes: RequestBuilders.span())
        span.raw([0x30] + Array(repeating: 0xEE, count: 10) + [0x01])  // kind as an 11-byte varint
        cases.append(
            SpanDamage(name: "11-byte varint", span: span.bytes, marker: [0xEE, 0xEE, 0xEE], reason: .varintTooLong))

        span = ProtoBuilder(bytes: RequestBuilders.span())
        span.raw([0x4A, 0x7F, 0x0A])  // attributes claiming 127 bytes
        cases.append(
            SpanDamage(
                name: "attribute length past end", span: span.bytes, marker: [0x7F, 0x0A], reason: .lengthPastEnd))

        span = ProtoBuilder(bytes: RequestBuilders.span())
        span.raw([0x39, 0x01, 0x02])  // start time with 2 of its 8 bytes
        cases.append(
            SpanDamage(name: "truncated fixed64", span: span.bytes, marker: [0x01, 0x02], reason: .truncatedFixed))

        span = ProtoBuilder(bytes: RequestBuilders.span())
        span.raw([0x2A, 0x02, 0x41, 0x42])  // name as fixed32? no: field 5 LEN ok; then kind as LEN
        span.raw([0x32, 0x00])
        cases.append(
            SpanDamage(
                name: "kind with the wrong wire type", span: span.bytes, marker: [0x32, 0x00], reason: .wrongWireType))

        span = ProtoBuilder(bytes: RequestBuilders.span())
        span.raw([0xFB, 0x01, 0x08, 0x01])  // group 31 never closed
        cases.append(
            SpanDamage(name: "unterminated group", span: span.bytes, marker: [0xFB, 0x01], reason: .unbalancedGroup))
        return cases
    }()

    @Test(arguments: damages)
    func damageInOneSpanLosesOnlyThatSpan(damage: SpanDamage) throws {
        let request = RequestBuilders.traceRequest(spans: [
            RequestBuilders.span(name: "before"), damage.span, RequestBuilders.span(name: "after"),
        ])
        let batch = TestDecode.traces(request, sourceOffset: 1000)
        #expect(batch.count == 2)
        let names = batch.withBytes { bytes in batch.names.map { bytes.string($0) } }
        #expect(names == ["before", "after"])
        let error = try #require(batch.rejections.errors.first)
        #expect(batch.rejections.errors.count == 1)
        #expect(batch.rejections.recordCount == 1)
        #expect(error.reason == damage.reason)
        let damagedSpanStart = try #require(request.firstRange(of: damage.span)).lowerBound
        let marker =
            try #require(Array(request[damagedSpanStart...]).firstRange(of: damage.marker)).lowerBound
            + damagedSpanStart
        #expect(error.offset == 1000 + marker, "error offset \(error.offset - 1000), marker at \(marker)")
    }

    @Test func nestingOf100IsAcceptedAnd101Rejected() throws {
        // Request 0 → ResourceSpans 1 → ScopeSpans 2 → Span 3 → KeyValue 4 → AnyValue 5 → ArrayValue 6 …:
        // 48 nested arrays put the innermost ArrayValue at depth 100.
        let atLimit = TestDecode.traces(
            RequestBuilders.traceRequest(spans: [RequestBuilders.spanWithNestedArrays(48, innerValue: false)]))
        #expect(atLimit.count == 1)
        #expect(atLimit.rejections.isEmpty)
        let overLimit = TestDecode.traces(
            RequestBuilders.traceRequest(spans: [RequestBuilders.spanWithNestedArrays(48, innerValue: true)]))
        #expect(overLimit.count == 0)
        #expect(overLimit.rejections.errors.map(\.reason) == [.nestingTooDeep])
        #expect(overLimit.rejections.errors.first?.value == 101)
    }

    @Test func badResourceRejectsItsSpansAndKeepsOtherResources() throws {
        var request = ProtoBuilder()
        request.messageField(1) { entry in
            entry.messageField(1) { resource in
                resource.messageField(1) { pair in pair.bytesField(1, [0xC3]) }  // key is invalid UTF-8
            }
            entry.messageField(2) { scope in
                scope.bytesField(2, RequestBuilders.span(name: "lost-1"))
                scope.bytesField(2, RequestBuilders.span(name: "lost-2"))
            }
        }
        request.raw(RequestBuilders.traceRequest(spans: [RequestBuilders.span(name: "kept")]))
        let batch = TestDecode.traces(request.bytes)
        #expect(batch.count == 1)
        #expect(batch.resources.count == 1)
        #expect(batch.rejections.errors.map(\.reason) == [.invalidUTF8])
        #expect(batch.rejections.recordCount == 2)
    }

    @Test func brokenScopeFramingKeepsEarlierSpansAndLaterScopes() throws {
        var request = ProtoBuilder()
        request.messageField(1) { entry in
            entry.messageField(2) { scope in
                scope.bytesField(2, RequestBuilders.span(name: "first"))
                scope.raw([0x12, 0x7F, 0x01])  // a span claiming 127 bytes in a scope that ends here
            }
            entry.messageField(2) { scope in scope.bytesField(2, RequestBuilders.span(name: "third")) }
        }
        let batch = TestDecode.traces(request.bytes)
        #expect(batch.count == 2)
        #expect(batch.rejections.errors.map(\.reason) == [.lengthPastEnd])
        #expect(batch.rejections.recordCount == 1)
    }

    @Test func truncationAtEveryOffsetNeverCrashesAndAccountsForEveryRecord() throws {
        for path in [
            "corpus/otlp/ctraces/sample_trace.bin", "corpus/otlp/otlp2parquet/traces.pb",
            "generated/shop-traces-single.pb",
        ] {
            let bytes = try Fixtures.bytes(path)
            let total = TestDecode.traces(bytes).count
            for cut in 0..<bytes.count {
                let prefix = Array(bytes[..<cut])
                let batch = TestDecode.traces(prefix)
                #expect(batch.count <= total)
                let oracleAccepts = prefix.withUnsafeBytes { Oracle.recordCount(.traces, $0) } != nil
                if batch.count < total && !oracleAccepts {
                    #expect(
                        !batch.rejections.isEmpty,
                        "cut at \(cut) of \(path) lost records silently: \(batch.count) of \(total)")
                }
            }
        }
    }

    @Test func logBodiesOfEveryKindDecode() throws {
        var request = ProtoBuilder()
        request.messageField(1) { entry in
            entry.messageField(2) { scope in
                let bodies: [(inout ProtoBuilder) -> Void] = [
                    { $0.stringField(1, "text") }, { $0.varintField(2, 1) },
                    { $0.varintField(3, UInt64(bitPattern: -5)) },
                    { $0.fixed64Field(4, (2.5).bitPattern) },
                    { $0.messageField(5) { $0.messageField(1) { $0.stringField(1, "x") } } },
                    { $0.messageField(6) { $0.messageField(1) { $0.stringField(1, "k") } } },
                    { $0.bytesField(7, [1, 2]) },
                    { _ in },
                ]
                for body in bodies {
                    scope.messageField(2) { record in
                        record.messageField(5, body)
                        record.stringField(12, "event.name")
                        record.fixed64Field(11, 42)
                    }
                }
            }
        }
        let batch = TestDecode.logs(request.bytes)
        #expect(batch.rejections.isEmpty)
        #expect(batch.bodies.map(\.kind) == [.string, .bool, .int, .double, .array, .keyValueList, .bytes, .empty])
        #expect(batch.bodies[2].int == -5)
        #expect(batch.observedTimes.allSatisfy { $0 == 42 })
    }
}
