import Testing
import TraplineCore
import TraplineRules
import TraplineStages
import TraplineTestSupport

/// The shared stage check itself: it must find a stage that miscounts (for either signal),
/// brings back a row an earlier stage dropped, or reports a trap on a row it never saw; and the
/// stages Trapline ships, built here directly, must pass it on spans and log records.
@Suite struct StageComplianceTests {
    /// Drops every row it sees and counts only half of them.
    struct Miscounting: Stage {
        let id = "test/miscounting"
        func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
            for row in 0..<batch.count where mask.drop(row) && row % 2 == 0 { counts.filtered += 1 }
        }
        func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {
            for row in 0..<batch.count where mask.drop(row) && row % 2 == 0 { counts.filtered += 1 }
        }
    }

    /// Keeps every row again, also those an earlier stage dropped.
    struct Resurrecting: Stage {
        let id = "test/resurrecting"
        func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
            mask.reset(count: batch.count)
        }
        func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
    }

    /// Reports a trap on row 0 whether or not it reached the stage.
    struct StrayTrap: Stage {
        let id = "test/stray_trap"
        func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {}
        func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
        func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts, traps: inout TrapLedger) {
            guard batch.count > 0 else { return }
            traps.events.append(
                TrapLedger.Event(
                    row: 0, trapClass: TrapClass(rawValue: "test"), blocked: false, evidence: "", remedy: ""))
        }
    }

    @Test func aStageThatMiscountsIsFoundForEitherSignal() throws {
        let spans = Array(try TelemetryBatches.shopSpans().prefix(2))
        let logs = Array(try TelemetryBatches.shopLogs().prefix(2))
        let spanProblems = StageCompliance.violations(of: Miscounting(), spans: spans)
        let logProblems = StageCompliance.violations(of: Miscounting(), logs: logs)
        // Two batches, each run twice (the balance), and the batch accounting of the first runs.
        #expect(spanProblems.count == 6)
        #expect(logProblems.count == 6)
        #expect(spanProblems.first?.contains("rows left the mask") == true)
    }

    @Test func aStageThatBringsBackDroppedRowsIsFound() throws {
        let spans = Array(try TelemetryBatches.shopSpans().prefix(1))
        let problems = StageCompliance.violations(of: Resurrecting(), spans: spans)
        #expect(problems.contains { $0.contains("dropped before the stage and kept after it") })
    }

    @Test func aTrapOnARowTheStageDidNotSeeIsFound() throws {
        let logs = Array(try TelemetryBatches.shopLogs().prefix(1))
        let problems = StageCompliance.violations(of: StrayTrap(), logs: logs)
        #expect(
            problems == ["logs 0 (every third row dropped before): trap event on row 0, which the stage did not see"])
    }

    static func group(_ signal: RuleSignal, conditions: [String] = [], statements: [String] = []) throws -> RuleGroup {
        try RuleGroup.compile(
            statements: statements, conditions: conditions, signal: signal, context: nil, errorMode: .ignore
        ).get()
    }

    @Test func shippedStagesPassOnSpansAndLogs() throws {
        let spans = try TelemetryBatches.shopSpans()
        let logs = try TelemetryBatches.shopLogs()
        #expect(spans.count > 0 && logs.count > 0)
        let filter = FilterStage(
            id: "filter",
            traces: FilterProgram(groups: [try Self.group(.traces, conditions: ["kind == 3"])]),
            logs: FilterProgram(groups: [try Self.group(.logs, conditions: ["severity_number < 9"])]))
        let transform = TransformStage(
            id: "transform",
            traces: TransformProgram(groups: [try Self.group(.traces, statements: ["set(attributes[\"seen\"], true)"])]
            ),
            logs: TransformProgram(groups: [try Self.group(.logs, statements: ["set(attributes[\"seen\"], true)"])]))
        let traps = TrapStage(
            id: "traps",
            rules: [
                TrapRule(
                    name: "server errors", trapClass: TrapClass(rawValue: "server_error"), signal: .traces,
                    condition: MatchProgram(group: try Self.group(.traces, conditions: ["status.code == 2"])),
                    action: .block, remedy: "look at the server"),
                TrapRule(
                    name: "warnings", trapClass: TrapClass(rawValue: "warning"), signal: .logs,
                    condition: MatchProgram(group: try Self.group(.logs, conditions: ["severity_number >= 13"])),
                    action: .observe, remedy: "read the log"),
            ])
        for stage in [filter, transform, traps] as [any Stage] {
            #expect(StageCompliance.violations(of: stage, spans: spans, logs: logs) == [], "\(stage.id)")
        }
        // The trap rules fired on both signals (else the check above proved little for traps).
        var blocked = 0
        var observed = 0
        for var batch in spans {
            var mask = RowMask()
            var counts: [StageCounts] = []
            var ledger = TrapLedger()
            StageChain([traps]).run(&batch, mask: &mask, counts: &counts, traps: &ledger)
            blocked += ledger.events.filter(\.blocked).count
        }
        for var batch in logs {
            var mask = RowMask()
            var counts: [StageCounts] = []
            var ledger = TrapLedger()
            StageChain([traps]).run(&batch, mask: &mask, counts: &counts, traps: &ledger)
            observed += ledger.events.filter { !$0.blocked }.count
        }
        #expect(blocked > 0)
        #expect(observed > 0)
    }
}

