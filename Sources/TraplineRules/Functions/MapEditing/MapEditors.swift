import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The map editors: `delete_key`, `delete_matching_keys`, `keep_keys`, `keep_matching_keys`,
/// `limit`, `truncate_all`, `merge_maps`, `flatten`.
enum MapEditors {
    /// The editor when `arguments` call one of this family's functions; nil for another family's.
    static func compile(_ arguments: EditorArguments) throws(RuleError) -> Editor? {
        let maps: Set<RuleType> = [.map]
        switch arguments.name {
        case "delete_key":
            let key = try arguments.value(1, [.string], "a string key")
            let literal: [UInt8]? = if case .string(let text)? = key.constant { Array(text.utf8) } else { nil }
            return .deleteKey(try arguments.target(maps).0, key, literal: literal)
        case "delete_matching_keys": return .deleteMatchingKeys(try arguments.target(maps).0, try arguments.regex(1))
        case "keep_keys": return .keepKeys(try arguments.target(maps).0, try arguments.constantStrings(1))
        case "keep_matching_keys": return .keepMatchingKeys(try arguments.target(maps).0, try arguments.regex(1))
        case "limit":
            return .limit(
                try arguments.target(maps).0, try arguments.constantInt(1, "the limit"),
                priorityKeys: try arguments.constantStrings(2))
        case "truncate_all":
            return .truncateAll(try arguments.target(maps).0, try arguments.constantInt(1, "the limit"))
        case "merge_maps":
            let (path, _) = try arguments.target(maps)
            let source = try arguments.value(1, [.map], "a map")
            let strategy = try arguments.constantString(2, "the strategy")
            guard let merge = Editor.MergeStrategy(rawValue: strategy) else {
                throw RuleError(
                    .typeMismatch, column: arguments.bound[2]?.column ?? arguments.call.column,
                    "the strategy must be insert, update or upsert")
            }
            return .mergeMaps(path, source, merge)
        case "flatten":
            let (path, _) = try arguments.target(maps)
            let prefix = arguments.has(1) ? try arguments.constantString(1, "the prefix") : nil
            let depth = arguments.has(2) ? try arguments.constantInt(2, "the depth") : nil
            return .flatten(path, prefix: prefix, depth: depth)
        default: return nil
        }
    }
}

/// Map edits that read entries and decide (`plan`), then change the map (`apply`), so the same
/// decision code serves attribute tables (zero-copy) and owned maps (`cache`, nested values).
enum MapOperation {
    case deleteKey([UInt8])
    case deleteMatching(ByteRegex)
    case keepKeys([[UInt8]])
    case keepMatching(ByteRegex)
    case limit(Int, priority: [[UInt8]])
    case truncateAll(Int)
    case replaceAllPatterns(keys: Bool, ByteRegex, String)
    case replaceAllMatches(GlobPattern, String)
}

/// What a map operation decided.
struct MapEdits {
    /// Entries to keep (nil keeps all).
    var keep: [Bool]?
    var values: [(index: Int, value: RuleValue)] = []
    var keys: [(index: Int, key: String)] = []

    var isEmpty: Bool { keep == nil && values.isEmpty && keys.isEmpty }
}

/// Read access to a map's entries for planning.
protocol MapEntries {
    var count: Int { get }
    func withKey<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result
    func value(_ index: Int) -> RuleValue
}

struct TableEntries: MapEntries {
    let table: AttributeTable
    let range: RowRange
    let bytes: BatchBytes
    var count: Int { Int(range.count) }
    func withKey<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        body(bytes[table.keys[Int(range.start) + index]])
    }
    func value(_ index: Int) -> RuleValue { RuleValue(attribute: table.values[Int(range.start) + index], bytes) }
}

extension RuleMap: MapEntries {
    func withKey<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var key = entries[index].key
        return key.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
    func value(_ index: Int) -> RuleValue { entries[index].value }
}

