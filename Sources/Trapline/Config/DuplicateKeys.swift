import Yams

/// Duplicate keys in a pipeline file, reported together with every other problem.
///
/// Yams refuses a mapping with a duplicate key before anything else can be checked. The later
/// occurrence of a plain key in a block mapping is found in the text and renamed to a marker,
/// the file is read again, and the marked entries are dropped before decoding, each reported
/// where it stands. Keys that cannot be found that way (flow mappings, quoted or complex keys)
/// are reported alone, as before.
enum DuplicateKeys {
    /// The prefix of a renamed key; no Collector key starts with it.
    static let marker = "__trapline_duplicate_"
    /// Duplicates renamed at most in one file, so a pathological file cannot loop long.
    static let maxRenamed = 64

    /// A later occurrence renamed in the text.
    struct Renamed {
        var key: String
        var line: Int
        var column: Int
        var firstLine: Int
    }

    /// The text with the occurrence after the first (at `line`, `column`, 1-based) of the first
    /// of `duplicates` renamed; nil when it cannot be found.
    static func rename(_ duplicates: [String], firstAt line: Int, column: Int, in text: String, count: Int)
        -> (text: String, renamed: Renamed)?
    {
        guard let key = duplicates.sorted().first, !key.isEmpty, line >= 1, column >= 1,
            key.allSatisfy({ !":#{}[],\"'\n".contains($0) })
        else { return nil }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard line <= lines.count else { return nil }
        let indent = column - 1
        for index in line..<lines.count {
            let candidate = Array(lines[index])
            let leading = candidate.prefix { $0 == " " }.count
            let content = String(candidate.dropFirst(leading))
            if leading < indent && !content.isEmpty && !content.hasPrefix("#") && !content.hasPrefix("-") {
                return nil  // the mapping ended before a second occurrence
            }
            guard leading == indent, content.hasPrefix(key) else { continue }
            let rest = content.dropFirst(key.count).drop { $0 == " " }
            guard rest.first == ":" else { continue }
            lines[index] = String(repeating: " ", count: indent) + marker + "\(count)_" + content
            let renamed = Renamed(key: key, line: index + 1, column: column, firstLine: line)
            return (lines.joined(separator: "\n"), renamed)
        }
        return nil
    }

    /// Drops every renamed entry from the tree.
    static func remove(from node: inout ConfigNode) {
        switch node.value {
        case .mapping(let entries):
            var kept = entries.filter { !($0.key.scalar?.hasPrefix(marker) ?? false) }
            for index in kept.indices { remove(from: &kept[index].value) }
            node.value = .mapping(kept)
        case .sequence(var items):
            for index in items.indices { remove(from: &items[index]) }
            node.value = .sequence(items)
        default:
            break
        }
    }

    /// Reports duplicates that could not be renamed, as the only problem.
    static func report(
        _ duplicates: [String], context: YamlError.Context, file: String, into decoder: inout ConfigDecoder
    ) {
        // Yams names a key that is itself a mapping or list "<uncovertable>", and with one among
        // the duplicates the place it gives changes from run to run (it sorts keys that do not
        // compare): then the mapping cannot be placed, and the file's start is named instead.
        let complexKey = "<uncovertable>"
        let location =
            duplicates.contains(complexKey)
            ? decoder.rootLocation
            : ConfigLocation(path: "", file: file, line: context.mark.line, column: context.mark.column)
        for key in duplicates.sorted() {
            decoder.diagnostics.error(
                key == complexKey
                    ? "a mapping or list used as a key, more than once in one mapping"
                    : "duplicate key '\(key)' in this mapping",
                at: location, hint: "each id may appear once")
        }
    }
}
