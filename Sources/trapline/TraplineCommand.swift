import ArgumentParser
@_spi(Plumbing) import Trapline

/// The `trapline` command-line tool.
@main
struct TraplineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trapline",
        abstract: "Process OpenTelemetry spans, logs and build logs: catch known failure patterns (traps).",
        version: "trapline \(TraplineVersion.current)",
        subcommands: [
            ReplayCommand.self, RunCommand.self, ValidateCommand.self, GateCommand.self, EvalCommand.self,
            TestCommand.self,
            ComponentsCommand.self,
        ]
    )

    /// `--version` with the commit (read from the binary only when asked), else the parser.
    static func main() {
        if CommandLine.arguments.dropFirst().elementsEqual(["--version"]) {
            print(BuildInfo.versionLine)
            return
        }
        main(nil)
    }
}

/// `trapline components`: the receivers, processors, exporters and connectors a pipeline file
/// may use, from the same table the loader reads.
struct ComponentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "components",
        abstract: "List the component types a pipeline file may use, by section.",
        discussion: ComponentRegistry.listing
    )

    func run() throws { print(ComponentRegistry.listing, terminator: "") }
}
