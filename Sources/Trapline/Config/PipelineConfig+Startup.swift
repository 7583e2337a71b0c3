extension PipelineConfig {
    /// What `trapline run` checks about how the file's receivers and exporters combine before it
    /// starts anything. The loader runs it, so `trapline validate` refuses exactly what startup
    /// would: a file that validates starts.
    func checkStartup(diagnostics: inout ConfigDiagnostics) {
        let listedReceivers = Set(pipelines.flatMap(\.receivers))
        let listedExporters = Set(pipelines.flatMap(\.exporters))
        let serves = listedReceivers.contains { if case .otlp? = receiver($0) { true } else { false } }
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
