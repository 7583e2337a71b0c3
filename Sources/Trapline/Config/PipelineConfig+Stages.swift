import TraplineCore
public import TraplineRules
public import TraplineStages

extension PipelineConfig {
    /// Compiles every processor the pipelines list into one stage chain, reporting each rule
    /// that does not compile at its file line and column (the column of the mistake inside the
    /// rule, when the rule is on one line).
    ///
    /// A batch runs through one chain, so pipelines of one signal must list the same
    /// processors, and processors shared by a traces and a logs pipeline must keep their order;
    /// a stage only runs rules for the signals of the pipelines that list it.
    public func stageChain(diagnostics: inout ConfigDiagnostics) -> StageChain {
        var lists: [Signal: [ComponentID]] = [:]
        for pipeline in pipelines {
            if let existing = lists[pipeline.signal] {
                if existing != pipeline.processors, let location = pipeline.processorsLocation {
                    diagnostics.error(
                        "pipelines of one signal must list the same processors in this version", at: location,
                        hint: "another \(pipeline.signal.rawValue) pipeline lists \(existing.map(\.description))")
                }
            } else {
                lists[pipeline.signal] = pipeline.processors
            }
        }
        let traces = lists[.traces] ?? []
        let logs = lists[.logs] ?? []
        var order = traces
        var insertion = 0
        var lastShared = -1
        for id in logs {
            if let index = order.firstIndex(of: id) {
                if index < lastShared, let location = pipelines.first(where: { $0.signal == .logs })?.processorsLocation
                {
                    diagnostics.error(
                        "processor '\(id)' runs in a different order in the traces pipeline", at: location,
                        hint: "list shared processors in the same order")
                }
                lastShared = index
                insertion = index + 1
            } else {
                order.insert(id, at: insertion)
                insertion += 1
            }
        }
        var stages: [any Stage] = []
        for id in order {
            guard let processor = processor(id) else { continue }
            let forTraces = traces.contains(id)
            let forLogs = logs.contains(id)
            switch processor {
            case .filter(let filter):
                let tracePrograms = forTraces ? compile(filter.traces, .traces, filter.errorMode, &diagnostics) : nil
                let logPrograms = forLogs ? compile(filter.logs, .logs, filter.errorMode, &diagnostics) : nil
                stages.append(
                    FilterStage(
                        id: id.description, traces: tracePrograms.map(FilterProgram.init),
                        logs: logPrograms.map(FilterProgram.init)))
            case .transform(let transform):
                let tracePrograms =
                    forTraces ? compile(transform.traces, .traces, transform.errorMode, &diagnostics) : nil
                let logPrograms = forLogs ? compile(transform.logs, .logs, transform.errorMode, &diagnostics) : nil
                stages.append(
                    TransformStage(
                        id: id.description, traces: tracePrograms.map(TransformProgram.init),
                        logs: logPrograms.map(TransformProgram.init)))
            case .k8sAttributes(let k8s):
                let loader = PodListLoader(config: k8s)
                let initial: PodTable
                do { initial = try loader.load() } catch {
                    diagnostics.error(
                        "cannot load the pod list: \(error)",
                        at: processorLocations[id] ?? ConfigLocation(path: "processors", file: "", line: 1, column: 1))
                    continue
                }
                let source = PodTableSource(path: k8s.podListFile, initial: initial) {
                    do { return try loader.load() } catch { throw error }
                }
                stages.append(
                    K8sAttributesStage(
                        id: id.description, source: source, rules: k8s.associations, passthrough: k8s.passthrough))
            }
        }
        return StageChain(stages)
    }

    /// Compiles groups; nil when there are none (the stage passes the signal through).
    private func compile(
        _ groups: [RuleGroupConfig], _ signal: RuleSignal, _ errorMode: RuleErrorMode,
        _ diagnostics: inout ConfigDiagnostics
    ) -> [RuleGroup]? {
        guard !groups.isEmpty else { return nil }
        var compiled: [RuleGroup] = []
        for group in groups {
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
