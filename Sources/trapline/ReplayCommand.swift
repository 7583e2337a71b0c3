import ArgumentParser
@_spi(Plumbing) import Trapline
@_spi(Plumbing) import TraplineCore
import TraplineGRPC
@_spi(Plumbing) import TraplineServer
import TraplineStages
@_spi(Plumbing) import TraplineTLS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

extension InputFormat: NamedArgumentValue {}
extension OutputFormat: NamedArgumentValue {}
extension Signal: NamedArgumentValue {}
extension ProgressMode: NamedArgumentValue {}

/// An option's value that is one of an enum's raw names. ArgumentParser's own defaults for such
/// types are generic code it runs unspecialized, resolving key paths and associated types at run
/// time (each first cast the runtime answers scans all 11,000 conformance records of the static
/// binary): said here, with the types known, `trapline replay` starts on an empty input in 2.2M
/// fewer of its 48M instructions.
protocol NamedArgumentValue: ExpressibleByArgument, CaseIterable, RawRepresentable<String> {}

extension NamedArgumentValue {
    public init?(argument: String) { self.init(rawValue: argument) }
    public var defaultValueDescription: String { rawValue }
    public static var allValueStrings: [String] { allCases.map { $0.rawValue } }
    /// The names are their own descriptions.
    public static var allValueDescriptions: [String: String] { [:] }
    public static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}

