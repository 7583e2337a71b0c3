import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

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

/// Regex replacement with Go's `Expand` syntax: `$1`, `${1}`, `$name`, `${name}`, `$$`.
enum RuleReplacement {
    /// The text with every match replaced; nil when nothing matched.
    static func replaceAll(_ regex: ByteRegex, in text: UnsafeRawBufferPointer, with template: String) -> String? {
        let vm = RegexPikeVM(program: regex.program)
        var output: [UInt8] = []
        guard replaceAll(regex, in: text, with: template, vm: vm, into: &output) else { return nil }
        return String(decoding: output, as: UTF8.self)
    }

    /// Writes the text with every match replaced into `output` (reused); false when nothing
    /// matched. Allocates nothing once `vm` and `output` have grown.
    static func replaceAll(
        _ regex: ByteRegex, in text: UnsafeRawBufferPointer, with template: String, vm: RegexPikeVM,
        into output: inout [UInt8], prechecked: Bool = false
    ) -> Bool {
        if !prechecked, let dfa = regex.dfa, !dfa.isMatch(text) { return false }
        vm.use(regex.program)
        output.removeAll(keepingCapacity: true)
        var copied = 0
        var searchFrom = 0
        var replaced = false
        var template = template
        template.withUTF8 { templateBytes in
            let needsGroups = templateBytes.contains(UInt8(ascii: "$"))
            while searchFrom <= text.count,
                let (start, end) = Self.nextMatch(
                    regex, in: text, from: searchFrom, needsGroups: needsGroups, vm: vm)
            {
                guard start >= 0, end >= start else { break }
                output.append(contentsOf: text[copied..<start])
                if needsGroups {
                    expand(UnsafeRawBufferPointer(templateBytes), vm.matchedSlots, regex, text, into: &output)
                } else {
                    output.append(contentsOf: UnsafeRawBufferPointer(templateBytes))
                }
                copied = end
                replaced = true
                // An empty match moves the search on by one character so it always advances.
                searchFrom = start == end ? ByteRegex.nextCharacter(text, after: end) : end
            }
        }
        guard replaced else { return false }
        output.append(contentsOf: text[copied...])
        return true
    }

    /// The leftmost match at or after `position`: its start and end, and whether its groups
    /// are in `vm.matchedSlots` (they are not when `needsGroups` is false and the program has
    /// no branches: the anchored DFA alone gives the one possible end). With DFAs the start is
    /// found first (candidate bytes, then the anchored DFA) and the Pike VM runs only from
    /// there; without them the Pike VM scans.
    static func nextMatch(
        _ regex: ByteRegex, in text: UnsafeRawBufferPointer, from position: Int, needsGroups: Bool, vm: RegexPikeVM
    ) -> (start: Int, end: Int)? {
        guard let anchored = regex.anchoredDFA else {
            guard vm.search(text, from: position) else { return nil }
            return (vm.matchedSlots[0], vm.matchedSlots[1])
        }
        let program = regex.program
        let firstBytes = program.firstBytes
        var start = position
        while start <= text.count {
            if let firstByte = program.firstByte {
                guard start < text.count,
                    let found = memchr(text.baseAddress! + start, Int32(firstByte), text.count - start)
                else { return nil }
                start = UnsafeRawPointer(found) - text.baseAddress!
            } else if let firstBytes {
                while start < text.count && !firstBytes.contains(text[start]) { start += 1 }
                if start >= text.count { return nil }
            }
            if let end = anchored.firstMatchEnd(text, at: start) {
                if !needsGroups && !program.hasSplits { return (start, end) }
                guard vm.search(text, from: start, anchored: true) else { return nil }
                return (vm.matchedSlots[0], vm.matchedSlots[1])
            }
            start += 1
        }
        return nil
    }

