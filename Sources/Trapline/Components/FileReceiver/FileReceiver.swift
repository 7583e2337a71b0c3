public import TraplineCore

/// A file input: every file matching `include` (globs), minus `exclude`, read as replay reads.
@_spi(Plumbing) public struct FileReceiverConfig: Hashable, Sendable {
    /// Glob patterns of files to read (required, at least one).
    public var include: [String] = []
    /// Glob patterns of files to skip. Default: none.
    public var exclude: [String] = []
    /// The input layout; default `auto` (detected from the bytes).
    public var inputFormat: InputFormat = .auto

    /// Makes the defaults.
    public init() {}
}

extension FileReceiverConfig: ConfigComponent {
    static let kind = ComponentKind.receiver
    static let type = "file"
    static let aliases = ["otlpjsonfile"]
    static let summary = "reads the files matching include globs (OTLP protobuf or JSON, text), once"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard let settings = decoder.settings(of: component, known: ["include", "exclude", "input_format"]) else {
            return nil
        }
        var file = FileReceiverConfig()
        for setting in settings {
            switch setting.key {
            case "include": file.include = decoder.strings(setting.node, at: setting.location).map(\.0)
            case "exclude": file.exclude = decoder.strings(setting.node, at: setting.location).map(\.0)
            case "input_format":
                file.inputFormat = decoder.choice(setting.node, at: setting.location, as: InputFormat.self) ?? .auto
            default: break
            }
        }
        if file.include.isEmpty {
            decoder.diagnostics.error(
                "'include' is required", at: component.location, hint: "list the files or globs to read")
        }
        return .receiver(.file(file))
    }
}
