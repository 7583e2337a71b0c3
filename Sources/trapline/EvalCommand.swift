import ArgumentParser
import Foundation
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineRules
import TraplineStages

/// `trapline eval`: an OTTL condition or statement over records, each record's result.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Run one OTTL condition or statement over records and print what it did to each.",
        discussion: """
            A condition prints, per record, `matched` or `no match` (as a filter drops or a trap's `when` \
            finds it); a statement prints each field it changed, `path: before -> after`, or `unchanged` (as \
            a transform runs it). The context comes from the paths (span, spanevent, log, metric, datapoint, \
            resource or scope, as in a pipeline). A record the rule fails on prints its error. Inputs are read \
            as `trapline replay` reads them (OTLP protobuf or JSON, files, directories, - for stdin).

            Examples:
              trapline eval 'attributes["http.route"] == "/health"' capture.otlp
              trapline eval 'set(attributes["env"], "prod") where resource.attributes["service.name"] == "cart"' spans.json

            Exit status: 0 something matched or changed, 1 nothing did, 65 an input was rejected or the rule \
            failed on a record, 66 no input, 78 the rule does not compile.
            """
    )

    @Argument(help: "An OTTL condition or statement.")
    var rule: String

    @Argument(help: "Inputs: files, directories, or - for stdin.")
    var inputs: [String] = []

    @Option(name: .long, help: "Signal of protobuf input: traces, logs or metrics (default: told from the records).")
    var signal: Signal?

    @Option(name: .long, help: "Input layout: \(InputFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var inputFormat: InputFormat = .auto

    @Flag(name: .shortAndLong, help: "Print only the records that matched or changed, and the summary.")
    var quiet = false

    func run() throws {
        let evaluation: RuleEvaluation
        do {
            evaluation = try RuleEvaluation.compile(rule)
        } catch {
            FileHandleOutput.standardError("trapline: eval: \(error)\n")
            throw ExitCode(78)
        }
        let quiet = quiet
        var options = ReplayOptions(inputs: inputs.isEmpty ? ["-"] : inputs, outputFormat: .none, workers: 1)
        options.read.inputFormat = inputFormat
        options.read.signal = signal
        let stage = RuleEvaluationStage(evaluation) { lines in
            let shown = quiet ? lines.filter { !$0.hasSuffix(": no match") && !$0.hasSuffix(": unchanged") } : lines
            guard !shown.isEmpty else { return }
            FileHandleOutput.standardOutput(shown.joined(separator: "\n") + "\n")
        }
        options.stages = StageChain([stage])
        let report = Replay(options: options).run()
        let tally = stage.tally
        // What the reader refused, with source, offset and reason (the replay summary's lines
        // after its accounting line).
        let problems = report.summary.split(separator: "\n").dropFirst()
        if !problems.isEmpty { FileHandleOutput.standardError(problems.joined(separator: "\n") + "\n") }
        let verb = evaluation.kind == .condition ? "matched" : "changed"
        var summary =
            "trapline: eval: \(evaluation.kind.rawValue) valid for \(evaluation.signals.map(\.rawValue).sorted().joined(separator: ", ")); \(tally.records) records, \(tally.hits) \(verb)"
        if tally.errors > 0 { summary += ", \(tally.errors) failed" }
        if report.records.rejected > 0 { summary += "; \(report.records.rejected) rejected by the reader" }
        FileHandleOutput.standardError(summary + "\n")
        if report.records.received == 0 && report.records.rejected == 0 { throw ExitCode(66) }
        if tally.errors > 0 || report.records.rejected > 0 { throw ExitCode(65) }
        if tally.hits == 0 { throw ExitCode(1) }
    }
}
