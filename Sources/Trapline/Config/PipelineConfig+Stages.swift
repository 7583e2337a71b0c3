import TraplineCore
import TraplineRules
public import TraplineStages

extension PipelineConfig {
    /// Compiles every processor the pipelines list into one stage chain, reporting each rule
    /// that does not compile at its file line and column (the column of the mistake inside the
    /// rule, when the rule is on one line).
    ///
    /// A batch runs through one chain, so pipelines of one signal must list the same
    /// processors, and processors shared by pipelines of several signals must keep their order;
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
        var order = lists[.traces] ?? []
        for signal in [Signal.logs, .metrics] {
            var insertion = 0
            var lastShared = -1
            for id in lists[signal] ?? [] {
                if let index = order.firstIndex(of: id) {
                    if index < lastShared,
                        let location = pipelines.first(where: { $0.signal == signal })?.processorsLocation
                    {
                        diagnostics.error(
                            "processor '\(id)' runs in a different order in another signal's pipeline", at: location,
                            hint: "list shared processors in the same order")
                    }
                    lastShared = index
                    insertion = index + 1
                } else {
                    order.insert(id, at: insertion)
                    insertion += 1
                }
            }
        }
        var stages: [any Stage] = []
        for id in order {
            guard let processor = processor(id) else { continue }
            let signals = Set(pipelines.filter { $0.processors.contains(id) }.map(\.signal))
            var context = StageBuildContext(
                id: id,
                location: processorLocations[id] ?? ConfigLocation(path: "processors", file: "", line: 1, column: 1),
                signals: signals, config: self)
            processor.settings.validate(context, diagnostics: &diagnostics)
            if let stage = processor.settings.build(&context, diagnostics: &diagnostics) {
                if (stage as? FilterStage)?.wholeTrace != nil,
                    stages.contains(where: { ($0 as? FilterStage)?.wholeTrace != nil })
                {
                    diagnostics.error(
                        "only one filter per file may have whole_trace in this version", at: context.location,
                        hint: "put the conditions of both into one filter")
                }
                stages.append(stage)
            }
            kubernetesSources += context.kubernetesSources
        }
        return StageChain(stages)
    }

    /// The potential trap density the `traps` processors configure, in events per second (their
    /// sum); nil when none configures one (then TER estimates it).
    public var trapDensityPerSecond: Double? {
        let densities = processors.compactMap { entry in
            entry.config.settings(as: TrapsProcessorConfig.self)?.expectedDensityPerHour
        }
        return densities.isEmpty ? nil : densities.reduce(0, +) / 3600
    }
}
