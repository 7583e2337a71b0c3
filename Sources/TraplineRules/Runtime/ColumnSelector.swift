import TraplineCore

/// Evaluates a condition over a whole column of items at once: `and` narrows the selection
/// through each operand, `or` tests each operand only on the items still unmatched, and the
/// common leaves (a path compared with a literal, `IsMatch` on a path) run as tight loops with
/// the literal prepared once per batch. Anything else falls back to the per-item evaluator.
struct ColumnSelector<Batch: RuleBatch> {
    let evaluator: RuleEvaluator<Batch>
    let context: RuleContext
    let eventOwners: [Int32]
    let errorMode: RuleErrorMode

    init(evaluator: RuleEvaluator<Batch>, context: RuleContext, eventOwners: [Int32], errorMode: RuleErrorMode) {
        self.evaluator = evaluator
        self.context = context
        self.eventOwners = eventOwners
        self.errorMode = errorMode
    }

    /// Keeps in `items` only those for which `condition` holds, resolving the batch's bytes.
    ///
    /// `batch` is a plain (borrowed) parameter on purpose: a closure that captured a caller's
    /// `inout` batch while reading its storage would make Swift copy the whole batch.
    func select(_ condition: Compiled, _ items: inout [Int32], in batch: Batch, _ tally: inout RuleTally)
        throws(RuleRuntimeError)
    {
        try batch.storage.reading { bytes throws(RuleRuntimeError) in
            try select(condition, &items, batch, bytes, &tally)
        }
    }

    /// Keeps in `items` only those for which `condition` holds.
    ///
    /// - Throws: the first run-time error under `propagate`.
    func select(
        _ condition: Compiled, _ items: inout [Int32], _ batch: Batch, _ bytes: BatchBytes, _ tally: inout RuleTally
    )
        throws(RuleRuntimeError)
    {
        guard !items.isEmpty else { return }
        switch condition {
        case .constant(.bool(let flag)):
            if !flag { items.removeAll() }
        case .and(let operands):
            for operand in operands {
                try select(operand, &items, batch, bytes, &tally)
                if items.isEmpty { return }
            }
        case .or(let operands):
            var remaining = items
            var matched: [Int32] = []
            for operand in operands {
                var hits = remaining
                try select(operand, &hits, batch, bytes, &tally)
                matched = Self.union(matched, hits)
                remaining = Self.difference(remaining, hits)
                if remaining.isEmpty { break }
            }
            items = matched
        case .not(let inner):
            var hits = items
            try select(inner, &hits, batch, bytes, &tally)
            items = Self.difference(items, hits)
        case .compare(let op, let left, let right) where IntegerColumn.isColumn(left) && IntegerColumn.isColumn(right):
            // Numbers and times: both sides as columns of integers, compared in one loop.
            guard selectIntegers(op, IntegerColumn(left)!, IntegerColumn(right)!, &items, batch) else {
                try generic(condition, &items, batch, bytes, &tally)
                return
            }
        case .compare(let op, .path(let path), .constant(let literal)) where isDirect(path):
            try compareLoop(op, path, literal, &items, batch, bytes, &tally)
        case .compare(let op, .constant(let literal), .path(let path)) where isDirect(path):
            try compareLoop(op.mirrored, path, literal, &items, batch, bytes, &tally)
        case .call(.isMatch(let regex), let arguments, let keys) where keys.isEmpty:
            if case .path(let path) = arguments[0], isDirect(path) {
                try filterItems(&items, batch, &tally) { position throws(RuleRuntimeError) in
                    let value = try read(path, batch, position, bytes)
                    return value.withUTF8(bytes) { regex.isMatch($0) } ?? false
                }
            } else {
                try generic(condition, &items, batch, bytes, &tally)
            }
        default:
            try generic(condition, &items, batch, bytes, &tally)
        }
    }

