import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// `set` and `append`: write a value to a path.
enum AssignEditors {
    /// The editor when `arguments` call one of this family's functions; nil for another family's.
    static func compile(_ arguments: EditorArguments) throws(RuleError) -> Editor? {
        switch arguments.name {
        case "set":
            let (path, targetType) = try arguments.target([
                .any, .bool, .int, .double, .string, .bytes, .time, .duration, .map, .list, .traceID, .spanID,
            ])
            guard let syntax = arguments.bound[1] else {
                throw RuleError(.argumentCount, column: arguments.call.column, "set needs a value")
            }
            let (compiled, type) = try arguments.compiler.expression(syntax)
            let fits =
                targetType == .any || type == .any || type == .null || type == targetType
                || (targetType == .double && type == .int)
            guard fits else {
                throw RuleError(
                    .typeMismatch, column: syntax.column,
                    "cannot set a \(targetType.rawValue) field to a \(type.rawValue) value")
            }
            return .set(path, compiled)
        case "append":
            let (path, _) = try arguments.target([.list, .string, .int, .double, .bool])
            var values: [Compiled] = []
            if arguments.has(1) { values.append(try arguments.value(1)) }
            if arguments.has(2) {
                let list = try arguments.value(2, [.list], "a list")
                if case .constant(.list(let items)) = list {
                    values += items.map { .constant($0) }
                } else if case .list(let items) = list {
                    values += items
                } else {
                    throw RuleError(
                        .typeMismatch, column: arguments.bound[2]?.column ?? arguments.call.column,
                        "values must be a list literal")
                }
            }
            guard !values.isEmpty else {
                throw RuleError(.argumentCount, column: arguments.call.column, "append needs value or values")
            }
            return .append(path, values)
        default: return nil
        }
    }
}

/// One record's new attribute value, for `RuleEvaluator.setRecordAttribute`.
struct RecordAttributeUpdate {
    var row: Int32
    var value: AnyValueRef
    /// The row of the table holding the key already (-1: none; filled in while setting).
    var existing: Int32 = -1
}

extension RuleEvaluator {
    /// `set(span.attributes["literal"], value)` (or a log record's) on every item at once. Item
    /// by item, an attribute the record lacks moved its whole range to the end of the table
    /// (several array appends, each checking uniqueness and capacity); here the values are
    /// computed first, the table grows once by what every record needs, and the ranges move
    /// in one pass over raw buffers. Items are records (span or log context), each once.
    mutating func setRecordAttribute(
        _ key: [UInt8], _ value: Compiled, _ items: [Int32], _ batch: inout Batch, _ context: RuleContext,
        _ errorMode: RuleErrorMode, _ tally: inout RuleTally
    ) throws(RuleRuntimeError) {
        var updates: [RecordAttributeUpdate] = []
        updates.reserveCapacity(items.count)
        for item in items {
            let position = batch.position(of: Int(item), in: context, eventOwners: [])
            do {
                let newValue = try evaluateNow(value, batch, position)
                guard let stored = storedValue(newValue, &batch.storage) else { continue }
                updates.append(RecordAttributeUpdate(row: item, value: stored))
            } catch {
                try Self.absorb(error, errorMode, &tally, at: position)
            }
        }
        setRecordAttribute(key, &updates, &batch, context)
    }

    /// Whether `set` on `path` can take the many-records path: a literal key of the record's
    /// own attributes, with items that are records (each at most once).
    static func setsRecordAttribute(_ path: RulePath, _ context: RuleContext) -> Bool {
        path.keys.count == 1 && path.literalKey != nil && path.field.attributeOwner == .record
            && context.itemsAreRows
    }

