import TraplineCore
public import TraplineRules
import TraplineStages

/// The `filter` processor: drop what any condition matches.
@_spi(Plumbing) public struct FilterProcessorConfig: Hashable, Sendable {
    /// What a rule failure does; default `ignore`, as in the Collector.
    public var errorMode = RuleErrorMode.ignore
    /// Condition groups for spans and span events (`trace_conditions`, or the older
    /// `traces.span` / `traces.spanevent` / `traces.resource`).
    public var traces: [RuleGroupConfig] = []
    /// Condition groups for log records (`log_conditions`, or `logs.log_record` / `logs.resource`).
    public var logs: [RuleGroupConfig] = []
    /// Condition groups for metrics and data points (`metric_conditions`, or the older
    /// `metrics.metric` / `metrics.datapoint` / `metrics.resource`).
    public var metrics: [RuleGroupConfig] = []

    /// Makes the defaults.
    public init() {}
}

extension FilterProcessorConfig: ProcessorComponent, RuleGroupProcessor {
    static let type = "filter"
    static let summary = "drops spans, span events, log records, metrics and data points an OTTL condition matches"

    static func decode(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder) -> Self? {
        decoder.decodeFilter(component)
    }

    func build(_ context: inout StageBuildContext, diagnostics: inout ConfigDiagnostics) -> (any Stage)? {
        let groups = compiledGroups(context, diagnostics: &diagnostics)
        return FilterStage(
            id: context.id.description, traces: groups.traces.map(FilterProgram.init),
            logs: groups.logs.map(FilterProgram.init), metrics: groups.metrics.map(FilterProgram.init))
    }
}

extension ConfigDecoder {
    fileprivate mutating func decodeFilter(_ component: Component) -> FilterProcessorConfig? {
        let signalKeys = ["metrics", "metric_conditions", "profiles", "profile_conditions"]
        // (profiles are refused below, with the same message as any signal Trapline lacks)
        guard
            let settings = settings(
                of: component,
                known: ["error_mode", "traces", "logs", "trace_conditions", "log_conditions"] + signalKeys)
        else { return nil }
        var filter = FilterProcessorConfig()
        for setting in settings {
            switch setting.key {
            case "error_mode":
                filter.errorMode = choice(setting.node, at: setting.location, as: RuleErrorMode.self) ?? .ignore
            case "trace_conditions": filter.traces += ruleGroups(setting, kind: .conditions)
            case "log_conditions": filter.logs += ruleGroups(setting, kind: .conditions)
            case "metric_conditions": filter.metrics += ruleGroups(setting, kind: .conditions)
            case "metrics":
                filter.metrics += legacyContexts(
                    setting, contexts: ["metric": .metric, "datapoint": .datapoint, "resource": .resource])
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

    /// The older `traces: {span: […], spanevent: […]}` form: one context per key, paths
    /// without a context prefix allowed.
    fileprivate mutating func legacyContexts(_ setting: Entry, contexts: [String: RuleContext]) -> [RuleGroupConfig] {
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