    /// Computes both sides for every item and keeps those where `op` holds; false when a
    /// field is not an integer column here (the caller falls back to per-item evaluation).
    private func selectIntegers(
        _ op: BinaryOperator, _ left: IntegerColumn, _ right: IntegerColumn, _ items: inout [Int32], _ batch: Batch
    ) -> Bool {
        var lhs: [Int64] = []
        var rhs: [Int64] = []
        lhs.reserveCapacity(items.count)
        rhs.reserveCapacity(items.count)
        guard left.evaluate(items, batch, context, eventOwners, into: &lhs),
            right.evaluate(items, batch, context, eventOwners, into: &rhs)
        else { return false }
        var write = 0
        for index in items.indices {
            let a = lhs[index]
            let b = rhs[index]
            let keep: Bool =
                switch op {
                case .equal: a == b
                case .notEqual: a != b
                case .less: a < b
                case .lessOrEqual: a <= b
                case .greater: a > b
                default: a >= b
                }
            if keep {
                items[write] = items[index]
                write += 1
            }
        }
        items.removeSubrange(write...)
        return true
    }

    /// A path read without keys computed per item (a field, or attributes with a literal key).
    private func isDirect(_ path: RulePath) -> Bool {
        path.keys.isEmpty ? !isCache(path) : (path.keys.count == 1 && path.literalKey != nil && !isCache(path))
    }

    private func isCache(_ path: RulePath) -> Bool { if case .cache = path.field { true } else { false } }

    @inline(__always)
    private func read(_ path: RulePath, _ batch: Batch, _ position: RulePosition, _ bytes: BatchBytes)
        throws(RuleRuntimeError) -> RuleValue
    {
        if case .attributes(let owner) = path.field, let key = path.literalKey {
            return key.withUnsafeBytes { batch.attribute(owner, at: position, key: $0, bytes) }.map {
                RuleValue(attribute: $0, bytes)
            }
                ?? .null
        }
        return try evaluator.read(path, batch, position, bytes)
    }

    private func compareLoop(
        _ op: BinaryOperator, _ path: RulePath, _ literal: RuleValue, _ items: inout [Int32], _ batch: Batch,
        _ bytes: BatchBytes, _ tally: inout RuleTally
    ) throws(RuleRuntimeError) {
        if case .string(let text) = literal, op == .equal || op == .notEqual {
            // The literal's bytes once per batch; each item compares bytes, copying nothing.
            let wanted = Array(text.utf8)
            let equal = op == .equal
            let outcome: Result<Void, RuleRuntimeError> = wanted.withUnsafeBytes { wanted in
                Result { () throws(RuleRuntimeError) in
                    try filterItems(&items, batch, &tally) { position throws(RuleRuntimeError) in
                        let value = try read(path, batch, position, bytes)
                        let same = value.withUTF8(bytes) { RuleEvaluator<Batch>.sameBytes($0, wanted) } ?? false
                        return same == equal
                    }
                }
            }
            try outcome.get()
            return
        }
        try filterItems(&items, batch, &tally) { position throws(RuleRuntimeError) in
            RuleEvaluator<Batch>.compare(op, try read(path, batch, position, bytes), literal, bytes)
        }
    }

    private func generic(
        _ condition: Compiled, _ items: inout [Int32], _ batch: Batch, _ bytes: BatchBytes, _ tally: inout RuleTally
    ) throws(RuleRuntimeError) {
        try filterItems(&items, batch, &tally) { position throws(RuleRuntimeError) in
            try evaluator.test(condition, batch, position, bytes)
        }
    }

    /// Keeps the items `test` accepts; an item whose test fails counts an error and is dropped
    /// from the selection (or, under `propagate`, ends the run).
    @inline(__always)
    private func filterItems(
        _ items: inout [Int32], _ batch: Batch, _ tally: inout RuleTally,
        _ test: (RulePosition) throws(RuleRuntimeError) -> Bool
    ) throws(RuleRuntimeError) {
        var write = 0
        for read in items.indices {
            let item = items[read]
            let keep: Bool
            let position = batch.position(of: Int(item), in: context, eventOwners: eventOwners)
            do {
                keep = try test(position)
            } catch {
                if errorMode == .propagate { throw error }
                tally.record(error, at: position)
                keep = false
            }
            if keep {
                items[write] = item
                write += 1
            }
        }
        items.removeSubrange(write...)
    }

