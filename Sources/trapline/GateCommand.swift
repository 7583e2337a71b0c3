import ArgumentParser
import Foundation
import Trapline
import TraplineCore
import TraplineStages

/// `trapline gate`: fails a CI job when a build log shows a known trap.
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Find Go cross-compilation traps in build logs; exit 3 when a blocking trap fired.",
        discussion: """
            Reads each LOG whole (or stdin for - or no LOG), as plain output, `go build -json` events or both, \
            and prints each trap as `file:line: class: evidence` with its remedy. Uses the built-in \
            go-crossbuild pack with action block. Package sources the log names are read from disk ($HOME and \
            other variables expanded, relative paths from the current directory) to tell cgo packages apart. \
            Exit status: 0 clean, 3 a blocking trap fired, 65 an input could not be read.
            Example: go build ./... 2>&1 | trapline gate
            """
    )

    @Option(name: .long, help: "Write the JSON report (the same shape as replay's, with traps, trap_events and ter).")
    var reportFile: String?

    @Flag(name: [.short, .long], help: "Print nothing on stdout (exit status and --report-file only).")
    var quiet = false

    @Argument(help: "Build logs; - or none for stdin.")
    var logs: [String] = []

    func run() throws {
        let (report, events) = BuildLogGate().run(inputs: logs.isEmpty ? ["-"] : logs)
        if !quiet {
            var output = ""
            for event in events {
                let source = event.source == "-" ? "<stdin>" : event.source
                output += "\(source):\(event.trap.line): \(event.trap.trapClass): \(event.trap.evidence)\n"
                output += "    remedy: \(event.trap.remedy)\n"
            }
            print(output, terminator: "")
        }
        for failure in report.inputFailures { FileHandleOutput.standardError("trapline: \(failure.description)\n") }
        if let reportFile {
            do {
                try Data(report.json.utf8).write(to: URL(fileURLWithPath: reportFile), options: .atomic)
            } catch {
                FileHandleOutput.standardError("trapline: \(reportFile): write failed: \(error)\n")
                throw ExitCode(74)
            }
        }
        let blocking = events.filter(\.blocked).count
        if blocking > 0 {
            FileHandleOutput.standardError("trapline: gate: \(blocking) blocking trap\(blocking == 1 ? "" : "s")\n")
        }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }
}
