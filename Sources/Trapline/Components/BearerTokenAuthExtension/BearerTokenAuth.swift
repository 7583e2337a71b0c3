import Foundation

/// The Collector's `bearertokenauth` extension: a token a receiver requires in each request's
/// `Authorization` header (`auth.authenticator` on `protocols.http` or `protocols.grpc`), and an
/// exporter sends with each of its requests (`auth.authenticator` on `otlphttp` or `otlp`).
@_spi(Plumbing) public struct BearerTokenAuthConfig: Hashable, Sendable {
    /// `scheme`: the word before the token; default `Bearer`.
    public var scheme = "Bearer"
    /// `token`, or the contents of `filename` (read when the component starts; trailing
    /// whitespace trimmed).
    public var token = ""
    /// `filename`, when the token comes from a file.
    public var filename: String?

    public init() {}

    /// The header value (`Bearer <token>`), read from `filename` when there is one.
    /// Allocates the value; reads the file each call.
    public func headerValue() -> String {
        var token = token
        if let filename, let text = try? String(contentsOfFile: filename, encoding: .utf8) {
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return scheme.isEmpty ? token : scheme + " " + token
    }
}

extension BearerTokenAuthConfig: ConfigComponent {
    static let kind = ComponentKind.extensionComponent
    static let type = "bearertokenauth"
    static let summary = "a bearer token receivers require and exporters send (auth: {authenticator: …})"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        guard let settings = decoder.settings(of: component, known: ["scheme", "token", "filename"]) else {
            return nil
        }
        var auth = BearerTokenAuthConfig()
        for setting in settings {
            guard let text = decoder.string(setting.node, at: setting.location) else { continue }
            switch setting.key {
            case "scheme": auth.scheme = text
            case "token": auth.token = text
            default:
                if !FileManager.default.isReadableFile(atPath: text) {
                    decoder.diagnostics.error("cannot read filename '\(text)'", at: setting.location)
                }
                auth.filename = text
            }
        }
        if auth.token.isEmpty && auth.filename == nil {
            decoder.diagnostics.error(
                "bearertokenauth needs 'token' or 'filename'", at: component.location,
                hint: "token: ${env:OTLP_TOKEN}")
        }
        return .bearerTokenAuth(auth)
    }
}

extension ConfigDecoder {
    /// `auth: {authenticator: NAME}` on a receiver protocol or an exporter: the extension's id.
    mutating func decodeAuthenticator(_ entry: Entry) -> ComponentID? {
        guard let keys = entries(entry.node, at: entry.location) else { return nil }
        rejectUnknownKeys(keys, known: ["authenticator"])
        guard let name = keys.first(where: { $0.key == "authenticator" }),
            let text = string(name.node, at: name.location)
        else {
            diagnostics.error("auth needs an authenticator", at: entry.location, hint: "authenticator: bearertokenauth")
            return nil
        }
        guard let id = ComponentID(parsing: text) else {
            diagnostics.error("'\(text)' is not a component id", at: name.location)
            return nil
        }
        authenticatorReferences.append((id, name.location))
        return id
    }

    /// Every authenticator a receiver or exporter names is a `bearertokenauth` extension that
    /// `service.extensions` enables (the Collector fails at startup otherwise).
    mutating func checkAuthenticators(_ config: PipelineConfig) {
        for (id, location) in authenticatorReferences {
            if !config.authExtensions.contains(where: { $0.id == id }) {
                diagnostics.error(
                    "authenticator '\(id)' is not a defined extension", at: location,
                    hint: "define it under 'extensions' as bearertokenauth with a token")
            } else if !config.enabledExtensions.contains(id) {
                diagnostics.error(
                    "authenticator '\(id)' is not listed in service.extensions", at: location,
                    hint: "add it to service.extensions")
            }
        }
    }
}
