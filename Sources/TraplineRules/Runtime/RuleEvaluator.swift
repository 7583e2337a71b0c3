import TraplineCore

/// Runs compiled expressions and editors on one item at a time, generic over the batch type so
/// each signal gets its own specialized code. Holds the item's `cache` map.
struct RuleEvaluator<Batch: RuleBatch> {
    /// The `cache` path of the current item (reset for each item).
    var cache = RuleMap()
    /// `Now()` for the whole batch, so every item sees the same time.
    let now: Int64
    /// Literal attribute keys already copied to this batch's arena, by the address of the
    /// compiled key's bytes (stable for the program's life). One evaluator serves one batch.
    var keySlices: [(UnsafeRawPointer, ByteSlice)] = []
    /// Buffers reused by every regex replacement of the batch.
    var scratchVM: RegexPikeVM?
    var scratchOutput: [UInt8] = []

    init(now: Int64) { self.now = now }

    // MARK: Reading

    func read(_ path: RulePath, _ batch: Batch, _ position: RulePosition, _ bytes: BatchBytes) throws(RuleRuntimeError)
        -> RuleValue
    {
        var value: RuleValue
        var keys = path.keys[...]
        switch path.field {
        case .attributes(let owner):
            if let literal = path.literalKey {
                let found = literal.withUnsafeBytes { batch.attribute(owner, at: position, key: $0, bytes) }
                value = found.map { RuleValue(attribute: $0, bytes) } ?? .null
                keys = keys.dropFirst()
            } else if let first = keys.first {
                let key = try evaluate(first, batch, position, bytes)
                let found = key.withUTF8(bytes) { batch.attribute(owner, at: position, key: $0, bytes) }
                value = found.flatMap { $0.map { RuleValue(attribute: $0, bytes) } } ?? .null
                keys = keys.dropFirst()
            } else {
                value = .map(attributeMap(owner, batch, position, bytes))
            }
        case .cache: value = .map(cache)
        default: value = batch.readField(path.field, at: position, bytes)
        }
        for key in keys {
            if value.isNull { break }
            value = value.index(try evaluate(key, batch, position, bytes), bytes)
        }
        return value
    }

    func attributeMap(_ owner: AttributeOwner, _ batch: Batch, _ position: RulePosition, _ bytes: BatchBytes) -> RuleMap
    {
        var map = RuleMap()
        let range = batch.attributeRange(owner, at: position)
        let table = batch.attributeTable(owner)
        for index in range.range {
            map[bytes.string(table.keys[index])] = RuleValue(attribute: table.values[index], bytes)
        }
        return map
    }

    // MARK: Expressions

    func evaluate(_ expression: Compiled, _ batch: Batch, _ position: RulePosition, _ bytes: BatchBytes)
        throws(RuleRuntimeError) -> RuleValue
    {
        switch expression {
        case .constant(let value): return value
        case .path(let path): return try read(path, batch, position, bytes)
        case .call(let converter, let arguments, let keys):
            var value = try call(converter, arguments, batch, position, bytes)
            for key in keys { value = value.index(try evaluate(key, batch, position, bytes), bytes) }
            return value
        case .list(let items):
            var values: [RuleValue] = []
            for item in items { values.append(try evaluate(item, batch, position, bytes)) }
            return .list(values)
        case .map(let pairs):
            var map = RuleMap()
            for pair in pairs { map[pair.key] = try evaluate(pair.value, batch, position, bytes) }
            return .map(map)
        case .arithmetic(let op, let left, let right):
            return try Self.arithmetic(
                op, try evaluate(left, batch, position, bytes), try evaluate(right, batch, position, bytes))
        case .negate(let inner):
            switch try evaluate(inner, batch, position, bytes) {
            case .int(let number): return .int(0 &- number)
            case .double(let number): return .double(-number)
            case .duration(let number): return .duration(0 &- number)
            case let other: throw RuleRuntimeError("cannot negate \(other.typeName)")
            }
        case .compare, .and, .or, .not: return .bool(try test(expression, batch, position, bytes))
        }
    }

