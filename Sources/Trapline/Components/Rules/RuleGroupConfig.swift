import TraplineCore
import TraplineRules

extension ConfigDecoder {
    mutating func unsupportedSignal(_ setting: Entry) {
        diagnostics.error(
            "'\(setting.key)' is not supported", at: setting.location,
            hint: "Trapline processes traces and logs; remove the metrics or profiles rules")
    }

    enum RuleListKind { case conditions, statements }

    /// A `*_conditions` or `*_statements` list: strings (the basic form, each its own group so
    /// its context is inferred alone) or mappings (the advanced form: `context`, `error_mode`,
    /// `conditions`, `statements`).
    mutating func ruleGroups(_ setting: Entry, kind: RuleListKind) -> [RuleGroupConfig] {
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
}

extension [RuleGroupConfig] {
    /// Compiles the groups for one signal, reporting each rule that does not compile at its file
    /// line and column (the column of the mistake inside the rule, when the rule is on one line);
    /// nil when there are none (the stage passes the signal through).
    func compiled(
        for signal: RuleSignal, errorMode: RuleErrorMode, diagnostics: inout ConfigDiagnostics
    ) -> [RuleGroup]? {
        guard !isEmpty else { return nil }
        var compiled: [RuleGroup] = []
        for group in self {
            let result = RuleGroup.compile(
                statements: group.statements.map(\.text), conditions: group.conditions.map(\.text), signal: signal,
                context: group.context, errorMode: group.errorMode ?? errorMode)
            switch result {
            case .success(let rules): compiled.append(rules)
            case .failure(let issues):
                for issue in issues.all {
                    let texts = issue.isStatement ? group.statements : group.conditions
                    guard issue.index < texts.count else { continue }
                    let rule = texts[issue.index]
                    diagnostics.error(
                        "\(issue.error.message) (column \(issue.error.column) of the \(issue.isStatement ? "statement" : "condition"))",
                        at: rule.location(ofColumn: issue.error.column))
                }
            }
        }
        return compiled
    }
}

/// A processor made of OTTL rule groups per signal (`filter`, `transform`).
protocol RuleGroupProcessor {
    var errorMode: RuleErrorMode { get }
    var traces: [RuleGroupConfig] { get }
    var logs: [RuleGroupConfig] { get }
    var metrics: [RuleGroupConfig] { get }
}

extension RuleGroupProcessor {
    /// The groups compiled for the signals of the pipelines that list the processor; nil for a
    /// signal it does not run on or has no rules for (the stage passes that signal through).
    func compiledGroups(_ context: StageBuildContext, diagnostics: inout ConfigDiagnostics)
        -> (traces: [RuleGroup]?, logs: [RuleGroup]?, metrics: [RuleGroup]?)
    {
        let traces =
            context.signals.contains(.traces)
            ? self.traces.compiled(for: .traces, errorMode: errorMode, diagnostics: &diagnostics) : nil
        let logs =
            context.signals.contains(.logs)
            ? self.logs.compiled(for: .logs, errorMode: errorMode, diagnostics: &diagnostics) : nil
        let metrics =
            context.signals.contains(.metrics)
            ? self.metrics.compiled(for: .metrics, errorMode: errorMode, diagnostics: &diagnostics) : nil
        return (traces, logs, metrics)
    }
}
