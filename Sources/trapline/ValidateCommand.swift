import ArgumentParser
@_spi(Plumbing) import Trapline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `trapline validate`: checks a pipeline file and prints exactly what startup would.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a pipeline file: every problem with its file:line:column; exit 78 when any.",
        discussion: """
            Without --config, checks the built-in default pipeline. The checks are startup's own: a file \
            that validates starts. Component types (`trapline components` says what each does):

            """ + ComponentRegistry.summary
    )

    @Option(name: .long, help: "The pipeline file (Collector-style YAML).")
    var config: String?

    func run() throws {
        let result =
            config.map { ConfigLoader.load(path: $0) }
            ?? ConfigLoader.load(yaml: DefaultPipeline.yaml, file: DefaultPipeline.fileName)
        let name = config ?? DefaultPipeline.fileName
        if !result.diagnostics.isEmpty {
            let lines = result.diagnostics.sorted.map(\.description)
            FileHandleOutput.standardError(lines.joined(separator: "\n") + "\n")
            FileHandleOutput.standardError(
                "trapline: \(name): \(lines.count) problem\(lines.count == 1 ? "" : "s"); nothing was run\n")
            throw ExitCode(78)
        }
        let pipelines = result.config.pipelines.map(\.id).joined(separator: ", ")
        print("\(name): valid; pipelines: \(pipelines)")
    }
}