extension MapOperation {
    func plan(_ entries: some MapEntries, _ bytes: BatchBytes) -> MapEdits {
        var edits = MapEdits()
        func keyIn(_ index: Int, _ list: [[UInt8]]) -> Bool {
            entries.withKey(index) { key in list.contains { candidate in candidate.elementsEqual(key) } }
        }
        switch self {
        case .deleteKey(let key):
            edits.keep = (0..<entries.count).map { index in !entries.withKey(index) { key.elementsEqual($0) } }
        case .deleteMatching(let regex):
            edits.keep = (0..<entries.count).map { index in !entries.withKey(index) { regex.isMatch($0) } }
        case .keepKeys(let keys):
            edits.keep = (0..<entries.count).map { keyIn($0, keys) }
        case .keepMatching(let regex):
            edits.keep = (0..<entries.count).map { index in entries.withKey(index) { regex.isMatch($0) } }
        case .limit(let limit, let priority):
            guard entries.count > limit else { break }
            var keep = [Bool](repeating: false, count: entries.count)
            var kept = 0
            for index in 0..<entries.count where kept < limit && keyIn(index, priority) {
                keep[index] = true
                kept += 1
            }
            for index in 0..<entries.count where kept < limit && !keep[index] {
                keep[index] = true
                kept += 1
            }
            edits.keep = keep
        case .truncateAll(let limit):
            for index in 0..<entries.count {
                switch entries.value(index) {
                case .text(var slice) where slice.count > limit:
                    // Cut on a character boundary; the slice shrinks in place (no copy).
                    let text = bytes[slice]
                    var cut = limit
                    while cut > 0 && text[cut] & 0xC0 == 0x80 { cut -= 1 }
                    slice.count = UInt32(cut)
                    edits.values.append((index, .text(slice)))
                case .string(let text) where text.utf8.count > limit:
                    var cut = limit
                    let utf8 = Array(text.utf8)
                    while cut > 0 && utf8[cut] & 0xC0 == 0x80 { cut -= 1 }
                    edits.values.append((index, .string(String(decoding: utf8[..<cut], as: UTF8.self))))
                default: break
                }
            }
        case .replaceAllPatterns(let keys, let regex, let replacement):
            for index in 0..<entries.count {
                if keys {
                    let replaced = entries.withKey(index) {
                        RuleReplacement.replaceAll(regex, in: $0, with: replacement)
                    }
                    if let replaced { edits.keys.append((index, replaced)) }
                } else if let replaced = entries.value(index).withUTF8(
                    bytes,
                    {
                        RuleReplacement.replaceAll(regex, in: $0, with: replacement)
                    }), let replaced
                {
                    edits.values.append((index, .string(replaced)))
                }
            }
        case .replaceAllMatches(let glob, let replacement):
            for index in 0..<entries.count
            where entries.value(index).withUTF8(bytes, { glob.regex.isMatch($0) }) == true {
                edits.values.append((index, .string(replacement)))
            }
        }
        return edits
    }
}

extension RuleMap {
    mutating func apply(_ edits: MapEdits) {
        for edit in edits.values { entries[edit.index].value = edit.value }
        for edit in edits.keys { entries[edit.index].key = edit.key }
        if let keep = edits.keep {
            entries = entries.enumerated().filter { keep[$0.offset] }.map(\.element)
        }
    }
}

extension RuleEvaluator {
    static func flatten(_ map: RuleMap, prefix: String, depth: Int, into flat: inout RuleMap, _ bytes: BatchBytes) {
        for entry in map.entries {
            if depth > 0, let nested = entry.value.map(bytes) {
                flatten(nested, prefix: prefix + entry.key + ".", depth: depth - 1, into: &flat, bytes)
            } else {
                flat[prefix + entry.key] = entry.value
            }
        }
    }

    /// Removes `key` from an owner's attributes in place; whether it was there.
    /// `delete_key(span.attributes, "literal")` (or a log record's) on every item in one pass over
    /// raw buffers: the rows after the key's move up by one within the record's range.
    static func removeRecordAttribute(
        _ key: [UInt8], _ items: [Int32], _ batch: inout Batch, _ context: RuleContext
    ) {
        var removed: [Int32] = []
        removed.reserveCapacity(items.count)
        batch.editRecordAttributes { table, ranges, storage in
            storage.withBytes { bytes in
                key.withUnsafeBytes { wanted in
                    table.keys.withUnsafeMutableBufferPointer { keys in
                        table.values.withUnsafeMutableBufferPointer { values in
                            for item in items {
                                let range = ranges[Int(item)]
                                guard let found = range.range.first(where: { sameBytes(bytes[keys[$0]], wanted) })
                                else { continue }
                                let following = range.range.upperBound - found - 1
                                // Safe: both runs lie inside the record's range, and rows are
                                // plain values (the move is a memmove of overlapping bytes).
                                UnsafeMutableRawPointer(keys.baseAddress! + found).copyMemory(
                                    from: keys.baseAddress! + found + 1,
                                    byteCount: following * MemoryLayout<ByteSlice>.stride)
                                UnsafeMutableRawPointer(values.baseAddress! + found).copyMemory(
                                    from: values.baseAddress! + found + 1,
                                    byteCount: following * MemoryLayout<AnyValueRef>.stride)
                                ranges[Int(item)].count -= 1
                                removed.append(item)
                            }
                        }
                    }
                }
            }
        }
        for item in removed {
            batch.markModified(.record, at: batch.position(of: Int(item), in: context, eventOwners: []))
        }
    }

