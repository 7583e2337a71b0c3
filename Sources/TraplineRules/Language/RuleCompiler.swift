import TraplineCore

/// Type-checks parsed OTTL and compiles it: paths to fields, enum names to numbers, patterns
/// to regexes. Every error carries the column inside the expression; nothing runs.
struct RuleCompiler {
    let signal: RuleSignal
    let context: RuleContext

    // MARK: Context inference

    /// The contexts a parsed expression names by path prefix.
    static func prefixes(_ expression: Expression, into result: inout [(RuleContext, Int)]) {
        switch expression {
        case .path(let path):
            if path.names.count > 1, let context = RuleContext(name: path.names[0].name) {
                result.append((context, path.column))
            }
            for key in path.keys { prefixes(key, into: &result) }
        case .call(let call):
            for argument in call.arguments { prefixes(argument.value, into: &result) }
            for key in call.keys { prefixes(key, into: &result) }
        case .list(let items, _): for item in items { prefixes(item, into: &result) }
        case .map(let pairs, _): for pair in pairs { prefixes(pair.value, into: &result) }
        case .binary(_, let left, let right, _):
            prefixes(left, into: &result)
            prefixes(right, into: &result)
        case .not(let inner, _), .negate(let inner, _): prefixes(inner, into: &result)
        default: break
        }
    }

    /// The deepest context named, checked against the signal and against each other.
    static func inferContext(_ named: [(RuleContext, Int)], signal: RuleSignal) throws(RuleError) -> RuleContext {
        var deepest: RuleContext?
        for (context, column) in named {
            guard signal.contexts.contains(context) else {
                throw RuleError(
                    .contextConflict, column: column,
                    "'\(context.rawValue)' paths cannot be used in \(signal.rawValue) rules")
            }
            if let current = deepest, current.depth >= context.depth {
                continue
            }
            deepest = context
        }
        let chosen = deepest ?? signal.defaultContext
        for (context, column) in named where !chosen.reaches(context) {
            throw RuleError(
                .contextConflict, column: column,
                "'\(context.rawValue)' paths cannot be mixed with '\(chosen.rawValue)' paths in one rule")
        }
        return chosen
    }

    // MARK: Expressions

    func expression(_ syntax: Expression) throws(RuleError) -> (Compiled, RuleType) {
        switch syntax {
        case .string(let value, _): return (.constant(.string(value)), .string)
        case .int(let value, _): return (.constant(.int(value)), .int)
        case .float(let value, _): return (.constant(.double(value)), .double)
        case .bool(let value, _): return (.constant(.bool(value)), .bool)
        case .bytes(let value, _): return (.constant(.bytes(value)), .bytes)
        case .null: return (.constant(.null), .null)
        case .enumName(let name, let column):
            guard let value = RuleEnums.values[name] else {
                let hint = NearestWord.suggestion(for: name, among: Array(RuleEnums.values.keys)).map {
                    "; did you mean \($0)?"
                }
                throw RuleError(.unknownEnum, column: column, "unknown enum '\(name)'" + (hint ?? ""))
            }
            return (.constant(.int(value)), .int)
        case .path(let path):
            let (compiled, type, _) = try self.path(path)
            return (.path(compiled), type)
        case .call(let call):
            return try converter(call)
        case .list(let items, _):
            var compiled: [Compiled] = []
            for item in items { compiled.append(try expression(item).0) }
            return (foldConstant(.list(compiled)), .list)
        case .map(let pairs, _):
            var compiled: [(key: String, value: Compiled)] = []
            for pair in pairs { compiled.append((pair.key, try expression(pair.value).0)) }
            return (.map(compiled), .map)
        case .not(let inner, let column):
            let (compiled, type) = try expression(inner)
            try requireBool(type, column: inner.column, what: "'not' needs a condition")
            _ = column
            return (.not(compiled), .bool)
        case .negate(let inner, let column):
            let (compiled, type) = try expression(inner)
            guard type.isNumeric || type == .duration || type == .any else {
                throw RuleError(.typeMismatch, column: column, "cannot negate a value of type \(type.rawValue)")
            }
            return (.negate(compiled), type)
        case .binary(let op, let left, let right, let column):
            let (lhs, leftType) = try expression(left)
            let (rhs, rightType) = try expression(right)
            switch op {
            case .and, .or:
                try requireBool(leftType, column: left.column, what: "'\(op.rawValue)' joins conditions")
                try requireBool(rightType, column: right.column, what: "'\(op.rawValue)' joins conditions")
                var items: [Compiled] = []
                for side in [lhs, rhs] {
                    // Flatten chains so evaluation narrows one selection through all of them.
                    switch (op, side) {
                    case (.and, .and(let nested)), (.or, .or(let nested)): items += nested
                    default: items.append(side)
                    }
                }
                return (op == .and ? .and(items) : .or(items), .bool)
            case .equal, .notEqual:
                guard leftType.isComparable(with: rightType) else {
                    throw RuleError(
                        .typeMismatch, column: column,
                        "comparing \(leftType.rawValue) with \(rightType.rawValue) is never true"
                            + (leftType == .int && rightType == .string
                                ? "; use an enum name such as SPAN_KIND_SERVER" : ""))
                }
                return (.compare(op, lhs, rhs), .bool)
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                let orderable: Set<RuleType> = [.int, .double, .string, .time, .duration, .any]
                guard orderable.contains(leftType), orderable.contains(rightType),
                    leftType.isComparable(with: rightType), leftType != .null, rightType != .null
                else {
                    throw RuleError(
                        .typeMismatch, column: column,
                        "'\(op.rawValue)' cannot order \(leftType.rawValue) and \(rightType.rawValue)")
                }
                return (.compare(op, lhs, rhs), .bool)
            case .add, .subtract, .multiply, .divide:
                let type = try arithmeticType(op, leftType, rightType, column: column)
                return (.arithmetic(op, lhs, rhs), type)
            }
        }
    }

