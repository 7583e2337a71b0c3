import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The replace editors: `replace_pattern`, `replace_all_patterns`, `replace_match`,
/// `replace_all_matches`.
enum ReplaceEditors {
    /// The editor when `arguments` call one of this family's functions; nil for another family's.
    static func compile(_ arguments: EditorArguments) throws(RuleError) -> Editor? {
        let maps: Set<RuleType> = [.map]
        switch arguments.name {
        case "replace_pattern":
            try arguments.noFunctionArgument(3)
            return .replacePattern(
                try arguments.target([.string]).0, try arguments.regex(1), try arguments.value(2, [.string], "a string")
            )
        case "replace_all_patterns":
            try arguments.noFunctionArgument(4)
            let (path, _) = try arguments.target(maps)
            let mode = try arguments.constantString(1, "the mode")
            guard mode == "key" || mode == "value" else {
                throw RuleError(
                    .typeMismatch, column: arguments.bound[1]?.column ?? arguments.call.column,
                    "the mode must be \"key\" or \"value\"")
            }
            return .replaceAllPatterns(
                path, keys: mode == "key", try arguments.regex(2), try arguments.value(3, [.string], "a string"))
        case "replace_match":
            try arguments.noFunctionArgument(3)
            return .replaceMatch(
                try arguments.target([.string]).0, try arguments.glob(1), try arguments.value(2, [.string], "a string"))
        case "replace_all_matches":
            try arguments.noFunctionArgument(3)
            return .replaceAllMatches(
                try arguments.target(maps).0, try arguments.glob(1), try arguments.value(2, [.string], "a string"))
        default: return nil
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

extension RuleEvaluator {
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

    /// `replace_match(target, glob, replacement)`.
    mutating func replaceMatch(
        _ path: RulePath, _ glob: GlobPattern, _ replacement: Compiled, _ batch: inout Batch, _ position: RulePosition
    ) throws(RuleRuntimeError) {
        let template = try evaluateString(replacement, batch, position)
        let current = try readNow(path, batch, position)
        let matched = batch.storage.withBytes { bytes in current.withUTF8(bytes) { glob.regex.isMatch($0) } }
        if matched == true { try assign(path, .string(template), &batch, position) }
    }
}
