import TraplineCore
import TraplineRules
import TraplineStages
import Yams

extension ConfigDecoder {
    /// The `traps` processor: `rules` (inline rules and `builtin:` packs), `quarantine`, `ter`,
    /// `error_mode`.
    mutating func decodeTraps(_ component: Component) -> TrapsProcessorConfig? {
        guard let settings = settings(of: component, known: ["rules", "quarantine", "ter", "error_mode"]) else {
            return nil
        }
        var traps = TrapsProcessorConfig()
        for setting in settings {
            switch setting.key {
            case "error_mode":
                traps.errorMode = choice(setting.node, at: setting.location, as: RuleErrorMode.self) ?? .ignore
            case "quarantine":
                guard let text = string(setting.node, at: setting.location) else { continue }
                guard let id = ComponentID(parsing: text) else {
                    diagnostics.error("'\(text)' is not a component id", at: setting.location)
                    continue
                }
                traps.quarantine = id
                traps.quarantineLocation = setting.location
            case "ter":
                guard let keys = entries(setting.node, at: setting.location) else { continue }
                rejectUnknownKeys(keys, known: ["expected_density_per_hour"])
                for key in keys where key.key == "expected_density_per_hour" {
                    guard let text = key.node.scalar, let density = Double(text), density.isFinite, density > 0 else {
                        diagnostics.error(
                            "expected a positive number of trap events per hour", at: key.location,
                            hint: "leave it out to estimate the density from the traps identified")
                        continue
                    }
                    traps.expectedDensityPerHour = density
                }
            case "rules": decodeTrapRules(setting, into: &traps)
            default: break
            }
        }
        if traps.rules.isEmpty && traps.goCrossBuild == nil && !settings.contains(where: { $0.key == "rules" }) {
            diagnostics.error(
                "'rules' is required", at: component.location,
                hint:
                    "list inline rules or a built-in pack: \(TrapsProcessorConfig.builtinPacks.joined(separator: ", "))"
            )
        }
        return traps
    }

    private mutating func decodeTrapRules(_ setting: Entry, into traps: inout TrapsProcessorConfig) {
        guard case .sequence(let items) = setting.node.value else {
            diagnostics.error("expected a list of rules, found \(setting.node.kindName)", at: setting.location)
            return
        }
        for (index, item) in items.enumerated() {
            let location = item.location(setting.location.appending("\(index)"))
            guard let keys = entries(item, at: location) else { continue }
            if let builtin = keys.first(where: { $0.key == "builtin" }) {
                rejectUnknownKeys(keys, known: ["builtin", "action"])
                let action = keys.first { $0.key == "action" }.flatMap { key in
                    choice(key.node, at: key.location, as: TrapAction.self)
                }
                switch string(builtin.node, at: builtin.location) {
                case "go-crossbuild"?: traps.goCrossBuild = action ?? .block
                case "runtime"?:
                    var rules = BuiltinTrapPacks.runtimeRules()
                    if let action { for index in rules.indices { rules[index].action = action } }
                    traps.rules += rules
                case let name?:
                    let names = TrapsProcessorConfig.builtinPacks
                    diagnostics.error(
                        "unknown built-in pack '\(name)'", at: builtin.location,
                        hint: NearestName.suggestion(for: name, among: names).map { "did you mean '\($0)'?" }
                            ?? "one of: \(names.joined(separator: ", "))")
                case nil: break
                }
                continue
            }
            if let rule = trapRule(keys, at: location) { traps.rules.append(rule) }
        }
    }

    /// One inline rule: `name`, `class`, `signal`, `when`, `baseline`, `action`, `remedy`, `error_mode`.
    mutating func trapRule(_ keys: [Entry], at location: ConfigLocation) -> TrapRuleConfig? {
        rejectUnknownKeys(
            keys, known: ["name", "class", "signal", "when", "baseline", "action", "remedy", "error_mode"])
        var rule = TrapRuleConfig(location: location)
        for key in keys {
            switch key.key {
            case "name": rule.name = string(key.node, at: key.location) ?? ""
            case "class":
                guard let name = string(key.node, at: key.location) else { continue }
                if name.isEmpty
                    || !name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 })
                {
                    diagnostics.error(
                        "a trap class is snake_case (a-z, 0-9, _)", at: key.location,
                        hint: "it names report rows and metric labels")
                    continue
                }
                rule.trapClass = name
            case "signal": rule.signal = choice(key.node, at: key.location, as: Signal.self) ?? .traces
            case "when": rule.when = ruleTexts(key)
            case "action": rule.action = choice(key.node, at: key.location, as: TrapAction.self) ?? .observe
            case "remedy": rule.remedy = string(key.node, at: key.location) ?? ""
            case "error_mode": rule.errorMode = choice(key.node, at: key.location, as: RuleErrorMode.self)
            case "baseline":
                rule.baseline = trapBaseline(key)
                rule.baselineLocation = key.location
            default: break
            }
        }
        if let location = rule.baselineLocation, rule.signal != .traces {
            diagnostics.error(
                "a baseline is kept over spans", at: location, hint: "use it in a rule with 'signal: traces'")
        }
        if !keys.contains(where: { $0.key == "class" }) {
            diagnostics.error("a trap rule needs 'class'", at: location, hint: "name the trap class it identifies")
        }
        if rule.when.isEmpty && !keys.contains(where: { $0.key == "when" }) {
            diagnostics.error("a trap rule needs 'when'", at: location, hint: "an OTTL condition over spans or logs")
        }
        if rule.name.isEmpty { rule.name = rule.trapClass }
        return rule
    }
}

/// The built-in rule packs, compiled in so the binary needs no file beside it.
@_spi(Plumbing) public enum BuiltinTrapPacks {
    /// The file name diagnostics use for the runtime pack.
    public static let runtimeFileName = "Pipelines/traps/runtime.yaml (built in)"

    /// The runtime pack's rules (a test checks that the built-in text decodes without problems).
    static func runtimeRules() -> [TrapRuleConfig] { decodePack(runtimeYAML, file: runtimeFileName).rules }

    /// Decodes a pack: a mapping with `rules`, each an inline rule.
    @_spi(Plumbing) public static func decodePack(_ yaml: String, file: String) -> (
        rules: [TrapRuleConfig], diagnostics: ConfigDiagnostics
    ) {
        var decoder = ConfigDecoder(file: file, environment: [:])
        guard let node = try? YAMLComposer.compose(yaml) else {
            decoder.diagnostics.error("not a valid rule pack", at: decoder.rootLocation)
            return ([], decoder.diagnostics)
        }
        let root = decoder.convert(node)
        var rules: [TrapRuleConfig] = []
        guard let top = decoder.entries(root, at: decoder.rootLocation) else { return ([], decoder.diagnostics) }
        decoder.rejectUnknownKeys(top, known: ["rules"])
        for entry in top where entry.key == "rules" {
            guard case .sequence(let items) = entry.node.value else { continue }
            for (index, item) in items.enumerated() {
                let location = item.location(entry.location.appending("\(index)"))
                guard let keys = decoder.entries(item, at: location) else { continue }
                if let rule = decoder.trapRule(keys, at: location) { rules.append(rule) }
            }
        }
        return (rules, decoder.diagnostics)
    }
}
