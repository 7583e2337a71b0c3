import TraplineCore
public import TraplineRules

/// How a `file` receiver follows its files, as the Collector's `filelog` receiver does: files
/// are watched for what is appended, new files matching `include` are picked up while running,
/// rotated files are told apart by their first bytes (the fingerprint), and where reading got
/// to is kept in a storage directory so a restart resumes there.
@_spi(Plumbing) public struct FollowSettings: Hashable, Sendable {
    /// Where to start in the files found at startup that no checkpoint knows: at their
    /// beginning, or at their end (only what is appended afterwards). Files that appear later
    /// are always read from their beginning.
    public var startAtBeginning = false
    /// How often the globs are matched again and the files checked for new bytes.
    public var pollIntervalSeconds = 0.2
    /// How long a last line without its terminator waits for the rest before it goes on as a
    /// record (`force_flush_period`).
    public var forceFlushSeconds = 0.5
    /// The longest record, in bytes; a longer line is split into several records (each
    /// counted as a continued line), never dropped.
    public var maxLogSize = 1 << 20
    /// How many of a file's first bytes identify it across renames and restarts.
    public var fingerprintSize = 1000
    /// The character encoding of the files; records are UTF-8.
    public var encoding = FollowedEncoding.utf8
    /// Records of several lines (`multiline`), or nil for one record per line.
    public var multiline: MultilineRule?
    /// The `file_storage` extension keeping the checkpoints, or nil to keep none (a restart
    /// starts by `start_at` again).
    public var storage: ComponentID?

    /// Makes the defaults (the Collector's `filelog`: start at the end, poll every 200 ms).
    /// Allocates nothing.
    public init() {}
}

/// The character encodings a followed file may be in (the Collector's `encoding` names).
@_spi(Plumbing) public enum FollowedEncoding: String, Hashable, Sendable, CaseIterable {
    /// UTF-8; invalid sequences are replaced (and counted) as for every text input.
    case utf8 = "utf-8"
    /// UTF-16, little-endian (a byte-order mark is dropped).
    case utf16le = "utf-16le"
    /// UTF-16, big-endian (a byte-order mark is dropped).
    case utf16be = "utf-16be"
    /// ASCII: bytes above 0x7F are replaced.
    case ascii
    /// ISO-8859-1 (Latin-1): each byte is the code point of the same number.
    case latin1 = "iso-8859-1"

    /// The bytes of one code unit.
    var unitSize: Int { self == .utf16le || self == .utf16be ? 2 : 1 }
}

/// Where one record of several lines begins or ends (`multiline.line_start_pattern` or
/// `line_end_pattern`, RE2 syntax matched anywhere in a line).
@_spi(Plumbing) public struct MultilineRule: Hashable, Sendable {
    /// Whether the pattern marks the first line of a record (else its last).
    public var marksStart: Bool
    /// The pattern.
    public var regex: ByteRegex

    /// A rule. Allocates nothing (keeps the compiled pattern).
    public init(marksStart: Bool, regex: ByteRegex) {
        self.marksStart = marksStart
        self.regex = regex
    }

    public static func == (lhs: MultilineRule, rhs: MultilineRule) -> Bool {
        lhs.marksStart == rhs.marksStart && lhs.regex.pattern == rhs.regex.pattern
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(marksStart)
        hasher.combine(regex.pattern)
    }
}

extension FollowSettings {
    /// The setting names following adds to the `file` receiver's.
    static let keys = [
        "start_at", "poll_interval", "force_flush_period", "max_log_size", "fingerprint_size", "encoding",
        "multiline", "storage",
    ]

    /// Applies one following setting; false when `setting` is not one.
    mutating func decode(_ setting: ConfigDecoder.Entry, _ decoder: inout ConfigDecoder) -> Bool {
        switch setting.key {
        case "start_at":
            switch decoder.string(setting.node, at: setting.location) {
            case "beginning"?: startAtBeginning = true
            case "end"?: startAtBeginning = false
            case let other?:
                decoder.diagnostics.error(
                    "'\(other)' is not a valid value", at: setting.location, hint: "one of: beginning, end")
            case nil: break
            }
        case "poll_interval":
            if let seconds = decoder.seconds(setting) {
                if seconds > 0 {
                    pollIntervalSeconds = seconds
                } else {
                    decoder.diagnostics.error("poll_interval must be above 0", at: setting.location)
                }
            }
        case "force_flush_period": forceFlushSeconds = decoder.seconds(setting) ?? forceFlushSeconds
        case "max_log_size": maxLogSize = Self.size(setting, atLeast: 4, &decoder) ?? maxLogSize
        case "fingerprint_size": fingerprintSize = Self.size(setting, atLeast: 16, &decoder) ?? fingerprintSize
        case "encoding":
            let name = decoder.string(setting.node, at: setting.location)?.lowercased()
            switch name {
            case "utf8"?, "utf-8"?: encoding = .utf8
            case "latin1"?, "iso-8859-1"?, "iso8859-1"?: encoding = .latin1
            case "utf-16le"?, "utf16le"?: encoding = .utf16le
            case "utf-16be"?, "utf16be"?: encoding = .utf16be
            case "ascii"?, "us-ascii"?: encoding = .ascii
            case let other?:
                decoder.diagnostics.error(
                    "encoding '\(other)' is not supported", at: setting.location,
                    hint: "one of: \(FollowedEncoding.allCases.map(\.rawValue).joined(separator: ", "))")
            case nil: break
            }
        case "multiline": multiline = Self.decodeMultiline(setting, &decoder)
        case "storage":
            if let text = decoder.string(setting.node, at: setting.location) {
                if let id = ComponentID(parsing: text) {
                    storage = id
                } else {
                    decoder.diagnostics.error("'\(text)' is not a component id", at: setting.location)
                }
            }
        default: return false
        }
        return true
    }

    /// A byte size of at least `minimum`, or nil with the problem reported.
    private static func size(_ setting: ConfigDecoder.Entry, atLeast minimum: Int, _ decoder: inout ConfigDecoder)
        -> Int?
    {
        guard let bytes = decoder.byteSize(setting) else { return nil }
        guard bytes >= minimum else {
            decoder.diagnostics.error("\(setting.key) must be at least \(minimum) bytes", at: setting.location)
            return nil
        }
        return bytes
    }

    private static func decodeMultiline(_ setting: ConfigDecoder.Entry, _ decoder: inout ConfigDecoder)
        -> MultilineRule?
    {
        guard let entries = decoder.entries(setting.node, at: setting.location) else { return nil }
        decoder.rejectUnknownKeys(entries, known: ["line_start_pattern", "line_end_pattern"])
        var rules: [MultilineRule] = []
        for entry in entries {
            guard entry.key == "line_start_pattern" || entry.key == "line_end_pattern",
                let pattern = decoder.string(entry.node, at: entry.location)
            else { continue }
            do throws(RegexSyntaxError) {
                rules.append(
                    MultilineRule(marksStart: entry.key == "line_start_pattern", regex: try ByteRegex(pattern)))
            } catch {
                decoder.diagnostics.error("\(entry.key): \(error)", at: entry.location)
            }
        }
        if entries.count != 1 {
            decoder.diagnostics.error(
                "multiline takes exactly one of line_start_pattern and line_end_pattern", at: setting.location)
            return nil
        }
        return rules.first
    }
}
