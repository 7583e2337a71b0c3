import Foundation
import Synchronization
import TraplineCore
import TraplineRules
import TraplineStages

/// One test's result: passed, or each expectation it missed.
@_spi(Plumbing) public struct PipelineTestResult: Sendable {
    /// The test's name.
    public var name: String
    /// Its line in the test file.
    public var line: Int
    /// What did not hold, one sentence each; empty when the test passed.
    public var failures: [String] = []
    /// Whether every expectation held.
    public var passed: Bool { failures.isEmpty }
}

/// Runs a test file's tests: each test's input is replayed through the pipeline's processors
/// (or the ones it names) as `trapline replay --config` would, into a JSON file of its own;
/// the report's counts, traps and TER are compared, and the output conditions evaluated over
/// what came out. The pipeline's receivers and exporters are not used.
@_spi(Plumbing) public enum PipelineTestRunner {
    /// Runs every test of `file`.
    ///
    /// - Parameter file: a loaded test file.
    /// - Returns: one result per test, in file order. Loads the pipeline once, writes each
    ///   test's input and output in a temporary folder (removed after).
    public static func run(_ file: PipelineTestFile) -> [PipelineTestResult] {
        let environment = ProcessInfo.processInfo.environment.merging(file.environment) { $1 }
        let loaded = ConfigLoader.load(path: file.pipeline, environment: environment)
        guard loaded.diagnostics.isEmpty else {
            let problem =
                "the pipeline \(file.pipeline) does not load:\n"
                + loaded.diagnostics.sorted.map { "  \($0)" }.joined(separator: "\n")
            return file.tests.map { PipelineTestResult(name: $0.name, line: $0.line, failures: [problem]) }
        }
        return file.tests.map { run($0, loaded: loaded) }
    }

    private static func run(_ test: PipelineTest, loaded: ConfigLoader.Result) -> PipelineTestResult {
        var result = PipelineTestResult(name: test.name, line: test.line)
        var stages = loaded.stages.stages
        if let wanted = test.processors {
            var chosen: [any Stage] = []
            for id in wanted {
                guard let stage = stages.first(where: { $0.id == id }) else {
                    let known = stages.map(\.id).joined(separator: ", ")
                    result.failures.append("the pipeline has no processor '\(id)' (it has: \(known))")
                    continue
                }
                chosen.append(stage)
            }
            guard result.failures.isEmpty else { return result }
            stages = chosen
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "trapline-pipeline-test-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            result.failures.append("cannot make a temporary folder: \(error.localizedDescription)")
            return result
        }
        let input: String
        switch test.input {
        case .file(let path): input = path
        case .inline(let json):
            input = folder + "/input.jsonl"
            guard FileManager.default.createFile(atPath: input, contents: Data(json.utf8)) else {
                result.failures.append("cannot write the input to \(input)")
                return result
            }
        }
        let output = folder + "/output.jsonl"
        var options = ReplayOptions(inputs: [input], outputFormat: .none, workers: 1)
        options.read.inputFormat = test.inputFormat
        options.routes = [OutputRoute(name: "test output", destination: .file(output), format: .json)]
        options.stages = StageChain(stages)
        options.signals = Set(loaded.config.pipelines.map(\.signal))
        options.trapDensityPerSecond = loaded.config.trapDensityPerSecond
        let report = Replay(options: options).run()
        if !report.inputFailures.isEmpty {
            result.failures += report.inputFailures.map { "input: \($0.description)" }
        }
        if let failure = report.outputFailure { result.failures.append("output: \(failure.description)") }
        check(test.expect, against: report, into: &result.failures)
        if !(test.expect.every.isEmpty && test.expect.some.isEmpty && test.expect.none.isEmpty) {
            result.failures += OutputExpectations.check(test.expect, output: output)
        }
        return result
    }

    private static func check(
        _ expect: PipelineTest.Expectations, against report: ReplayReport, into failures: inout [String]
    ) {
        let records = report.records
        for (name, wanted) in expect.records {
            let got: Int
            switch name {
            case "received": got = records.received
            case "forwarded": got = records.forwarded
            case "filtered": got = records.filtered
            case "blocked": got = records.blocked
            default: got = records.rejected
            }
            if got != wanted {
                var sentence = "expected \(name) \(wanted), got \(got)"
                if name == "rejected" || (name == "received" && !report.rejections.isEmpty),
                    let first = report.rejections.first
                {
                    sentence += " (first rejection: \(first.error.description) [\(first.error.reason.name)])"
                }
                failures.append(sentence)
            }
        }
        for (reason, wanted) in expect.rejectedByReason.sorted(by: { $0.key < $1.key }) {
            let got = report.rejectedByReason[reason] ?? 0
            if got != wanted { failures.append("expected \(wanted) rejected as \(reason), got \(got)") }
        }
        if let wanted = expect.trapCount, report.traps.count != wanted {
            let found = report.traps.map { "\($0.trapClass.rawValue): \($0.evidence)" }.prefix(3)
            failures.append(
                "expected \(wanted) trap events, got \(report.traps.count)"
                    + (found.isEmpty ? "" : " (\(found.joined(separator: "; ")))"))
        }
        if let wanted = expect.trapsBlocked {
            let got = report.traps.filter(\.blocked).count
            if got != wanted { failures.append("expected \(wanted) trap events blocked, got \(got)") }
        }
        for (trapClass, wanted) in expect.trapClasses.sorted(by: { $0.key < $1.key }) {
            let got = report.traps.filter { $0.trapClass.rawValue == trapClass }.count
            if got != wanted { failures.append("expected \(wanted) trap events of class \(trapClass), got \(got)") }
        }
        if let wanted = expect.ter {
            if let got = report.trapEscapeRate?.value {
                if abs(got - wanted) > max(1e-6, abs(wanted) * 1e-6) {
                    failures.append("expected TER \(wanted), got \(got)")
                }
            } else {
                failures.append("expected TER \(wanted), but no TER was computed (no trap stage, or no event time)")
            }
        }
    }
}

