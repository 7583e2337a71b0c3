import TraplineCore
import TraplineRules
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
        var ignored: [KubernetesSourceRequest] = []
        return stageChain(diagnostics: &diagnostics, kubernetesSources: &ignored)
    }

    /// The stage chain, and the `k8sattributes` stages that read the Kubernetes API.
    public func stageChain(
        diagnostics: inout ConfigDiagnostics, kubernetesSources: inout [KubernetesSourceRequest]
    ) -> StageChain {
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
            case .k8sAttributes(let k8s) where k8s.podListFile == nil && !k8s.passthrough:
                let loader = PodListLoader(config: k8s)
                let context: PodListLoader.Context
                do { context = try loader.context() } catch {
                    diagnostics.error(
                        "cannot load the namespace or node list: \(error)",
                        at: processorLocations[id] ?? ConfigLocation(path: "processors", file: "", line: 1, column: 1))
                    continue
                }
                let source = PodTableSource(path: nil, initial: PodTable()) { PodTable() }
                kubernetesSources.append(KubernetesSourceRequest(id: id.description, context: context, source: source))
                stages.append(
                    K8sAttributesStage(
                        id: id.description, source: source, rules: k8s.associations, passthrough: k8s.passthrough))
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
            case .traps(let traps):
                checkQuarantine(traps, &diagnostics)
                var rules: [TrapRule] = []
                for rule in traps.rules {
                    let wanted = rule.signal == .traces ? forTraces : forLogs
                    guard wanted else { continue }
                    var group = RuleGroupConfig(errorMode: rule.errorMode)
                    group.conditions = rule.when
                    guard
                        let groups = compile(
                            [group],
                            rule.signal == .traces ? .traces : .logs, traps.errorMode, &diagnostics),
                        let compiled = groups.first
                    else { continue }
                    rules.append(
                        TrapRule(
                            name: rule.name, trapClass: TrapClass(rawValue: rule.trapClass),
                            signal: rule.signal == .traces ? .traces : .logs, condition: MatchProgram(group: compiled),
                            action: rule.action, remedy: rule.remedy))
                }
                let buildLogs = traps.goCrossBuild.flatMap { action in
                    forLogs
                        ? BuildLogTrapRules(scanner: GoBuildLogScanner(sources: FileSystemGoSources()), action: action)
                        : nil
                }
                stages.append(TrapStage(id: id.description, rules: rules, buildLogs: buildLogs))
            }
        }
        return StageChain(stages)
    }

    /// The quarantine exporter must be defined, and listed by no pipeline (blocked records would
    /// otherwise flow back out with the rest).
    private func checkQuarantine(_ traps: TrapsProcessorConfig, _ diagnostics: inout ConfigDiagnostics) {
        guard let id = traps.quarantine, let location = traps.quarantineLocation else { return }
        guard let exporter = exporter(id) else {
            let names = exporters.map(\.id.description)
            diagnostics.error(
                "exporter '\(id)' is not defined", at: location,
                hint: NearestName.suggestion(for: id.description, among: names).map { "did you mean '\($0)'?" }
                    ?? "define it under 'exporters'")
            return
        }
        if case .prometheus = exporter {
            diagnostics.error("a quarantine exporter writes records; '\(id)' writes metrics", at: location)
        }
        if pipelines.contains(where: { $0.exporters.contains(id) }) {
            diagnostics.error(
                "exporter '\(id)' is both a pipeline exporter and the quarantine", at: location,
                hint: "give blocked records an exporter of their own")
        }
    }

    /// The potential trap density the `traps` processors configure, in events per second (their
    /// sum); nil when none configures one (then TER estimates it).
    public var trapDensityPerSecond: Double? {
        let densities = processors.compactMap { entry -> Double? in
            guard case .traps(let traps) = entry.config else { return nil }
            return traps.expectedDensityPerHour
        }
        return densities.isEmpty ? nil : densities.reduce(0, +) / 3600
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

/// A `k8sattributes` stage whose pods come from the Kubernetes API (no `pod_list_file`): the
/// watch that fills `source` runs outside the pipeline (sidecar mode, or before a replay).
public struct KubernetesSourceRequest: Sendable {
    /// The processor id.
    public var id: String
    /// Reduces each pod to what the processor extracts, with its filters.
    @_spi(Plumbing) public var context: PodListLoader.Context
    /// The table the stage reads.
    public var source: PodTableSource
}
