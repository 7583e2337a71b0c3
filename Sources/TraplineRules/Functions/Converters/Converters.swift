import TraplineCore

// The converters (`IsMatch`, `Concat`, `Split`, `ConvertCase`, `Int`, `ParseJSON`, `SHA256`,
// `Duration`, `Time`, `SamplingProbability`, `IsRootSpan` …): compiled and run here, with
// their helpers in `ConverterSupport.swift`.

extension RuleCompiler {
    /// Compiles a converter call: its arguments type-checked, constant calls folded.
    func converter(_ call: CallSyntax) throws(RuleError) -> (Compiled, RuleType) {
        guard let signature = RuleFunctions.converters[call.name] else {
            if RuleFunctions.editors[call.name] != nil {
                throw RuleError(
                    .unknownFunction, column: call.column,
                    "'\(call.name)' is an editor; it can only start a statement")
            }
            let hint =
                NearestWord.suggestion(for: call.name, among: Array(RuleFunctions.converters.keys)).map {
                    "; did you mean \($0)?"
                } ?? ""
            throw RuleError(.unknownFunction, column: call.column, "unknown converter '\(call.name)'" + hint)
        }
        let arguments = try signature.bind(call)
        var compiled: [Compiled] = []
        var types: [RuleType] = []
        for argument in arguments {
            guard let argument else {
                compiled.append(.constant(.null))
                types.append(.null)
                continue
            }
            let (value, type) = try expression(argument)
            compiled.append(value)
            types.append(type)
        }
        func constantString(_ index: Int, _ what: String) throws(RuleError) -> String {
            guard case .string(let text)? = compiled[index].constant else {
                throw RuleError(
                    .typeMismatch, column: arguments[index]?.column ?? call.column, "\(what) must be a string literal")
            }
            return text
        }
        func regex(_ index: Int) throws(RuleError) -> ByteRegex {
            let pattern = try constantString(index, "the pattern")
            do {
                return try ByteRegex(pattern)
            } catch {
                throw RuleError(.invalidRegex, column: arguments[index]?.column ?? call.column, "\(error)")
            }
        }
        func expect(_ index: Int, _ allowed: Set<RuleType>, _ what: String) throws(RuleError) {
            guard index < types.count, allowed.contains(types[index]) || types[index] == .any else {
                throw RuleError(
                    .typeMismatch, column: arguments[index]?.column ?? call.column,
                    "\(call.name) needs \(what), not \(types[index].rawValue)")
            }
        }
        let converter: Converter
        let result: RuleType
        switch call.name {
        case "IsMatch":
            try expect(0, [.string, .int, .double, .bool, .null], "a string")
            converter = .isMatch(try regex(1))
            result = .bool
        case "Concat":
            try expect(0, [.list], "a list")
            try expect(1, [.string], "a string delimiter")
            (converter, result) = (.concat, .string)
        case "Split":
            try expect(0, [.string], "a string")
            try expect(1, [.string], "a string delimiter")
            (converter, result) = (.split, .list)
        case "Substring":
            try expect(0, [.string], "a string")
            try expect(1, [.int], "an int start")
            try expect(2, [.int], "an int length")
            (converter, result) = (.substring, .string)
        case "ConvertCase":
            try expect(0, [.string], "a string")
            let mode = try constantString(1, "the case")
            guard let caseMode = Converter.CaseMode(rawValue: mode) else {
                throw RuleError(
                    .typeMismatch, column: arguments[1]?.column ?? call.column,
                    "the case must be lower, upper, snake or camel")
            }
            (converter, result) = (.convertCase(caseMode), .string)
        case "ToLowerCase", "ToUpperCase":
            try expect(0, [.string], "a string")
            (converter, result) = (call.name == "ToLowerCase" ? .toLowerCase : .toUpperCase, .string)
        case "Len":
            try expect(0, [.string, .list, .map, .bytes], "a string, list or map")
            (converter, result) = (.length, .int)
        case "Int": (converter, result) = (.int, .int)
        case "Double": (converter, result) = (.double, .double)
        case "String": (converter, result) = (.string, .string)
        case "IsString": (converter, result) = (.isType(.string), .bool)
        case "IsInt": (converter, result) = (.isType(.int), .bool)
        case "IsDouble": (converter, result) = (.isType(.double), .bool)
        case "IsBool": (converter, result) = (.isType(.bool), .bool)
        case "IsMap": (converter, result) = (.isType(.map), .bool)
        case "IsList": (converter, result) = (.isType(.list), .bool)
        case "ParseJSON":
            try expect(0, [.string], "a string")
            (converter, result) = (.parseJSON, .any)
        case "ExtractPatterns":
            try expect(0, [.string], "a string")
            let pattern = try regex(1)
            guard pattern.groupNames.contains(where: { $0 != nil }) else {
                throw RuleError(
                    .invalidRegex, column: arguments[1]?.column ?? call.column,
                    "the pattern needs at least one named group, like (?P<name>…)")
            }
            (converter, result) = (.extractPatterns(pattern), .map)
        case "SHA256":
            try expect(0, [.string], "a string")
            (converter, result) = (.sha256, .string)
        case "TraceID", "SpanID":
            let length = call.name == "TraceID" ? 16 : 8
            guard case .bytes(let bytes)? = compiled[0].constant, bytes.count == length else {
                throw RuleError(
                    .typeMismatch, column: arguments[0]?.column ?? call.column,
                    "\(call.name) needs \(length) bytes written as 0x followed by \(length * 2) hex digits")
            }
            (converter, result) = call.name == "TraceID" ? (.traceID, .traceID) : (.spanID, .spanID)
        case "Duration":
            try expect(0, [.string], "a string such as \"1s\"")
            if case .string(let text)? = compiled[0].constant, DurationText.parse(text) == nil {
                throw RuleError(
                    .typeMismatch, column: arguments[0]?.column ?? call.column,
                    "'\(text)' is not a duration; write it like 300ms, 1.5s or 1h30m")
            }
            (converter, result) = (.duration, .duration)
        case "Time":
            try expect(0, [.string], "a string")
            if let extra = arguments.dropFirst(2).compactMap({ $0 }).first {
                throw RuleError(
                    .argumentCount, column: extra.column,
                    "Time's location and locale arguments are not supported yet; times are read as UTC or with %z")
            }
            let format = try constantString(1, "the format")
            guard let parsed = TimeFormat(format) else {
                throw RuleError(
                    .typeMismatch, column: arguments[1]?.column ?? call.column,
                    "unsupported directive in time format '\(format)'")
            }
            (converter, result) = (.time(parsed), .time)
        case "UnixNano", "UnixMicro", "UnixMilli", "UnixSeconds":
            try expect(0, [.time], "a time")
            let units: [String: Converter] = [
                "UnixNano": .unixNano, "UnixMicro": .unixMicro, "UnixMilli": .unixMilli, "UnixSeconds": .unixSeconds,
            ]
            (converter, result) = (units[call.name]!, .int)
        case "Now": (converter, result) = (.now, .time)
        case "Hex": (converter, result) = (.hex, .string)
        case "SamplingProbability":
            try expect(0, [.string], "a tracestate string")
            (converter, result) = (.samplingProbability, .double)
        case "IsRootSpan":
            guard context == .span else {
                throw RuleError(.contextConflict, column: call.column, "IsRootSpan() is only defined for spans")
            }
            (converter, result) = (.isRootSpan, .bool)
        default:
            throw RuleError(.unknownFunction, column: call.column, "unknown converter '\(call.name)'")
        }
        var keys: [Compiled] = []
        for key in call.keys { keys.append(try expression(key).0) }
        let node = Compiled.call(converter, compiled, keys: keys)
        if converter.isPure, compiled.allSatisfy({ $0.constant != nil }), keys.allSatisfy({ $0.constant != nil }),
            let folded = Self.fold(node)
        {
            // `Duration("1s")` and friends are computed once here, not once per item.
            return (.constant(folded), keys.isEmpty ? result : .any)
        }
        return (node, keys.isEmpty ? result : .any)
    }
}

