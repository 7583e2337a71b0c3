public import TraplineCore
public import TraplineRules
public import TraplineStages

/// One OTTL condition or statement as written, and where (for diagnostics that point at the
/// column of a mistake inside it).
public struct RuleText: Hashable, Sendable {
    /// The rule.
    public var text: String
    /// Where the rule's scalar starts.
    public var location: ConfigLocation
    /// How far the text starts after `location.column` (1 when quoted); nil for block scalars.
    public var textOffset: Int?

    /// Makes a rule text.
    public init(_ text: String, location: ConfigLocation, textOffset: Int? = 0) {
        self.text = text
        self.location = location
        self.textOffset = textOffset
    }

    /// The file position of a column inside the text.
    func location(ofColumn column: Int) -> ConfigLocation {
        var location = location
        if let textOffset { location.column += textOffset + column - 1 }
        return location
    }
}

/// Conditions and statements that share a context and an error mode: one entry of the
/// Collector's advanced configuration, or one entry of the basic list.
public struct RuleGroupConfig: Hashable, Sendable {
    /// The context; nil infers it from the paths (the Collector's context inference).
    public var context: RuleContext?
    /// Overrides the processor's `error_mode` for this group.
    public var errorMode: RuleErrorMode?
    /// Conditions: for `filter`, any match drops; for `transform`, any match runs the statements.
    public var conditions: [RuleText] = []
    /// Statements (`transform` only).
    public var statements: [RuleText] = []

    /// Makes an empty group.
    public init(context: RuleContext? = nil, errorMode: RuleErrorMode? = nil) {
        self.context = context
        self.errorMode = errorMode
    }
}

/// The `filter` processor: drop what any condition matches.
public struct FilterProcessorConfig: Hashable, Sendable {
    /// What a rule failure does; default `ignore`, as in the Collector.
    public var errorMode = RuleErrorMode.ignore
    /// Condition groups for spans and span events (`trace_conditions`, or the older
    /// `traces.span` / `traces.spanevent` / `traces.resource`).
    public var traces: [RuleGroupConfig] = []
    /// Condition groups for log records (`log_conditions`, or `logs.log_record` / `logs.resource`).
    public var logs: [RuleGroupConfig] = []

    /// Makes the defaults.
    public init() {}
}

/// The `transform` processor: run statements that change telemetry.
public struct TransformProcessorConfig: Hashable, Sendable {
    /// What a rule failure does; default `ignore`, as in the Collector.
    public var errorMode = RuleErrorMode.ignore
    /// Statement groups for traces (`trace_statements`).
    public var traces: [RuleGroupConfig] = []
    /// Statement groups for logs (`log_statements`).
    public var logs: [RuleGroupConfig] = []

    /// Makes the defaults.
    public init() {}
}

/// A processor: one stage of a pipeline.
@_spi(Plumbing) public enum ProcessorConfig: Hashable, Sendable {
    case filter(FilterProcessorConfig)
    case transform(TransformProcessorConfig)
    case k8sAttributes(K8sAttributesConfig)
    case traps(TrapsProcessorConfig)

    /// The processor types Trapline supports.
    public static let supportedTypes = ["filter", "transform", "k8sattributes", "traps"]
}

/// One trap rule as written: inline in a `traps` processor, or in a rule pack.
@_spi(Plumbing) public struct TrapRuleConfig: Hashable, Sendable {
    /// The rule's name (default: its class).
    public var name = ""
    /// The trap class it identifies (snake_case).
    public var trapClass = ""
    /// `traces` (spans) or `logs` (log records).
    public var signal = Signal.traces
    /// `when`: OTTL conditions, ORed; the context is inferred from the paths.
    public var when: [RuleText] = []
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

/// One label or annotation to copy (`extract.labels` / `extract.annotations`).
@_spi(Plumbing) public struct FieldExtractionConfig: Hashable, Sendable {
    /// Where the field is: `pod` (default), `namespace` or `node`.
    public enum Source: String, Hashable, Sendable, CaseIterable { case pod, namespace, node }

    /// The attribute name; default `k8s.<from>.labels.<key>` (or `.annotations.`). With
    /// `key_regex`, `$1`… name the regex's groups.
    public var tagName: String?
    /// The exact label or annotation key.
    public var key: String?
    /// A regex every matching key is copied for (whole key).
    public var keyRegex: String?
    /// A regex applied to the value; its `value` group is what is copied (older schema).
    public var valueRegex: String?
    /// Where the field is.
    public var from = Source.pod

    public init() {}
}

/// A label or field condition of `filter` (pods that do not pass are not kept).
@_spi(Plumbing) public struct PodSelectorConfig: Hashable, Sendable {
    public enum Operation: String, Hashable, Sendable, CaseIterable {
        case equals
        case notEquals = "not-equals"
        case exists
        case doesNotExist = "does-not-exist"
    }

    public var key = ""
    public var value = ""
    public var operation = Operation.equals

    public init() {}
}

/// The `k8sattributes` processor, with the Collector's schema plus `pod_list_file` (and
/// `namespace_list_file`, `node_list_file`) naming files as `kubectl get … -o json|yaml` or the
/// kubelet's `/pods` write them.
@_spi(Plumbing) public struct K8sAttributesConfig: Hashable, Sendable {
    /// `serviceAccount` (default), `kubeConfig` or `none`; the API source is not built yet, so a
    /// `pod_list_file` is required.
    public var authType = "serviceAccount"
    /// Agent mode: only the pod IP is added (from the connection).
    public var passthrough = false
    /// The pods (a PodList, a List of pods, or one Pod); reloaded when it changes.
    public var podListFile: String?
    /// Namespaces, for `from: namespace` fields and `k8s.cluster.uid`.
    public var namespaceListFile: String?
    /// Nodes, for `from: node` fields.
    public var nodeListFile: String?
    /// `extract.metadata`; default as the Collector's.
    public var metadata = [
        "k8s.namespace.name", "k8s.pod.name", "k8s.pod.uid", "k8s.pod.start_time", "k8s.deployment.name",
        "k8s.node.name",
    ]
    /// `extract.labels`.
    public var labels: [FieldExtractionConfig] = []
    /// `extract.annotations`.
    public var annotations: [FieldExtractionConfig] = []
    /// `pod_association`; default: pod IP, pod UID, connection.
    public var associations: [PodAssociationRule] = []
    /// `filter.node`.
    public var filterNode: String?
    /// `filter.node_from_env_var`: the node is this environment variable's value.
    public var filterNodeFromEnvVar: String?
    /// `filter.namespace`.
    public var filterNamespace: String?
    /// `filter.labels`.
    public var filterLabels: [PodSelectorConfig] = []
    /// `filter.fields` (`metadata.name`, `metadata.namespace`, `spec.nodeName`, `status.phase`).
    public var filterFields: [PodSelectorConfig] = []
    /// `exclude.pods[].name`: pod names (regexes) never kept; default as the Collector's.
    public var excludePods = ["jaeger-agent", "jaeger-collector"]

    /// The metadata Trapline can extract.
    public static let supportedMetadata = [
        "k8s.namespace.name", "k8s.pod.name", "k8s.pod.uid", "k8s.pod.start_time", "k8s.deployment.name",
        "k8s.replicaset.name", "k8s.statefulset.name", "k8s.daemonset.name", "k8s.job.name", "k8s.cronjob.name",
        "k8s.node.name", "k8s.cluster.uid", "container.image.name", "container.image.tag",
    ]

    public init() {}
}
