import Foundation
import Testing
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineStages
import TraplineTestSupport

/// The shared stage check (STYLE.md, Tests) for every processor Trapline ships, on the
/// generated shop traces and logs: each record that reaches a stage is forwarded, filtered, blocked or
/// rejected exactly once.
@Suite struct ProcessorComplianceTests {
    static func stages() throws -> [any Stage] {
        var stages: [any Stage] = []
        for file in ["filter-transform.yaml", "k8s-enrich.yaml", "runtime-traps.yaml"] {
            let path = Fixtures.root.appendingPathComponent("Pipelines/" + file).path
            let loaded = ConfigLoader.load(path: path, environment: [:])
            #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics.sorted.map(\.description))")
            stages += loaded.stages.stages
        }
        // A rule that fails on every span under `propagate`: the batch is refused, as rejected.
        let failing = ConfigLoader.load(
            yaml: """
                receivers: {stdin: }
                processors:
                  transform/strict:
                    error_mode: propagate
                    trace_statements: ['set(span.attributes["n"], ParseJSON(span.name))']
                exporters: {stdout: }
                service: {pipelines: {traces: {receivers: [stdin], processors: [transform/strict], exporters: [stdout]}}}
                """, file: "strict.yaml")
        stages += failing.stages.stages
        return stages
    }

    @Test func everyShippedProcessorKeepsTheAccounting() throws {
        let batches = try TelemetryBatches.shopSpans()
        let logs = try TelemetryBatches.shopLogs()
        let stages = try Self.stages()
        // filter, transform and k8sattributes; the runtime trap pack; the strict transform.
        #expect(stages.filter { $0 is TrapStage }.count == 1)
        #expect(stages.map(\.id).prefix(3) == ["filter/noise", "transform/tidy", "k8sattributes"])
        #expect(stages.last?.id == "transform/strict")
        for stage in stages {
            #expect(StageCompliance.violations(of: stage, spans: batches, logs: logs) == [], "\(stage.id)")
        }
        // The strict transform refuses everything it sees.
        var batch = batches[0]
        var mask = RowMask()
        var counts: [StageCounts] = []
        StageChain([stages.last!]).run(&batch, mask: &mask, counts: &counts)
        #expect(counts[0].rejected == batch.count && mask.keptCount == 0)
    }
}
