import Foundation
import Testing
import TraplineCore
import TraplineStages
import TraplineTestSupport

@Suite struct StageChainTests {
    static func batches() throws -> [SpanBatch] { try TelemetryBatches.shopSpans() }

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
