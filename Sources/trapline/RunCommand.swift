import ArgumentParser
import Foundation
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

/// `trapline run`: runs a pipeline file with its own receivers until they end (files) or
/// until SIGTERM/SIGINT (stdin), then flushes every exporter and exits 0.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline file: its receivers, stages and exporters, until the inputs end or SIGTERM/SIGINT.",
        discussion: """
            Without --config the built-in default pipeline runs: stdin to stdout. On SIGTERM or SIGINT \
            Trapline stops reading, finishes what it has read, writes every exporter's output and exits 0.
            With an otlp receiver it runs as a sidecar: OTLP/HTTP in, otlphttp out, /metrics, /healthz and \
            /readyz; SIGTERM drains the queues within --shutdown-timeout, SIGHUP reloads the file (an \
            invalid one keeps the running pipeline).
            """
    )

    @Option(name: .long, help: "The pipeline file (Collector-style YAML).")
    var config: String?

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

    @OptionGroup var pacingOptions: PacingOptions

    @Option(name: .long, help: "Frames processed at once, one per core by default.")
    var workers: Int = ReplayOptions.defaultWorkers

    @Option(name: .long, help: "Sidecar mode: seconds to drain the queues and flush on SIGTERM/SIGINT (default 30).")
    var shutdownTimeout: Double = 30

    func run() throws {
        TraplineTLS.install()
        TraplineGRPC.install()
        let loaded =
            config.map { ConfigLoader.load(path: $0) }
            ?? ConfigLoader.load(yaml: DefaultPipeline.yaml, file: DefaultPipeline.fileName)
        if !loaded.diagnostics.isEmpty {
            FileHandleOutput.standardError(loaded.diagnostics.sorted.map { "\($0)\n" }.joined())
            throw ExitCode(78)
        }
        // Sidecar mode: tasks (gRPC handlers, exporter consumers) on NIO's loops, before any starts.
        if !loaded.config.otlpReceivers.isEmpty { _ = Sidecar.runTasksOnEventLoops() }
        let watchers: [KubernetesPodWatcher]
        do throws(KubernetesPodWatcher.StartError) {
            watchers = try KubernetesPodWatcher.start(loaded.kubernetesSources)
        } catch {
            FileHandleOutput.standardError("trapline: \(error)\n")
            throw ExitCode(78)
        }
        defer { for watcher in watchers { watcher.stop() } }
        var outputs = loaded.config.outputs()
        if let audit { outputs.routes.append(.auditRoute(name: "audit", path: audit)) }
        if !loaded.config.otlpReceivers.isEmpty {
            try runSidecar(loaded, outputs, watchers)
            return
        }
        // How receivers and exporters combine was checked by the loader, as `validate` checks it.
        let (inputs, unmatched) = loaded.config.receiverInputs()
        for pattern in unmatched { FileHandleOutput.standardError("trapline: no file matches '\(pattern)'\n") }
        let followers = try loaded.config.followedReceivers.map { receiver in
            let storage = receiver.config.follow?.storage.flatMap { loaded.config.storage($0) }
            if let storage, storage.createDirectory,
                (try? FileManager.default.createDirectory(
                    atPath: storage.directory, withIntermediateDirectories: true)) == nil
            {
                FileHandleOutput.standardError("trapline: cannot create the storage directory \(storage.directory)\n")
                throw ExitCode(74)
            }
            return FileFollower(receiverID: receiver.id, receiver: receiver.config, storage: storage)
        }
        guard !inputs.isEmpty || !followers.isEmpty else {
            FileHandleOutput.standardError("trapline: no input to read\n")
            throw ExitCode(66)
        }
        StopSignals.install()
        var read = ReadOptions()
        StopSignals.configure(&read)
        var options = ReplayOptions.running(
            loaded, outputs: outputs, inputs: inputs, read: read, workers: max(1, workers),
            pacing: pacingOptions.pacing)
        if let failure = options.forwarders.lazy.compactMap({ ($0 as? ForwardingExporter)?.storageFailure }).first {
            FileHandleOutput.standardError("trapline: an exporter's storage cannot be opened: \(failure)\n")
            for forwarder in options.forwarders { _ = forwarder.finish(until: .now) }
            throw ExitCode(74)
        }
        defer { for monitor in options.memoryMonitors { monitor.stop() } }
        options.writesOutputsAsTheyGo = true
        options.followers = followers
        options.onNotice = { FileHandleOutput.standardError("trapline: \($0)\n") }
        let report = Replay(options: options).run()
        if let reportFile, let failure = ReportFile.write(reportFile, report.json) {
            FileHandleOutput.standardError("trapline: \(failure)\n")
            throw ExitCode(74)
        }
        if !quiet { FileHandleOutput.standardError(report.summary) }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }

    /// Sidecar mode: serve the `otlp` receivers until SIGTERM or SIGINT, then stop accepting,
    /// drain the queues within `--shutdown-timeout`, flush every exporter and exit 0.
    private func runSidecar(
        _ loaded: ConfigLoader.Result, _ outputs: PipelineConfig.Outputs, _ watchers: [KubernetesPodWatcher]
    ) throws {
        StopSignals.install()
        let sidecar: Sidecar
        let ports: [String: Int]
        do {
            sidecar = try Sidecar(loaded: loaded, outputs: outputs, watchers: watchers)
            ports = try sidecar.start()
        } catch {
            FileHandleOutput.standardError("trapline: cannot start: \(error)\n")
            throw ExitCode(74)
        }
        if !quiet {
            let listening = ports.sorted { $0.key < $1.key }.map { "\($0.key) on port \($0.value)" }
            FileHandleOutput.standardError("trapline: listening: \(listening.joined(separator: ", "))\n")
        }
        StopSignals.installReload()
        // Wait for a stop signal (its handler writes to the stop pipe); SIGHUP reloads.
        while StopSignals.waitForStopOrReload() {
            guard let config else { continue }
            if let problem = sidecar.reload(ConfigLoader.load(path: config)) {
                FileHandleOutput.standardError("trapline: reload refused, the running pipeline stays:\n\(problem)\n")
            } else if !quiet {
                FileHandleOutput.standardError("trapline: reloaded \(config)\n")
            }
        }
        if !quiet { FileHandleOutput.standardError("trapline: stopping: draining queues, flushing exporters\n") }
        let failure = sidecar.stop(deadline: Date().addingTimeInterval(shutdownTimeout))
        // The report and the summary at shutdown, as a replay ends with them. Rejected requests
        // were answered to their clients; only a failed output changes the exit status.
        let report = sidecar.report
        var status: Int32 = failure == nil ? 0 : 74
        if let reportFile, let problem = ReportFile.write(reportFile, report.json) {
            FileHandleOutput.standardError("trapline: \(problem)\n")
            status = 74
        }
        if !quiet { FileHandleOutput.standardError(report.summary) }
        if let failure { FileHandleOutput.standardError("trapline: \(failure)\n") }
        if status != 0 { throw ExitCode(status) }
    }
}
