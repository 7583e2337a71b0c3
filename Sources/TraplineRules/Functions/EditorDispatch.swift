import TraplineCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

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
        where path.keys.isEmpty && path.field.attributeOwner == .record && context.itemsAreRows:
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
                    try Self.absorb(error, errorMode, &tally, at: position)
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
                    try Self.absorb(error, errorMode, &tally, at: position)
                }
            }
        case .set(let path, let value):
            for item in items {
                let position = batch.position(of: Int(item), in: context, eventOwners: eventOwners)
                do {
                    let newValue = try evaluateNow(value, batch, position)
                    try assign(path, newValue, &batch, position)
                } catch {
                    try Self.absorb(error, errorMode, &tally, at: position)
                }
            }
        default:
            for item in items {
                let position = batch.position(of: Int(item), in: context, eventOwners: eventOwners)
                do { try execute(editor, &batch, position) } catch {
                    try Self.absorb(error, errorMode, &tally, at: position)
                }
            }
        }
    }

    /// Counts a failure under `ignore`/`silent`; rethrows it under `propagate`.
    static func absorb(
        _ error: RuleRuntimeError, _ mode: RuleErrorMode, _ tally: inout RuleTally, at position: RulePosition
    ) throws(RuleRuntimeError) {
        if mode == .propagate { throw error }
        tally.record(error, at: position)
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
            try replaceMatch(path, glob, replacement, &batch, position)
        case .mergeMaps(let path, let source, let strategy):
            try mergeMaps(path, source, strategy, &batch, position)
        case .flatten(let path, let prefix, let depth):
            try flatten(path, prefix: prefix, depth: depth, &batch, position)
        case .append(let path, let items): try append(items, to: path, &batch, position)
        }
    }

    func evaluateNow(_ expression: Compiled, _ batch: Batch, _ position: RulePosition)
        throws(RuleRuntimeError) -> RuleValue
    {
        try batch.storage.reading { bytes throws(RuleRuntimeError) in try evaluate(expression, batch, position, bytes) }
    }

    func readNow(_ path: RulePath, _ batch: Batch, _ position: RulePosition) throws(RuleRuntimeError)
        -> RuleValue
    {
        try batch.storage.reading { bytes throws(RuleRuntimeError) in try read(path, batch, position, bytes) }
    }

    func evaluateString(_ expression: Compiled, _ batch: Batch, _ position: RulePosition)
        throws(RuleRuntimeError) -> String
    {
        if case .constant(.string(let text)) = expression { return text }
        let value = try evaluateNow(expression, batch, position)
        guard let text = batch.storage.withBytes({ value.string($0) }) else {
            throw RuleRuntimeError("expected a string, got \(value.typeName)")
        }
        return text
    }

    func ownedMap(_ path: RulePath, _ batch: Batch, _ position: RulePosition) throws(RuleRuntimeError)
        -> RuleMap
    {
        let value = try evaluateNow(.path(path), batch, position)
        return batch.storage.withBytes { bytes in value.owned(bytes).map(bytes) } ?? RuleMap()
    }
}
