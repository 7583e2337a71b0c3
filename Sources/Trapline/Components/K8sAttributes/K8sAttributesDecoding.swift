import TraplineCore
import TraplineRules
import TraplineStages

extension ConfigDecoder {
    /// `k8sattributes`: the Collector's schema plus `pod_list_file`, `namespace_list_file` and
    /// `node_list_file`.
    mutating func decodeK8sAttributes(_ component: Component) -> K8sAttributesConfig? {
        guard
            let settings = settings(
                of: component,
                known: [
                    "auth_type", "passthrough", "pod_list_file", "namespace_list_file", "node_list_file", "extract",
                    "pod_association", "filter", "exclude", "wait_for_metadata", "wait_for_metadata_timeout",
                ])
        else { return nil }
        var config = K8sAttributesConfig()
        for setting in settings {
            switch setting.key {
            case "auth_type":
                guard let text = string(setting.node, at: setting.location) else { continue }
                let known = ["serviceAccount", "kubeConfig", "none"]
                if !known.contains(text) {
                    diagnostics.error(
                        "'\(text)' is not an auth_type", at: setting.location,
                        hint: "one of: \(known.joined(separator: ", "))")
                }
                config.authType = text
            case "passthrough": config.passthrough = bool(setting.node, at: setting.location) ?? false
            case "pod_list_file": config.podListFile = string(setting.node, at: setting.location)
            case "namespace_list_file": config.namespaceListFile = string(setting.node, at: setting.location)
            case "node_list_file": config.nodeListFile = string(setting.node, at: setting.location)
            case "extract": decodeExtract(setting, into: &config)
            case "pod_association": config.associations = decodeAssociations(setting)
            case "filter": decodeFilter(setting, into: &config)
            case "exclude":
                guard let keys = entries(setting.node, at: setting.location) else { continue }
                rejectUnknownKeys(keys, known: ["pods"])
                for key in keys where key.key == "pods" {
                    config.excludePods = mappings(key).compactMap { item in
                        guard let fields = entries(item.node, at: item.location) else { return nil }
                        rejectUnknownKeys(fields, known: ["name"])
                        return fields.first { $0.key == "name" }.flatMap { string($0.node, at: $0.location) }
                    }
                }
            default: break  // wait_for_metadata*: a file-backed table is complete when loaded
            }
        }
        if config.podListFile == nil && !config.passthrough && config.authType != "serviceAccount" {
            diagnostics.error(
                "without pod_list_file the pods come from the Kubernetes API, which needs auth_type: serviceAccount",
                at: component.location,
                hint: "give pod_list_file (kubectl get pods -A -o json, or the kubelet's /pods), or use serviceAccount")
        }
        return config
    }

    /// The mapping items of a list setting.
    private mutating func mappings(_ setting: Entry) -> [Entry] {
        guard case .sequence(let items) = setting.node.value else {
            if case .null = setting.node.value { return [] }
            diagnostics.error("expected a list, found \(setting.node.kindName)", at: setting.location)
            return []
        }
        return items.enumerated().map { index, item in
            (key: "\(index)", node: item, location: item.location(setting.location.appending("\(index)")))
        }
    }

    private mutating func decodeExtract(_ setting: Entry, into config: inout K8sAttributesConfig) {
        guard let keys = entries(setting.node, at: setting.location) else { return }
        rejectUnknownKeys(keys, known: ["metadata", "labels", "annotations", "otel_annotations"])
        for key in keys {
            switch key.key {
            case "metadata":
                let names = strings(key.node, at: key.location)
                for (name, location) in names where !K8sAttributesConfig.supportedMetadata.contains(name) {
                    let hint =
                        NearestName.suggestion(for: name, among: K8sAttributesConfig.supportedMetadata).map {
                            "did you mean '\($0)'?"
                        } ?? "supported: \(K8sAttributesConfig.supportedMetadata.joined(separator: ", "))"
                    diagnostics.error("metadata '\(name)' is not supported", at: location, hint: hint)
                }
                config.metadata = names.map(\.0).filter { K8sAttributesConfig.supportedMetadata.contains($0) }
            case "labels": config.labels = fieldExtractions(key)
            case "annotations": config.annotations = fieldExtractions(key)
            case "otel_annotations":
                diagnostics.error("'otel_annotations' is not supported yet", at: key.location)
            default: break
            }
        }
    }