    static func union(_ a: [Int32], _ b: [Int32]) -> [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i] < b[j]) {
                result.append(a[i])
                i += 1
            } else if i == a.count || b[j] < a[i] {
                result.append(b[j])
                j += 1
            } else {
                result.append(a[i])
                i += 1
                j += 1
            }
        }
        return result
    }

    static func difference(_ a: [Int32], _ b: [Int32]) -> [Int32] {
        var result: [Int32] = []
        // Room for all of `a` at once: growing by doubling cost several allocations per batch.
        result.reserveCapacity(a.count)
        var j = 0
        for value in a {
            while j < b.count && b[j] < value { j += 1 }
            if j < b.count && b[j] == value { continue }
            result.append(value)
        }
        return result
    }
}

extension BinaryOperator {
    /// The operator with its operands swapped (`1 < x` is `x > 1`).
    var mirrored: BinaryOperator {
        switch self {
        case .less: .greater
        case .lessOrEqual: .greaterOrEqual
        case .greater: .less
        case .greaterOrEqual: .lessOrEqual
        default: self
        }
    }
}

/// Run-time errors counted under `ignore` and `silent`.
struct RuleTally {
    var errors = 0
    var firstError: RuleRuntimeError?
    /// Where the first error happened.
    var firstPosition: RulePosition?

    mutating func record(_ error: RuleRuntimeError, at position: RulePosition) {
        errors += 1
        if firstError == nil {
            firstError = error
            firstPosition = position
        }
    }
}

/// An integer expression over fields (times, durations, enums, counts) and constants,
/// computed for a whole selection: gather each field, then combine the columns.
indirect enum IntegerColumn {
    case field(RuleField)
    case constant(Int64)
    case binary(BinaryOperator, IntegerColumn, IntegerColumn)

    /// Whether `IntegerColumn(expression)` would succeed, without building it (building one
    /// allocates a box per node).
    static func isColumn(_ expression: Compiled) -> Bool {
        switch expression {
        case .constant(.int), .constant(.time), .constant(.duration): return true
        case .path(let path) where path.keys.isEmpty: return isIntegerField(path.field)
        case .arithmetic(let op, let left, let right):
            guard isColumn(left), isColumn(right) else { return false }
            guard op == .divide else { return true }
            switch right {
            case .constant(.int(let divisor)), .constant(.time(let divisor)), .constant(.duration(let divisor)):
                return divisor != 0
            default: return false
            }
        default: return false
        }
    }

    private static func isIntegerField(_ field: RuleField) -> Bool {
        switch field {
        case .startTime, .endTime, .kind, .statusCode, .flags, .droppedAttributesCount(.record),
            .droppedEventsCount, .droppedLinksCount, .eventTime, .logTime, .observedTime, .severityNumber:
            true
        default: false
        }
    }

    init?(_ expression: Compiled) {
        switch expression {
        case .constant(.int(let value)), .constant(.time(let value)), .constant(.duration(let value)):
            self = .constant(value)
        case .path(let path) where path.keys.isEmpty:
            guard Self.isIntegerField(path.field) else { return nil }
            self = .field(path.field)
        case .arithmetic(let op, let left, let right):
            guard let lhs = IntegerColumn(left), let rhs = IntegerColumn(right) else { return nil }
            // Division only by a constant that is not zero, so no item can fail.
            if op == .divide {
                guard case .constant(let divisor) = rhs, divisor != 0 else { return nil }
            }
            self = .binary(op, lhs, rhs)
        default: return nil
        }
    }

    func evaluate<Batch: RuleBatch>(
        _ items: [Int32], _ batch: Batch, _ context: RuleContext, _ eventOwners: [Int32], into column: inout [Int64]
    ) -> Bool {
        column.reserveCapacity(column.count + items.count)
        switch self {
        case .constant(let value):
            column.append(contentsOf: repeatElement(value, count: items.count))
            return true
        case .field(let field):
            return batch.gather(field, items, context, eventOwners, into: &column)
        case .binary(let op, let left, let right):
            guard left.evaluate(items, batch, context, eventOwners, into: &column) else { return false }
            var other: [Int64] = []
            other.reserveCapacity(items.count)
            guard right.evaluate(items, batch, context, eventOwners, into: &other) else { return false }
            let start = column.count - items.count
            for index in 0..<items.count {
                let a = column[start + index]
                let b = other[index]
                column[start + index] =
                    switch op {
                    case .add: a &+ b
                    case .subtract: a &- b
                    case .multiply: a &* b
                    default: a.dividedReportingOverflow(by: b).partialValue
                    }
            }
            return true
        }
    }
}
