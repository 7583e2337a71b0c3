/// Recursive-descent parser for OTTL statements and conditions.
///
/// Precedence, lowest first: `or`, `and`, `not`, comparisons, `+ -`, `* /`, unary `-`, primary.
struct Parser {
    private let tokens: [Token]
    private var index = 0

    init(_ text: String) throws(RuleError) { tokens = try Lexer.tokens(text) }

    /// `editor(…) [where condition]`.
    static func statement(_ text: String) throws(RuleError) -> StatementSyntax {
        var parser = try Parser(text)
        let start = parser.current
        guard case .identifier(let name) = start.kind, parser.peek(1).kind == .punctuation("(") else {
            throw RuleError(.syntax, column: start.column, "a statement starts with an editor call, like set(…)")
        }
        parser.index += 1
        let editor = try parser.call(name: name, column: start.column)
        var condition: Expression?
        if case .identifier("where") = parser.current.kind {
            parser.index += 1
            condition = try parser.orExpression()
        }
        try parser.expectEnd()
        return StatementSyntax(editor: editor, condition: condition)
    }

    /// A boolean expression.
    static func condition(_ text: String) throws(RuleError) -> Expression {
        var parser = try Parser(text)
        if case .end = parser.current.kind { throw RuleError(.syntax, column: 1, "empty condition") }
        let expression = try parser.orExpression()
        try parser.expectEnd()
        return expression
    }

    /// A value expression (a converter's result, for example).
    static func value(_ text: String) throws(RuleError) -> Expression {
        var parser = try Parser(text)
        let expression = try parser.orExpression()
        try parser.expectEnd()
        return expression
    }

