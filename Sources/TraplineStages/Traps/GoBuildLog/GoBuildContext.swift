/// What a build log says about the build it records: the settings the user made, the values the toolchain
/// reported, the host, and the working directory.
///
/// Sources, in the forms the toolchain and shells print them: the capture header (`# env:`, `# go: …, host
/// os/arch`, `# cwd:`, `# command:`), echoed command lines and `set -x` traces with `NAME=value` prefixes
/// or `export`, `go env` output (plain, `-json`, or bare values after `go env NAME…`), `go version -m` build
/// information, and `go version` lines.
struct GoBuildContext {
    /// Where a value was read.
    enum Source {
        /// Set by the user (command line, trace, export, capture header).
        case setting
        /// Printed by `go env`.
        case goEnv
        /// Recorded in a binary's build information (`go version -m`).
        case buildInfo
    }

    /// One value of one variable and the 1-based log line that shows it.
    struct Value {
        /// `nil` when the line shows the variable as unset.
        var value: String?
        var line: Int
        var source: Source
    }

    /// Every value seen, by variable name, in log order.
    private(set) var values: [String: [Value]] = [:]
    /// The host from the log, as `os/arch`.
    private(set) var host: (os: String, arch: String)?
    /// The directory the build ran in, as the log names it.
    private(set) var workingDirectory: String?
    /// Whether the toolchain rejected GOARM (`go: invalid GOARM: …`), as Go 1.22 and older do.
    private(set) var rejectsGOARM = false

    init(_ log: BuildLogLines) {
        let lines = log.lines
        for (index, line) in lines.enumerated() {
            let text = line.text
            if let rest = text.dropPrefix("# env: ") ?? text.dropPrefix("# other env: ") {
                for token in rest.split(separator: " ") {
                    record(assignment: token, line: line.number, asSetting: true)
                }
            } else if let rest = text.dropPrefix("# go: ") {
                if let hostText = rest.split(separator: " ").last, rest.has(", host ") { setHost(hostText) }
            } else if let rest = text.dropPrefix("# cwd: ") {
                workingDirectory = String(rest)
            } else if let rest = text.dropPrefix("# command: ") {
                readCommand(rest, at: index, in: lines, traced: false)
            } else if let rest = Self.traceCommand(text) {
                readCommand(rest, at: index, in: lines, traced: true)
            } else if let rest = text.dropPrefix("$ ") {
                readCommand(rest, at: index, in: lines, traced: false)
            } else if text.hasPrefix("go version go") {
                let words = text.split(separator: " ")
                if words.count == 4 { setHost(words[3]) }
            } else if text.has("invalid GOARM:") {
                rejectsGOARM = true
            } else {
                readReportedValue(text, line: line.number)
            }
            // Byte checks before the split: this is asked of every line.
            if text.has(" go "), let space = text.utf8.firstIndex(of: UInt8(ascii: " ")),
                case let first = text[..<space], first.utf8.contains(UInt8(ascii: "=")), Self.isAssignment(first)
            {
                // A command echoed without a prompt: `GOOS=linux GOARCH=arm64 go build …`.
                readCommand(text, at: index, in: lines, traced: false)
            }
        }
    }

    // MARK: Questions the rules ask

    /// The last non-empty value the user set for `name`.
    func setting(_ name: String) -> Value? {
        values[name]?.last(where: { $0.source == .setting && !($0.value ?? "").isEmpty })
    }

    /// Every value of `name` reported by the toolchain (go env, build information).
    func reported(_ name: String) -> [Value] { values[name]?.filter { $0.source != .setting } ?? [] }

    /// Every line where the user set `name` (to anything but empty).
    func settingLines(_ name: String) -> [Int] {
        values[name]?.filter { $0.source == .setting && !($0.value ?? "").isEmpty }.map(\.line) ?? []
    }

    /// The target GOOS/GOARCH: set by the user, else reported by the toolchain, else the host's.
    func target(defaultHost: (os: String, arch: String)) -> (os: String, arch: String) {
        let host = self.host ?? defaultHost
        func resolve(_ name: String, _ fallback: String) -> String {
            setting(name)?.value ?? reported(name).last?.value ?? fallback
        }
        return (resolve("GOOS", host.os), resolve("GOARCH", host.arch))
    }

