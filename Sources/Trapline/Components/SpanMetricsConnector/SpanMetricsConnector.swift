import TraplineCore
import TraplineRules
import TraplineStages

/// The `spanmetrics` connector: calls and duration series from the spans a traces pipeline
/// exports, for a `metrics` pipeline's `prometheus` exporter.
enum SpanMetricsConnector: ConfigComponent {
    static let kind = ComponentKind.connector
    static let type = "spanmetrics"
    static let summary = "calls and duration series from a traces pipeline's spans, for a metrics pipeline"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        decoder.decodeSpanMetrics(component).map { .connector(.spanMetrics($0)) }
    }
}

extension ConfigDecoder {
    /// `spanmetrics` with the Collector's schema. Settings about flushing and caches apply to
    /// a long-running Collector's OTLP metrics; Trapline accepts them and writes cumulative series
    /// to the `prometheus` exporter when the run ends.
    fileprivate mutating func decodeSpanMetrics(_ component: Component) -> SpanMetricsConfig? {
        guard let settings = entries(component.node, at: component.location) else { return nil }
        let accepted = [
            "dimensions_cache_size", "resource_metrics_cache_size", "metrics_flush_interval", "metrics_expiration",
            "resource_metrics_key_attributes", "exemplars", "aggregation_temporality",
        ]
        rejectUnknownKeys(
            settings,
            known: ["histogram", "dimensions", "exclude_dimensions", "namespace", "aggregation_cardinality_limit"]
                + accepted + ["events", "delta_temporality"])
        var config = SpanMetricsConfig()
        for setting in settings {
            switch setting.key {
            case "histogram": decodeHistogram(setting, into: &config)
            case "dimensions":
                guard case .sequence(let items) = setting.node.value else {
                    if case .null = setting.node.value { continue }
                    diagnostics.error("expected a list of dimensions", at: setting.location)
                    continue
                }
                for (index, item) in items.enumerated() {
                    let location = item.location(setting.location.appending("\(index)"))
                    guard let keys = entries(item, at: location) else { continue }
                    rejectUnknownKeys(keys, known: ["name", "default"])
                    var dimension = SpanMetricsConfig.Dimension(name: "")
                    for key in keys {
                        if key.key == "name" { dimension.name = string(key.node, at: key.location) ?? "" }
                        if key.key == "default" { dimension.defaultValue = string(key.node, at: key.location) }
                    }
                    if dimension.name.isEmpty {
                        diagnostics.error("a dimension needs 'name'", at: location)
                    } else if config.keptDefaultDimensions.contains(dimension.name)
                        || config.dimensions.contains(where: { $0.name == dimension.name })
                    {
                        diagnostics.error("dimension '\(dimension.name)' is listed twice", at: location)
                    } else {
                        config.dimensions.append(dimension)
                    }
                }
            case "exclude_dimensions":
                for (name, location) in strings(setting.node, at: setting.location) {
                    if SpanMetricsConfig.defaultDimensions.contains(name) {
                        config.excludeDimensions.append(name)
                    } else {
                        diagnostics.error(
                            "'\(name)' is not a default dimension", at: location,
                            hint: "one of: \(SpanMetricsConfig.defaultDimensions.joined(separator: ", "))")
                    }
                }
            case "namespace": config.namespace = string(setting.node, at: setting.location) ?? config.namespace
            case "aggregation_cardinality_limit":
                guard let text = setting.node.scalar, let limit = Int(text), limit >= 0 else {
                    diagnostics.error("expected a whole number, 0 for no limit", at: setting.location)
                    continue
                }
                config.cardinalityLimit = limit
            case "aggregation_temporality":
                let value = string(setting.node, at: setting.location)
                if value != "AGGREGATION_TEMPORALITY_CUMULATIVE" && value != nil {
                    diagnostics.error(
                        "only AGGREGATION_TEMPORALITY_CUMULATIVE is supported", at: setting.location,
                        hint: "Prometheus series are cumulative")
                }
            case "events", "delta_temporality":
                diagnostics.error(
                    "'\(setting.key)' is not supported", at: setting.location,
                    hint: "Trapline writes the calls and duration series")
            default: break
            }
        }
        return config
    }

