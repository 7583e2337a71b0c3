import TraplineCore
public import TraplineRules
import TraplineStages

/// The `transform` processor: run statements that change telemetry.
@_spi(Plumbing) public struct TransformProcessorConfig: Hashable, Sendable {
    /// What a rule failure does; default `ignore`, as in the Collector.
    public var errorMode = RuleErrorMode.ignore
    /// Statement groups for traces (`trace_statements`).
    public var traces: [RuleGroupConfig] = []
    /// Statement groups for logs (`log_statements`).
    public var logs: [RuleGroupConfig] = []
    /// Statement groups for metrics (`metric_statements`): resource, scope, metric and
    /// datapoint contexts.
    public var metrics: [RuleGroupConfig] = []

    /// Makes the defaults.
    public init() {}
}

extension TransformProcessorConfig: ProcessorComponent, RuleGroupProcessor {
    static let type = "transform"
    static let summary = "changes spans, span events, log records, metrics and data points with OTTL statements"

    static func decode(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder) -> Self? {
        decoder.decodeTransform(component)
    }

    func build(_ context: inout StageBuildContext, diagnostics: inout ConfigDiagnostics) -> (any Stage)? {
        let groups = compiledGroups(context, diagnostics: &diagnostics)
        return TransformStage(
            id: context.id.description, traces: groups.traces.map(TransformProgram.init),
            logs: groups.logs.map(TransformProgram.init), metrics: groups.metrics.map(TransformProgram.init))
    }
}

extension ConfigDecoder {
    fileprivate mutating func decodeTransform(_ component: Component) -> TransformProcessorConfig? {
        guard
            let settings = settings(
                of: component,
                known: ["error_mode", "trace_statements", "log_statements", "metric_statements", "profile_statements"])
        else { return nil }
        var transform = TransformProcessorConfig()
        for setting in settings {
            switch setting.key {
            case "error_mode":
                transform.errorMode = choice(setting.node, at: setting.location, as: RuleErrorMode.self) ?? .ignore
            case "trace_statements": transform.traces += ruleGroups(setting, kind: .statements)
            case "log_statements": transform.logs += ruleGroups(setting, kind: .statements)
            case "metric_statements": transform.metrics += ruleGroups(setting, kind: .statements)
            default: unsupportedSignal(setting)
            }
        }
        return transform
    }
}
