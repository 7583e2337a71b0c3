/// The `stdout` exporter: OTLP on standard output, in `format` (default `json`).
enum StdoutExporter: ConfigComponent {
    static let kind = ComponentKind.exporter
    static let type = "stdout"
    static let summary = "writes OTLP JSON lines or framed protobuf to standard output"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard let settings = decoder.settings(of: component, known: ["format"]) else { return nil }
        var format = ExportFormat.json
        for setting in settings where setting.key == "format" {
            format = decoder.choice(setting.node, at: setting.location, as: ExportFormat.self) ?? .json
        }
        return .exporter(.stdout(format))
    }
}
