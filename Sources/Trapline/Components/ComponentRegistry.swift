/// Every component type Trapline supports, in one list. Adding a component is adding its folder
/// under `Components/` and one line here.
@_spi(Plumbing) public enum ComponentRegistry {
    static let all: [any ConfigComponent.Type] = [
        FileReceiverConfig.self,
        FileLogReceiver.self,
        StdinReceiver.self,
        OTLPReceiverConfig.self,
        FilterProcessorConfig.self,
        BatchProcessorConfig.self,
        MemoryLimiterConfig.self,
        TransformProcessorConfig.self,
        K8sAttributesConfig.self,
        TrapsProcessorConfig.self,
        FileExporterConfig.self,
        StdoutExporter.self,
        PrometheusExporterConfig.self,
        OTLPExporterConfig.self,
        OTLPGRPCExporter.self,
        LoadBalancingExporter.self,
        AuditExporterConfig.self,
        SpanMetricsConnector.self,
        FileStorageConfig.self,
        BearerTokenAuthConfig.self,
    ]

    /// The component of a section with `type` (or one of its aliases).
    static func component(_ kind: ComponentKind, type: String) -> (any ConfigComponent.Type)? {
        all.first { $0.kind == kind && ($0.type == type || $0.aliases.contains(type)) }
    }

    /// Every type name a section accepts, aliases included, sorted (for hints).
    static func typeNames(_ kind: ComponentKind) -> [String] {
        all.filter { $0.kind == kind }.flatMap { [$0.type] + $0.aliases }.sorted()
    }

    /// One line per section naming its types (for `--help`).
    public static var summary: String {
        ComponentKind.allCases.map { "\($0.section): \(typeNames($0).joined(separator: ", "))" }
            .joined(separator: "\n")
    }

    /// The `trapline components` table: one line per component, by section.
    public static var listing: String {
        var lines: [String] = []
        for kind in ComponentKind.allCases {
            lines.append("\(kind.section):")
            for component in all where component.kind == kind {
                let names = ([component.type] + component.aliases).joined(separator: ", ")
                let gap = String(repeating: " ", count: max(1, 32 - names.count))
                lines.append("  " + names + gap + component.summary)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
