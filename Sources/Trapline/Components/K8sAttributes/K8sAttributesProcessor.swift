public import TraplineStages

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

extension K8sAttributesConfig: ProcessorComponent {
    static let type = "k8sattributes"
    static let aliases = ["k8s_attributes"]
    static let summary = "adds Kubernetes pod, namespace and node metadata to resources"

    static func decode(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder) -> Self? {
        decoder.decodeK8sAttributes(component)
    }

    /// With `pod_list_file` (or `passthrough`), a table loaded now and reloaded when the file
    /// changes; without, an empty table that the caller's Kubernetes API watch fills.
    func build(_ context: inout StageBuildContext, diagnostics: inout ConfigDiagnostics) -> (any Stage)? {
        let loader = PodListLoader(config: self)
        let source: PodTableSource
        if podListFile == nil && !passthrough {
            let reduction: PodListLoader.Context
            do { reduction = try loader.context() } catch {
                diagnostics.error("cannot load the namespace or node list: \(error)", at: context.location)
                return nil
            }
            source = PodTableSource(path: nil, initial: PodTable()) { PodTable() }
            context.kubernetesSources.append(
                KubernetesSourceRequest(id: context.id.description, context: reduction, source: source))
        } else {
            let initial: PodTable
            do { initial = try loader.load() } catch {
                diagnostics.error("cannot load the pod list: \(error)", at: context.location)
                return nil
            }
            source = PodTableSource(path: podListFile, initial: initial) { try loader.load() }
        }
        return K8sAttributesStage(
            id: context.id.description, source: source, rules: associations, passthrough: passthrough)
    }
}

/// A `k8sattributes` stage whose pods come from the Kubernetes API (no `pod_list_file`): the
/// watch that fills `source` runs outside the pipeline (sidecar mode, or before a replay).
@_spi(Plumbing) public struct KubernetesSourceRequest: Sendable {
    /// The processor id.
    public var id: String
    /// Reduces each pod to what the processor extracts, with its filters.
    @_spi(Plumbing) public var context: PodListLoader.Context
    /// The table the stage reads.
    public var source: PodTableSource
}
