import Foundation
import Testing
@_spi(Plumbing) import TraplineCore
@_spi(Plumbing) import TraplineTestSupport

struct JSONDamage: CustomTestStringConvertible, Sendable {
    let name: String
    /// Members added to the middle span (a fragment of an object, after `"name":"bad"`).
    let members: String
    /// Text in the line where the error must point.
    let marker: String
    let reason: Rejection.Reason
    var testDescription: String { name }
}

@Suite struct OTLPJSONDecoderTests {
    static func span(_ name: String, _ extra: String = "") -> String {
        #"{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","name":"\#(name)","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000"\#(extra)}"#
    }

    static func request(_ spans: [String]) -> String {
        #"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeSpans":[{"scope":{"name":"s"},"spans":["#
            + spans.joined(separator: ",") + "]}]}]}"
    }

    static func decodeTraces(_ text: String, sourceOffset: Int = 0, firstLine: Int = 1) -> (SpanBatch, JSONLeniency) {
        let bytes = Array(text.utf8)
        var batch = SpanBatch()
        let leniency = OTLPJSONDecoder().decodeTraces(
            input: InputBuffer(bytes), frame: 0..<bytes.count, sourceOffset: sourceOffset, firstLine: firstLine,
            into: &batch)
        return (batch, leniency)
    }

