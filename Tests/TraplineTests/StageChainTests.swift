import Foundation
import Testing
import Trapline
import TraplineCore
import TraplineStages
import TraplineTestSupport

/// Drops every other span (a filter), to exercise the chain before real processors exist.
struct DropEveryOtherSpan: Stage {
    let id = "test_filter/odd"

    func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        for row in 0..<batch.count where row % 2 == 1 && mask.drop(row) { counts.filtered += 1 }
    }

    func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
}

/// Blocks spans with a given kind (as a trap's action would).
struct BlockKind: Stage {
    let id: String
    let kind: Int32

    func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        for row in 0..<batch.count where batch.kinds[row] == kind && mask.drop(row) { counts.blocked += 1 }
    }

    func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
}

@Suite struct StageChainTests {
    static func batches() throws -> [SpanBatch] {
        let events = try FramingVerifier.wholeEvents(try Fixtures.bytes("generated/shop-traces.otlp"))
        return events.compactMap { event in
            guard case .frame(_, _, let bytes) = event else { return nil }
            return TestDecode.traces(bytes)
        }
    }

    @Test(arguments: [DropEveryOtherSpan() as any Stage, BlockKind(id: "test_block/server", kind: 2)])
    func testStagesPassTheCompliance(stage: any Stage) throws {
        #expect(StageCompliance.violations(of: stage, spans: try Self.batches()) == [])
    }

    @Test func chainCountsEachStageOnWhatReachedIt() throws {
        let chain = StageChain([DropEveryOtherSpan(), BlockKind(id: "test_block/server", kind: 2)])
        var totals = [StageCounts](repeating: StageCounts(), count: 2)
        var records = RecordCounts()
        for var batch in try Self.batches() {
            var mask = RowMask()
            var counts: [StageCounts] = []
            chain.run(&batch, mask: &mask, counts: &counts)
            #expect(counts[1].received == counts[0].forwarded)
            for index in 0..<2 { totals[index] += counts[index] }
            records += BatchAccounting.counts(for: batch, mask: mask, stages: counts)
        }
        #expect(records.isBalanced)
        #expect(records.received == 2000)
        #expect(totals[0].filtered == 1000)
        #expect(totals[1].blocked > 0)
        #expect(records.forwarded == 1000 - totals[1].blocked)
    }

    @Test func replayWritesOnlyKeptRowsWithAnyNumberOfWorkers() throws {
        let directory = try Fixtures.temporaryDirectory()
        var outputs: [Data] = []
        for workers in [1, 2] {
            var options = ReplayOptions(
                inputs: [Fixtures.path("generated/shop-traces.otlp")],
                output: .file(directory.appendingPathComponent("out-\(workers)").path), workers: workers)
            options.stages = StageChain([DropEveryOtherSpan(), BlockKind(id: "test_block/server", kind: 2)])
            options.metricsFile = directory.appendingPathComponent("metrics-\(workers).prom").path
            let report = Replay(options: options).run()
            #expect(report.records.isBalanced)
            #expect(report.records.filtered == 1000)
            #expect(report.stages.map(\.id) == ["test_filter/odd", "test_block/server"])
            #expect(
                report.stages[0].counts.filtered == 1000 && report.stages[1].counts.blocked == report.records.blocked)
            let again = Replay(
                options: ReplayOptions(
                    inputs: [directory.appendingPathComponent("out-\(workers)").path], outputFormat: .none)
            ).run()
            #expect(again.records.received == report.records.forwarded)
            let metrics = try String(contentsOfFile: options.metricsFile!, encoding: .utf8)
            #expect(metrics.contains("trapline_records_filtered_total{stage=\"test_filter/odd\"} 1000"))
            #expect(
                metrics.contains(
                    "trapline_records_blocked_total{stage=\"test_block/server\"} \(report.records.blocked)"))
            outputs.append(try Data(contentsOf: directory.appendingPathComponent("out-\(workers)")))
            let object = try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any]
            let stages = object?["stages"] as? [[String: Any]]
            #expect(
                stages?.map { $0["id"] as? String } == ["decode", "test_filter/odd", "test_block/server", "encode"])
        }
        #expect(outputs[0] == outputs[1])
    }

    @Test func maskedEncodingPrunesEmptiedScopesAndResources() throws {
        var batch = TestDecode.traces(RequestBuilders.traceRequest(spans: [RequestBuilders.span(name: "only")]))
        var mask = RowMask()
        mask.reset(count: batch.count)
        mask.drop(0)
        let writer = WireWriter()
        OTLPProtobufEncoder(framing: .none).encode(batch, keeping: mask, into: writer)
        #expect(writer.count == 0)  // no resource entry left
        var json: [UInt8] = []
        OTLPJSONEncoder().encode(batch, keeping: mask, into: &json)
        #expect(String(decoding: json, as: UTF8.self) == "{\"resourceSpans\":[]}\n")
        batch.markModified(0)
    }
}