    private func foldConstant(_ list: Compiled) -> Compiled {
        guard case .list(let items) = list else { return list }
        var values: [RuleValue] = []
        for item in items {
            guard let constant = item.constant else { return list }
            values.append(constant)
        }
        return .constant(.list(values))
    }

    private func requireBool(_ type: RuleType, column: Int, what: String) throws(RuleError) {
        guard type == .bool || type == .any else {
            throw RuleError(.typeMismatch, column: column, "\(what), but this is \(type.rawValue)")
        }
    }

    private func arithmeticType(_ op: BinaryOperator, _ left: RuleType, _ right: RuleType, column: Int)
        throws(RuleError) -> RuleType
    {
        switch (op, left, right) {
        case (_, .any, _), (_, _, .any): return .any
        case (_, .int, .int): return .int
        case (_, .int, .double), (_, .double, .int), (_, .double, .double): return .double
        case (.subtract, .time, .time): return .duration
        case (.add, .time, .duration), (.subtract, .time, .duration), (.add, .duration, .time): return .time
        case (.add, .duration, .duration), (.subtract, .duration, .duration): return .duration
        case (.multiply, .duration, .int), (.multiply, .int, .duration), (.divide, .duration, .int): return .duration
        default:
            throw RuleError(
                .typeMismatch, column: column,
                "'\(op.rawValue)' is not defined for \(left.rawValue) and \(right.rawValue)")
        }
    }

    // MARK: Paths

    /// Resolves a path: its context prefix (or the rule's context), field and keys.
    func path(_ syntax: PathSyntax) throws(RuleError) -> (RulePath, RuleType, settable: Bool) {
        var names = syntax.names.map(\.name)
        var pathContext = context
        if names.count > 1, let prefix = RuleContext(name: names[0]) {
            pathContext = prefix
            names.removeFirst()
        }
        guard signal.contexts.contains(pathContext), context.reaches(pathContext) else {
            throw RuleError(
                .contextConflict, column: syntax.column,
                "'\(pathContext.rawValue)' paths cannot be used in a \(context.rawValue) rule")
        }
        let dotted = names.joined(separator: ".")
        guard let (field, baseType, settable) = RuleField.lookup(dotted, in: pathContext) else {
            let known = RuleField.names(in: pathContext)
            let hint = NearestWord.suggestion(for: dotted, among: known).map { "; did you mean '\($0)'?" } ?? ""
            throw RuleError(
                .unknownPath, column: syntax.column,
                "'\(syntax.dotted)' is not a path of the \(pathContext.rawValue) context" + hint)
        }
        var keys: [Compiled] = []
        for key in syntax.keys {
            let (compiled, type) = try expression(key)
            guard [.string, .int, .any].contains(type) else {
                throw RuleError(
                    .typeMismatch, column: key.column, "a key must be a string or an int, not \(type.rawValue)")
            }
            keys.append(compiled)
        }
        if !keys.isEmpty, ![.map, .any, .list].contains(baseType) {
            throw RuleError(
                .typeMismatch, column: syntax.keys[0].column,
                "'\(syntax.dotted)' is \(baseType.rawValue) and cannot be indexed")
        }
        return (RulePath(field: field, keys: keys, context: pathContext), keys.isEmpty ? baseType : .any, settable)
    }

