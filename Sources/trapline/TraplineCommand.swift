import ArgumentParser
@_spi(Plumbing) import Trapline

/// The `trapline` command-line tool.
@main
struct TraplineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trapline",
        abstract: "Process OpenTelemetry spans, logs and build logs: catch known failure patterns (traps).",
        version: "trapline \(TraplineVersion.current)",
        subcommands: [ReplayCommand.self, RunCommand.self, ValidateCommand.self, GateCommand.self]
    )
}
