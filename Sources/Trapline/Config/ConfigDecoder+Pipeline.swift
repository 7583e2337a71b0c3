import TraplineCore

extension ConfigDecoder {
    typealias Entry = (key: String, node: ConfigNode, location: ConfigLocation)

    /// The whole file.
    mutating func decodePipelineConfig(_ root: ConfigNode) -> PipelineConfig {
        var config = PipelineConfig()
        guard let top = entries(root, at: rootLocation) else { return config }
        rejectUnknownKeys(top, known: ["receivers", "processors", "exporters", "connectors", "extensions", "service"])
        var serviceEntry: Entry?
        for entry in top {
            switch entry.key {
            case "receivers":
                for component in components(entry) {
                    if let receiver = decodeReceiver(component) { config.receivers.append((component.id, receiver)) }
                }
            case "exporters":
                for component in components(entry) {
                    if let exporter = decodeExporter(component) { config.exporters.append((component.id, exporter)) }
                }
            case "processors":
                for component in components(entry) {
                    declaredProcessorIDs.append(component.id)
                    config.processorLocations[component.id] = component.location
                    if let processor = decodeProcessor(component) {
                        config.processors.append((component.id, processor))
                    }
                }
            case "connectors":
                for component in components(entry) {
                    if let connector = decodeConnector(component) {
                        config.connectors.append((component.id, connector))
                    }
                }
            case "extensions":
                for component in components(entry) {
                    diagnostics.error(
                        "extension type '\(component.id.type)' is not supported", at: component.location,
                        hint: "remove it from the file")
                }
            case "service": serviceEntry = entry
            default: break
            }
        }
        if let serviceEntry {
            config.pipelines = decodeService(serviceEntry, config: &config)
            checkConnectors(config, at: serviceEntry.location)
        } else {
            diagnostics.error("missing 'service' with its pipelines", at: rootLocation, hint: "add service.pipelines")
        }
        return config
    }

    struct Component {
        var id: ComponentID
        var node: ConfigNode
        var location: ConfigLocation
    }

    /// The `type[/name]: settings` entries of a section.
    mutating func components(_ section: Entry) -> [Component] {
        guard let items = entries(section.node, at: section.location) else { return [] }
        return items.compactMap { item in
            guard let id = ComponentID(parsing: item.key) else {
                diagnostics.error(
                    "'\(item.key)' is not a component id", at: item.location, hint: "write type or type/name")
                return nil
            }
            return Component(id: id, node: item.node, location: item.location)
        }
    }

    mutating func unsupportedType(_ kind: String, _ component: Component, supported: [String]) {
        let hint =
            NearestName.suggestion(for: component.id.type, among: supported).map { "did you mean '\($0)'? " } ?? ""
        diagnostics.error(
            "\(kind) type '\(component.id.type)' is not supported", at: component.location,
            hint: hint + "supported: \(supported.joined(separator: ", "))")
    }

    mutating func decodeReceiver(_ component: Component) -> ReceiverConfig? {
        switch component.id.type {
        case "stdin":
            guard let settings = entries(component.node, at: component.location) else { return nil }
            rejectUnknownKeys(settings, known: [])
            return .stdin
        case "file", "otlpjsonfile":
            guard let settings = entries(component.node, at: component.location) else { return nil }
            rejectUnknownKeys(settings, known: ["include", "exclude", "input_format"])
            var file = FileReceiverConfig()
            for setting in settings {
                switch setting.key {
                case "include": file.include = strings(setting.node, at: setting.location).map(\.0)
                case "exclude": file.exclude = strings(setting.node, at: setting.location).map(\.0)
                case "input_format":
                    file.inputFormat = choice(setting.node, at: setting.location, as: InputFormat.self) ?? .auto
                default: break
                }
            }
            if file.include.isEmpty {
                diagnostics.error(
                    "'include' is required", at: component.location, hint: "list the files or globs to read")
            }
            return .file(file)
        case "otlp": return decodeOTLPReceiver(component).map { .otlp($0) }
        default:
            unsupportedType("receiver", component, supported: ReceiverConfig.supportedTypes)
            return nil
        }
    }

    mutating func decodeExporter(_ component: Component) -> ExporterConfig? {
        guard let settings = entries(component.node, at: component.location) else { return nil }
        switch component.id.type {
        case "file":
            rejectUnknownKeys(settings, known: ["path", "format", "compression"])
            var file = FileExporterConfig()
            for setting in settings {
                switch setting.key {
                case "path": file.path = string(setting.node, at: setting.location) ?? ""
                case "format": file.format = choice(setting.node, at: setting.location, as: ExportFormat.self) ?? .json
                case "compression":
                    file.compression = choice(setting.node, at: setting.location, as: ExportCompression.self) ?? .none
                default: break
                }
            }
            if file.path.isEmpty { diagnostics.error("'path' is required", at: component.location) }
            return .file(file)
        case "stdout":
            rejectUnknownKeys(settings, known: ["format"])
            var format = ExportFormat.json
            for setting in settings where setting.key == "format" {
                format = choice(setting.node, at: setting.location, as: ExportFormat.self) ?? .json
            }
            return .stdout(format)
        case "prometheus":
            rejectUnknownKeys(settings, known: ["endpoint", "path"])
            var prometheus = PrometheusExporterConfig()
            for setting in settings {
                switch setting.key {
                case "endpoint": prometheus.endpoint = string(setting.node, at: setting.location)
                case "path": prometheus.path = string(setting.node, at: setting.location)
                default: break
                }
            }
            if (prometheus.endpoint == nil) == (prometheus.path == nil) {
                diagnostics.error(
                    "give exactly one of 'endpoint' (serve /metrics) and 'path' (write a textfile)",
                    at: component.location)
            }
            return .prometheus(prometheus)
        case "otlphttp", "otlp_http": return decodeOTLPHTTPExporter(component, settings).map { .otlpHTTP($0) }
        default:
            unsupportedType("exporter", component, supported: ExporterConfig.supportedTypes)
            return nil
        }
    }

