import Foundation
public import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A file input: every file matching `include` (globs), minus `exclude`, read as replay reads,
/// once; or, with `follow`, watched for what is appended, as the Collector's `filelog`.
@_spi(Plumbing) public struct FileReceiverConfig: Hashable, Sendable {
    /// Glob patterns of files to read (required, at least one).
    public var include: [String] = []
    /// Glob patterns of files to skip. Default: none.
    public var exclude: [String] = []
    /// The input layout; default `auto` (detected from the bytes).
    public var inputFormat: InputFormat = .auto
    /// How the files are followed, or nil to read each once.
    public var follow: FollowSettings?

    /// Makes the defaults.
    public init() {}

    /// The files `include` matches now, without those `exclude` matches (by path or by file
    /// name), sorted and each once; and the patterns that matched nothing.
    /// Allocates the lists.
    public func matchingPaths() -> (paths: [String], unmatched: [String]) {
        var paths: [String] = []
        var unmatched: [String] = []
        for pattern in include {
            let matches = Self.glob(pattern).filter { path in
                !exclude.contains {
                    fnmatch($0, path, 0) == 0 || fnmatch($0, (path as NSString).lastPathComponent, 0) == 0
                }
            }
            if matches.isEmpty { unmatched.append(pattern) }
            for path in matches where !paths.contains(path) { paths.append(path) }
        }
        return (paths, unmatched)
    }

    /// Paths matching a shell glob, sorted.
    static func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard Glibc.glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { index in
            matches.gl_pathv[index].map { String(cString: $0) }
        }.sorted()
    }
}

extension FileReceiverConfig: ConfigComponent {
    static let kind = ComponentKind.receiver
    static let type = "file"
    static let aliases = ["otlpjsonfile"]
    static let summary = "reads the files matching include globs (OTLP protobuf or JSON, text), once or followed"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        decode(component, &decoder, following: false).map { .receiver(.file($0)) }
    }

    /// Decodes a `file` receiver (`following: false`: `follow: true` turns following on, start
    /// at the beginning by default) or a `filelog` receiver (`following: true`: always follows,
    /// starts at the end by default, as the Collector's).
    static func decode(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder, following: Bool)
        -> FileReceiverConfig?
    {
        let known = ["include", "exclude", "input_format"] + (following ? [] : ["follow"]) + FollowSettings.keys
        guard let settings = decoder.settings(of: component, known: known) else { return nil }
        var file = FileReceiverConfig()
        var follow = FollowSettings()
        follow.startAtBeginning = !following
        var follows = following
        var followingSetting: ConfigDecoder.Entry?
        for setting in settings {
            switch setting.key {
            case "include": file.include = decoder.strings(setting.node, at: setting.location).map(\.0)
            case "exclude": file.exclude = decoder.strings(setting.node, at: setting.location).map(\.0)
            case "input_format":
                file.inputFormat = decoder.choice(setting.node, at: setting.location, as: InputFormat.self) ?? .auto
            case "follow": follows = decoder.bool(setting.node, at: setting.location) ?? false
            default:
                if follow.decode(setting, &decoder) { followingSetting = followingSetting ?? setting }
            }
        }
        if file.include.isEmpty {
            decoder.diagnostics.error(
                "'include' is required", at: component.location, hint: "list the files or globs to read")
        }
        if let followingSetting, !follows {
            decoder.diagnostics.error(
                "'\(followingSetting.key)' applies to followed files", at: followingSetting.location,
                hint: "add 'follow: true', or use the filelog receiver")
        }
        file.follow = follows ? follow : nil
        return file
    }
}

/// The Collector's `filelog` receiver: a `file` receiver that follows its files, starting at
/// their end unless `start_at: beginning`.
enum FileLogReceiver: ConfigComponent {
    static let kind = ComponentKind.receiver
    static let type = "filelog"
    static let summary =
        "follows files matching include globs as they grow, rotate and appear (start_at, multiline, checkpoints)"

    static func decodeComponent(_ component: ConfigDecoder.Component, _ decoder: inout ConfigDecoder)
        -> DecodedComponent?
    {
        FileReceiverConfig.decode(component, &decoder, following: true).map { .receiver(.file($0)) }
    }
}
