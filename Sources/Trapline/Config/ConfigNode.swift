/// A parsed pipeline file, independent of YAML: scalars, mappings and sequences, each with its
/// position, so validation can point at the line and column of every setting.
@_spi(Plumbing) public indirect enum ConfigValue: Sendable {
    case scalar(String)
    case mapping([(key: ConfigNode, value: ConfigNode)])
    case sequence([ConfigNode])
    case null
}

/// A value and where it is.
@_spi(Plumbing) public struct ConfigNode: Sendable {
    /// The value.
    public var value: ConfigValue
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int
    /// How far a scalar's text starts after `column` on the same line: 1 for a quoted scalar,
    /// 0 for a plain one, nil for block scalars (their text starts on later lines). Lets rule
    /// errors point at the file column of a character inside the text.
    public var textOffset: Int?

    /// Makes a node.
    public init(_ value: ConfigValue, line: Int, column: Int, textOffset: Int? = 0) {
        self.value = value
        self.line = line
        self.column = column
        self.textOffset = textOffset
    }

    /// The scalar's text, if this is a scalar.
    public var scalar: String? {
        if case .scalar(let text) = value { return text }
        return nil
    }

    /// A name for the kind of value, for messages.
    public var kindName: String {
        switch value {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .null: "empty"
        }
    }

    /// The location of this node under `parent`'s path.
    func location(_ parent: ConfigLocation, _ key: String? = nil) -> ConfigLocation {
        var location = key.map { parent.appending($0) } ?? parent
        location.line = line
        location.column = column
        return location
    }
}