/// The output conditions of a test, evaluated over the records it wrote (a second replay of
/// the output file with one stage that evaluates and keeps every record).
enum OutputExpectations {
    static func check(_ expect: PipelineTest.Expectations, output: String) -> [String] {
        let stage = ExpectationStage(expect)
        if FileManager.default.fileExists(atPath: output) {
            var options = ReplayOptions(inputs: [output], outputFormat: .none, workers: 1)
            options.read.inputFormat = .otlpJSON
            options.stages = StageChain([stage])
            _ = Replay(options: options).run()
        }
        return stage.failures()
    }
}

/// Evaluates the output conditions batch by batch: how many records each matched, and the
/// first record that broke an `every` or a `none`.
final class ExpectationStage: Stage {
    let id = "expect"
    private let expect: PipelineTest.Expectations
    private struct Tally {
        /// Records of the signals the condition is valid for, and those it matched.
        var records = 0
        var matched = 0
        var firstMiss: String?
        var firstMatch: String?
        var error: String?
    }
    private let tallies: Mutex<[String: Tally]> = Mutex([:])

    init(_ expect: PipelineTest.Expectations) { self.expect = expect }

    private var conditions: [PipelineTest.OutputCondition] { expect.every + expect.some + expect.none }

    func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        evaluate(batch, .traces, name: batch.recordName) { program, copy, matches in
            program.apply(to: &copy, mask: &matches)
        }
    }

    func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {
        evaluate(batch, .logs, name: batch.recordName) { program, copy, matches in
            program.apply(to: &copy, mask: &matches)
        }
    }

    func process(_ batch: inout MetricBatch, mask: inout RowMask, counts: inout StageCounts) {
        evaluate(batch, .metrics, name: batch.recordName) { program, copy, matches in
            program.apply(to: &copy, mask: &matches)
        }
    }

    /// Runs each condition valid for `signal` over a copy of the batch (`apply` is the filter
    /// program's entry for the batch's type) and records what it matched.
    private func evaluate<Batch: TelemetryBatch>(
        _ batch: Batch, _ signal: Signal, name: (Int) -> String,
        apply: (FilterProgram, inout Batch, inout RowMask) -> RuleOutcome
    ) {
        for condition in conditions {
            guard let program = condition.programs[signal] else { continue }
            var copy = batch
            var matches = RowMask()
            matches.reset(count: batch.count)
            let outcome = apply(program, &copy, &matches)
            record(condition, rows: batch.count, matches: matches, outcome: outcome, name: name)
        }
    }

    /// A record the condition matched is one the filter program dropped from `matches`.
    private func record(
        _ condition: PipelineTest.OutputCondition, rows: Int, matches: RowMask, outcome: RuleOutcome,
        name: (Int) -> String
    ) {
        tallies.withLock { tallies in
            var tally = tallies[condition.text, default: Tally()]
            tally.records += rows
            if outcome.failed {
                tally.error = tally.error ?? (outcome.firstError?.message ?? "run-time error")
            } else {
                for row in 0..<rows {
                    if matches.kept[row] {
                        if tally.firstMiss == nil { tally.firstMiss = name(row) }
                    } else {
                        tally.matched += 1
                        if tally.firstMatch == nil { tally.firstMatch = name(row) }
                    }
                }
            }
            tallies[condition.text] = tally
        }
    }

    /// What did not hold.
    func failures() -> [String] {
        let tallies = tallies.withLock { $0 }
        var failures: [String] = []
        func describe(_ condition: PipelineTest.OutputCondition) -> String {
            "output condition '\(condition.text)' (line \(condition.line))"
        }
        for condition in conditions {
            if let error = tallies[condition.text]?.error {
                failures.append("\(describe(condition)) failed: \(error)")
            }
        }
        for condition in expect.every {
            let tally = tallies[condition.text] ?? Tally()
            if tally.error == nil && tally.matched < tally.records {
                failures.append(
                    "\(describe(condition)): \(tally.records - tally.matched) of \(tally.records) records do not match, "
                        + "the first \(tally.firstMiss ?? "?")")
            }
        }
        for condition in expect.some {
            let tally = tallies[condition.text] ?? Tally()
            if tally.error == nil && tally.matched == 0 {
                failures.append("\(describe(condition)): no record of \(tally.records) matches")
            }
        }
        for condition in expect.none {
            let tally = tallies[condition.text] ?? Tally()
            if tally.error == nil && tally.matched > 0 {
                failures.append(
                    "\(describe(condition)): \(tally.matched) of \(tally.records) records match, the first \(tally.firstMatch ?? "?")"
                )
            }
        }
        return failures
    }
}
