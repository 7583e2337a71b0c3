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
    /// zstd: `otlphttp` bodies only (`Content-Encoding: zstd`).
    case zstd
}

/// A file output.
@_spi(Plumbing) public struct FileExporterConfig: Hashable, Sendable {
    /// Where to write (required); written to a temporary and renamed when complete.
    public var path = ""
    /// The encoding; default `json`, as the Collector's file exporter.
    public var format = ExportFormat.json
    /// Compression; default `none`.
    public var compression = ExportCompression.none
    /// Size-based rotation (the Collector's `rotation`), or nil to write one file.
    public var rotation: FileRotation?
    /// The longest a written batch waits before it is in the file (`flush_interval`, default
    /// 1 s). Trapline writes each batch as it is processed, so this only bounds the wait.
    public var flushIntervalSeconds = 1.0

    /// Makes the defaults.
    public init() {}
}

/// The Collector file exporter's `rotation`: when the file would grow past `maxMegabytes`, it
/// is renamed to `<name>-<time><.ext>` and a new one started; old ones beyond `maxBackups` or
/// `maxDays` are removed.
public struct FileRotation: Hashable, Sendable {
    /// The largest a file grows, in MiB (default 100).
    public var maxMegabytes = 100
    /// Rotated files older than this many days are removed (0, the default: kept by age).
    public var maxDays = 0
    /// How many rotated files are kept (default 100; 0 keeps all).
    public var maxBackups = 100
    /// Whether the time in rotated files' names is local time (default UTC).
    public var localTime = false

    /// Makes the defaults. Allocates nothing.
    public init() {}
}

extension FileExporterConfig: ConfigComponent {
    static let kind = ComponentKind.exporter
    static let type = "file"
    static let summary = "writes OTLP JSON lines or framed protobuf to a file, gzip or not"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard
            let settings = decoder.settings(
                of: component, known: ["path", "format", "compression", "rotation", "flush_interval", "append"])
        else {
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
                if file.compression == .zstd {
                    decoder.diagnostics.error(
                        "the file exporter writes gzip or none", at: setting.location,
                        hint: "zstd is for otlphttp request bodies")
                    file.compression = .none
                }
            case "rotation": file.rotation = decodeRotation(setting, &decoder)
            case "flush_interval": file.flushIntervalSeconds = decoder.seconds(setting) ?? file.flushIntervalSeconds
            case "append":
                if decoder.bool(setting.node, at: setting.location) == true {
                    decoder.diagnostics.error(
                        "'append: true' is not supported", at: setting.location,
                        hint: "run writes the file from its start; with rotation, an existing file is appended to")
                }
            default: break
            }
        }
        if file.path.isEmpty { decoder.diagnostics.error("'path' is required", at: component.location) }
        return .exporter(.file(file))
    }

    private static func decodeRotation(_ setting: ConfigDecoder.Entry, _ decoder: inout ConfigDecoder) -> FileRotation?
    {
        guard let entries = decoder.entries(setting.node, at: setting.location) else { return nil }
        decoder.rejectUnknownKeys(entries, known: ["max_megabytes", "max_days", "max_backups", "localtime"])
        var rotation = FileRotation()
        for entry in entries {
            if entry.key == "localtime" {
                rotation.localTime = decoder.bool(entry.node, at: entry.location) ?? false
                continue
            }
            guard let text = entry.node.scalar, let value = Int(text), value >= 0 else {
                decoder.diagnostics.error("expected a whole number of 0 or more", at: entry.location)
                continue
            }
            switch entry.key {
            case "max_megabytes":
                if value == 0 {
                    decoder.diagnostics.error("max_megabytes must be at least 1", at: entry.location)
                } else {
                    rotation.maxMegabytes = value
                }
            case "max_days": rotation.maxDays = value
            case "max_backups": rotation.maxBackups = value
            default: break
            }
        }
        return rotation
    }
}
