public import TraplineCore

/// The `audit` exporter: one JSON line per record its pipelines did not send on (filtered,
/// blocked or rejected), with the record's ids, the processor, the rule and the reason.
@_spi(Plumbing) public struct AuditExporterConfig: Hashable, Sendable {
    /// Where the lines go (required); `-` is standard error, so standard output stays the data's.
    public var path = ""
    /// How many lines (sampling and rate limit).
    public var settings = DropAuditSettings()

    /// Makes the defaults.
    public init() {}
}

extension AuditExporterConfig: ConfigComponent {
    static let kind = ComponentKind.exporter
    static let type = "audit"
    static let summary = "writes a JSON line for each record that did not go on: filtered, blocked or rejected, and why"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard
            let settings = decoder.settings(
                of: component, known: ["path", "sampling_percentage", "max_per_second"])
        else { return nil }
        var audit = AuditExporterConfig()
        for setting in settings {
            switch setting.key {
            case "path": audit.path = decoder.string(setting.node, at: setting.location) ?? ""
            case "sampling_percentage":
                guard let text = setting.node.scalar, let value = Double(text), value >= 0, value <= 100 else {
                    decoder.diagnostics.error("expected a percentage from 0 to 100", at: setting.location)
                    continue
                }
                audit.settings.samplingPercentage = value
            case "max_per_second":
                guard let text = setting.node.scalar, let value = Int(text), value >= 1 else {
                    decoder.diagnostics.error(
                        "expected a whole number of lines of 1 or more", at: setting.location,
                        hint: "leave it out for no limit")
                    continue
                }
                audit.settings.maxPerSecond = value
            default: break
            }
        }
        if audit.path.isEmpty { decoder.diagnostics.error("'path' is required", at: component.location) }
        return .exporter(.audit(audit))
    }
}

extension OutputRoute {
    /// A drop audit route writing to `path` (`-`: standard error).
    ///
    /// - Parameters:
    ///   - name: the exporter id, for messages and the `exporter` label.
    ///   - path: the file, or `-`.
    ///   - settings: sampling and rate limit.
    ///   - signals: the signals whose dropped records it takes (rejected input it takes always).
    /// - Returns: the route. Allocates nothing beyond what it keeps.
    public static func auditRoute(
        name: String, path: String, settings: DropAuditSettings = DropAuditSettings(),
        signals: Set<Signal> = Set(Signal.allCases)
    ) -> OutputRoute {
        var route = OutputRoute(
            name: name, destination: .file(path == "-" ? "/dev/stderr" : path), format: .json, signals: signals)
        route.audit = settings
        return route
    }
}