    /// Appends `template` with `$n`, `${n}`, `$name`, `${name}` replaced by the groups in
    /// `slots` (start and end per group) and `$$` by `$`.
    static func expand(
        _ characters: UnsafeRawBufferPointer, _ slots: [Int], _ regex: ByteRegex, _ text: UnsafeRawBufferPointer,
        into result: inout [UInt8]
    ) {
        func isNameByte(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "_") || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
        }
        var index = 0
        while index < characters.count {
            let byte = characters[index]
            guard byte == UInt8(ascii: "$"), index + 1 < characters.count else {
                result.append(byte)
                index += 1
                continue
            }
            if characters[index + 1] == UInt8(ascii: "$") {
                result.append(byte)
                index += 2
                continue
            }
            var nameStart = index + 1
            var nameEnd = nameStart
            if characters[nameStart] == UInt8(ascii: "{") {
                nameStart += 1
                nameEnd = nameStart
                while nameEnd < characters.count && characters[nameEnd] != UInt8(ascii: "}") { nameEnd += 1 }
                guard nameEnd < characters.count else {
                    result.append(byte)
                    index += 1
                    continue
                }
                index = nameEnd + 1
            } else {
                while nameEnd < characters.count && isNameByte(characters[nameEnd]) { nameEnd += 1 }
                index = nameEnd
            }
            let name = UnsafeRawBufferPointer(rebasing: characters[nameStart..<nameEnd])
            var group: Int?
            if !name.isEmpty && name.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                group = name.reduce(0) { min($0 * 10 + Int($1 - 0x30), 1 << 20) }
            } else if !name.isEmpty {
                let key = String(decoding: name, as: UTF8.self)
                group = regex.groupNames.firstIndex { $0 == key }
            }
            if let group, group * 2 + 1 < slots.count, slots[group * 2] >= 0, slots[group * 2 + 1] >= slots[group * 2] {
                result.append(contentsOf: text[slots[group * 2]..<slots[group * 2 + 1]])
            }
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
    /// Runs one editor on every item of `items` (a context's item indexes): the editor is taken
    /// apart once, and the hot editors loop over the items with their parts in hand, so no item
    /// pays for the dispatch. A failure on one item is counted (or, under `propagate`, thrown).
    mutating func execute(
        _ editor: Editor, on items: [Int32], _ batch: inout Batch, context: RuleContext, eventOwners: [Int32],
        errorMode: RuleErrorMode, tally: inout RuleTally
    ) throws(RuleRuntimeError) {
        switch editor {
        case .deleteKey(let path, _, .some(let literal))
        where path.keys.isEmpty && path.field.attributeOwner == .record && (context == .span || context == .log):
            Self.removeRecordAttribute(literal, items, &batch, context)
        case .deleteKey(let path, _, .some(let literal)) where path.keys.isEmpty && path.field.attributeOwner != nil:
            let owner = path.field.attributeOwner!
            for item in items {
                let position = batch.position(of: Int(item), in: context, eventOwners: eventOwners)
                if Self.removeAttribute(owner, literal, &batch, position) { batch.markModified(owner, at: position) }
            }
        case .replacePattern(let path, let regex, let replacement)
        where path.keys.count == 1 && path.literalKey != nil && path.field.attributeOwner != nil
            && regex.dfa != nil && replacement.constantString != nil:
            // `replace_pattern(x.attributes["literal"], "re", "literal")`, the common form: one
            // pass finds, tests, replaces and stores each value in place.
            replaceInAttribute(
                items, path.field.attributeOwner!, path.literalKey!, regex, replacement.constantString!, &batch,
                context, eventOwners)
        case .replacePattern(let path, let regex, let replacement):
            var candidates = items
            var prechecked = false
            if case .attributes(let owner) = path.field, path.keys.count == 1, let key = path.literalKey,
                let dfa = regex.dfa
            {
                // One pass over the column keeps the items whose attribute is a string the DFA
                // matches; only those pay for reading, replacing and writing.
                candidates = Self.matching(items, owner, key, dfa, in: batch, context, eventOwners)
                prechecked = true
            }
            for item in candidates {
                let position = batch.position(of: Int(item), in: context, eventOwners: eventOwners)
                do {
                    try replacePattern(path, regex, replacement, &batch, position, prechecked: prechecked)
                } catch {
                    try Self.absorb(error, errorMode, &tally)
                }
            }
        case .set(let path, let value) where Self.setsRecordAttribute(path, context):
            try setRecordAttribute(path.literalKey!, value, items, &batch, context, errorMode, &tally)
        case .set(let path, let value)
        where path.keys.count == 1 && path.literalKey != nil && path.field.attributeOwner != nil:
            // `set(x.attributes["literal"], …)`: owner and key taken out once, not per item.
            let owner = path.field.attributeOwner!
            let key = path.literalKey!
            for item in items {
                let position = batch.position(of: Int(item), in: context, eventOwners: eventOwners)
                do {
                    let newValue = try evaluateNow(value, batch, position)
                    if newValue.isNull { continue }
                    setAttribute(owner, key, newValue, &batch, position)
                    batch.markModified(owner, at: position)
                } catch {
                    try Self.absorb(error, errorMode, &tally)
                }
            }
        case .set(let path, let value):
            for item in items {
                let position = batch.position(of: Int(item), in: context, eventOwners: eventOwners)
                do {
                    let newValue = try evaluateNow(value, batch, position)
                    try assign(path, newValue, &batch, position)
                } catch {
                    try Self.absorb(error, errorMode, &tally)
                }
            }
        default:
            for item in items {
                let position = batch.position(of: Int(item), in: context, eventOwners: eventOwners)
                do { try execute(editor, &batch, position) } catch { try Self.absorb(error, errorMode, &tally) }
            }
        }
    }

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
            do {
                let position = batch.position(of: Int(item), in: context, eventOwners: [])
                let newValue = try evaluateNow(value, batch, position)
                guard let stored = storedValue(newValue, &batch.storage) else { continue }
                updates.append(RecordAttributeUpdate(row: item, value: stored))
            } catch {
                try Self.absorb(error, errorMode, &tally)
            }
        }
        setRecordAttribute(key, &updates, &batch, context)
    }

    /// Whether `set` on `path` can take the many-records path: a literal key of the record's
    /// own attributes, with items that are records (each at most once).
    static func setsRecordAttribute(_ path: RulePath, _ context: RuleContext) -> Bool {
        path.keys.count == 1 && path.literalKey != nil && path.field.attributeOwner == .record
            && (context == .span || context == .log)
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

    /// `replace_pattern` of a literal template over one literal-keyed attribute of every item.
    /// A read-only pass over the column lets the DFA reject most values; only the matches are
    /// then replaced, the new value going to the arena with the attribute's row pointing at it
    /// (the row stays where it is: no range moves).
    mutating func replaceInAttribute(
        _ items: [Int32], _ owner: AttributeOwner, _ key: [UInt8], _ regex: ByteRegex, _ template: String,
        _ batch: inout Batch, _ context: RuleContext, _ eventOwners: [Int32]
    ) {
        guard let dfa = regex.dfa else { return }
        let matches = Self.matching(items, owner, key, dfa, in: batch, context, eventOwners)
        guard !matches.isEmpty else { return }
        let vm = scratchVM ?? RegexPikeVM(program: regex.program)
        scratchVM = vm
        var output: [UInt8] = []
        swap(&output, &scratchOutput)
        defer { swap(&output, &scratchOutput) }
        key.withUnsafeBytes { key in
            for item in matches {
                let position = batch.position(of: Int(item), in: context, eventOwners: eventOwners)
                let replaced = batch.editAttributes(owner, at: position) { table, range, storage -> Bool in
                    let row = storage.withBytes { bytes -> Int? in
                        // The first row with the key decides (as reading the attribute does).
                        guard let row = range.range.first(where: { keyEquals(bytes[table.keys[$0]], key) }),
                            table.values[row].kind == .string,
                            RuleReplacement.replaceAll(
                                regex, in: bytes[table.values[row].slice], with: template, vm: vm, into: &output,
                                prechecked: true)
                        else { return nil }
                        return row
                    }
                    guard let row else { return false }
                    table.values[row] = .slice(.string, storage.appendToArena(output))
                    return true
                }
                if replaced { batch.markModified(owner, at: position) }
            }
        }
    }

    /// The items whose attribute `key` is a string the DFA matches, in one pass over the column
    /// (`batch` borrowed: a closure capturing a caller's `inout` batch would copy it).
    static func matching(
        _ items: [Int32], _ owner: AttributeOwner, _ key: [UInt8], _ dfa: RegexDFA, in view: Batch,
        _ context: RuleContext, _ eventOwners: [Int32]
    ) -> [Int32] {
        view.storage.withBytes { bytes in
            key.withUnsafeBytes { key in
                items.filter { item in
                    let position = view.position(of: Int(item), in: context, eventOwners: eventOwners)
                    guard let value = view.attribute(owner, at: position, key: key, bytes),
                        value.kind == .string
                    else { return false }
                    return dfa.isMatch(bytes[value.slice])
                }
            }
        }
    }

    /// Counts a failure under `ignore`/`silent`; rethrows it under `propagate`.
    static func absorb(_ error: RuleRuntimeError, _ mode: RuleErrorMode, _ tally: inout RuleTally)
        throws(RuleRuntimeError)
    {
        if mode == .propagate { throw error }
        tally.record(error)
    }

    /// `replace_pattern` on one item: the DFA rejects most values before any buffer is touched
    /// (unless `prechecked`: the caller's pass over the column already ran it); a replaced value
    /// is copied to the arena once and the field points at it.
    mutating func replacePattern(
        _ path: RulePath, _ regex: ByteRegex, _ replacement: Compiled, _ batch: inout Batch, _ position: RulePosition,
        prechecked: Bool = false
    ) throws(RuleRuntimeError) {
        let current = try readNow(path, batch, position)
        if !prechecked {
            let candidate = batch.storage.withBytes { bytes in
                current.withUTF8(bytes) { regex.dfa?.isMatch($0) ?? true }
            }
            guard candidate == true else { return }
        }
        let template = try evaluateString(replacement, batch, position)
        let vm = scratchVM ?? RegexPikeVM(program: regex.program)
        var output: [UInt8] = []
        swap(&output, &scratchOutput)
        let replaced = batch.storage.withBytes { bytes in
            current.withUTF8(bytes) {
                RuleReplacement.replaceAll(regex, in: $0, with: template, vm: vm, into: &output, prechecked: true)
            }
        }
        scratchVM = vm
        let slice = replaced == true ? batch.storage.appendToArena(output) : nil
        swap(&output, &scratchOutput)
        if let slice { try assign(path, .text(slice), &batch, position) }
    }

    /// Runs one editor on the item at `position`.
    mutating func execute(_ editor: Editor, _ batch: inout Batch, _ position: RulePosition) throws(RuleRuntimeError) {
        switch editor {
        case .set(let path, let value):
            let newValue = try evaluateNow(value, batch, position)
            try assign(path, newValue, &batch, position)
        case .deleteKey(let path, _, .some(let literal)):
            if case .attributes(let owner) = path.field, path.keys.isEmpty {
                if Self.removeAttribute(owner, literal, &batch, position) { batch.markModified(owner, at: position) }
            } else {
                try editMap(path, .deleteKey(literal), &batch, position)
            }
        case .deleteKey(let path, let key, nil):
            let name = try evaluateNow(key, batch, position)
            guard let text = batch.storage.withBytes({ name.string($0) }) else { return }
            try editMap(path, .deleteKey(Array(text.utf8)), &batch, position)
        case .deleteMatchingKeys(let path, let regex): try editMap(path, .deleteMatching(regex), &batch, position)
        case .keepKeys(let path, let keys): try editMap(path, .keepKeys(keys.map { Array($0.utf8) }), &batch, position)
        case .keepMatchingKeys(let path, let regex): try editMap(path, .keepMatching(regex), &batch, position)
        case .limit(let path, let limit, let priority):
            try editMap(path, .limit(limit, priority: priority.map { Array($0.utf8) }), &batch, position)
        case .truncateAll(let path, let limit): try editMap(path, .truncateAll(limit), &batch, position)
        case .replaceAllPatterns(let path, let keys, let regex, let replacement):
            let template = try evaluateString(replacement, batch, position)
            try editMap(path, .replaceAllPatterns(keys: keys, regex, template), &batch, position)
        case .replaceAllMatches(let path, let glob, let replacement):
            let template = try evaluateString(replacement, batch, position)
            try editMap(path, .replaceAllMatches(glob, template), &batch, position)
        case .replacePattern(let path, let regex, let replacement):
            try replacePattern(path, regex, replacement, &batch, position)
        case .replaceMatch(let path, let glob, let replacement):
            let template = try evaluateString(replacement, batch, position)
            let current = try readNow(path, batch, position)
            let matched = batch.storage.withBytes { bytes in current.withUTF8(bytes) { glob.regex.isMatch($0) } }
            if matched == true { try assign(path, .string(template), &batch, position) }
        case .mergeMaps(let path, let source, let strategy):
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
        case .flatten(let path, let prefix, let depth):
            let source = try ownedMap(path, batch, position)
            var flat = RuleMap()
            batch.storage.withBytes { bytes in
                Self.flatten(source, prefix: prefix.map { $0 + "." } ?? "", depth: depth ?? Int.max, into: &flat, bytes)
            }
            try assign(path, .map(flat), &batch, position)
        case .append(let path, let items):
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

    static func flatten(_ map: RuleMap, prefix: String, depth: Int, into flat: inout RuleMap, _ bytes: BatchBytes) {
        for entry in map.entries {
            if depth > 0, let nested = entry.value.map(bytes) {
                flatten(nested, prefix: prefix + entry.key + ".", depth: depth - 1, into: &flat, bytes)
            } else {
                flat[prefix + entry.key] = entry.value
            }
        }
    }

    private func evaluateNow(_ expression: Compiled, _ batch: Batch, _ position: RulePosition)
        throws(RuleRuntimeError) -> RuleValue
    {
        try batch.storage.reading { bytes throws(RuleRuntimeError) in try evaluate(expression, batch, position, bytes) }
    }

    private func readNow(_ path: RulePath, _ batch: Batch, _ position: RulePosition) throws(RuleRuntimeError)
        -> RuleValue
    {
        try batch.storage.reading { bytes throws(RuleRuntimeError) in try read(path, batch, position, bytes) }
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

    private func evaluateString(_ expression: Compiled, _ batch: Batch, _ position: RulePosition)
        throws(RuleRuntimeError) -> String
    {
        if case .constant(.string(let text)) = expression { return text }
        let value = try evaluateNow(expression, batch, position)
        guard let text = batch.storage.withBytes({ value.string($0) }) else {
            throw RuleRuntimeError("expected a string, got \(value.typeName)")
        }
        return text
    }

    private func ownedMap(_ path: RulePath, _ batch: Batch, _ position: RulePosition) throws(RuleRuntimeError)
        -> RuleMap
    {
        let value = try evaluateNow(.path(path), batch, position)
        return batch.storage.withBytes { bytes in value.owned(bytes).map(bytes) } ?? RuleMap()
    }

    /// Applies a map operation: in place on an attribute table, or on an owned map written back.
    private mutating func editMap(
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
    private func internedKey(_ key: [UInt8]) -> ByteSlice? {
        guard let identity = key.withUnsafeBufferPointer({ $0.baseAddress }) else { return nil }
        let pointer = UnsafeRawPointer(identity)
        return keySlices.first { $0.0 == pointer }?.1
    }

    private func replaceAttributes(
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
}
