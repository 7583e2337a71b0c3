public import TraplineCore
public import TraplineRules
public import TraplineStages

/// One trap rule as written: inline in a `traps` processor, or in a rule pack.
@_spi(Plumbing) public struct TrapRuleConfig: Hashable, Sendable {
    /// The rule's name (default: its class).
    public var name = ""
    /// The trap class it identifies (snake_case).
    public var trapClass = ""
    /// `traces` (spans) or `logs` (log records).
    public var signal = Signal.traces
    /// `when`: OTTL conditions, ORed; the context is inferred from the paths. With a baseline,
    /// the spans the baseline covers.
    public var when: [RuleText] = []
    /// `baseline`: a streaming baseline deciding which of the spans `when` selects are traps.
    public var baseline: TrapBaselineConfig?
    /// Where `baseline` is, for diagnostics.
    var baselineLocation: ConfigLocation?
    /// What happens to identified records; default `observe` (nothing leaves the flow unless
    /// a rule says so).
    public var action = TrapAction.observe
    /// What to do about the trap.
    public var remedy = ""
    /// Overrides the processor's `error_mode`.
    public var errorMode: RuleErrorMode?
    /// Where the rule is, for diagnostics.
    public var location: ConfigLocation

    public init(location: ConfigLocation) { self.location = location }
}

/// The `traps` processor: trap rules (inline or the built-in packs), the quarantine exporter for
/// what they block, and the TER density.
@_spi(Plumbing) public struct TrapsProcessorConfig: Hashable, Sendable {
    /// OTTL rules, in order (built-in `runtime` rules expanded in place).
    public var rules: [TrapRuleConfig] = []
    /// The built-in `go-crossbuild` pack over log records, with its action, when listed.
    public var goCrossBuild: TrapAction?
    /// The exporter blocked records are written to (defined under `exporters`, listed in no
    /// pipeline).
    public var quarantine: ComponentID?
    /// `ter.expected_density_per_hour`: the potential trap density; nil estimates it.
    public var expectedDensityPerHour: Double?
    /// What a rule failure does; default `ignore`.
    public var errorMode = RuleErrorMode.ignore
    /// Where the quarantine reference is, for diagnostics.
    var quarantineLocation: ConfigLocation?

    /// The built-in packs.
    public static let builtinPacks = ["go-crossbuild", "runtime"]

    public init() {}
}

extension TrapsProcessorConfig: ProcessorComponent {
    static let type = "traps"
    static let summary = "identifies known failure patterns (inline OTTL rules, built-in packs), feeds TER"

    static func decode(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder) -> Self? {
        decoder.decodeTraps(component)
    }

    /// The quarantine exporter must be defined, write records, and be listed by no pipeline
    /// (blocked records would otherwise flow back out with the rest).
    func validate(_ context: StageBuildContext, diagnostics: inout ConfigDiagnostics) {
        guard let id = quarantine, let location = quarantineLocation else { return }
        let config = context.config
        guard let exporter = config.exporter(id) else {
            let names = config.exporters.map(\.id.description)
            diagnostics.error(
                "exporter '\(id)' is not defined", at: location,
                hint: NearestName.suggestion(for: id.description, among: names).map { "did you mean '\($0)'?" }
                    ?? "define it under 'exporters'")
            return
        }
        switch exporter {
        case .prometheus, .otlp, .audit:
            diagnostics.error(
                "a quarantine exporter writes records to a file or stdout; '\(id)' does not", at: location)
        case .file, .stdout: break
        }
        if config.pipelines.contains(where: { $0.exporters.contains(id) }) {
            diagnostics.error(
                "exporter '\(id)' is both a pipeline exporter and the quarantine", at: location,
                hint: "give blocked records an exporter of their own")
        }
    }

    func build(_ context: inout StageBuildContext, diagnostics: inout ConfigDiagnostics) -> (any Stage)? {
        var compiled: [TrapRule] = []
        for rule in rules where context.signals.contains(rule.signal) {
            var group = RuleGroupConfig(errorMode: rule.errorMode)
            group.conditions = rule.when
            let signal: RuleSignal = rule.signal == .traces ? .traces : .logs
            guard let groups = [group].compiled(for: signal, errorMode: errorMode, diagnostics: &diagnostics),
                let condition = groups.first
            else { continue }
            var baseline: TrapBaseline?
            if let config = rule.baseline {
                var failedWhen: MatchProgram?
                if !config.failedWhen.isEmpty {
                    var failed = RuleGroupConfig(errorMode: rule.errorMode)
                    failed.conditions = config.failedWhen
                    guard let groups = [failed].compiled(for: .traces, errorMode: errorMode, diagnostics: &diagnostics),
                        let group = groups.first
                    else { continue }
                    failedWhen = MatchProgram(group: group)
                }
                baseline = TrapBaseline(settings: config.settings, failedWhen: failedWhen)
            }
            compiled.append(
                TrapRule(
                    name: rule.name, trapClass: TrapClass(rawValue: rule.trapClass), signal: signal,
                    condition: MatchProgram(group: condition), action: rule.action, remedy: rule.remedy,
                    baseline: baseline, conditionText: rule.when.map(\.text).joined(separator: " or ")))
        }
        let buildLogs = goCrossBuild.flatMap { action in
            context.signals.contains(.logs)
                ? BuildLogTrapRules(scanner: GoBuildLogScanner(sources: FileSystemGoSources()), action: action) : nil
        }
        return TrapStage(id: context.id.description, rules: compiled, buildLogs: buildLogs)
    }
}