    private mutating func decodeHistogram(_ setting: Entry, into config: inout SpanMetricsConfig) {
        guard let keys = entries(setting.node, at: setting.location) else { return }
        rejectUnknownKeys(keys, known: ["unit", "explicit", "exponential", "disable"])
        for key in keys {
            switch key.key {
            case "unit": config.unit = choice(key.node, at: key.location, as: SpanMetricsConfig.Unit.self) ?? .ms
            case "disable": config.histogramDisabled = key.node.scalar == "true"
            case "exponential":
                diagnostics.error(
                    "exponential histograms are not supported", at: key.location,
                    hint: "use 'explicit' (Prometheus text has classic histograms)")
            case "explicit":
                guard let explicit = entries(key.node, at: key.location) else { continue }
                rejectUnknownKeys(explicit, known: ["buckets"])
                for buckets in explicit where buckets.key == "buckets" {
                    var bounds: [UInt64] = []
                    for (text, location) in strings(buckets.node, at: buckets.location) {
                        guard let parsed = DurationText.parse(text), parsed > 0 else {
                            diagnostics.error(
                                "'\(text)' is not a duration", at: location, hint: "write it like 100us, 2ms or 1.5s")
                            continue
                        }
                        let nanoseconds = UInt64(parsed)
                        if let last = bounds.last, nanoseconds <= last {
                            diagnostics.error("buckets must be in ascending order", at: location)
                        }
                        bounds.append(nanoseconds)
                    }
                    if !bounds.isEmpty { config.buckets = bounds }
                }
            default: break
            }
        }
    }

    /// Whether a `metrics` pipeline's receivers name a connector: then it carries the
    /// connector's series to `prometheus`; otherwise it is a pipeline of OTLP metrics like any
    /// other signal's.
    func isFedByConnector(_ definition: Entry, config: PipelineConfig) -> Bool {
        guard case .mapping(let settings) = definition.node.value else { return false }
        for (key, node) in settings where key.scalar == "receivers" {
            guard case .sequence(let items) = node.value else { return false }
            return items.contains { item in
                guard let name = item.scalar, let id = ComponentID(parsing: name) else { return false }
                return config.connectors.contains { $0.id == id }
            }
        }
        return false
    }

    /// A `metrics` pipeline fed by a connector: receivers are connectors, exporters
    /// `prometheus`, no processors.
    mutating func decodeMetricsPipeline(_ definition: Entry, config: inout PipelineConfig) {
        var pipeline = MetricsPipelineDefinition(id: definition.key)
        guard let settings = entries(definition.node, at: definition.location) else { return }
        rejectUnknownKeys(settings, known: ["receivers", "processors", "exporters"])
        for setting in settings {
            let references = strings(setting.node, at: setting.location)
            switch setting.key {
            case "receivers":
                pipeline.receivers = resolve(references, kind: "connector", defined: config.connectors.map(\.id))
            case "processors":
                if !references.isEmpty {
                    diagnostics.error(
                        "a metrics pipeline takes no processors in this version", at: setting.location,
                        hint: "filter spans before the connector instead")
                }
            case "exporters":
                pipeline.exporters = resolve(references, kind: "exporter", defined: config.exporters.map(\.id))
                for (id, location) in zip(pipeline.exporters, references) {
                    guard let exporter = config.exporter(id) else { continue }
                    if case .prometheus = exporter { continue }
                    diagnostics.error(
                        "exporter '\(id)' cannot take metrics", at: location.1,
                        hint: "a metrics pipeline exports to 'prometheus'")
                }
            default: break
            }
        }
        config.metricsPipelines.append(pipeline)
    }

    /// Each connector must be the exporter of a traces pipeline and the receiver of a metrics one.
    mutating func checkConnectors(_ config: PipelineConfig, at location: ConfigLocation) {
        for (id, _) in config.connectors {
            let exported = config.pipelines.contains { $0.signal == .traces && $0.exporters.contains(id) }
            let received = config.metricsPipelines.contains { $0.receivers.contains(id) }
            if !exported || !received {
                diagnostics.error(
                    "connector '\(id)' must be an exporter of a traces pipeline and a receiver of a metrics pipeline",
                    at: location,
                    hint: exported
                        ? "add a metrics pipeline with receivers: [\(id)]" : "list it in a traces pipeline's exporters")
            }
        }
        let used = config.pipelines.filter { $0.signal == .traces }.flatMap(\.exporters).filter { id in
            config.connectors.contains { $0.id == id }
        }
        if Set(used).count > 1 {
            diagnostics.error("one spanmetrics connector per file in this version", at: location)
        }
    }
}
