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
            case "receivers", "processors", "exporters", "connectors", "extensions":
                let kind = ComponentKind.allCases.first { $0.section == entry.key }!
                for component in components(entry) {
                    switch kind {
                    case .processor:
                        declaredProcessorIDs.append(component.id)
                        config.processorLocations[component.id] = component.location
                    case .receiver: config.receiverLocations[component.id] = component.location
                    case .exporter: config.exporterLocations[component.id] = component.location
                    case .extensionComponent: config.extensionLocations[component.id] = component.location
                    case .connector: break
                    }
                    guard let type = ComponentRegistry.component(kind, type: component.id.type) else {
                        unsupportedType(kind, component)
                        continue
                    }
                    switch type.decodeComponent(component, &self) {
                    case .receiver(let receiver)?: config.receivers.append((component.id, receiver))
                    case .processor(let processor)?: config.processors.append((component.id, processor))
                    case .exporter(let exporter)?: config.exporters.append((component.id, exporter))
                    case .connector(let connector)?: config.connectors.append((component.id, connector))
                    case .fileStorage(let storage)?: config.storageExtensions.append((component.id, storage))
                    case .bearerTokenAuth(let auth)?: config.authExtensions.append((component.id, auth))
                    case nil: break
                    }
                }
            case "service": serviceEntry = entry
            default: break
            }
        }
        if let serviceEntry {
            config.pipelines = decodeService(serviceEntry, config: &config)
            checkConnectors(config, at: serviceEntry.location)
            checkStorage(config)
            checkAuthenticators(config)
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

    mutating func unsupportedType(_ kind: ComponentKind, _ component: Component) {
        let supported = ComponentRegistry.typeNames(kind)
        let hint =
            NearestName.suggestion(for: component.id.type, among: supported).map { "did you mean '\($0)'? " } ?? ""
        diagnostics.error(
            "\(kind.rawValue) type '\(component.id.type)' is not supported", at: component.location,
            hint: hint + "supported: \(supported.joined(separator: ", "))")
    }

    mutating func decodeService(_ service: Entry, config: inout PipelineConfig) -> [PipelineDefinition] {
        guard let settings = entries(service.node, at: service.location) else { return [] }
        rejectUnknownKeys(settings, known: ["pipelines", "extensions", "telemetry"])
        var pipelines: [PipelineDefinition] = []
        for setting in settings {
            switch setting.key {
            case "extensions":
                for (name, location) in strings(setting.node, at: setting.location) {
                    guard let id = ComponentID(parsing: name),
                        config.storageExtensions.contains(where: { $0.id == id })
                            || config.authExtensions.contains(where: { $0.id == id })
                    else {
                        diagnostics.error(
                            "extension '\(name)' is not defined", at: location,
                            hint: "define it under 'extensions' (file_storage and bearertokenauth are supported)")
                        continue
                    }
                    config.enabledExtensions.append(id)
                }
            case "telemetry":
                diagnostics.error(
                    "'service.telemetry' is not supported", at: setting.location,
                    hint: "Trapline's own metrics go to a 'prometheus' exporter")
            case "pipelines":
                guard let definitions = entries(setting.node, at: setting.location) else { continue }
                if definitions.isEmpty { diagnostics.error("no pipelines defined", at: setting.location) }
                for definition in definitions {
                    if ComponentID(parsing: definition.key)?.type == "metrics",
                        isFedByConnector(definition, config: config)
                    {
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
            let hint = "write traces[/name], logs[/name] or metrics[/name]"
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
        // `prometheus` serves Trapline's own metrics, not the pipeline's records: a pipeline
        // whose only exporters are `prometheus` would count its records forwarded and write
        // them nowhere (the Collector refuses the same pipeline: prometheus takes no traces or
        // logs, and Trapline's does not convert OTLP metrics).
        // (Only when every listed exporter is defined: an undefined one was reported already.)
        if !pipeline.exporters.isEmpty, listed["exporters"] == pipeline.exporters.count,
            pipeline.exporters.allSatisfy({ id in
                if case .prometheus? = config.exporter(id) { return true }
                return false
            })
        {
            let setting = settings.first { $0.key == "exporters" }
            diagnostics.error(
                "pipeline '\(definition.key)' writes its records nowhere: 'prometheus' exports Trapline's own metrics",
                at: setting?.location ?? definition.location,
                hint: "add an exporter that carries the records (file, stdout, otlphttp, otlp)")
        }
        // A `loadbalancing` exporter routes by a key its signal has (no trace id on metrics).
        for id in pipeline.exporters {
            guard case .otlp(let exporter)? = config.exporter(id), let balancing = exporter.balancing,
                !balancing.routingKey.signals.contains(signal)
            else { continue }
            let setting = settings.first { $0.key == "exporters" }
            let fitting = OTLPRoutingKey.allCases.filter { $0.signals.contains(signal) }.map(\.rawValue)
            diagnostics.error(
                "exporter '\(id)' routes by \(balancing.routingKey.rawValue), which \(signal.rawValue) do not have",
                at: setting?.location ?? definition.location,
                hint: "for \(signal.rawValue) use routing_key \(fitting.joined(separator: ", "))")
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

    /// Every `storage` a followed file receiver names is a `file_storage` extension that
    /// `service.extensions` enables (the Collector fails at startup otherwise).
    mutating func checkStorage(_ config: PipelineConfig) {
        for (id, receiver) in config.receivers {
            guard case .file(let file) = receiver, let storage = file.follow?.storage else { continue }
            let location = config.receiverLocations[id] ?? rootLocation
            if !config.storageExtensions.contains(where: { $0.id == storage }) {
                diagnostics.error(
                    "receivers.\(id): storage '\(storage)' is not a defined extension", at: location,
                    hint: "define it under 'extensions' as file_storage with a directory")
            } else if !config.enabledExtensions.contains(storage) {
                diagnostics.error(
                    "receivers.\(id): storage '\(storage)' is not listed in service.extensions", at: location,
                    hint: "add it to service.extensions")
            }
        }
        for (storage, location) in storageReferences {
            if !config.storageExtensions.contains(where: { $0.id == storage }) {
                diagnostics.error(
                    "sending_queue.storage '\(storage)' is not a defined extension", at: location,
                    hint: "define it under 'extensions' as file_storage with a directory")
            } else if !config.enabledExtensions.contains(storage) {
                diagnostics.error(
                    "sending_queue.storage '\(storage)' is not listed in service.extensions", at: location,
                    hint: "add it to service.extensions")
            }
        }
    }
}
