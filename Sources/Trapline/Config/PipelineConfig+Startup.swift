#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

extension ReceiverConfig {
    /// A `file` receiver with `follow`, or a `filelog` receiver.
    var isFollowedFile: Bool {
        if case .file(let file) = self { return file.follow != nil }
        return false
    }
}

extension PipelineConfig {
    /// What `trapline run` checks about how the file's receivers and exporters combine before it
    /// starts anything. The loader runs it, so `trapline validate` refuses exactly what startup
    /// would: a file that validates starts.
    func checkStartup(diagnostics: inout ConfigDiagnostics) {
        let listedReceivers = Set(pipelines.flatMap(\.receivers))
        let listedExporters = Set(pipelines.flatMap(\.exporters))
        let serves = listedReceivers.contains { if case .otlp? = receiver($0) { true } else { false } }
        // Storage directories, whoever uses them (followed files, exporters' queues, sidecar or not).
        for (id, config) in storageExtensions where enabledExtensions.contains(id) && !config.createDirectory {
            var info = stat()
            if stat(config.directory, &info) != 0 || info.st_mode & S_IFMT != S_IFDIR {
                diagnostics.error(
                    "extensions.\(id): directory '\(config.directory)' does not exist",
                    at: location(extensionLocations, id),
                    hint: "make it, or set create_directory: true")
            }
        }
        if serves {
            for (id, config) in receivers where listedReceivers.contains(id) {
                guard case .otlp = config else {
                    diagnostics.error(
                        "receiver '\(id)' reads files or stdin, which cannot run beside an otlp receiver in this version",
                        at: location(receiverLocations, id), hint: "run it in a pipeline file of its own")
                    continue
                }
            }
            return
        }
        let follows = receivers.contains { listedReceivers.contains($0.id) && $0.config.isFollowedFile }
        if follows, let stdin = receivers.first(where: { listedReceivers.contains($0.id) && $0.config == .stdin }) {
            diagnostics.error(
                "receiver '\(stdin.id)' reads stdin, which cannot run beside a followed file receiver in this version",
                at: location(receiverLocations, stdin.id), hint: "run it in a pipeline file of its own")
        }
        for (id, config) in exporters where listedExporters.contains(id) {
            switch config {
            case .prometheus(let prometheus) where prometheus.endpoint != nil:
                diagnostics.error(
                    "exporter '\(id)' serves /metrics, which needs sidecar mode (an otlp receiver)",
                    at: location(exporterLocations, id), hint: "use 'path' to write a textfile")
            default: continue
            }
        }
    }

    private func location(_ locations: [ComponentID: ConfigLocation], _ id: ComponentID) -> ConfigLocation {
        locations[id] ?? ConfigLocation(path: "", file: "", line: 1, column: 1)
    }
}