    static func nested(_ levels: Int, innermost: String = #"{"intValue":"1"}"#) -> String {
        String(repeating: #"{"arrayValue":{"values":["#, count: levels) + innermost
            + String(repeating: "]}}", count: levels)
    }

    static let damages: [JSONDamage] = [
        JSONDamage(name: "odd-length id", members: #","parentSpanId":"abc""#, marker: #"abc""#, reason: .invalidHexID),
        JSONDamage(
            name: "base64 id", members: #","parentSpanId":"Wmn8F4uo+Dc=""#, marker: #"Wmn8"#, reason: .invalidHexID),
        JSONDamage(
            name: "hex id of the wrong length", members: #","parentSpanId":"0102""#, marker: #"0102""#,
            reason: .invalidIDLength),
        JSONDamage(
            name: "fractional int", members: #","droppedAttributesCount":1.5"#, marker: "1.5", reason: .invalidNumber),
        JSONDamage(
            name: "fractional int64 string", members: #","attributes":[{"key":"n","value":{"intValue":"2.5"}}]"#,
            marker: #""2.5""#, reason: .invalidNumber),
        JSONDamage(
            name: "lone surrogate", members: #","traceState":"a\ud800b""#, marker: #"\ud800"#, reason: .loneSurrogate),
        JSONDamage(
            name: "unknown enum name", members: #","status":{"code":"STATUS_CODE_MAYBE"}"#,
            marker: #""STATUS_CODE_MAYBE"#, reason: .unknownEnumName),
        JSONDamage(name: "wrong type", members: #","attributes":"none""#, marker: #""none""#, reason: .wrongJSONType),
        JSONDamage(
            name: "nesting past 100", members: #","attributes":[{"key":"deep","value":"# + nested(40) + "}]",
            marker: "",
            reason: .nestingTooDeep),
    ]

    @Test(arguments: damages)
    func badRecordIsRejectedAndTheRestOfItsLineKept(damage: JSONDamage) throws {
        let text = Self.request([Self.span("before"), Self.span("bad", damage.members), Self.span("after")])
        let (batch, _) = Self.decodeTraces(text, sourceOffset: 500, firstLine: 7)
        #expect(batch.count == 2)
        #expect(batch.withBytes { bytes in batch.names.map { bytes.string($0) } } == ["before", "after"])
        let error = try #require(batch.rejections.errors.first)
        #expect(batch.rejections.errors.count == 1)
        #expect(error.reason == damage.reason)
        #expect(error.line == 7)
        if !damage.marker.isEmpty {
            let badSpan = try #require(text.range(of: #""name":"bad""#))
            let marker = try #require(text[badSpan.upperBound...].range(of: damage.marker))
            let offset = text.utf8.distance(from: text.startIndex, to: marker.lowerBound)
            #expect(error.offset == 500 + offset)
            #expect(error.column == offset + 1)
        }
    }

    /// The message says what is wrong with an id (issue 22): an odd number of hex digits is not
    /// "not hexadecimal", and a document that is no JSON at all is not a "wrong type".
    @Test func messagesSayWhatIsWrong() throws {
        let odd = Self.decodeTraces(Self.request([Self.span("bad", #","spanId":"abc""#)])).0
        let error = try #require(odd.rejections.errors.first)
        #expect(error.reason == .invalidHexID)
        #expect(error.description.hasPrefix("id has an odd number of hex digits (3, expected 16 or none)"))
        let base64 = Self.decodeTraces(Self.request([Self.span("bad", #","spanId":"Wmn8F4uo+Dc=""#)])).0
        #expect(try #require(base64.rejections.errors.first).description.hasPrefix("id is not hexadecimal"))
        for (text, code) in [("oops {", Rejection.Reason.invalidJSON), ("[1, 2]", .wrongJSONType)] {
            let batch = Self.decodeTraces(text).0
            #expect(batch.rejections.errors.map(\.reason) == [code], "\(text)")
        }
    }

    @Test func nestingOf100IsAcceptedAnd101Rejected() {
        // {resourceSpans[ {scopeSpans[ {spans[ {attributes[ {value: the attribute's value is at
        // depth 10; each nested array adds 3 ({arrayValue{values[ {…): 30 arrays put the innermost
        // value at 100, and an `arrayValue` object inside it at 101.
        func span(innermost: String) -> String {
            Self.span("deep", #","attributes":[{"key":"d","value":"# + Self.nested(30, innermost: innermost) + "}]")
        }
        let atLimit = Self.decodeTraces(Self.request([span(innermost: #"{"intValue":"1"}"#)]))
        #expect(atLimit.0.count == 1)
        #expect(atLimit.0.rejections.isEmpty)
        let over = Self.decodeTraces(Self.request([span(innermost: #"{"arrayValue":{}}"#)]))
        #expect(over.0.count == 0)
        #expect(over.0.rejections.errors.map(\.reason) == [.nestingTooDeep])
        #expect(over.0.rejections.errors.first?.value == 101)
    }

    @Test func syntaxErrorKeepsRecordsBeforeIt() throws {
        let text = String(Self.request([Self.span("one"), Self.span("two"), Self.span("three")]).dropLast(30)) + "x"
        let (batch, _) = Self.decodeTraces(text)
        #expect(batch.count == 2)
        #expect(batch.rejections.errors.map(\.reason) == [.invalidJSON])
        #expect(batch.rejections.recordCount == 1)
        // The records kept are really in the batch's tables: they encode and decode again.
        #expect(TestDecode.traces(TestDecode.encode(batch)).count == 2)
    }

    @Test func lenientInputIsReadAndCounted() throws {
        let text = #"""
            {"result": {"resource_spans": [{"scope_spans": [{"spans": [
              {"trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174", "kind": "SPAN_KIND_CLIENT",
               "start_time_unix_nano": 1544712660000000000, "status": {"code": "STATUS_CODE_ERROR"},
               "attributes": [{"key": "n", "value": {"int_value": -9223372036854775808}}]}
            ]}]}]}}
            """#
        let (batch, leniency) = Self.decodeTraces(text)
        #expect(batch.rejections.isEmpty)
        #expect(batch.count == 1)
        #expect(batch.kinds == [3])
        #expect(batch.statuses.first?.code == 2)
        #expect(batch.startTimes == [1_544_712_660_000_000_000])
        #expect(batch.attributes.values.first?.int == Int64.min)
        #expect(leniency.envelopes == 1)
        #expect(leniency.enumNames == 2)
        #expect(leniency.int64AsNumbers == 2)
        #expect(leniency.snakeCaseKeys == 6)
        #expect(batch.traceIDs.first?.description == "5b8efff798038103d269b633813fc60c")
    }

    /// Compact canonical attributes take a fast path; every other shape the general one. Both
    /// must agree, whatever order they come in.
    @Test func attributesOfEveryShapeDecodeAlike() throws {
        let attributes = [
            #"{"key":"a","value":{"stringValue":"plain"}}"#,
            #"{"key":"b\u0041","value":{"stringValue":"escaped key"}}"#,
            #"{"value":{"stringValue":"value first"},"key":"c"}"#,
            #"{ "key": "d", "value": { "stringValue": "spaced" } }"#,
            #"{"key":"e","value":{"intValue":"-42"}}"#,
            #"{"key":"f","value":{"boolValue":true}}"#,
            #"{"key":"g","value":{"doubleValue":2.5}}"#,
            #"{"key":"h","value":{"stringValue":"ünï"}}"#,
            #"{"key":"i","value":{"intValue":7}}"#,
        ]
        let (batch, _) = Self.decodeTraces(
            Self.request([Self.span("x", #","attributes":["# + attributes.joined(separator: ",") + "]")]))
        #expect(batch.rejections.isEmpty)
        let decoded = batch.withBytes { bytes in
            (0..<batch.attributes.count).map { index -> String in
                let value = batch.attributes.values[index]
                let text: String
                switch value.kind {
                case .string: text = bytes.string(value.slice)
                case .int: text = String(value.int)
                case .bool: text = String(value.bool)
                case .double: text = String(value.double)
                default: text = "?"
                }
                return bytes.string(batch.attributes.keys[index]) + "=" + text
            }
        }
        #expect(
            decoded == [
                "service.name=svc", "a=plain", "bA=escaped key", "c=value first", "d=spaced", "e=-42", "f=true",
                "g=2.5",
                "h=ünï", "i=7",
            ])
    }

    /// Arrays of strings: the compact canonical shape takes the fast path, which writes the
    /// same `ArrayValue` bytes as the general path writes for the same arrays spaced out; a
    /// shape it does not take (another kind inside, an escape, nesting) goes the general way.
    @Test func stringArraysDecodeAlikeOnBothPaths() throws {
        let arrays = [
            #"[{"stringValue":"a"},{"stringValue":"b\u0041"}]"#,  // an escape: general path
            #"[{"stringValue":"GET"},{"stringValue":"POST"},{"stringValue":"ünï"}]"#,
            "[]",
            #"[{"stringValue":"one"}]"#,
            #"[{"stringValue":"x"},{"intValue":"7"}]"#,  // another kind: general path
            #"[{"stringValue":""# + String(repeating: "long ", count: 40) + #""}]"#,  // lengths over 127
            #"[{"arrayValue":{"values":[{"stringValue":"nested"}]}}]"#,
        ]
        func attributes(spaced: Bool) -> String {
            arrays.enumerated().map { index, array in
                spaced
                    ? #"{ "key": "k\#(index)", "value": { "arrayValue": { "values": \#(array) } } }"#
                    : #"{"key":"k\#(index)","value":{"arrayValue":{"values":\#(array)}}}"#
            }.joined(separator: ",")
        }
        func decoded(spaced: Bool) -> [String] {
            let (batch, _) = Self.decodeTraces(
                Self.request([Self.span("x", #","attributes":["# + attributes(spaced: spaced) + "]")]))
            #expect(batch.rejections.isEmpty)
            return batch.withBytes { bytes in
                (0..<batch.attributes.count).map { index -> String in
                    let value = batch.attributes.values[index]
                    let content = value.kind == .array ? bytes[value.slice].map { String($0, radix: 16) } : []
                    return bytes.string(batch.attributes.keys[index]) + " \(value.kind) "
                        + content.joined(separator: ".")
                }
            }
        }
        let compact = decoded(spaced: false)
        #expect(compact.count == arrays.count + 1)
        #expect(compact == decoded(spaced: true))
        // `["GET","POST"]`: values { string_value: "GET" } …
        #expect(compact[2].hasSuffix(" array a.5.a.3.47.45.54.a.6.a.4.50.4f.53.54.a.7.a.5.c3.bc.6e.c3.af"))
        #expect(compact[3].hasSuffix(" array "))
    }

    @Test func escapedStringsAreUnescapedIntoTheArena() throws {
        let (batch, _) = Self.decodeTraces(Self.request([Self.span(#"a\n\"\u00e9\ud83d\ude80\/"#)]))
        #expect(batch.rejections.isEmpty)
        let name = try #require(batch.names.first)
        #expect(name.isArena)
        #expect(batch.withBytes { $0.string(name) } == "a\n\"é🚀/")
    }

    @Test func valuesOfEveryKindSurviveAsProtobuf() throws {
        let text = #"""
            {"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[
              {"key":"list","value":{"arrayValue":{"values":[{"stringValue":"x\ty"},{"boolValue":true},{"doubleValue":"NaN"},
               {"bytesValue":"AQID"},{"intValue":"7"},{}]}}}]}},"severityNumber":"SEVERITY_NUMBER_WARN","eventName":"e"}]}]}]}
            """#
        let bytes = Array(text.utf8)
        var batch = LogBatch()
        OTLPJSONDecoder().decodeLogs(input: InputBuffer(bytes), frame: 0..<bytes.count, sourceOffset: 0, into: &batch)
        #expect(batch.rejections.isEmpty)
        #expect(batch.severityNumbers == [13])
        #expect(batch.bodies.first?.kind == .keyValueList)
        // The nested list re-encodes to JSON as it came (NaN as the string, bytes as base64).
        var out: [UInt8] = []
        OTLPJSONEncoder().encode(batch, into: &out)
        let json = String(decoding: out, as: UTF8.self)
        #expect(
            json.contains(
                #"{"key":"list","value":{"arrayValue":{"values":[{"stringValue":"x\ty"},{"boolValue":true},{"doubleValue":"NaN"},{"bytesValue":"AQID"},{"intValue":"7"},{}]}}}"#
            ))
        #expect(json.contains(#""severityNumber":13"#))
    }

    @Test(arguments: [
        "corpus/otlp/jaeger-ui/otlp2jaeger-multi-in.jsonl", "corpus/otlp/otlp2parquet/logs.jsonl",
        "corpus/otlp/jaeger/example_trace.json",
        "corpus/otlp/otel-proto/logs.json",
    ])
    func jsonFramingDoesNotDependOnHowBytesArrive(path: String) throws {
        #expect(try FramingVerifier.disagreements(try Fixtures.bytes(path), maxSplits: 80) == [])
    }

    @Test func jsonLinesWithBOMCRLFBlankLinesAndNoFinalNewline() throws {
        let line = Self.request([Self.span("x")])
        let text = "\u{FEFF}" + line + "\r\n\r\n  \n" + line + "\n" + line
        let events = try FramingVerifier.wholeEvents(Array(text.utf8))
        let lines = events.compactMap { event -> Int? in
            guard case .frame(.json(let line), _, let bytes) = event else { return nil }
            #expect(bytes.first == UInt8(ascii: "{") && bytes.last == UInt8(ascii: "}"))
            return line
        }
        #expect(lines == [1, 4, 5])
    }
}