    private mutating func fieldExtractions(_ setting: Entry) -> [FieldExtractionConfig] {
        mappings(setting).compactMap { item in
            guard let fields = entries(item.node, at: item.location) else { return nil }
            rejectUnknownKeys(fields, known: ["tag_name", "key", "key_regex", "regex", "from"])
            var extraction = FieldExtractionConfig()
            let hasKey = fields.contains { $0.key == "key" }
            let hasKeyRegex = fields.contains { $0.key == "key_regex" }
            for field in fields {
                switch field.key {
                case "tag_name": extraction.tagName = string(field.node, at: field.location)
                case "key": extraction.key = string(field.node, at: field.location)
                case "key_regex": extraction.keyRegex = regexText(field)
                case "regex": extraction.valueRegex = regexText(field)
                case "from":
                    extraction.from =
                        choice(field.node, at: field.location, as: FieldExtractionConfig.Source.self) ?? .pod
                default: break
                }
            }
            if hasKey == hasKeyRegex {
                diagnostics.error("give exactly one of 'key' and 'key_regex'", at: item.location)
            }
            return extraction
        }
    }

    /// A regex setting, checked now so a bad one is reported with its position.
    private mutating func regexText(_ field: Entry) -> String? {
        guard let text = string(field.node, at: field.location) else { return nil }
        do { _ = try ByteRegex(text) } catch {
            diagnostics.error("\(error)", at: field.location)
            return nil
        }
        return text
    }

    private mutating func decodeAssociations(_ setting: Entry) -> [PodAssociationRule] {
        mappings(setting).compactMap { item in
            guard let fields = entries(item.node, at: item.location) else { return nil }
            rejectUnknownKeys(fields, known: ["sources"])
            guard let sourcesEntry = fields.first(where: { $0.key == "sources" }) else {
                diagnostics.error("a pod_association rule needs 'sources'", at: item.location)
                return nil
            }
            var sources: [PodAssociationRule.Source] = []
            for source in mappings(sourcesEntry) {
                guard let keys = entries(source.node, at: source.location) else { continue }
                rejectUnknownKeys(keys, known: ["from", "name"])
                let from = keys.first { $0.key == "from" }.flatMap { string($0.node, at: $0.location) }
                let name = keys.first { $0.key == "name" }.flatMap { string($0.node, at: $0.location) }
                switch from {
                case "connection": sources.append(.connection)
                case "resource_attribute":
                    guard let name, PodAssociationRule.attributeNames.contains(name) else {
                        diagnostics.error(
                            "resource_attribute '\(name ?? "")' cannot identify a pod", at: source.location,
                            hint: "one of: \(PodAssociationRule.attributeNames.joined(separator: ", "))")
                        continue
                    }
                    sources.append(.resourceAttribute(name))
                default:
                    diagnostics.error(
                        "'from' must be resource_attribute or connection", at: source.location)
                }
            }
            if sources.count > 4 {
                diagnostics.error("a rule has at most 4 sources", at: sourcesEntry.location)
            }
            let names = sources.compactMap { if case .resourceAttribute(let name) = $0 { name } else { nil } }
            if names.contains("k8s.pod.name") != names.contains("k8s.namespace.name") {
                diagnostics.error(
                    "k8s.pod.name and k8s.namespace.name identify a pod only together", at: sourcesEntry.location)
            }
            return PodAssociationRule(sources: sources)
        }
    }

    private mutating func decodeFilter(_ setting: Entry, into config: inout K8sAttributesConfig) {
        guard let keys = entries(setting.node, at: setting.location) else { return }
        rejectUnknownKeys(keys, known: ["node", "node_from_env_var", "namespace", "labels", "fields"])
        for key in keys {
            switch key.key {
            case "node": config.filterNode = string(key.node, at: key.location)
            case "node_from_env_var": config.filterNodeFromEnvVar = string(key.node, at: key.location)
            case "namespace": config.filterNamespace = string(key.node, at: key.location)
            case "labels", "fields":
                let selectors: [PodSelectorConfig] = mappings(key).compactMap { item in
                    guard let fields = entries(item.node, at: item.location) else { return nil }
                    rejectUnknownKeys(fields, known: ["key", "value", "op"])
                    var selector = PodSelectorConfig()
                    for field in fields {
                        switch field.key {
                        case "key": selector.key = string(field.node, at: field.location) ?? ""
                        case "value": selector.value = string(field.node, at: field.location) ?? ""
                        case "op":
                            selector.operation =
                                choice(field.node, at: field.location, as: PodSelectorConfig.Operation.self) ?? .equals
                        default: break
                        }
                    }
                    return selector
                }
                if key.key == "labels" { config.filterLabels = selectors } else { config.filterFields = selectors }
            default: break
            }
        }
    }
}
