/// One problem in a pipeline file: where it is and what to do about it.
public struct ConfigDiagnostic: Hashable, Sendable, CustomStringConvertible {
    /// The setting, as a dotted path (`exporters.file/out.format`).
    public var path: String
    /// The file it is in.
    public var file: String
    /// 1-based line of the setting.
    public var line: Int
    /// 1-based column of the setting.
    public var column: Int
    /// What is wrong.
    public var message: String
    /// How to fix it, when there is a likely fix.
    public var hint: String?

    /// Makes a diagnostic. Allocates nothing (keeps the strings it is given).
    public init(path: String, file: String, line: Int, column: Int, message: String, hint: String? = nil) {
        self.path = path
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    /// `file:line:column: error: path: message (hint)`, as compilers print them.
    public var description: String {
        var text = "\(file):\(line):\(column): error: "
        if !path.isEmpty { text += "\(path): " }
        text += message
        if let hint { text += " (\(hint))" }
        return text
    }
}

/// Diagnostics collected while loading and validating a pipeline file; loading never stops at
/// the first one.
public struct ConfigDiagnostics: Sendable {
    /// Every diagnostic, in file order.
    public private(set) var all: [ConfigDiagnostic] = []

    /// Makes an empty list. Allocates nothing.
    public init() {}

    /// Whether nothing is wrong.
    public var isEmpty: Bool { all.isEmpty }

    /// Records a problem at `location`. Allocates only when the list grows.
    public mutating func error(_ message: String, at location: ConfigLocation, hint: String? = nil) {
        all.append(
            ConfigDiagnostic(
                path: location.path, file: location.file, line: location.line, column: location.column,
                message: message,
                hint: hint))
    }

    /// The diagnostics sorted by line and column.
    public var sorted: [ConfigDiagnostic] { all.sorted { ($0.line, $0.column) < ($1.line, $1.column) } }
}

/// Where a setting is: its dotted path and its position in the file.
public struct ConfigLocation: Hashable, Sendable {
    /// The dotted path.
    public var path: String
    /// The file.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    /// Makes a location. Allocates nothing.
    public init(path: String, file: String, line: Int, column: Int) {
        self.path = path
        self.file = file
        self.line = line
        self.column = column
    }

    /// The location of a child setting (same position until the child's own is known). Allocates the longer path.
    public func appending(_ key: String) -> ConfigLocation {
        ConfigLocation(path: path.isEmpty ? key : path + "." + key, file: file, line: line, column: column)
    }
}
