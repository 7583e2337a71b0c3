@_spi(Plumbing) import Trapline
@_spi(Plumbing) import TraplineCore
@_spi(Plumbing) import TraplineServer
import TraplineStages

extension ReplayOptions {
    /// What `replay --config` and `run` run over their inputs: the loaded file's stages,
    /// signals, TER density, `spanmetrics`, routes and metrics file, with its `memory_limiter`
    /// monitors and `otlphttp` exporters started (the caller stops the monitors when the run
    /// ends; the replay itself waits for the exporters). Allocates the options, the monitors and
    /// the exporters' threads.
    static func running(
        _ loaded: ConfigLoader.Result, outputs: PipelineConfig.Outputs, inputs: [String], read: ReadOptions,
        workers: Int, pacing: Pacing?
    ) -> ReplayOptions {
        var options = ReplayOptions(inputs: inputs, read: read, outputFormat: .none, workers: workers)
        options.routes = outputs.routes
        options.metricsFile = outputs.metricsFile
        options.stages = loaded.stages
        options.signals = Set(loaded.config.pipelines.map(\.signal))
        options.trapDensityPerSecond = loaded.config.trapDensityPerSecond
        options.spanMetrics = loaded.config.spanMetrics.map(SpanMetricsAggregator.init)
        options.pacing = pacing
        options.memoryMonitors = loaded.config.memoryLimiters.map {
            MemoryMonitor(id: $0.id, config: $0.config, signals: $0.signals)
        }
        for monitor in options.memoryMonitors { monitor.start() }
        // `otlphttp` exporters: the records go on to the next hop too, each send acknowledged
        // (or counted as refused or failed) before the report is made.
        let forwarders = outputs.forwarders.map {
            ExportQueues.make(id: $0.id, config: $0.config, signals: $0.signals, batch: $0.batch)
        }
        for forwarder in forwarders { forwarder.start() }
        options.forwarders = forwarders
        return options
    }
}
