/// The encoding of an exporter's output.
public enum ExportFormat: String, Hashable, Sendable, CaseIterable {
    /// OTLP protobuf, 4-byte big-endian length-prefixed (the Collector file exporter's `proto`).
    case proto
    /// OTLP JSON lines (the Collector file exporter's default).
    case json
}

/// Output compression.
public enum ExportCompression: String, Hashable, Sendable, CaseIterable {
    /// Written as is.
    case none
    /// gzip (one member per output).
    case gzip
}

/// A file output.
@_spi(Plumbing) public struct FileExporterConfig: Hashable, Sendable {
    /// Where to write (required); written to a temporary and renamed when complete.
    public var path = ""
    /// The encoding; default `json`, as the Collector's file exporter.
    public var format = ExportFormat.json
    /// Compression; default `none`.
    public var compression = ExportCompression.none

    /// Makes the defaults.
    public init() {}
}

extension FileExporterConfig: ConfigComponent {
    static let kind = ComponentKind.exporter
    static let type = "file"
    static let summary = "writes OTLP JSON lines or framed protobuf to a file, gzip or not"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard let settings = decoder.settings(of: component, known: ["path", "format", "compression"]) else {
            return nil
        }
        var file = FileExporterConfig()
        for setting in settings {
            switch setting.key {
            case "path": file.path = decoder.string(setting.node, at: setting.location) ?? ""
            case "format":
                file.format = decoder.choice(setting.node, at: setting.location, as: ExportFormat.self) ?? .json
            case "compression":
                file.compression =
                    decoder.choice(setting.node, at: setting.location, as: ExportCompression.self) ?? .none
            default: break
            }
        }
        if file.path.isEmpty { decoder.diagnostics.error("'path' is required", at: component.location) }
        return .exporter(.file(file))
    }
}