    private var current: Token { tokens[index] }
    private func peek(_ offset: Int) -> Token { tokens[min(index + offset, tokens.count - 1)] }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .identifier(let name): "'\(name)'"
        case .string: "a string"
        case .int, .float: "a number"
        case .bytes: "a bytes literal"
        case .punctuation(let symbol): "'\(symbol)'"
        case .end: "the end"
        }
    }

    private mutating func expectEnd() throws(RuleError) {
        guard case .end = current.kind else {
            throw RuleError(
                .syntax, column: current.column, "unexpected \(describe(current)) after a complete expression")
        }
    }

    private mutating func expect(_ symbol: String) throws(RuleError) {
        guard current.kind == .punctuation(symbol) else {
            throw RuleError(.syntax, column: current.column, "expected '\(symbol)', found \(describe(current))")
        }
        index += 1
    }

    private mutating func take(_ symbol: String) -> Bool {
        guard current.kind == .punctuation(symbol) else { return false }
        index += 1
        return true
    }

    private mutating func takeKeyword(_ word: String) -> Bool {
        guard current.kind == .identifier(word) else { return false }
        index += 1
        return true
    }

    mutating func orExpression() throws(RuleError) -> Expression {
        var left = try andExpression()
        while case .identifier("or") = current.kind {
            let column = current.column
            index += 1
            left = .binary(.or, left, try andExpression(), column: column)
        }
        return left
    }

    private mutating func andExpression() throws(RuleError) -> Expression {
        var left = try notExpression()
        while case .identifier("and") = current.kind {
            let column = current.column
            index += 1
            left = .binary(.and, left, try notExpression(), column: column)
        }
        return left
    }

    private mutating func notExpression() throws(RuleError) -> Expression {
        if case .identifier("not") = current.kind {
            let column = current.column
            index += 1
            return .not(try notExpression(), column: column)
        }
        return try comparison()
    }

    private mutating func comparison() throws(RuleError) -> Expression {
        let left = try additive()
        if case .punctuation(let symbol) = current.kind, let op = BinaryOperator(rawValue: symbol), op.isComparison {
            let column = current.column
            index += 1
            let right = try additive()
            if case .punctuation(let next) = current.kind, BinaryOperator(rawValue: next)?.isComparison == true {
                throw RuleError(.syntax, column: current.column, "comparisons cannot be chained; join them with 'and'")
            }
            return .binary(op, left, right, column: column)
        }
        return left
    }

    private mutating func additive() throws(RuleError) -> Expression {
        var left = try multiplicative()
        while case .punctuation(let symbol) = current.kind, symbol == "+" || symbol == "-" {
            let column = current.column
            index += 1
            left = .binary(symbol == "+" ? .add : .subtract, left, try multiplicative(), column: column)
        }
        return left
    }

    private mutating func multiplicative() throws(RuleError) -> Expression {
        var left = try unary()
        while case .punctuation(let symbol) = current.kind, symbol == "*" || symbol == "/" {
            let column = current.column
            index += 1
            left = .binary(symbol == "*" ? .multiply : .divide, left, try unary(), column: column)
        }
        return left
    }

    private mutating func unary() throws(RuleError) -> Expression {
        if current.kind == .punctuation("-") {
            let column = current.column
            index += 1
            switch current.kind {
            case .int(let value):
                index += 1
                return .int(-value, column: column)
            case .float(let value):
                index += 1
                return .float(-value, column: column)
            default: return .negate(try unary(), column: column)
            }
        }
        return try primary()
    }

    private mutating func primary() throws(RuleError) -> Expression {
        let token = current
        switch token.kind {
        case .string(let value):
            index += 1
            return .string(value, column: token.column)
        case .int(let value):
            index += 1
            return .int(value, column: token.column)
        case .float(let value):
            index += 1
            return .float(value, column: token.column)
        case .bytes(let value):
            index += 1
            return .bytes(value, column: token.column)
        case .punctuation("("):
            index += 1
            let inner = try orExpression()
            try expect(")")
            return inner
        case .punctuation("["):
            index += 1
            var items: [Expression] = []
            if !take("]") {
                repeat { items.append(try orExpression()) } while take(",")
                try expect("]")
            }
            return .list(items, column: token.column)
        case .punctuation("{"):
            index += 1
            var pairs: [(key: String, value: Expression)] = []
            if !take("}") {
                repeat {
                    guard case .string(let key) = current.kind else {
                        throw RuleError(.syntax, column: current.column, "map keys are strings")
                    }
                    index += 1
                    try expect(":")
                    pairs.append((key, try orExpression()))
                } while take(",")
                try expect("}")
            }
            return .map(pairs, column: token.column)
        case .identifier(let name):
            index += 1
            switch name {
            case "true": return .bool(true, column: token.column)
            case "false": return .bool(false, column: token.column)
            case "nil": return .null(column: token.column)
            default: break
            }
            if current.kind == .punctuation("(") {
                return .call(try call(name: name, column: token.column))
            }
            if name.first!.isUppercase, name == name.uppercased() {
                return .enumName(name, column: token.column)
            }
            var names = [(name: name, column: token.column)]
            while take(".") {
                guard case .identifier(let next) = current.kind else {
                    throw RuleError(.syntax, column: current.column, "expected a name after '.'")
                }
                names.append((next, current.column))
                index += 1
            }
            return .path(PathSyntax(names: names, keys: try keys()))
        default:
            throw RuleError(.syntax, column: token.column, "expected a value, found \(describe(token))")
        }
    }

    private mutating func keys() throws(RuleError) -> [Expression] {
        var keys: [Expression] = []
        while take("[") {
            keys.append(try orExpression())
            try expect("]")
        }
        return keys
    }

    /// After the name: `(arguments)[keys]`.
    private mutating func call(name: String, column: Int) throws(RuleError) -> CallSyntax {
        try expect("(")
        var arguments: [ArgumentSyntax] = []
        if !take(")") {
            repeat {
                var argumentName: String?
                if case .identifier(let label) = current.kind, peek(1).kind == .punctuation("=") {
                    argumentName = label
                    index += 2
                }
                arguments.append(ArgumentSyntax(name: argumentName, value: try orExpression()))
            } while take(",")
            try expect(")")
        }
        return CallSyntax(name: name, arguments: arguments, keys: try keys(), column: column)
    }
}
