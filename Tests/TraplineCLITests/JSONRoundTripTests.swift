import Foundation
import Testing
@_spi(Plumbing) import TraplineCore
@_spi(Plumbing) import TraplineTestSupport

/// OTLP JSON against PyPI's protobuf `json_format` (an independent JSON reader, with the hex id
/// shim): JSON → protobuf → JSON and protobuf → JSON → protobuf lose nothing, compared as messages.
@Suite(.tags(.slow)) struct JSONRoundTripTests {
    static let jsonFixtures: [(String, Signal)] = [
        ("corpus/otlp/jaeger-ui/otlp2jaeger-in-error.json", .traces),
        ("corpus/otlp/jaeger-ui/otlp2jaeger-multi-in-combined.json", .traces),
        ("corpus/otlp/jaeger-ui/otlp2jaeger-multi-in.jsonl", .traces),
        ("corpus/otlp/jaeger/apiv3_GetTrace.json", .traces),
        ("corpus/otlp/jaeger/cassandra_otel_traces_01.json", .traces),
        ("corpus/otlp/jaeger/example_trace.json", .traces),
        ("corpus/otlp/jaeger/link_attributes_trace.json", .traces),
        ("corpus/otlp/jaeger/log_tags_trace.json", .traces),
        ("corpus/otlp/jaeger/memory_otel_traces_01.json", .traces),
        ("corpus/otlp/jaeger/multi_index_trace.json", .traces),
        ("corpus/otlp/jaeger/otlp2jaeger-in.json", .traces),
        ("corpus/otlp/jaeger/process_tags_trace.json", .traces),
        ("corpus/otlp/jaeger/scope_attributes_trace.json", .traces),
        ("corpus/otlp/jaeger/scope_name_version_trace.json", .traces),
        ("corpus/otlp/jaeger/span_tags_trace.json", .traces),
        ("corpus/otlp/jaeger/tags_escaped_operator_trace_1.json", .traces),
        ("corpus/otlp/jaeger/tags_opname_trace.json", .traces),
        ("corpus/otlp/otel-proto/trace.json", .traces),
        ("corpus/otlp/otel-proto/logs.json", .logs),
        ("corpus/otlp/otel-proto/events.json", .logs),
        ("corpus/otlp/otel-proto/metrics.json", .metrics),
        ("corpus/otlp/otel-rust/traces.json", .traces),
        ("corpus/otlp/otel-rust/failed_traces.json", .traces),
        ("corpus/otlp/otel-rust/serialized_traces.json", .traces),
        ("corpus/otlp/otel-rust/logs.json", .logs),
    ]

    static let protobufFixtures: [(String, Signal)] = [
        ("corpus/otlp/ctraces/sample_trace.bin", .traces), ("corpus/otlp/otlp2parquet/traces.pb", .traces),
        ("corpus/otlp/otlp2parquet/logs.pb", .logs), ("generated/shop-traces.otlp", .traces),
        ("generated/shop-logs.varint.otlp", .logs),
    ]

    func replay(_ input: String, format: String, to output: String, signal: Signal? = nil) throws {
        let signalArguments = signal.map { ["--signal", $0.rawValue] } ?? []
        let run = try ProcessRunner.trapline(
            ["replay", "-q", "--output-format", format, "--output", output, input] + signalArguments)
        #expect(run.status == 0, "\(input): \(run.standardError)")
    }

    /// PyPI's reading of a JSON file, as length-prefixed protobuf.
    func reference(_ signal: Signal, _ json: String, to output: String) throws {
        let run = try ProcessRunner.python("otlp_json_to_proto.py", [signal.rawValue, json, output])
        #expect(run.status == 0, "\(json): \(String(decoding: run.standardOutput, as: UTF8.self))\(run.standardError)")
    }

    func expectEqual(_ signal: Signal, _ expected: String, _ expectedFraming: String, _ actual: String, _ label: String)
        throws
    {
        let run = try ProcessRunner.python(
            "otlp_equal.py", [signal.rawValue, expected, expectedFraming, actual, "length-prefixed"])
        #expect(run.status == 0, "\(label): \(String(decoding: run.standardOutput, as: UTF8.self))\(run.standardError)")
    }

    @Test(arguments: jsonFixtures)
    func jsonToProtobufToJSONIsLossless(path: String, signal: Signal) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let input = Fixtures.path(path)
        try reference(signal, input, to: directory + "/reference.pb")
        // JSON → protobuf
        try replay(input, format: "otlp-proto", to: directory + "/ours.pb")
        try expectEqual(
            signal, directory + "/reference.pb", "length-prefixed", directory + "/ours.pb", "\(path) → protobuf")
        // JSON → protobuf → JSON
        try replay(directory + "/ours.pb", format: "otlp-json", to: directory + "/ours.json")
        try reference(signal, directory + "/ours.json", to: directory + "/again.pb")
        try expectEqual(
            signal, directory + "/reference.pb", "length-prefixed", directory + "/again.pb", "\(path) → protobuf → JSON"
        )
        // JSON → JSON
        try replay(input, format: "otlp-json", to: directory + "/direct.json")
        try reference(signal, directory + "/direct.json", to: directory + "/direct.pb")
        try expectEqual(
            signal, directory + "/reference.pb", "length-prefixed", directory + "/direct.pb", "\(path) → JSON")
    }

    @Test(arguments: protobufFixtures)
    func protobufToJSONToProtobufIsLossless(path: String, signal: Signal) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let input = Fixtures.path(path)
        let framing = path.hasSuffix(".otlp") ? (path.contains("varint") ? "varint" : "length-prefixed") : "single"
        try replay(input, format: "otlp-json", to: directory + "/ours.json")
        // protobuf → JSON, read by PyPI
        try reference(signal, directory + "/ours.json", to: directory + "/reference.pb")
        try expectEqual(signal, input, framing, directory + "/reference.pb", "\(path) → JSON")
        // protobuf → JSON → protobuf
        try replay(directory + "/ours.json", format: "otlp-proto", to: directory + "/again.pb")
        try expectEqual(signal, input, framing, directory + "/again.pb", "\(path) → JSON → protobuf")
    }

    /// Thousands of generated requests: Trapline's JSON, read by PyPI, gives libprotobuf-c the
    /// same fields as the original protobuf.
    @Test(arguments: [Signal.traces, .logs])
    func generatedRequestsSurviveJSON(signal: Signal) throws {
        var generator = RequestGenerator(seed: signal == .traces ? 31 : 32)
        var originals: [[UInt8]] = []
        var stream: [UInt8] = []
        while originals.count < 1500 {
            let request = signal == .traces ? generator.traceRequest() : generator.logsRequest()
            originals.append(request)
            let count = UInt32(request.count)
            stream +=
                [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)] + request
        }
        let directory = try Fixtures.temporaryDirectory().path
        try Data(stream).write(to: URL(fileURLWithPath: directory + "/generated.otlp"))
        // Generated requests may hold no record at all, which tells no signal: name it.
        try replay(
            directory + "/generated.otlp", format: "otlp-json", to: directory + "/generated.json", signal: signal)
        try reference(signal, directory + "/generated.json", to: directory + "/reference.pb")
        let events = try FramingVerifier.wholeEvents(
            Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/reference.pb"))))
        // Empty requests (zero bytes) hold no record: they are skipped, not written on.
        let nonEmpty = originals.filter { !$0.isEmpty }
        #expect(nonEmpty.count < originals.count, "the generator made no empty request: the filter tests nothing")
        #expect(events.count == nonEmpty.count)
        var compared = 0
        for (original, event) in zip(nonEmpty, events) {
            guard case .frame(_, _, let bytes) = event else {
                Issue.record("not a frame: \(event)")
                continue
            }
            #expect(Oracle.dump(signal, bytes) == Oracle.dump(signal, original), "request \(compared)")
            compared += 1
        }
        #expect(compared == nonEmpty.count)
    }
}