    /// A condition's truth for one item, resolving the batch's bytes (`batch` borrowed, never
    /// captured from a caller's `inout`, which would copy it).
    func test(_ condition: Compiled, in batch: Batch, _ position: RulePosition) throws(RuleRuntimeError) -> Bool {
        try batch.storage.reading { bytes throws(RuleRuntimeError) in try test(condition, batch, position, bytes) }
    }

    /// A condition's truth for one item.
    func test(_ condition: Compiled, _ batch: Batch, _ position: RulePosition, _ bytes: BatchBytes)
        throws(RuleRuntimeError) -> Bool
    {
        switch condition {
        case .compare(let op, let left, let right):
            let lhs = try evaluate(left, batch, position, bytes)
            let rhs = try evaluate(right, batch, position, bytes)
            return Self.compare(op, lhs, rhs, bytes)
        case .and(let items):
            for item in items where !(try test(item, batch, position, bytes)) { return false }
            return true
        case .or(let items):
            for item in items where try test(item, batch, position, bytes) { return true }
            return false
        case .not(let inner): return !(try test(inner, batch, position, bytes))
        default:
            switch try evaluate(condition, batch, position, bytes) {
            case .bool(let flag): return flag
            case .null: return false
            case let other: throw RuleRuntimeError("a condition evaluated to \(other.typeName), not bool")
            }
        }
    }

    // MARK: Comparison and arithmetic

    static func compare(_ op: BinaryOperator, _ left: RuleValue, _ right: RuleValue, _ bytes: BatchBytes) -> Bool {
        switch op {
        case .equal: return equal(left, right, bytes)
        case .notEqual: return !equal(left, right, bytes)
        default:
            guard let order = ordering(left, right, bytes) else { return false }
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }

    static func equal(_ left: RuleValue, _ right: RuleValue, _ bytes: BatchBytes) -> Bool {
        switch (left, right) {
        case (.null, .null): return true
        case (.null, _), (_, .null): return false
        case (.int(let a), .int(let b)): return a == b
        case (.int(let a), .double(let b)): return Double(a) == b
        case (.double(let a), .int(let b)): return a == Double(b)
        case (.double(let a), .double(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.time(let a), .time(let b)), (.duration(let a), .duration(let b)): return a == b
        case (.traceID(let a), .traceID(let b)): return a == b
        case (.spanID(let a), .spanID(let b)): return a == b
        case (.text, _), (.string, _):
            return left.withUTF8(bytes) { a in right.withUTF8(bytes) { b in sameBytes(a, b) } ?? false } ?? false
        case (.bytes, _), (.byteSlice, _):
            return rawBytes(left, bytes).map { a in rawBytes(right, bytes).map { a == $0 } ?? false } ?? false
        case (.map, _), (.rawMap, _), (.list, _), (.rawList, _):
            let a = left.owned(bytes)
            let b = right.owned(bytes)
            switch (a, b) {
            case (.map(let x), .map(let y)):
                return x.count == y.count
                    && x.entries.allSatisfy { entry in y[entry.key].map { equal(entry.value, $0, bytes) } ?? false }
            case (.list(let x), .list(let y)):
                return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1, bytes) }
            default: return false
            }
        default: return false
        }
    }

    static func rawBytes(_ value: RuleValue, _ bytes: BatchBytes) -> [UInt8]? {
        switch value {
        case .bytes(let data): data
        case .byteSlice(let slice): Array(bytes[slice])
        default: nil
        }
    }

