import TraplineCore
import TraplineStages

/// Which section of a pipeline file a component is defined in.
enum ComponentKind: String, CaseIterable, Sendable {
    case receiver, processor, exporter, connector
    case extensionComponent = "extension"

    /// The section's key (`receivers` …).
    var section: String { rawValue + "s" }
}

/// One component type of a pipeline file: its name, what it is for, and how its settings
/// decode. Every component folder under `Components/` holds one conforming type, and
/// `ComponentRegistry.all` lists it once; the loader, `validate`, the unsupported-type hints
/// and `trapline components` all read that list.
protocol ConfigComponent: SendableMetatype {
    /// The section the component is defined in.
    static var kind: ComponentKind { get }
    /// The type as written in an id (`filter`, `otlphttp` …).
    static var type: String { get }
    /// Other spellings the Collector accepts for the same type.
    static var aliases: [String] { get }
    /// One line for `trapline components`.
    static var summary: String { get }
    /// Decodes one `type[/name]: settings` entry, reporting every problem into the decoder's
    /// diagnostics; nil when the settings cannot make a component at all.
    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
}

extension ConfigComponent {
    static var aliases: [String] { [] }
}

/// What decoding an entry made, by section.
enum DecodedComponent {
    case receiver(ReceiverConfig)
    case processor(ProcessorConfig)
    case exporter(ExporterConfig)
    case connector(ConnectorConfig)
    case fileStorage(FileStorageConfig)
    case bearerTokenAuth(BearerTokenAuthConfig)
}

/// A processor: decoded settings that check themselves against the rest of the file and build
/// their stage. `PipelineConfig.stageChain` calls `validate` and `build` for each processor the
/// pipelines list, so `trapline validate` and startup run the same code.
protocol ProcessorComponent: ConfigComponent, Sendable {
    /// Decodes the processor's settings.
    static func decode(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder) -> Self?

    /// Problems that need the whole file (references to other components); default none.
    func validate(_ context: StageBuildContext, diagnostics: inout ConfigDiagnostics)

    /// The stage, or nil when it cannot be built (each reason reported into `diagnostics`).
    func build(_ context: inout StageBuildContext, diagnostics: inout ConfigDiagnostics) -> (any Stage)?
}

extension ProcessorComponent {
    static var kind: ComponentKind { .processor }

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        decode(component, &decoder).map { .processor(ProcessorConfig($0)) }
    }

    func validate(_ context: StageBuildContext, diagnostics: inout ConfigDiagnostics) {}
}

/// What a processor's `build` knows besides its own settings.
struct StageBuildContext {
    /// The processor's id.
    let id: ComponentID
    /// Where it is defined, for problems found while building.
    let location: ConfigLocation
    /// The signals of the pipelines that list it: a stage runs rules only for these.
    let signals: Set<Signal>
    /// The whole file, for references to other components.
    let config: PipelineConfig
    /// `k8sattributes` stages whose pods come from the Kubernetes API, for the caller to watch.
    var kubernetesSources: [KubernetesSourceRequest] = []
}

/// The stage of a processor whose work is done outside the chain (`batch` on the way to the
/// exporters, `memory_limiter` at the receivers): it changes no record, so its report row
/// shows every record passing.
struct PassThroughStage: Stage {
    let id: String

    func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {}
    func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
}
