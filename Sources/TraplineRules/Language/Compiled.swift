/// A type-checked expression, ready to run. Built once at load time; shared by every worker.
indirect enum Compiled: Sendable {
    case constant(RuleValue)
    /// A path: a field, then keys into it (`attributes["a"]["b"]`).
    case path(RulePath)
    /// A converter call, then keys into its result.
    case call(Converter, [Compiled], keys: [Compiled])
    case list([Compiled])
    case map([(key: String, value: Compiled)])
    case arithmetic(BinaryOperator, Compiled, Compiled)
    case negate(Compiled)
    case compare(BinaryOperator, Compiled, Compiled)
    case and([Compiled])
    case or([Compiled])
    case not(Compiled)

    /// The constant, when the expression is one.
    var constant: RuleValue? {
        if case .constant(let value) = self { return value }
        return nil
    }

    /// The string, when the expression is a constant string.
    var constantString: String? {
        if case .constant(.string(let string)) = self { return string }
        return nil
    }
}

/// A path into the item: its field and the keys after it.
///
/// A class so that binding a path out of an expression or editor costs one retain.
final class RulePath: Sendable {
    let field: RuleField
    let keys: [Compiled]
    /// Which context's item the path reads (a span statement can read `resource.…`).
    let context: RuleContext
    /// UTF-8 of the first key when it is a string literal (attribute lookups compare bytes).
    let literalKey: [UInt8]?

    init(field: RuleField, keys: [Compiled], context: RuleContext) {
        self.field = field
        self.keys = keys
        self.context = context
        if case .string(let key)? = keys.first?.constant { literalKey = Array(key.utf8) } else { literalKey = nil }
    }
}

/// Converters Trapline implements. Arguments that must be constant (patterns, formats, modes)
/// are compiled into the case.
enum Converter: Sendable {
    case isMatch(ByteRegex)
    case concat
    case split
    case substring
    case convertCase(CaseMode)
    case toLowerCase
    case toUpperCase
    case length
    case int
    case double
    case string
    case isType(RuleType)
    case parseJSON
    case extractPatterns(ByteRegex)
    case sha256
    case traceID
    case spanID
    case duration
    case time(TimeFormat)
    case unixNano, unixMicro, unixMilli, unixSeconds
    case now
    case hex
    case isRootSpan
    /// Trapline's own: the sampling probability a W3C `tracestate`'s `ot=th:` threshold gives.
    case samplingProbability

    enum CaseMode: String, Sendable { case lower, upper, snake, camel }

    /// Whether the result depends only on the arguments (so constant arguments fold).
    var isPure: Bool {
        switch self {
        case .now, .isRootSpan: false
        default: true
        }
    }
}

/// Editors (functions that change the item), with their compiled arguments.
enum Editor: Sendable {
    case set(RulePath, Compiled)
    /// The key's bytes are kept when it is a literal (the usual case), so deleting copies nothing.
    case deleteKey(RulePath, Compiled, literal: [UInt8]?)
    case deleteMatchingKeys(RulePath, ByteRegex)
    case keepKeys(RulePath, [String])
    case keepMatchingKeys(RulePath, ByteRegex)
    case limit(RulePath, Int, priorityKeys: [String])
    case truncateAll(RulePath, Int)
    case replacePattern(RulePath, ByteRegex, Compiled)
    case replaceAllPatterns(RulePath, keys: Bool, ByteRegex, Compiled)
    case replaceMatch(RulePath, GlobPattern, Compiled)
    case replaceAllMatches(RulePath, GlobPattern, Compiled)
    case mergeMaps(RulePath, Compiled, MergeStrategy)
    case flatten(RulePath, prefix: String?, depth: Int?)
    case append(RulePath, [Compiled])

    enum MergeStrategy: String, Sendable { case insert, update, upsert }
}

/// A glob as `replace_match` uses it: `*` any run, `?` one character, `\` escapes.
struct GlobPattern: Sendable {
    let regex: ByteRegex

    init(_ pattern: String) throws(RegexSyntaxError) {
        var translated = "^"
        var escaping = false
        for character in pattern {
            if escaping {
                translated += "\\" + String(character)
                escaping = false
                continue
            }
            switch character {
            case "*": translated += ".*"
            case "?": translated += "."
            case "\\": escaping = true
            case ".", "+", "(", ")", "[", "]", "{", "}", "^", "$", "|": translated += "\\" + String(character)
            default: translated.append(character)
            }
        }
        regex = try ByteRegex(translated + "$")
    }
}
