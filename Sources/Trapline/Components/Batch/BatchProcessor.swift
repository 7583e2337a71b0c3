import TraplineCore
import TraplineStages

/// The Collector's `batch` processor: requests to the exporters of the pipelines that list it
/// are merged until `send_batch_size` records or `timeout`, as whole encoded requests (nothing
/// is decoded again); records are counted as they were read, whatever the batching.
struct BatchProcessorConfig: ProcessorComponent, Hashable {
    static let type = "batch"
    static let summary = "merges requests to the exporters up to send_batch_size records or timeout"

    /// The settings.
    var settings = BatchSettings()

    static func decode(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder) -> Self? {
        guard
            let entries = decoder.settings(
                of: component,
                known: [
                    "send_batch_size", "send_batch_max_size", "timeout", "metadata_keys", "metadata_cardinality_limit",
                ])
        else { return nil }
        var config = BatchProcessorConfig()
        for entry in entries {
            switch entry.key {
            case "timeout": config.settings.timeoutSeconds = decoder.seconds(entry) ?? config.settings.timeoutSeconds
            case "metadata_keys":
                config.settings.metadataKeys = decoder.strings(entry.node, at: entry.location).map { $0.0.lowercased() }
            default:
                guard let text = entry.node.scalar, let value = Int(text), value >= 0 else {
                    decoder.diagnostics.error("expected a whole number of 0 or more", at: entry.location)
                    continue
                }
                switch entry.key {
                case "send_batch_size": config.settings.sendBatchSize = value
                case "send_batch_max_size": config.settings.sendBatchMaxSize = value
                default: config.settings.metadataCardinalityLimit = value
                }
            }
        }
        if config.settings.sendBatchMaxSize > 0 && config.settings.sendBatchMaxSize < config.settings.sendBatchSize {
            decoder.diagnostics.error(
                "send_batch_max_size must be 0 or at least send_batch_size", at: component.location)
        }
        return config
    }

    func build(_ context: inout StageBuildContext, diagnostics: inout ConfigDiagnostics) -> (any Stage)? {
        PassThroughStage(id: context.id.description)
    }
}
