/// The packages a log's own `go list` output shows with cgo files: evidence, from the log alone,
/// that a package a cross build then excluded was a cgo package (and not an arch-only one).
///
/// Reads `go list -json` objects (`"ImportPath"`, `"Dir"`, a non-empty `"CgoFiles"`) and
/// `go list -f` output whose template (from the command line the log shows) prints
/// `{{.CgoFiles}}` beside `{{.ImportPath}}` or `{{.Dir}}`.
struct GoListCgoPackages {
    /// Import paths and directories (as printed) of packages listed with cgo files.
    private(set) var packages: Set<String> = []

    init(_ lines: [BuildLogLines.Line]) {
        var template: [TemplatePart]?
        var json = JSONState()
        for line in lines {
            let text = line.text
            // Byte checks first: reading every line as a command or JSON walks Characters.
            if text.has("go list"), let command = Self.command(text) {
                template = Self.template(in: command)
                continue
            }
            if let template, let listed = Self.match(text, template) {
                if let cgoFiles = listed["CgoFiles"], cgoFiles != "[]" {
                    for key in ["ImportPath", "Dir"] { if let value = listed[key] { packages.insert(value) } }
                }
                continue
            }
            let first = text.utf8.first { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            if let first,
                first == UInt8(ascii: "{") || first == UInt8(ascii: "}") || first == UInt8(ascii: "\"")
                    || first == UInt8(ascii: "]")
            {
                json.read(text.trimmingSpaces(), into: &packages)
            }
        }
    }

    func lists(importPath: Substring?, directory: String) -> Bool {
        packages.contains(directory) || importPath.map { packages.contains(String($0)) } == true
    }

    // MARK: `-f` templates

    enum TemplatePart: Equatable {
        case literal(Substring)
        case field(String)
    }

    /// A command line as the log shows it: the capture header's, a `set -x` trace or a prompt.
    static func command(_ text: Substring) -> Substring? {
        text.dropPrefix("# command: ") ?? GoBuildContext.traceCommand(text) ?? text.dropPrefix("$ ")
    }

    /// The `-f` template of a `go list` command, when it prints `CgoFiles` and a package's name.
    static func template(in command: Substring) -> [TemplatePart]? {
        guard let list = command.firstRange(of: "go list") else { return nil }
        var rest = command[list.upperBound...]
        guard let flag = rest.firstRange(of: " -f ") ?? rest.firstRange(of: " -f=") else { return nil }
        rest = rest[flag.upperBound...]
        guard let quote = rest.first, quote == "'" || quote == "\"" else { return nil }
        rest = rest.dropFirst()
        guard let end = rest.firstIndex(of: quote) else { return nil }
        var template = rest[..<end]
        var parts: [TemplatePart] = []
        while let open = template.firstRange(of: "{{") {
            if open.lowerBound > template.startIndex { parts.append(.literal(template[..<open.lowerBound])) }
            guard let close = template[open.upperBound...].firstRange(of: "}}") else { return nil }
            let action = template[open.upperBound..<close.lowerBound].trimmingSpaces()
            // Only plain fields: a range, a join or a condition prints something else.
            guard action.first == ".", action.dropFirst().allSatisfy({ $0.isLetter }) else { return nil }
            parts.append(.field(String(action.dropFirst())))
            template = template[close.upperBound...]
        }
        if !template.isEmpty { parts.append(.literal(template)) }
        let fields = Set(parts.compactMap { if case .field(let name) = $0 { name } else { nil } })
        guard fields.contains("CgoFiles"), !fields.isDisjoint(with: ["ImportPath", "Dir"]) else { return nil }
        return parts
    }

    /// The fields of one output line of `template`, or `nil` when the line is not its output.
    static func match(_ text: Substring, _ template: [TemplatePart]) -> [String: String]? {
        var values: [String: String] = [:]
        var rest = text
        for (index, part) in template.enumerated() {
            switch part {
            case .literal(let literal):
                guard rest.hasPrefix(literal) else { return nil }
                rest = rest.dropFirst(literal.count)
            case .field(let name):
                // A field runs to the next literal (the last one to the end of the line).
                if index + 1 < template.count, case .literal(let next) = template[index + 1] {
                    guard let range = rest.firstRange(of: next) else { return nil }
                    values[name] = String(rest[..<range.lowerBound])
                    rest = rest[range.lowerBound...]
                } else {
                    values[name] = String(rest)
                    rest = rest[rest.endIndex...]
                }
            }
        }
        return rest.isEmpty ? values : nil
    }

    // MARK: `-json`

    /// One `go list -json` object at a time, by its indented members.
    struct JSONState {
        var importPath: String?
        var directory: String?
        var inCgoFiles = false
        var hasCgoFiles = false

        mutating func read(_ text: Substring, into packages: inout Set<String>) {
            if text == "{" {
                self = JSONState()
            } else if text == "}" {
                if hasCgoFiles { packages.formUnion([importPath, directory].compactMap { $0 }) }
                self = JSONState()
            } else if inCgoFiles {
                if text.hasPrefix("]") { inCgoFiles = false } else if text.hasPrefix("\"") { hasCgoFiles = true }
            } else if text.hasPrefix("\"CgoFiles\": [") {
                inCgoFiles = !text.hasSuffix("]") && !text.hasSuffix("],")
            } else if let value = Self.stringMember("ImportPath", text) {
                importPath = value
            } else if let value = Self.stringMember("Dir", text) {
                directory = value
            }
        }

        static func stringMember(_ name: String, _ text: Substring) -> String? {
            guard let rest = text.dropPrefix("\"\(name)\": \"") else { return nil }
            let value = rest.hasSuffix("\",") ? rest.dropLast(2) : rest.hasSuffix("\"") ? rest.dropLast() : nil
            return value.map(String.init)
        }
    }
}
