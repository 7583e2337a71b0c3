/// An OTTL expression as parsed, before type checking. Every node keeps its 1-based column.
indirect enum Expression {
    case string(String, column: Int)
    case int(Int64, column: Int)
    case float(Double, column: Int)
    case bool(Bool, column: Int)
    case bytes([UInt8], column: Int)
    case null(column: Int)
    /// An upper-case name: `SPAN_KIND_SERVER`.
    case enumName(String, column: Int)
    case path(PathSyntax)
    /// A function call; `keys` index its result (`ParseJSON(body)["a"]`).
    case call(CallSyntax)
    case list([Expression], column: Int)
    case map([(key: String, value: Expression)], column: Int)
    case binary(BinaryOperator, Expression, Expression, column: Int)
    case not(Expression, column: Int)
    case negate(Expression, column: Int)

    var column: Int {
        switch self {
        case .string(_, let column), .int(_, let column), .float(_, let column), .bool(_, let column),
            .bytes(_, let column), .null(let column), .enumName(_, let column), .list(_, let column),
            .map(_, let column), .binary(_, _, _, let column), .not(_, let column), .negate(_, let column):
            return column
        case .path(let path): return path.column
        case .call(let call): return call.column
        }
    }
}

/// `span.attributes["http.method"]`: dotted names, then keys.
struct PathSyntax {
    var names: [(name: String, column: Int)]
    var keys: [Expression]
    var column: Int { names[0].column }
    var dotted: String { names.map(\.name).joined(separator: ".") }
}

/// `Name(arguments)[keys]`.
struct CallSyntax {
    var name: String
    var arguments: [ArgumentSyntax]
    var keys: [Expression]
    var column: Int
}

/// One argument, optionally named (`pattern = "…"`).
struct ArgumentSyntax {
    var name: String?
    var value: Expression
}

/// `==`, `<`, `and`, `+` …
enum BinaryOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case and, or
    case add = "+", subtract = "-", multiply = "*", divide = "/"

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: true
        default: false
        }
    }
}

/// `editor(arguments) where condition`.
struct StatementSyntax {
    var editor: CallSyntax
    var condition: Expression?
}
