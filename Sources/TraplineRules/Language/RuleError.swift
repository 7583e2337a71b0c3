/// A problem in an OTTL condition or statement, found at load time: what is wrong and the
/// 1-based column inside the expression text.
///
/// Errors compare by code and column; the message is built when the error is made, from
/// load-time facts only (never per row).
public struct RuleError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why the rule was refused. Extensible: new codes are new static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable snake_case name.
        public let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Characters that form no token, or an unterminated string.
        public static let invalidToken = Code("invalid_token")
        /// Tokens in an order the grammar does not allow.
        public static let syntax = Code("syntax")
        /// A path that does not exist in the context.
        public static let unknownPath = Code("unknown_path")
        /// A function (editor or converter) OTTL does not define or Trapline does not implement.
        public static let unknownFunction = Code("unknown_function")
        /// A call with too few or too many arguments.
        public static let argumentCount = Code("argument_count")
        /// A value whose type cannot be used there.
        public static let typeMismatch = Code("type_mismatch")
        /// An enum name OTTL does not define.
        public static let unknownEnum = Code("unknown_enum")
        /// A regular expression that does not compile.
        public static let invalidRegex = Code("invalid_regex")
        /// Paths from contexts that cannot be used together, or a context the signal lacks.
        public static let contextConflict = Code("context_conflict")
    }

    /// Why.
    public var code: Code
    /// 1-based column inside the expression.
    public var column: Int
    /// What is wrong, for people.
    public var message: String

    /// Makes an error. Allocates nothing beyond the message.
    public init(_ code: Code, column: Int, _ message: String) {
        self.code = code
        self.column = column
        self.message = message
    }

    public var description: String { "column \(column): \(message)" }
}
