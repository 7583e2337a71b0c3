import TraplineCore
public import TraplineRules
public import TraplineStages

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
    /// `whole_trace`: decide spans by trace (`true`/`drop`: drop a trace some span of which
    /// matches; `keep`: keep those traces whole, drop the rest); nil: span by span.
    public var wholeTrace: WholeTraceMode?
    /// `decision_wait`: how long live input is held before its spans are decided (default 10s).
    public var decisionWaitSeconds = 10.0
    /// `num_traces`: the most trace decisions a live run remembers (default 50,000).
    public var numTraces = 50_000
    /// `max_held_mib`: the most live input held back at once (default 64 MiB).
    public var maxHeldMiB = 64
    /// Where `whole_trace` is, for problems found when the stage is built.
    var wholeTraceLocation: ConfigLocation?

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
        var decisions: WholeTraceDecisions?
        if let wholeTrace, let location = wholeTraceLocation {
            if groups.traces?.isEmpty ?? true {
                diagnostics.error(
                    "whole_trace decides traces by their spans: it needs trace conditions", at: location,
                    hint: "add trace_conditions, or remove whole_trace")
            }
            if groups.traces?.contains(where: { $0.context == .spanevent }) == true {
                diagnostics.error(
                    "whole_trace takes span, scope and resource conditions; a span event condition drops events, not spans",
                    at: location, hint: "match the span instead, e.g. with a condition on span.name")
            }
            if !context.config.otlpReceivers.isEmpty || !context.config.followedReceivers.isEmpty {
                diagnostics.error(
                    "whole_trace needs input it can hold back or read twice: replay, or run with files or stdin",
                    at: location,
                    hint: "sidecar mode and followed files pass records on as they come, before their trace is complete"
                )
            }
            decisions = WholeTraceDecisions(
                mode: wholeTrace, decisionWait: decisionWaitSeconds, rememberedTraces: numTraces,
                maxHeldBytes: maxHeldMiB << 20)
        }
        return FilterStage(
            id: context.id.description, traces: groups.traces.map(FilterProgram.init),
            logs: groups.logs.map(FilterProgram.init), metrics: groups.metrics.map(FilterProgram.init),
            wholeTrace: decisions)
    }
}

extension ConfigDecoder {
    fileprivate mutating func decodeFilter(_ component: Component) -> FilterProcessorConfig? {
        let signalKeys = ["metrics", "metric_conditions", "profiles", "profile_conditions"]
        // (profiles are refused below, with the same message as any signal Trapline lacks)
        guard
            let settings = settings(
                of: component,
                known: [
                    "error_mode", "traces", "logs", "trace_conditions", "log_conditions", "whole_trace",
                    "decision_wait",
                    "num_traces", "max_held_mib",
                ] + signalKeys)
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
            case "whole_trace":
                filter.wholeTraceLocation = setting.location
                switch setting.node.scalar?.lowercased() {
                case "true", "drop": filter.wholeTrace = .drop
                case "keep": filter.wholeTrace = .keep
                case "false": filter.wholeTrace = nil
                default:
                    diagnostics.error(
                        "expected true, false, drop or keep", at: setting.location,
                        hint:
                            "true (or drop) drops every trace a span of which matches; keep keeps them and drops the rest"
                    )
                }
            case "decision_wait": filter.decisionWaitSeconds = seconds(setting) ?? filter.decisionWaitSeconds
            case "num_traces", "max_held_mib":
                guard let text = setting.node.scalar, let value = Int(text), value >= 1 else {
                    diagnostics.error("expected a whole number of 1 or more", at: setting.location)
                    continue
                }
                if setting.key == "num_traces" { filter.numTraces = value } else { filter.maxHeldMiB = value }
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
