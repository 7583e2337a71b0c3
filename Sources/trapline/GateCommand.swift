import ArgumentParser
import Foundation
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineStages

/// `trapline gate`: fails a CI job when a build log shows a known trap.
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Find Go cross-compilation traps in build logs; exit 3 when a blocking trap fired.",
        discussion: """
            Reads each LOG whole (files, gzip-compressed or not, directories read recursively, or stdin for - or \
            no LOG), as plain output, `go build -json` events or both, \
            and prints each trap as `file:line: class: evidence` with its remedy. Uses the built-in \
            go-crossbuild pack with action block; with --config, the traps processors of a pipeline file (their \
            inline log rules, built-in packs and actions, its quarantine and prometheus exporters). Package sources the log names are read from disk ($HOME and \
            other variables expanded, relative paths from the current directory or --source-root) to tell cgo packages \
            apart; a rule that needed sources it could not read says so on stderr. \
            Exit status: 0 clean, 3 a blocking trap fired, 65 an input could not be read.
            Example: go build ./... 2>&1 | trapline gate
            """
    )

    @Option(name: .long, help: "A pipeline file whose traps processors replace the built-in go-crossbuild pack.")
    var config: String?

    @Option(name: .long, help: "Write the JSON report (the same shape as replay's, with traps, trap_events and ter).")
    var reportFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The checkout the logs were built in, when it is not where they say (paths of the build machine are looked for under it).",
            valueName: "DIR"))
    var sourceRoot: String?

    @Flag(name: [.short, .long], help: "Print nothing on stdout (exit status and --report-file only).")
    var quiet = false

    @Argument(help: "Build logs (files, .gz, directories); - or none for stdin.")
    var logs: [String] = []

    func run() throws {
        let inputs = logs.isEmpty ? ["-"] : logs
        let report =
            try config.map { try Self.runConfigured($0, inputs: inputs) }
            ?? BuildLogGate(scanner: GoBuildLogScanner(sources: FileSystemGoSources(sourceRoot: sourceRoot)))
            .run(inputs: inputs).report
        if !quiet {
            var output = ""
            for event in report.traps {
                let source = event.source == "-" ? "<stdin>" : event.source
                output += "\(source):\(event.line): \(event.trapClass): \(event.evidence)\n"
                for line in event.context { output += "    | \(line)\n" }
                output += "    remedy: \(event.remedy)\n"
            }
            print(output, terminator: "")
        }
        for failure in report.inputFailures { FileHandleOutput.standardError("trapline: \(failure.description)\n") }
        for directory in report.emptyDirectories {
            FileHandleOutput.standardError("trapline: \(directory): directory holds no file\n")
        }
        // A rule that could not look is not a clean result: say which, and how to let it look.
        for skipped in report.skippedRules { FileHandleOutput.standardError("trapline: gate: \(skipped)\n") }
        for rejection in report.rejections {
            FileHandleOutput.standardError(
                "trapline: rejected \(rejection.source) at byte \(rejection.error.offset): \(rejection.error)\n")
        }
        if !quiet && report.traps.isEmpty && report.filesRead > 0 {
            // Silence would look like nothing ran: say what was read and that it was clean.
            let logs = report.filesRead
            FileHandleOutput.standardError(
                "trapline: gate: \(logs) log\(logs == 1 ? "" : "s") (\(report.records.received) lines) read, no trap found\n"
            )
        }
        if let reportFile, let failure = ReportFile.write(reportFile, report.json) {
            FileHandleOutput.standardError("trapline: \(failure)\n")
            throw ExitCode(74)
        }
        let blocking = report.traps.filter(\.blocked).count
        if blocking > 0 {
            FileHandleOutput.standardError("trapline: gate: \(blocking) blocking trap\(blocking == 1 ? "" : "s")\n")
        }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }

    /// Replays the logs as text through the pipeline file's stage chain: its traps processors
    /// decide what is a trap and what blocks. Exporters that write to standard output are left
    /// out (the gate prints its findings there); files, the quarantine and metrics are written.
    static func runConfigured(_ path: String, inputs: [String]) throws -> ReplayReport {
        let loaded = ConfigLoader.load(path: path)
        if !loaded.diagnostics.isEmpty {
            FileHandleOutput.standardError(loaded.diagnostics.sorted.map { "\($0)\n" }.joined())
            throw ExitCode(78)
        }
        guard loaded.stages.stages.contains(where: { $0 is TrapStage }) else {
            FileHandleOutput.standardError(
                "trapline: \(path): no pipeline lists a traps processor; the gate has nothing to run\n")
            throw ExitCode(78)
        }
        let outputs = loaded.config.outputs()
        var read = ReadOptions()
        read.inputFormat = .text
        var options = ReplayOptions(inputs: inputs, read: read, outputFormat: .none)
        options.routes = outputs.routes.filter { $0.destination != .standardOutput }
        options.metricsFile = outputs.metricsFile
        options.stages = loaded.stages
        options.signals = Set(loaded.config.pipelines.map(\.signal))
        options.trapDensityPerSecond = loaded.config.trapDensityPerSecond
        var report = Replay(options: options).run()
        report.isGate = true
        return report
    }
}
