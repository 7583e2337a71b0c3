import Foundation
import Testing
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineStages
import TraplineTestSupport

/// The embedding API: `Pipeline` from YAML, bodies and batches through it, custom stages.
@Suite struct PipelineTests {
    static let yaml = """
        receivers: {stdin: }
        processors:
          filter:
            trace_conditions: ['attributes["http.request.method"] == "DELETE"']
          traps:
            rules:
              - {class: server_error, when: 'attributes["http.response.status_code"] >= 500', action: block}
        exporters: {stdout: }
        service: {pipelines: {traces: {receivers: [stdin], processors: [filter, traps], exporters: [stdout]}}}
        """

    /// Counts the rows it sees; drops none.
    struct Counting: Stage {
        let id = "counting"
        func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {}
        func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
    }

    @Test func bodiesAndBatchesKeepOneAccounting() throws {
        let pipeline = try Pipeline(yaml: Self.yaml, extraStages: [Counting()])
        let bytes = try Fixtures.bytes("generated/shop-traces.otlp")
        var requests: [[UInt8]] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            let length =
                Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
                | Int(bytes[offset + 3])
            requests.append(Array(bytes[(offset + 4)..<(offset + 4 + length)]))
            offset += 4 + length
        }
        // Half as bodies, half as batches the caller decoded.
        for request in requests.prefix(10) { _ = pipeline.process(request, format: .protobuf(.traces)) }
        let decoder = OTLPProtobufDecoder()
        var batch = SpanBatch()
        var mask = RowMask()
        var traps = TrapLedger()
        var stages: [StageCounts] = []
        for request in requests.dropFirst(10) {
            decoder.decodeTraces(input: InputBuffer(request), frame: 0..<request.count, sourceOffset: 0, into: &batch)
            stages = pipeline.process(&batch, mask: &mask, traps: &traps)
        }
        #expect(stages.count == 3)  // filter, traps, counting
        let records = pipeline.records
        #expect(records.received == 2000)
        #expect(records.filtered == 514)
        #expect(records.isBalanced)
        #expect(records.blocked > 0)
        #expect(pipeline.trapEscapeRate.blocked == records.blocked)
        #expect(pipeline.trapEscapeRate.value == 1)  // every identified event blocked
    }

    /// Metrics bodies through the embedding API (and the C ABI's formats 4 and 5): counted in
    /// data points, filtered by a datapoint condition, written as protobuf.
    @Test func metricsBodiesAreCountedInDataPoints() throws {
        let pipeline = try Pipeline(
            yaml: """
                receivers: {stdin: }
                processors:
                  filter: {metric_conditions: ['datapoint.attributes["drop"] == true']}
                exporters: {stdout: }
                service: {pipelines: {metrics: {receivers: [stdin], processors: [filter], exporters: [stdout]}}}
                """)
        let json = #"""
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","sum":{"aggregationTemporality":2,
            "dataPoints":[{"asInt":"1"},{"asInt":"2","attributes":[{"key":"drop","value":{"boolValue":true}}]},
            {"asInt":"3"}]}}]}]}]}
            """#
        let fromJSON = pipeline.process(Array(json.utf8), format: .json(.metrics))
        #expect(fromJSON.records == RecordCounts(received: 3, forwarded: 2, filtered: 1, blocked: 0, rejected: 0))
        let points = TestDecode.metrics(fromJSON.output)
        #expect(points.values.map { Int64(bitPattern: $0) } == [1, 3])
        let fromProtobuf = pipeline.process(fromJSON.output, format: .protobuf(.metrics))
        #expect(fromProtobuf.records == RecordCounts(received: 2, forwarded: 2, filtered: 0, blocked: 0, rejected: 0))
        #expect(fromProtobuf.output == fromJSON.output)
    }

    @Test func aFileWithProblemsIsRefusedWithEveryOne() {
        #expect(throws: Pipeline.ConfigurationError.self) {
            try Pipeline(yaml: "receivers: {kafka: }\nexporters: {stdout: }\n")
        }
        do {
            _ = try Pipeline(yaml: "receivers: {kafka: }\nprocessors: {filtr: }\nexporters: {stdout: }\n")
        } catch {
            #expect(error.diagnostics.count >= 3, "\(error)")
        }
    }
}