    /// The value of an expression of constants; nil when it fails (it then fails per item, as
    /// the Collector reports it).
    static func fold(_ expression: Compiled) -> RuleValue? {
        var batch = LogBatch()
        batch.reset(input: nil, frame: 0..<0, sourceOffset: 0)
        let evaluator = RuleEvaluator<LogBatch>(now: 0)
        return try? batch.storage.reading { bytes throws(RuleRuntimeError) in
            try evaluator.evaluate(expression, batch, RulePosition(), bytes).owned(bytes)
        }
    }

    // MARK: Editors

    /// Compiles a statement's editor: the function's family (assign, map editing, replace)
    /// checks and compiles its arguments.
    func editor(_ call: CallSyntax) throws(RuleError) -> Editor {
        guard let signature = RuleFunctions.editors[call.name] else {
            let message =
                RuleFunctions.converters[call.name] != nil
                ? "'\(call.name)' is a converter; a statement starts with an editor such as set"
                : "unknown editor '\(call.name)'"
                    + (NearestWord.suggestion(for: call.name, among: Array(RuleFunctions.editors.keys)).map {
                        "; did you mean \($0)?"
                    } ?? "")
            throw RuleError(.unknownFunction, column: call.column, message)
        }
        let arguments = EditorArguments(compiler: self, call: call, bound: try signature.bind(call))
        if let editor = try AssignEditors.compile(arguments) { return editor }
        if let editor = try MapEditors.compile(arguments) { return editor }
        if let editor = try ReplaceEditors.compile(arguments) { return editor }
        throw RuleError(.unknownFunction, column: call.column, "unknown editor '\(call.name)'")
    }
}

/// Parameter lists of the functions: names (for named arguments) and how many are required.
struct RuleSignature {
    var parameters: [String]
    var required: Int

    /// The arguments in parameter order (nil for an optional one not given).
    func bind(_ call: CallSyntax) throws(RuleError) -> [Expression?] {
        var bound = [Expression?](repeating: nil, count: parameters.count)
        var positional = 0
        for argument in call.arguments {
            if let name = argument.name {
                guard let index = parameters.firstIndex(of: name) else {
                    throw RuleError(
                        .argumentCount, column: argument.value.column,
                        "\(call.name) has no parameter '\(name)' (parameters: \(parameters.joined(separator: ", ")))")
                }
                bound[index] = argument.value
            } else {
                guard positional < parameters.count else {
                    throw RuleError(
                        .argumentCount, column: argument.value.column,
                        "\(call.name) takes at most \(parameters.count) argument\(parameters.count == 1 ? "" : "s"), got \(call.arguments.count)"
                    )
                }
                bound[positional] = argument.value
                positional += 1
            }
        }
        if let missing = (0..<required).first(where: { bound[$0] == nil }) {
            throw RuleError(
                .argumentCount, column: call.column,
                "\(call.name) needs \(required) argument\(required == 1 ? "" : "s") (\(parameters.prefix(required).joined(separator: ", "))), got \(call.arguments.count); '\(parameters[missing])' is missing"
            )
        }
        return bound
    }
}