    /// Sets attribute `key` of each record in `updates` to its value (see above).
    mutating func setRecordAttribute(
        _ key: [UInt8], _ updates: inout [RecordAttributeUpdate], _ batch: inout Batch, _ context: RuleContext
    ) {
        guard !updates.isEmpty else { return }
        var keySlice = internedKey(key)
        if keySlice == nil {
            let slice = batch.storage.appendToArena(key)
            keySlice = slice
            if let identity = key.withUnsafeBufferPointer({ $0.baseAddress }) {
                keySlices.append((UnsafeRawPointer(identity), slice))
            }
        }
        let newKey = keySlice!
        batch.editRecordAttributes { table, ranges, storage in
            // Which records have the key already, and how many rows the others need.
            var extra = 0
            storage.withBytes { bytes in
                key.withUnsafeBytes { key in
                    for index in updates.indices {
                        let range = ranges[Int(updates[index].row)]
                        if let row = range.range.first(where: { keyEquals(bytes[table.keys[$0]], key) }) {
                            updates[index].existing = Int32(row)
                        } else {
                            extra += Int(range.count) + 1
                        }
                    }
                }
            }
            var cursor = table.keys.count
            if extra > 0 {
                table.keys.append(contentsOf: repeatElement(.empty, count: extra))
                table.values.append(contentsOf: repeatElement(.absent, count: extra))
            }
            table.keys.withUnsafeMutableBufferPointer { keys in
                table.values.withUnsafeMutableBufferPointer { values in
                    ranges.withUnsafeMutableBufferPointer { ranges in
                        for update in updates {
                            if update.existing >= 0 {
                                values[Int(update.existing)] = update.value
                                continue
                            }
                            let range = ranges[Int(update.row)]
                            let count = Int(range.count)
                            // Safe: source rows lie before `cursor`, destination rows at and after it.
                            keys.baseAddress!.advanced(by: cursor).update(
                                from: keys.baseAddress!.advanced(by: Int(range.start)), count: count)
                            values.baseAddress!.advanced(by: cursor).update(
                                from: values.baseAddress!.advanced(by: Int(range.start)), count: count)
                            keys[cursor + count] = newKey
                            values[cursor + count] = update.value
                            ranges[Int(update.row)] = RowRange(start: cursor, end: cursor + count + 1)
                            cursor += count + 1
                        }
                    }
                }
            }
        }
        for update in updates {
            batch.markModified(.record, at: batch.position(of: Int(update.row), in: context, eventOwners: []))
        }
    }

    /// Writes `value` to `path` (`nil` leaves it unchanged, as OTTL's `set` does).
    mutating func assign(_ path: RulePath, _ value: RuleValue, _ batch: inout Batch, _ position: RulePosition)
        throws(RuleRuntimeError)
    {
        if value.isNull { return }
        if case .attributes(let owner) = path.field, path.keys.count == 1, let literal = path.literalKey {
            // `attributes["literal"]`: no key to evaluate, nothing to copy but the value.
            setAttribute(owner, literal, value, &batch, position)
            batch.markModified(owner, at: position)
            return
        }
        var keys: [RuleValue] = []
        for key in path.keys { keys.append(try evaluateNow(key, batch, position)) }
        switch path.field {
        case .attributes(let owner):
            guard let first = keys.first else {
                guard let map = batch.storage.withBytes({ value.map($0) }) else {
                    throw RuleRuntimeError("attributes can only be set to a map, not \(value.typeName)")
                }
                replaceAttributes(owner, map, &batch, position)
                batch.markModified(owner, at: position)
                return
            }
            guard let name = batch.storage.withBytes({ first.string($0) }) else {
                throw RuleRuntimeError("attribute keys are strings")
            }
            var newValue = value
            if keys.count > 1 {
                var container = try evaluateNow(
                    .path(RulePath(field: path.field, keys: [.constant(.string(name))], context: path.context)), batch,
                    position)
                batch.storage.withBytes { bytes in
                    container = container.owned(bytes)
                    Self.setNested(&container, keys.dropFirst(), value.owned(bytes))
                }
                newValue = container
            }
            setAttribute(owner, Array(name.utf8), newValue, &batch, position)
            batch.markModified(owner, at: position)
        case .cache:
            var container = RuleValue.map(cache)
            if keys.isEmpty {
                container = value
            } else {
                batch.storage.withBytes { bytes in Self.setNested(&container, keys[...], value.owned(bytes)) }
            }
            cache = batch.storage.withBytes { container.owned($0).map($0) } ?? RuleMap()
        case .body where !keys.isEmpty:
            var container = try evaluateNow(
                .path(RulePath(field: .body, keys: [], context: path.context)), batch, position)
            batch.storage.withBytes { bytes in
                container = container.owned(bytes)
                Self.setNested(&container, keys[...], value.owned(bytes))
            }
            try batch.writeField(.body, at: position, container)
            batch.markModified(path.context, at: position)
        default:
            try batch.writeField(path.field, at: position, value)
            batch.markModified(path.context, at: position)
        }
    }

