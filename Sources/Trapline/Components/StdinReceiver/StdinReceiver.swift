/// The `stdin` receiver: standard input, until it ends. No settings.
enum StdinReceiver: ConfigComponent {
    static let kind = ComponentKind.receiver
    static let type = "stdin"
    static let summary = "reads standard input until it ends (layout told from the bytes)"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard decoder.settings(of: component, known: []) != nil else { return nil }
        return .receiver(.stdin)
    }
}
