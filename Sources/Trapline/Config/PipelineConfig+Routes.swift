public import TraplineCore

extension PipelineConfig {
    /// Where a run's output goes, as the pipelines' exporters say.
    public struct Outputs: Sendable {
        /// One route per file or stdout exporter, with the signals of the pipelines that list it.
        public var routes: [OutputRoute] = []
        /// The textfile of the `prometheus` exporter with `path`, if any.
        public var metricsFile: String?
        /// Exporters only sidecar mode serves (a `prometheus` endpoint): a replay refuses them.
        public var problems: [String] = []
        /// The `prometheus` exporter's `endpoint` (serve `/metrics` there), if any.
        public var metricsEndpoint: String?
        /// The `otlphttp` exporters, with the signals of the pipelines that list them.
        public var forwarders: [(id: String, config: OTLPExporterConfig, signals: Set<Signal>, batch: BatchSettings?)] =
            []
    }

    /// The routes of every exporter that some pipeline lists.
    public func outputs() -> Outputs {
        var outputs = Outputs()
        for pipeline in pipelines {
            for id in pipeline.exporters {
                guard let exporter = exporter(id) else { continue }
                var route: OutputRoute
                switch exporter {
                case .file(let file):
                    route = OutputRoute(
                        name: id.description, destination: .file(file.path), format: file.format,
                        compression: file.compression, signals: [pipeline.signal])
                    route.rotation = file.rotation
                    route.batch = batching(of: pipeline)
                case .stdout(let format):
                    route = OutputRoute(
                        name: id.description, destination: .standardOutput, format: format, signals: [pipeline.signal])
                    route.batch = batching(of: pipeline)
                case .prometheus(let prometheus):
                    if let path = prometheus.path {
                        outputs.metricsFile = path
                    } else if let endpoint = prometheus.endpoint {
                        outputs.metricsEndpoint = endpoint
                        let problem =
                            "exporter '\(id)': serving /metrics on \(endpoint) needs sidecar mode (`trapline run` with an otlp receiver); use 'path' to write a textfile"
                        if !outputs.problems.contains(problem) { outputs.problems.append(problem) }
                    }
                    continue
                case .otlp(var config):
                    if let auth = authenticator(config.authenticator) {
                        config.headers["authorization"] = auth.headerValue()
                    }
                    if let storage = config.storage { config.storageSettings = self.storage(storage) }
                    if let index = outputs.forwarders.firstIndex(where: { $0.id == id.description }) {
                        outputs.forwarders[index].signals.insert(pipeline.signal)
                    } else {
                        outputs.forwarders.append((id.description, config, [pipeline.signal], batching(of: pipeline)))
                    }
                    continue
                case .audit(let audit):
                    route = .auditRoute(
                        name: id.description, path: audit.path, settings: audit.settings, signals: [pipeline.signal])
                }
                if let index = outputs.routes.firstIndex(where: { $0.name == route.name }) {
                    outputs.routes[index].signals.insert(pipeline.signal)
                    outputs.routes[index].batch = outputs.routes[index].batch ?? route.batch
                } else {
                    outputs.routes.append(route)
                }
            }
        }
        for pipeline in metricsPipelines {
            for id in pipeline.exporters {
                guard case .prometheus(let prometheus)? = exporter(id) else { continue }
                if let path = prometheus.path { outputs.metricsFile = path }
                if let endpoint = prometheus.endpoint { outputs.metricsEndpoint = endpoint }
            }
        }
        for pipeline in pipelines {
            for id in pipeline.processors {
                guard let quarantine = processor(id)?.settings(as: TrapsProcessorConfig.self)?.quarantine else {
                    continue
                }
                let name = quarantine.description
                if let index = outputs.routes.firstIndex(where: { $0.name == name && $0.isQuarantine }) {
                    outputs.routes[index].signals.insert(pipeline.signal)
                    continue
                }
                var route: OutputRoute
                switch exporter(quarantine) {
                case .file(let file)?:
                    route = OutputRoute(
                        name: name, destination: .file(file.path), format: file.format, compression: file.compression,
                        signals: [pipeline.signal])
                    route.rotation = file.rotation
                case .stdout(let format)?:
                    route = OutputRoute(
                        name: name, destination: .standardOutput, format: format, signals: [pipeline.signal])
                default: continue
                }
                route.isQuarantine = true
                outputs.routes.append(route)
            }
        }
        return outputs
    }

    /// The settings of the `batch` processor a pipeline lists (the first, when several do).
    func batching(of pipeline: PipelineDefinition) -> BatchSettings? {
        for id in pipeline.processors {
            if let batch = processor(id)?.settings(as: BatchProcessorConfig.self) { return batch.settings }
        }
        return nil
    }
}
