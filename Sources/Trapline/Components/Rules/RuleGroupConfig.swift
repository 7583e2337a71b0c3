import TraplineRules

extension ConfigDecoder {
    mutating func decodeProcessor(_ component: Component) -> ProcessorConfig? {
        switch component.id.type {
        case "filter": return decodeFilter(component).map { .filter($0) }
        case "transform": return decodeTransform(component).map { .transform($0) }
        case "k8sattributes", "k8s_attributes": return decodeK8sAttributes(component).map { .k8sAttributes($0) }
        case "traps": return decodeTraps(component).map { .traps($0) }
        default:
            unsupportedType("processor", component, supported: ProcessorConfig.supportedTypes)
            return nil
        }
    }

    private mutating func decodeFilter(_ component: Component) -> FilterProcessorConfig? {
        guard let settings = entries(component.node, at: component.location) else { return nil }
        let signalKeys = ["metrics", "metric_conditions", "profiles", "profile_conditions"]
        rejectUnknownKeys(
            settings, known: ["error_mode", "traces", "logs", "trace_conditions", "log_conditions"] + signalKeys)
        var filter = FilterProcessorConfig()
        for setting in settings {
            switch setting.key {
            case "error_mode":
                filter.errorMode = choice(setting.node, at: setting.location, as: RuleErrorMode.self) ?? .ignore
            case "trace_conditions": filter.traces += ruleGroups(setting, kind: .conditions)
            case "log_conditions": filter.logs += ruleGroups(setting, kind: .conditions)
            case "traces":
                filter.traces += legacyContexts(
                    setting, contexts: ["span": .span, "spanevent": .spanevent, "resource": .resource])
            case "logs":
                filter.logs += legacyContexts(setting, contexts: ["log_record": .log, "resource": .resource])
            default: unsupportedSignal(setting)
            }
        }
        return filter
    }

    private mutating func decodeTransform(_ component: Component) -> TransformProcessorConfig? {
        guard let settings = entries(component.node, at: component.location) else { return nil }
        rejectUnknownKeys(
            settings,
            known: ["error_mode", "trace_statements", "log_statements", "metric_statements", "profile_statements"])
        var transform = TransformProcessorConfig()
        for setting in settings {
            switch setting.key {
            case "error_mode":
                transform.errorMode = choice(setting.node, at: setting.location, as: RuleErrorMode.self) ?? .ignore
            case "trace_statements": transform.traces += ruleGroups(setting, kind: .statements)
            case "log_statements": transform.logs += ruleGroups(setting, kind: .statements)
            default: unsupportedSignal(setting)
            }
        }
        return transform
    }

    private mutating func unsupportedSignal(_ setting: Entry) {
        diagnostics.error(
            "'\(setting.key)' is not supported", at: setting.location,
            hint: "Trapline processes traces and logs; remove the metrics or profiles rules")
    }

    enum RuleListKind { case conditions, statements }

    /// A `*_conditions` or `*_statements` list: strings (the basic form, each its own group so
    /// its context is inferred alone) or mappings (the advanced form: `context`, `error_mode`,
    /// `conditions`, `statements`).
    private mutating func ruleGroups(_ setting: Entry, kind: RuleListKind) -> [RuleGroupConfig] {
        guard case .sequence(let items) = setting.node.value else {
            if case .null = setting.node.value { return [] }
            diagnostics.error("expected a list, found \(setting.node.kindName)", at: setting.location)
            return []
        }
        var groups: [RuleGroupConfig] = []
        for (index, item) in items.enumerated() {
            let itemLocation = item.location(setting.location.appending("\(index)"))
            switch item.value {
            case .scalar(let text):
                var group = RuleGroupConfig()
                let rule = RuleText(text, location: itemLocation, textOffset: item.textOffset)
                if kind == .conditions { group.conditions = [rule] } else { group.statements = [rule] }
                groups.append(group)
            case .mapping:
                guard let keys = entries(item, at: itemLocation) else { continue }
                let known =
                    kind == .conditions
                    ? ["context", "error_mode", "conditions"] : ["context", "error_mode", "conditions", "statements"]
                rejectUnknownKeys(keys, known: known)
                var group = RuleGroupConfig()
                for key in keys {
                    switch key.key {
                    case "context":
                        guard let name = string(key.node, at: key.location) else { continue }
                        guard let context = RuleContext(name: name) else {
                            let names = ["resource", "scope", "span", "spanevent", "log"]
                            diagnostics.error(
                                "unknown context '\(name)'", at: key.location,
                                hint: NearestName.suggestion(for: name, among: names).map { "did you mean '\($0)'?" }
                                    ?? "one of: \(names.joined(separator: ", "))")
                            continue
                        }
                        group.context = context
                    case "error_mode": group.errorMode = choice(key.node, at: key.location, as: RuleErrorMode.self)
                    case "conditions": group.conditions = ruleTexts(key)
                    case "statements": group.statements = ruleTexts(key)
                    default: break
                    }
                }
                if kind == .statements && group.statements.isEmpty {
                    diagnostics.error("a statement group needs 'statements'", at: itemLocation)
                }
                if kind == .conditions && group.conditions.isEmpty {
                    diagnostics.error("a condition group needs 'conditions'", at: itemLocation)
                }
                if kind == .conditions && group.context == nil {
                    // Each condition is inferred alone, as the Collector's filter does.
                    for condition in group.conditions {
                        var single = group
                        single.conditions = [condition]
                        groups.append(single)
                    }
                } else {
                    groups.append(group)
                }
            default:
                diagnostics.error("expected a rule string or a group mapping, found \(item.kindName)", at: itemLocation)
            }
        }
        return groups
    }

    mutating func ruleTexts(_ setting: Entry) -> [RuleText] {
        guard case .sequence(let items) = setting.node.value else {
            if let text = setting.node.scalar {
                return [RuleText(text, location: setting.location, textOffset: setting.node.textOffset)]
            }
            diagnostics.error("expected a list of rules, found \(setting.node.kindName)", at: setting.location)
            return []
        }
        var texts: [RuleText] = []
        for (index, item) in items.enumerated() {
            let location = item.location(setting.location.appending("\(index)"))
            guard let text = string(item, at: location) else { continue }
            texts.append(RuleText(text, location: location, textOffset: item.textOffset))
        }
        return texts
    }

    /// The older `traces: {span: […], spanevent: […]}` form: one context per key, paths
    /// without a context prefix allowed.
    private mutating func legacyContexts(_ setting: Entry, contexts: [String: RuleContext]) -> [RuleGroupConfig] {
        guard let keys = entries(setting.node, at: setting.location) else { return [] }
        rejectUnknownKeys(keys, known: contexts.keys.sorted())
        var groups: [RuleGroupConfig] = []
        for key in keys {
            guard let context = contexts[key.key] else { continue }
            var group = RuleGroupConfig(context: context)
            group.conditions = ruleTexts(key)
            groups.append(group)
        }
        return groups
    }
}
