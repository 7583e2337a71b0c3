import Foundation
import Testing
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineStages
import TraplineTestSupport

/// Replay with custom stages: the output and the accounting do not depend on the workers.
@Suite struct ReplayStagesTests {
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
}