    static func setNested(_ container: inout RuleValue, _ keys: ArraySlice<RuleValue>, _ value: RuleValue) {
        guard let key = keys.first else {
            container = value
            return
        }
        switch (container, key) {
        case (.list(var items), .int(let index)) where index >= 0 && Int(index) < items.count:
            setNested(&items[Int(index)], keys.dropFirst(), value)
            container = .list(items)
        case (_, .string(let name)):
            var map: RuleMap
            if case .map(let existing) = container { map = existing } else { map = RuleMap() }
            var child = map[name] ?? .null
            setNested(&child, keys.dropFirst(), value)
            map[name] = child
            container = .map(map)
        default: break
        }
    }

    mutating func setAttribute(
        _ owner: AttributeOwner, _ key: [UInt8], _ value: RuleValue, _ batch: inout Batch, _ position: RulePosition
    ) {
        var interned = internedKey(key)
        let appended = batch.editAttributes(owner, at: position) { table, range, storage -> ByteSlice? in
            guard let stored = storedValue(value, &storage) else { return nil }
            let existing = storage.withBytes { bytes in
                key.withUnsafeBytes { wanted in range.range.first { keyEquals(bytes[table.keys[$0]], wanted) } }
            }
            if let existing {
                table.values[existing] = stored
                return nil
            }
            // A literal key is copied to the arena once per batch, then shared by every item.
            let keySlice = interned ?? storage.appendToArena(key)
            Self.appendAttribute(&table, &range, keySlice, stored)
            return keySlice
        }
        if interned == nil, let appended, let identity = key.withUnsafeBufferPointer({ $0.baseAddress }) {
            interned = appended
            keySlices.append((UnsafeRawPointer(identity), appended))
        }
    }

    /// The arena slice of a literal key already copied in this batch.
    func internedKey(_ key: [UInt8]) -> ByteSlice? {
        guard let identity = key.withUnsafeBufferPointer({ $0.baseAddress }) else { return nil }
        let pointer = UnsafeRawPointer(identity)
        return keySlices.first { $0.0 == pointer }?.1
    }

    func replaceAttributes(
        _ owner: AttributeOwner, _ map: RuleMap, _ batch: inout Batch, _ position: RulePosition
    ) {
        batch.editAttributes(owner, at: position) { table, range, storage in
            let start = table.count
            for entry in map.entries {
                guard let stored = storedValue(entry.value, &storage) else { continue }
                table.append(key: storage.appendToArena(entry.key.utf8), value: stored)
            }
            range = RowRange(start: start, end: table.count)
        }
    }

    /// Adds an attribute to an owner's range: in place when the range ends the table, else the
    /// range moves to the end of the table first (the old rows stay unused until the batch resets).
    static func appendAttribute(
        _ table: inout AttributeTable, _ range: inout RowRange, _ key: ByteSlice, _ value: AnyValueRef
    ) {
        if Int(range.start) + Int(range.count) != table.count || range.count == 0 {
            range = table.copyToEnd(range)
        }
        table.append(key: key, value: value)
        range.count += 1
    }

    /// `append(target, value, values)`: a list, or a single value made a list.
    mutating func append(
        _ items: [Compiled], to path: RulePath, _ batch: inout Batch, _ position: RulePosition
    ) throws(RuleRuntimeError) {
        var values: [RuleValue] = []
        for item in items { values.append(try evaluateNow(item, batch, position)) }
        let current = try evaluateNow(.path(path), batch, position)
        var list: [RuleValue] = batch.storage.withBytes { bytes in
            switch current {
            case .null: []
            case .list, .rawList: current.list(bytes) ?? []
            default: [current.owned(bytes)]
            }
        }
        list += values
        try assign(path, .list(list), &batch, position)
    }
}