    @inline(__always)
    static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    /// -1, 0 or 1 for values that order (numbers, strings, times, durations); nil otherwise.
    static func ordering(_ left: RuleValue, _ right: RuleValue, _ bytes: BatchBytes) -> Int? {
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }
        switch (left, right) {
        case (.int(let a), .int(let b)): return sign(a, b)
        case (.int(let a), .double(let b)): return sign(Double(a), b)
        case (.double(let a), .int(let b)): return sign(a, Double(b))
        case (.double(let a), .double(let b)): return a.isNaN || b.isNaN ? nil : sign(a, b)
        case (.time(let a), .time(let b)), (.duration(let a), .duration(let b)): return sign(a, b)
        case (.text, _), (.string, _):
            return left.withUTF8(bytes) { a in
                right.withUTF8(bytes) { b in
                    let common = min(a.count, b.count)
                    let result = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
                    return result != 0 ? (result < 0 ? -1 : 1) : sign(a.count, b.count)
                }
            } ?? nil
        default: return nil
        }
    }

    static func arithmetic(_ op: BinaryOperator, _ left: RuleValue, _ right: RuleValue) throws(RuleRuntimeError)
        -> RuleValue
    {
        switch (op, left, right) {
        case (_, .int(let a), .int(let b)):
            switch op {
            case .add: return .int(a &+ b)
            case .subtract: return .int(a &- b)
            case .multiply: return .int(a &* b)
            default:
                guard b != 0 else { throw RuleRuntimeError("division by zero") }
                return .int(a.dividedReportingOverflow(by: b).partialValue)
            }
        case (_, .int, .double), (_, .double, .int), (_, .double, .double):
            let a: Double = if case .int(let x) = left { Double(x) } else if case .double(let x) = left { x } else { 0 }
            let b: Double =
                if case .int(let x) = right { Double(x) } else if case .double(let x) = right { x } else { 0 }
            switch op {
            case .add: return .double(a + b)
            case .subtract: return .double(a - b)
            case .multiply: return .double(a * b)
            default:
                guard b != 0 else { throw RuleRuntimeError("division by zero") }
                return .double(a / b)
            }
        case (.subtract, .time(let a), .time(let b)): return .duration(a &- b)
        case (.add, .time(let a), .duration(let b)), (.add, .duration(let b), .time(let a)): return .time(a &+ b)
        case (.subtract, .time(let a), .duration(let b)): return .time(a &- b)
        case (.add, .duration(let a), .duration(let b)): return .duration(a &+ b)
        case (.subtract, .duration(let a), .duration(let b)): return .duration(a &- b)
        case (.multiply, .duration(let a), .int(let b)), (.multiply, .int(let b), .duration(let a)):
            return .duration(a &* b)
        case (.divide, .duration(let a), .int(let b)):
            guard b != 0 else { throw RuleRuntimeError("division by zero") }
            return .duration(a.dividedReportingOverflow(by: b).partialValue)
        default:
            throw RuleRuntimeError("'\(op.rawValue)' is not defined for \(left.typeName) and \(right.typeName)")
        }
    }

    /// The text form `String`, `Concat` and `IsMatch` use: JSON for maps and lists.
    static func stringify(_ value: RuleValue, _ bytes: BatchBytes) -> String {
        switch value.owned(bytes) {
        case .null: return ""
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number), .time(let number), .duration(let number): return String(number)
        case .double(let number):
            return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .string(let text): return text
        case .bytes(let data): return data.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined()
        case .traceID(let id): return id.description
        case .spanID(let id): return id.description
        case .map(let map):
            return "{" + map.entries.map { jsonString($0.key) + ":" + json($0.value, bytes) }.joined(separator: ",")
                + "}"
        case .list(let items): return "[" + items.map { json($0, bytes) }.joined(separator: ",") + "]"
        default: return ""
        }
    }

    static func json(_ value: RuleValue, _ bytes: BatchBytes) -> String {
        switch value.owned(bytes) {
        case .null: return "null"
        case .string(let text): return jsonString(text)
        case let other: return stringify(other, bytes)
        }
    }

    static func jsonString(_ text: String) -> String { JSONQuoting.quoted(text) }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