/// The audited run of a chain (`run(…, drops:)`) decides exactly as the plain run, and names
/// one cause per dropped row: the filter's condition in configuration order, the trap rule.
@Suite struct AuditedChainTests {
    @Test func theAuditedRunKeepsTheSameRowsAndNamesACauseForEachDroppedOne() throws {
        let filter = FilterStage(
            id: "filter",
            traces: FilterProgram(groups: [
                try StageComplianceTests.group(.traces, conditions: ["kind == 3"]),
                try StageComplianceTests.group(
                    .traces, conditions: [#"resource.attributes["service.name"] == "cart""#]),
            ]),
            logs: nil)
        let traps = TrapStage(
            id: "traps",
            rules: [
                TrapRule(
                    name: "server errors", trapClass: TrapClass(rawValue: "server_error"), signal: .traces,
                    condition: MatchProgram(
                        group: try StageComplianceTests.group(.traces, conditions: ["status.code == 2"])),
                    action: .block, remedy: "look at the server", conditionText: "status.code == 2")
            ])
        let chain = StageChain([filter, traps])
        var causes: [String: Int] = [:]
        for batch in try TelemetryBatches.shopSpans() {
            var plain = batch
            var plainMask = RowMask()
            var plainCounts: [StageCounts] = []
            var plainTraps = TrapLedger()
            chain.run(&plain, mask: &plainMask, counts: &plainCounts, traps: &plainTraps)
            var audited = batch
            var mask = RowMask()
            var counts: [StageCounts] = []
            var ledger = TrapLedger()
            var drops: [DroppedRecord] = []
            chain.run(&audited, mask: &mask, counts: &counts, traps: &ledger, drops: &drops)
            #expect(mask.kept == plainMask.kept)
            #expect(counts.map(\.filtered) == plainCounts.map(\.filtered))
            #expect(counts.map(\.blocked) == plainCounts.map(\.blocked))
            #expect(drops.count == batch.count - mask.keptCount)
            #expect(Set(drops.map(\.row)).count == drops.count)
            #expect(drops.allSatisfy { !mask.kept[Int($0.row)] })
            for dropped in drops {
                let cause = dropped.cause
                causes[
                    "\(dropped.stage) \(cause.outcome.rawValue) \(cause.ruleIndex ?? -1) \(cause.rule ?? "")",
                    default: 0] +=
                    1
            }
        }
        // Both filter conditions and the trap rule took spans, each named.
        #expect(
            Set(causes.keys) == [
                "0 filtered 0 kind == 3", #"0 filtered 1 resource.attributes["service.name"] == "cart""#,
                "1 blocked 0 server errors: status.code == 2",
            ], "\(causes)")
    }
}