    mutating func decodeService(_ service: Entry, config: inout PipelineConfig) -> [PipelineDefinition] {
        guard let settings = entries(service.node, at: service.location) else { return [] }
        rejectUnknownKeys(settings, known: ["pipelines", "extensions", "telemetry"])
        var pipelines: [PipelineDefinition] = []
        for setting in settings {
            switch setting.key {
            case "extensions":
                for (name, location) in strings(setting.node, at: setting.location) {
                    diagnostics.error(
                        "extension '\(name)' is not supported", at: location, hint: "remove it from the list")
                }
            case "telemetry":
                diagnostics.error(
                    "'service.telemetry' is not supported", at: setting.location,
                    hint: "Trapline's own metrics go to a 'prometheus' exporter")
            case "pipelines":
                guard let definitions = entries(setting.node, at: setting.location) else { continue }
                if definitions.isEmpty { diagnostics.error("no pipelines defined", at: setting.location) }
                for definition in definitions {
                    if ComponentID(parsing: definition.key)?.type == "metrics" {
                        decodeMetricsPipeline(definition, config: &config)
                    } else if let pipeline = decodePipeline(definition, config: config) {
                        pipelines.append(pipeline)
                    }
                }
            default: break
            }
        }
        return pipelines
    }

    mutating func decodePipeline(_ definition: Entry, config: PipelineConfig) -> PipelineDefinition? {
        guard let id = ComponentID(parsing: definition.key) else {
            diagnostics.error(
                "'\(definition.key)' is not a pipeline id", at: definition.location,
                hint: "write traces[/name] or logs[/name]")
            return nil
        }
        guard let signal = Signal(rawValue: id.type) else {
            let hint = "write traces[/name], logs[/name] or metrics[/name] (fed by a connector)"
            diagnostics.error("pipeline signal '\(id.type)' is not supported", at: definition.location, hint: hint)
            return nil
        }
        var pipeline = PipelineDefinition(id: definition.key, signal: signal)
        pipeline.processorsLocation = definition.location
        guard let settings = entries(definition.node, at: definition.location) else { return nil }
        rejectUnknownKeys(settings, known: ["receivers", "processors", "exporters"])
        var listed: [String: Int] = [:]
        for setting in settings {
            let references = strings(setting.node, at: setting.location)
            listed[setting.key] = references.count
            switch setting.key {
            case "receivers":
                pipeline.receivers = resolve(references, kind: "receiver", defined: config.receivers.map(\.id))
            case "processors":
                pipeline.processorsLocation = setting.location
                pipeline.processors = resolve(references, kind: "processor", defined: declaredProcessorIDs)
            case "exporters":
                // A traces pipeline may export to a connector (spanmetrics).
                let connectors = signal == .traces ? config.connectors.map(\.id) : []
                pipeline.exporters = resolve(
                    references, kind: "exporter", defined: config.exporters.map(\.id) + connectors)
            default: break
            }
        }
        // As the Collector: a pipeline needs a receiver and an exporter (records that reach no
        // exporter would be counted as forwarded and written nowhere). An empty list is
        // reported where it stands; listed but undefined ids were reported by `resolve`.
        for (key, ids) in [("receivers", pipeline.receivers), ("exporters", pipeline.exporters)] where ids.isEmpty {
            guard (listed[key] ?? 0) == 0 else { continue }
            let setting = settings.first { $0.key == key }
            diagnostics.error(
                "pipeline '\(definition.key)' has no \(key)", at: setting?.location ?? definition.location,
                hint:
                    "list at least one; a pipeline without \(key) \(key == "receivers" ? "reads nothing" : "writes nothing")"
            )
        }
        return pipeline
    }

    /// Component references that name defined components (each undefined one is reported).
    mutating func resolve(_ references: [(String, ConfigLocation)], kind: String, defined: [ComponentID])
        -> [ComponentID]
    {
        var resolved: [ComponentID] = []
        for (text, location) in references {
            guard let id = ComponentID(parsing: text) else {
                diagnostics.error("'\(text)' is not a component id", at: location)
                continue
            }
            guard defined.contains(id) else {
                let names = defined.map(\.description)
                let hint =
                    NearestName.suggestion(for: text, among: names).map { "did you mean '\($0)'?" }
                    ?? (names.isEmpty ? "no \(kind)s are defined" : "defined: \(names.joined(separator: ", "))")
                diagnostics.error("\(kind) '\(text)' is not defined", at: location, hint: hint)
                continue
            }
            if resolved.contains(id) {
                diagnostics.error("\(kind) '\(text)' is listed twice", at: location)
                continue
            }
            resolved.append(id)
        }
        return resolved
    }
}
