/// An editor call's arguments, bound to its parameters, with the checks every family uses: a
/// settable target of an allowed type, literal strings, ints and lists, patterns.
struct EditorArguments {
    let compiler: RuleCompiler
    let call: CallSyntax
    /// The arguments in parameter order (nil for an optional one not given).
    let bound: [Expression?]

    var name: String { call.name }

    /// Whether the optional argument at `index` was given.
    func has(_ index: Int) -> Bool { index < bound.count && bound[index] != nil }

    func target(_ kinds: Set<RuleType>) throws(RuleError) -> (RulePath, RuleType) {
        guard case .path(let syntax)? = bound[0] else {
            throw RuleError(
                .typeMismatch, column: bound[0]?.column ?? call.column,
                "the target of \(call.name) must be a path")
        }
        let (path, type, settable) = try compiler.path(syntax)
        guard settable else {
            throw RuleError(.typeMismatch, column: syntax.column, "'\(syntax.dotted)' cannot be changed")
        }
        guard kinds.contains(type) || type == .any else {
            throw RuleError(
                .typeMismatch, column: syntax.column,
                "\(call.name) needs a \(kinds.map(\.rawValue).sorted().joined(separator: " or ")) target; '\(syntax.dotted)' is \(type.rawValue)"
            )
        }
        return (path, type)
    }

    func value(_ index: Int, _ allowed: Set<RuleType>? = nil, _ what: String = "") throws(RuleError) -> Compiled {
        guard let syntax = bound[index] else { return .constant(.null) }
        let (compiled, type) = try compiler.expression(syntax)
        if let allowed, !allowed.contains(type), type != .any {
            throw RuleError(
                .typeMismatch, column: syntax.column, "\(call.name) needs \(what), not \(type.rawValue)")
        }
        return compiled
    }

    func constantString(_ index: Int, _ what: String) throws(RuleError) -> String {
        guard case .string(let text)? = try value(index).constant else {
            throw RuleError(
                .typeMismatch, column: bound[index]?.column ?? call.column, "\(what) must be a string literal")
        }
        return text
    }

    func constantInt(_ index: Int, _ what: String) throws(RuleError) -> Int {
        guard case .int(let number)? = try value(index).constant, number >= 0 else {
            throw RuleError(
                .typeMismatch, column: bound[index]?.column ?? call.column,
                "\(what) must be a non-negative int literal")
        }
        return Int(number)
    }

    func constantStrings(_ index: Int) throws(RuleError) -> [String] {
        guard bound[index] != nil else { return [] }
        guard case .list(let items)? = try value(index).constant else {
            throw RuleError(
                .typeMismatch, column: bound[index]?.column ?? call.column, "expected a list of string literals"
            )
        }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else {
                throw RuleError(
                    .typeMismatch, column: bound[index]?.column ?? call.column,
                    "expected a list of string literals")
            }
            strings.append(text)
        }
        return strings
    }

    func regex(_ index: Int) throws(RuleError) -> ByteRegex {
        let pattern = try constantString(index, "the pattern")
        do { return try ByteRegex(pattern) } catch {
            throw RuleError(.invalidRegex, column: bound[index]?.column ?? call.column, "\(error)")
        }
    }

    func glob(_ index: Int) throws(RuleError) -> GlobPattern {
        let pattern = try constantString(index, "the pattern")
        do { return try GlobPattern(pattern) } catch {
            throw RuleError(.invalidRegex, column: bound[index]?.column ?? call.column, "\(error)")
        }
    }

    func noFunctionArgument(_ index: Int) throws(RuleError) {
        if index < bound.count, let syntax = bound[index] {
            throw RuleError(
                .argumentCount, column: syntax.column, "the optional function argument is not supported yet")
        }
    }
}