    /// Whether the build targets another platform than the host it ran on.
    func isCrossBuild(defaultHost: (os: String, arch: String)) -> Bool {
        let host = self.host ?? defaultHost
        let target = target(defaultHost: defaultHost)
        return target.os != host.os || target.arch != host.arch
    }

    // MARK: Reading

    private mutating func setHost(_ text: Substring) {
        let parts = text.split(separator: "/")
        if parts.count == 2 { host = (String(parts[0]), String(parts[1])) }
    }

    private mutating func record(_ name: Substring, _ value: String?, line: Int, source: Source) {
        values[String(name), default: []].append(Value(value: value, line: line, source: source))
    }

    /// `NAME=value`; as a setting, `(unset)` (the capture header's word) records the variable as unset.
    private mutating func record(assignment token: Substring, line: Int, asSetting: Bool) {
        guard let equals = token.firstIndex(of: "="), Self.isAssignment(token) else { return }
        var value = String(token[token.index(after: equals)...])
        if value.count >= 2, value.first == "'" || value.first == "\"", value.last == value.first {
            value = String(value.dropFirst().dropLast())
        }
        record(token[..<equals], value == "(unset)" ? nil : value, line: line, source: asSetting ? .setting : .goEnv)
    }

    /// `+ cmd` / `++ cmd` (a `set -x` trace).
    static func traceCommand(_ text: Substring) -> Substring? {
        // A byte check first: it is asked of every line, and `drop(while:)` walks Characters.
        guard text.utf8.first == UInt8(ascii: "+") else { return nil }
        let body = text.drop(while: { $0 == "+" })
        guard body.count < text.count, body.hasPrefix(" ") else { return nil }
        return body.dropFirst()
    }

    /// Reads `NAME=value` prefixes and `export NAME=value` as settings, and maps the bare values printed by
    /// `go env NAME…` back to their names.
    private mutating func readCommand(
        _ command: Substring, at index: Int, in lines: [BuildLogLines.Line], traced: Bool
    ) {
        let segments = Self.segments(command)
        for (position, segment) in segments.enumerated() {
            var words = segment.split(separator: " ")
            while let first = words.first, Self.isAssignment(first) {
                record(assignment: first, line: lines[index].number, asSetting: true)
                words.removeFirst()
            }
            if words.first == "export" {
                for word in words.dropFirst() { record(assignment: word, line: lines[index].number, asSetting: true) }
            }
            guard words.count > 2, words[0] == "go", words[1] == "env",
                !words.dropFirst(2).contains(where: { $0.hasPrefix("-") })
            else { continue }
            let names = Array(words.dropFirst(2))
            let outputLines: ArraySlice<BuildLogLines.Line>
            if traced || position == 0 {
                // The values follow the command (a capture header may stand between).
                var start = index + 1
                while start < lines.count, Self.isCaptureHeader(lines[start].text) { start += 1 }
                var end = start
                while end < lines.count, end - start < names.count, Self.traceCommand(lines[end].text) == nil {
                    end += 1
                }
                outputLines = lines[start..<end]
            } else if position == segments.count - 1 {
                // The last command of the line printed last.
                outputLines = lines.suffix(names.count)
            } else {
                continue
            }
            guard outputLines.count == names.count else { continue }
            for (name, output) in zip(names, outputLines) {
                record(name, String(output.text), line: output.number, source: .goEnv)
            }
        }
    }