extension RuleEvaluator {
    /// Runs a converter on its evaluated arguments.
    func call(
        _ converter: Converter, _ arguments: [Compiled], _ batch: Batch, _ position: RulePosition, _ bytes: BatchBytes
    ) throws(RuleRuntimeError) -> RuleValue {
        func argument(_ index: Int) throws(RuleRuntimeError) -> RuleValue {
            try evaluate(arguments[index], batch, position, bytes)
        }
        func string(_ index: Int) throws(RuleRuntimeError) -> String {
            let value = try argument(index)
            guard let text = value.string(bytes) else {
                throw RuleRuntimeError("expected a string, got \(value.typeName)")
            }
            return text
        }
        switch converter {
        case .isMatch(let regex):
            let value = try argument(0)
            if let matched = value.withUTF8(bytes, { regex.isMatch($0) }) { return .bool(matched) }
            if value.isNull { return .bool(false) }
            return .bool(regex.isMatch(Self.stringify(value, bytes)))
        case .concat:
            let list = try argument(0).list(bytes) ?? []
            return .string(list.map { Self.stringify($0, bytes) }.joined(separator: try string(1)))
        case .split:
            let text = try string(0)
            let delimiter = try string(1)
            guard !delimiter.isEmpty else { return .list(text.map { .string(String($0)) }) }
            return .list(text.split(separator: delimiter, omittingEmptySubsequences: false).map { .string(String($0)) })
        case .substring:
            let text = Array(try string(0).utf8)
            guard case .int(let start) = try argument(1), case .int(let length) = try argument(2), start >= 0,
                length >= 0, start + length <= Int64(text.count)
            else { throw RuleRuntimeError("Substring range is outside the string (\(text.count) bytes)") }
            return .string(String(decoding: text[Int(start)..<Int(start + length)], as: UTF8.self))
        case .convertCase(let mode): return .string(Self.convertCase(try string(0), mode))
        case .toLowerCase: return .string(try string(0).lowercased())
        case .toUpperCase: return .string(try string(0).uppercased())
        case .length:
            let value = try argument(0)
            switch value {
            case .text(let slice): return .int(Int64(slice.count))
            case .string(let text): return .int(Int64(text.utf8.count))
            case .bytes, .byteSlice: return .int(Int64(Self.rawBytes(value, bytes)?.count ?? 0))
            default:
                if let list = value.list(bytes) { return .int(Int64(list.count)) }
                if let map = value.map(bytes) { return .int(Int64(map.count)) }
                throw RuleRuntimeError("Len needs a string, list or map, got \(value.typeName)")
            }
        case .int:
            switch try argument(0) {
            case .int(let number): return .int(number)
            case .double(let number):
                guard number.isFinite, abs(number) < 9.2e18 else { return .null }
                return .int(Int64(number))
            case .bool(let flag): return .int(flag ? 1 : 0)
            case let value:
                guard let text = value.string(bytes) else { return .null }
                return Int64(text).map { .int($0) } ?? .null
            }
        case .double:
            switch try argument(0) {
            case .int(let number): return .double(Double(number))
            case .double(let number): return .double(number)
            case .bool(let flag): return .double(flag ? 1 : 0)
            case let value:
                guard let text = value.string(bytes) else { return .null }
                return Double(text).map { .double($0) } ?? .null
            }
        case .string:
            let value = try argument(0)
            return value.isNull ? .null : .string(Self.stringify(value, bytes))
        case .isType(let type):
            let value = try argument(0)
            switch (type, value) {
            case (.string, .text), (.string, .string), (.int, .int), (.double, .double), (.bool, .bool),
                (.map, .map), (.map, .rawMap), (.list, .list), (.list, .rawList):
                return .bool(true)
            default: return .bool(false)
            }
        case .parseJSON:
            let text = try string(0)
            guard let parsed = JSONValueParser.parse(text) else { throw RuleRuntimeError("ParseJSON: not valid JSON") }
            return parsed
        case .extractPatterns(let regex):
            var text = try string(0)
            var result = RuleMap()
            text.withUTF8 { utf8 in
                let raw = UnsafeRawBufferPointer(utf8)
                guard let match = regex.firstMatch(raw) else { return }
                for (index, name) in regex.groupNames.enumerated() {
                    guard let name, let range = match[index] else { continue }
                    result[name] = .string(
                        String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self))
                }
            }
            return .map(result)
        case .sha256: return .string(SHA256Digest.hex(Array(try string(0).utf8)))
        case .traceID:
            guard case .bytes(let raw)? = arguments[0].constant else { return .null }
            return .traceID(
                TraceID(
                    high: raw[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) },
                    low: raw[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))
        case .spanID:
            guard case .bytes(let raw)? = arguments[0].constant else { return .null }
            return .spanID(SpanID(raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))
        case .duration:
            let text = try string(0)
            guard let nanoseconds = DurationText.parse(text) else {
                throw RuleRuntimeError("Duration: '\(text)' is not a duration")
            }
            return .duration(nanoseconds)
        case .time(let format):
            let text = try string(0)
            guard let time = format.parse(text) else {
                throw RuleRuntimeError("Time: '\(text)' does not fit the format")
            }
            return .time(time)
        case .unixNano, .unixMicro, .unixMilli, .unixSeconds:
            guard case .time(let time) = try argument(0) else { throw RuleRuntimeError("expected a time") }
            let divisor: Int64 =
                switch converter {
                case .unixMicro: 1_000
                case .unixMilli: 1_000_000
                case .unixSeconds: 1_000_000_000
                default: 1
                }
            return .int(time / divisor)
        case .now: return .time(now)
        case .hex:
            let value = try argument(0)
            let raw: [UInt8]
            switch value {
            case .traceID(let id): return .string(id.description)
            case .spanID(let id): return .string(id.description)
            case .int(let number):
                raw = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: number) >> (56 - 8 * UInt64($0))) }
            case .double(let number):
                raw = (0..<8).map { UInt8(truncatingIfNeeded: number.bitPattern >> (56 - 8 * UInt64($0))) }
            case .bool(let flag): raw = [flag ? 1 : 0]
            default: raw = Self.rawBytes(value, bytes) ?? Array((value.string(bytes) ?? "").utf8)
            }
            return .string(raw.map { byte in String(byte >> 4, radix: 16) + String(byte & 15, radix: 16) }.joined())
        case .samplingProbability:
            let value = try argument(0)
            let probability = value.withUTF8(bytes) { SamplingThreshold.probability(inTraceState: $0) }
            return probability?.map { .double($0) } ?? .null
        case .isRootSpan:
            guard case .spanID(let parent) = batch.readField(.parentSpanID(hex: false), at: position, bytes) else {
                return .bool(false)
            }
            return .bool(parent.isZero)
        }
    }

    static func convertCase(_ text: String, _ mode: Converter.CaseMode) -> String {
        switch mode {
        case .lower: return text.lowercased()
        case .upper: return text.uppercased()
        case .snake:
            var result = ""
            for character in text {
                if character.isUppercase {
                    if !result.isEmpty && result.last != "_" { result += "_" }
                    result += character.lowercased()
                } else {
                    result.append(character == " " || character == "-" ? "_" : character)
                }
            }
            return result
        case .camel:
            return text.split(whereSeparator: { $0 == "_" || $0 == " " || $0 == "-" }).map { word in
                word.prefix(1).uppercased() + word.dropFirst()
            }.joined()
        }
    }
}