    static func removeAttribute(_ owner: AttributeOwner, _ key: [UInt8], _ batch: inout Batch, _ position: RulePosition)
        -> Bool
    {
        batch.editAttributes(owner, at: position) { table, range, storage in
            let found = storage.withBytes { bytes in
                key.withUnsafeBytes { wanted in range.range.first { sameBytes(bytes[table.keys[$0]], wanted) } }
            }
            guard let found else { return false }
            let end = Int(range.start) + Int(range.count)
            for index in found..<(end - 1) {
                table.keys[index] = table.keys[index + 1]
                table.values[index] = table.values[index + 1]
            }
            range.count -= 1
            return true
        }
    }

    /// Applies a map operation: in place on an attribute table, or on an owned map written back.
    mutating func editMap(
        _ path: RulePath, _ operation: MapOperation, _ batch: inout Batch, _ position: RulePosition
    )
        throws(RuleRuntimeError)
    {
        if case .attributes(let owner) = path.field, path.keys.isEmpty {
            let table = batch.attributeTable(owner)
            let range = batch.attributeRange(owner, at: position)
            let edits = batch.storage.withBytes { bytes in
                operation.plan(TableEntries(table: table, range: range, bytes: bytes), bytes)
            }
            guard !edits.isEmpty else { return }
            batch.editAttributes(owner, at: position) { table, range, storage in
                for edit in edits.values {
                    if let stored = storedValue(edit.value, &storage) {
                        table.values[Int(range.start) + edit.index] = stored
                    }
                }
                for edit in edits.keys {
                    table.keys[Int(range.start) + edit.index] = storage.appendToArena(edit.key.utf8)
                }
                if let keep = edits.keep {
                    var write = Int(range.start)
                    for (offset, index) in range.range.enumerated() where keep[offset] {
                        table.keys[write] = table.keys[index]
                        table.values[write] = table.values[index]
                        write += 1
                    }
                    range = RowRange(start: Int(range.start), end: write)
                }
            }
            batch.markModified(owner, at: position)
            return
        }
        var map = try ownedMap(path, batch, position)
        let edits = batch.storage.withBytes { bytes in operation.plan(map, bytes) }
        guard !edits.isEmpty else { return }
        map.apply(edits)
        try assign(path, .map(map), &batch, position)
    }

    /// `merge_maps(target, source, strategy)`.
    mutating func mergeMaps(
        _ path: RulePath, _ source: Compiled, _ strategy: Editor.MergeStrategy, _ batch: inout Batch,
        _ position: RulePosition
    ) throws(RuleRuntimeError) {
        let sourceValue = try evaluateNow(source, batch, position)
        guard let incoming = batch.storage.withBytes({ bytes in sourceValue.map(bytes) }) else { return }
        var target = try ownedMap(path, batch, position)
        for entry in incoming.entries {
            let exists = target[entry.key] != nil
            switch strategy {
            case .insert where !exists, .update where exists, .upsert: target[entry.key] = entry.value
            default: break
            }
        }
        try assign(path, .map(target), &batch, position)
    }

    /// `flatten(target, prefix, depth)`.
    mutating func flatten(
        _ path: RulePath, prefix: String?, depth: Int?, _ batch: inout Batch, _ position: RulePosition
    ) throws(RuleRuntimeError) {
        let source = try ownedMap(path, batch, position)
        var flat = RuleMap()
        batch.storage.withBytes { bytes in
            Self.flatten(source, prefix: prefix.map { $0 + "." } ?? "", depth: depth ?? Int.max, into: &flat, bytes)
        }
        try assign(path, .map(flat), &batch, position)
    }
}