/// The functions Trapline implements, by name.
enum RuleFunctions {
    static let converters: [String: RuleSignature] = [
        "IsMatch": .init(parameters: ["target", "pattern"], required: 2),
        "Concat": .init(parameters: ["vals", "delimiter"], required: 2),
        "Split": .init(parameters: ["target", "delimiter"], required: 2),
        "Substring": .init(parameters: ["target", "start", "length"], required: 3),
        "ConvertCase": .init(parameters: ["target", "toCase"], required: 2),
        "ToLowerCase": .init(parameters: ["target"], required: 1),
        "ToUpperCase": .init(parameters: ["target"], required: 1),
        "Len": .init(parameters: ["target"], required: 1),
        "Int": .init(parameters: ["target"], required: 1),
        "Double": .init(parameters: ["target"], required: 1),
        "String": .init(parameters: ["target"], required: 1),
        "IsString": .init(parameters: ["target"], required: 1),
        "IsInt": .init(parameters: ["target"], required: 1),
        "IsDouble": .init(parameters: ["target"], required: 1),
        "IsBool": .init(parameters: ["target"], required: 1),
        "IsMap": .init(parameters: ["target"], required: 1),
        "IsList": .init(parameters: ["target"], required: 1),
        "ParseJSON": .init(parameters: ["target"], required: 1),
        "ExtractPatterns": .init(parameters: ["target", "pattern"], required: 2),
        "SHA256": .init(parameters: ["input"], required: 1),
        "TraceID": .init(parameters: ["bytes"], required: 1),
        "SpanID": .init(parameters: ["bytes"], required: 1),
        "Duration": .init(parameters: ["duration"], required: 1),
        "Time": .init(parameters: ["time", "format", "location", "locale"], required: 2),
        "UnixNano": .init(parameters: ["time"], required: 1),
        "UnixMicro": .init(parameters: ["time"], required: 1),
        "UnixMilli": .init(parameters: ["time"], required: 1),
        "UnixSeconds": .init(parameters: ["time"], required: 1),
        "Now": .init(parameters: [], required: 0),
        "Hex": .init(parameters: ["value"], required: 1),
        "IsRootSpan": .init(parameters: [], required: 0),
        "SamplingProbability": .init(parameters: ["trace_state"], required: 1),
    ]

    static let editors: [String: RuleSignature] = [
        "set": .init(parameters: ["target", "value"], required: 2),
        "delete_key": .init(parameters: ["target", "key"], required: 2),
        "delete_matching_keys": .init(parameters: ["target", "pattern"], required: 2),
        "keep_keys": .init(parameters: ["target", "keys"], required: 2),
        "keep_matching_keys": .init(parameters: ["target", "pattern"], required: 2),
        "limit": .init(parameters: ["target", "limit", "priority_keys"], required: 2),
        "truncate_all": .init(parameters: ["target", "limit"], required: 2),
        "replace_pattern": .init(parameters: ["target", "regex", "replacement", "function"], required: 3),
        "replace_all_patterns": .init(
            parameters: ["target", "mode", "regex", "replacement", "function"], required: 4),
        "replace_match": .init(parameters: ["target", "pattern", "replacement", "function"], required: 3),
        "replace_all_matches": .init(parameters: ["target", "pattern", "replacement", "function"], required: 3),
        "merge_maps": .init(parameters: ["target", "source", "strategy"], required: 3),
        "flatten": .init(parameters: ["target", "prefix", "depth"], required: 1),
        "append": .init(parameters: ["target", "value", "values"], required: 1),
    ]
}

/// OTTL's enum names.
enum RuleEnums {
    static let values: [String: Int64] = {
        var values: [String: Int64] = [
            "SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3,
            "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5, "STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1,
            "STATUS_CODE_ERROR": 2, "SEVERITY_NUMBER_UNSPECIFIED": 0, "METRIC_DATA_TYPE_NONE": 0,
            "METRIC_DATA_TYPE_GAUGE": 1, "METRIC_DATA_TYPE_SUM": 2, "METRIC_DATA_TYPE_HISTOGRAM": 3,
            "METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM": 4, "METRIC_DATA_TYPE_SUMMARY": 5,
            "AGGREGATION_TEMPORALITY_UNSPECIFIED": 0, "AGGREGATION_TEMPORALITY_DELTA": 1,
            "AGGREGATION_TEMPORALITY_CUMULATIVE": 2,
        ]
        for (index, level) in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].enumerated() {
            let base = Int64(index * 4 + 1)
            values["SEVERITY_NUMBER_\(level)"] = base
            for step in 2...4 { values["SEVERITY_NUMBER_\(level)\(step)"] = base + Int64(step - 1) }
        }
        return values
    }()
}

/// The closest known word by edit distance, for hints.
enum NearestWord {
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(Array(word.lowercased()), Array($0.lowercased()))) }
        guard let best = scored.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }), best.1 <= max(2, word.count / 3) else {
            return nil
        }
        return best.0
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