    /// Values the toolchain printed: `NAME='value'` (go env), `set NAME=value` (go env on Windows),
    /// `"NAME": "value",` (go env -json), and `<tab>build<tab>NAME=value` (build information).
    private mutating func readReportedValue(_ text: Substring, line: Int) {
        if let setting = text.dropPrefix("\tbuild\t") {
            if let equals = setting.firstIndex(of: "="), Self.isAssignment(setting) {
                record(
                    setting[..<equals], String(setting[setting.index(after: equals)...]), line: line, source: .buildInfo
                )
            }
        } else if let first = text.first, first.isUppercase, !text.has(" "), text.has("='") {
            record(assignment: text, line: line, asSetting: false)
        } else if let rest = text.dropPrefix("set "), !rest.has(" ") {
            record(assignment: rest, line: line, asSetting: false)
        } else if let rest = text.drop(while: { $0 == " " || $0 == "\t" }).dropPrefix("\""), rest.has("\": \"") {
            let parts = rest.split(separator: "\"", omittingEmptySubsequences: false)
            // NAME, ": ", value, "" or ","
            if parts.count >= 4, parts[1] == ": ", Self.isName(parts[0]) {
                record(parts[0], String(parts[2]), line: line, source: .goEnv)
            }
        }
    }

    /// A command line split at `;`, `&&`, `||` and `|` (quotes are not taken apart: a separator inside
    /// quotes splits too, which only ever loses a setting, never invents one).
    static func segments(_ command: Substring) -> [Substring] {
        var segments: [Substring] = []
        var start = command.startIndex
        var index = command.startIndex
        while index < command.endIndex {
            let character = command[index]
            if character == ";" || character == "|" || character == "&" {
                segments.append(command[start..<index])
                var next = command.index(after: index)
                if next < command.endIndex, command[next] == character { next = command.index(after: next) }
                start = next
                index = next
            } else {
                index = command.index(after: index)
            }
        }
        segments.append(command[start...])
        return segments.map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
    }

    /// The capture header's own lines (`# exit status: 1`, `# captured output: …`).
    static func isCaptureHeader(_ text: Substring) -> Bool {
        guard let rest = text.dropPrefix("# "), let colon = rest.firstRange(of: ": ") else { return false }
        return rest[..<colon.lowerBound].allSatisfy { $0.isLowercase || $0 == " " }
    }

    /// `NAME=…` with an environment variable's name.
    static func isAssignment(_ token: Substring) -> Bool {
        guard let equals = token.firstIndex(of: "=") else { return false }
        return isName(token[..<equals])
    }

    /// An environment variable's name, upper case as Go's are.
    static func isName(_ text: Substring) -> Bool {
        guard let first = text.first, first.isUppercase || first == "_" else { return false }
        return text.allSatisfy { ($0.isASCII && ($0.isUppercase || $0.isNumber)) || $0 == "_" }
    }
}

/// Whether `haystack[offset...]` starts with `pattern`.
private func memoryEqual(_ haystack: UnsafeBufferPointer<UInt8>, _ offset: Int, _ pattern: UnsafeBufferPointer<UInt8>)
    -> Bool
{
    for index in 1..<pattern.count where haystack[offset + index] != pattern[index] { return false }
    return true
}

extension String {
    /// ``Substring/has(_:)`` for a whole string.
    func has(_ needle: String) -> Bool { self[...].has(needle) }
}

extension Substring {
    /// The rest after `prefix`, or `nil` when the text does not start with it.
    func dropPrefix(_ prefix: String) -> Substring? {
        // As bytes: asked of every line several times, and Character comparison is slow.
        guard utf8.starts(with: prefix.utf8) else { return nil }
        return self[utf8.index(startIndex, offsetBy: prefix.utf8.count)...]
    }

    /// Whether `needle` occurs, compared as UTF-8 bytes (the standard `contains` compares Characters, which
    /// made the scan 10× slower).
    func has(_ needle: String) -> Bool {
        var contiguous = needle
        return contiguous.withUTF8 { pattern in
            guard let first = pattern.first else { return true }
            let found = utf8.withContiguousStorageIfAvailable { haystack -> Bool in
                guard haystack.count >= pattern.count else { return false }
                var index = 0
                let last = haystack.count - pattern.count
                while index <= last {
                    if haystack[index] == first, memoryEqual(haystack, index, pattern) { return true }
                    index += 1
                }
                return false
            }
            return found ?? String(self)[...].has(needle)
        }
    }

    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> Substring {
        guard let first = firstIndex(where: { $0 != " " && $0 != "\t" }),
            let last = lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return self[endIndex...] }
        return self[first...last]
    }
}