/// `trapline replay`: batch replay of captured telemetry.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay captured OTLP (protobuf or JSON), gzip-compressed or not, or text logs through the pipeline.",
        discussion: """
            Inputs are files, directories (read recursively, in sorted order) or - for stdin. The format \
            is detected from the bytes: gzip, one OTLP protobuf request, a varint-delimited or 4-byte \
            big-endian length-prefixed stream of requests, OTLP JSON (JSON lines or one document), or text lines.

            SIGTERM or SIGINT stops reading: what was read is processed and written, the report is \
            written, and the exit status is as if the input had ended there.

            Exit status: 0 ok, 64 usage error, 65 some input rejected (all good records still \
            processed), 66 no input, 74 I/O error (an output that failed; its records are counted as \
            export_failed), 78 bad configuration.
            """
    )

    @Option(name: .long, help: "Input layout: \(InputFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var inputFormat: InputFormat = .auto

    @Option(name: .long, help: "Signal of protobuf input: traces, logs or metrics (default: told from the records).")
    var signal: Signal?

    @Option(name: .long, help: "Pipeline file (Collector-style YAML); default: the built-in Pipelines/default.yaml.")
    var config: String?

    @Option(name: [.short, .long], help: "Where the pipeline's stdout exporters write: a file path, or - for stdout.")
    var output: String = "-"

    @Option(
        name: .long,
        help:
            "Encoding of the stdout exporters: otlp-proto (length-prefixed requests), otlp-json (one request per line) or none."
    )
    var outputFormat: OutputFormat?

    @Option(name: .long, help: "Write Trapline's metrics (Prometheus text format) to this file when the replay ends.")
    var metricsFile: String?

    @Option(name: .long, help: "Write a JSON report of the accounting and every rejection to this file.")
    var reportFile: String?

    @Flag(name: [.short, .long], help: "Do not print the summary to stderr.")
    var quiet = false

    @Option(
        name: .long,
        help:
            "Write a JSON line for each record that does not go on (filtered, blocked, rejected) to this file (- for stderr)."
    )
    var audit: String?

    @Option(name: .long, help: "Progress on stderr: auto (only on a terminal), always or never.")
    var progress: ProgressMode = .auto

    @Option(name: .long, help: "Largest protobuf request accepted, in bytes.")
    var maxFrameBytes: Int = ReadOptions().maxFrameBytes

    @Option(name: .long, help: "Most bytes one gzip input may inflate to.")
    var maxDecompressedBytes: Int = ReadOptions().maxDecompressedBytes

    @Option(name: .long, help: "Text lines longer than this many bytes are split into several records.")
    var maxLineBytes: Int = ReadOptions().maxLineBytes

    @OptionGroup var pacingOptions: PacingOptions

    @Option(name: .long, help: "Frames processed at once, one per core by default; output does not depend on it.")
    var workers: Int = ReplayOptions.defaultWorkers

    @Argument(help: "Input files, directories, or - for stdin.")
    var inputs: [String] = []

    func validate() throws {
        guard !inputs.isEmpty else {
            throw ValidationError("give at least one input (a file, a directory, or - for stdin)")
        }
        guard maxFrameBytes > 0 && maxFrameBytes < Int(Int32.max) else {
            throw ValidationError("--max-frame-bytes must be between 1 and \(Int32.max - 1)")
        }
        guard maxLineBytes >= 16 && maxLineBytes < Int(Int32.max) else {
            throw ValidationError("--max-line-bytes must be between 16 and \(Int32.max - 1)")
        }
        guard maxDecompressedBytes > 0 else { throw ValidationError("--max-decompressed-bytes must be positive") }
        guard workers >= 1 && workers <= 256 else { throw ValidationError("--workers must be between 1 and 256") }
    }

    /// The pipeline's outputs with the command line's overrides of its stdout exporters.
    private func routedOutputs(of config: PipelineConfig) throws -> PipelineConfig.Outputs {
        var outputs = config.outputs()
        if !outputs.problems.isEmpty {
            FileHandleOutput.standardError(outputs.problems.map { "trapline: \($0)\n" }.joined())
            throw ExitCode(78)
        }
        outputs.routes = outputs.routes.compactMap { route in
            guard route.destination == .standardOutput else { return route }
            var route = route
            if output != "-" { route.destination = .file(output) }
            switch outputFormat {
            case .none?: return nil
            case .otlpProto?: route.format = .proto
            case .otlpJSON?: route.format = .json
            case nil: break
            }
            return route
        }
        if let metricsFile { outputs.metricsFile = metricsFile }
        if let audit { outputs.routes.append(.auditRoute(name: "audit", path: audit)) }
        let binaryToTerminal = outputs.routes.contains { $0.destination == .standardOutput && $0.format == .proto }
        if binaryToTerminal && isatty(STDOUT_FILENO) != 0 {
            throw ValidationError(
                "refusing to write binary protobuf to a terminal: use --output FILE or --output-format none")
        }
        return outputs
    }

    func run() throws {
        TraplineTLS.install()
        TraplineGRPC.install()
        var read = ReadOptions()
        read.inputFormat = inputFormat
        read.signal = signal
        read.maxFrameBytes = maxFrameBytes
        read.maxDecompressedBytes = maxDecompressedBytes
        read.maxLineBytes = maxLineBytes
        StopSignals.install()
        StopSignals.configure(&read)
        let loaded =
            config.map { ConfigLoader.load(path: $0) }
            ?? ConfigLoader.load(yaml: DefaultPipeline.yaml, file: DefaultPipeline.fileName)
        if !loaded.diagnostics.isEmpty {
            FileHandleOutput.standardError(loaded.diagnostics.sorted.map { "\($0)\n" }.joined())
            throw ExitCode(78)
        }
        let watchers: [KubernetesPodWatcher]
        do throws(KubernetesPodWatcher.StartError) {
            watchers = try KubernetesPodWatcher.start(loaded.kubernetesSources)
        } catch {
            FileHandleOutput.standardError("trapline: \(error)\n")
            throw ExitCode(78)
        }
        defer { for watcher in watchers { watcher.stop() } }
        let outputs = try routedOutputs(of: loaded.config)
        let options = ReplayOptions.running(
            loaded, outputs: outputs, inputs: inputs, read: read, workers: workers, pacing: pacingOptions.pacing)
        if let failure = options.forwarders.lazy.compactMap({ ($0 as? ForwardingExporter)?.storageFailure }).first {
            FileHandleOutput.standardError("trapline: an exporter's storage cannot be opened: \(failure)\n")
            for forwarder in options.forwarders { _ = forwarder.finish(until: .now) }
            throw ExitCode(74)
        }
        defer { for monitor in options.memoryMonitors { monitor.stop() } }
        var replay = Replay(options: options)
        let showProgress = progress == .always || (progress == .auto && !quiet && isatty(STDERR_FILENO) != 0)
        let printer = ProgressPrinter()
        if showProgress { replay.onProgress = { printer.update($0) } }
        let report = replay.run()
        printer.finish()
        var status = report.exitStatus
        if let reportFile {
            if let failure = ReportFile.write(reportFile, report.json) {
                FileHandleOutput.standardError("trapline: \(failure)\n")
                status = 74
            }
        }
        if !quiet { FileHandleOutput.standardError(report.summary) }
        if status != 0 { throw ExitCode(status) }
    }

}

enum FileHandleOutput {
    static func standardError(_ text: String) { write(text, to: STDERR_FILENO) }

    static func standardOutput(_ text: String) { write(text, to: STDOUT_FILENO) }

    /// Writes all of `text` (a pipe may take less than all of it at once).
    private static func write(_ text: String, to descriptor: Int32) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}

/// The JSON report file, written as every output path is (`OutputTarget`): a regular file
/// through a temporary and a rename, a device, FIFO or `/dev/stdout` in place.
enum ReportFile {
    /// Writes `text` to `path`; returns the failure text.
    static func write(_ path: String, _ text: String) -> String? {
        do throws(IOFailure) {
            let sink = try OutputSink(.file(path))
            try sink.write(Array(text.utf8))
            try sink.finish()
            return nil
        } catch {
            return error.description
        }
    }
}
