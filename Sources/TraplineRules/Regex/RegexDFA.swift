/// A DFA for "does the pattern match anywhere", built in full when the regex is compiled.
///
/// States are sets of NFA positions; the search is unanchored, so every step also re-enters the
/// program's start. A state that contains `match` ends the search. Nil when the program uses
/// word boundaries (they depend on the previous byte) or needs more than `maxStates` states.
struct RegexDFA: Sendable {
    /// `transitions[state * 256 + byte]`.
    private let transitions: [Int32]
    /// States that contain a match.
    private let matching: [Bool]
    /// States that match if the input ends here (a pending `$`).
    private let acceptsAtEnd: [Bool]
    private let start: Int32

    static let maxStates = 2_000

    init?(program: RegexProgram) {
        guard !program.usesWordBoundary else { return nil }
        let instructions = program.instructions
        var closureBuilder = RegexClosure(instructions: instructions)
        let restart = closureBuilder.closure(of: [0], atStart: false, atEnd: false)
        var states: [[Int]] = []
        var index: [[Int]: Int32] = [:]
        var transitions: [Int32] = []
        var matching: [Bool] = []
        var acceptsAtEnd: [Bool] = []

        func stateIndex(_ set: [Int]) -> Int32? {
            if let existing = index[set] { return existing }
            guard states.count < Self.maxStates else { return nil }
            let id = Int32(states.count)
            states.append(set)
            index[set] = id
            transitions.append(contentsOf: repeatElement(-1, count: 256))
            matching.append(set.contains { if case .match = instructions[$0] { true } else { false } })
            acceptsAtEnd.append(false)
            return id
        }

        let startSet = closureBuilder.closure(of: [0], atStart: true, atEnd: false)
        guard let start = stateIndex(startSet) else { return nil }
        var pending = [start]
        while let state = pending.popLast() {
            let set = states[Int(state)]
            // What `$` would allow if the input ended in this state.
            let atEnd = closureBuilder.closure(of: set, atStart: false, atEnd: true)
            acceptsAtEnd[Int(state)] = atEnd.contains { if case .match = instructions[$0] { true } else { false } }
            if matching[Int(state)] {
                for byte in 0..<256 { transitions[Int(state) * 256 + byte] = state }
                continue
            }
            for byte in 0..<256 {
                var next: [Int] = []
                for position in set {
                    if case .byteSet(let bytes) = instructions[position], bytes.contains(UInt8(byte)) {
                        next.append(position + 1)
                    }
                }
                var nextSet = closureBuilder.closure(of: next, atStart: false, atEnd: false)
                nextSet = Array(Set(nextSet).union(restart)).sorted()
                let known = index[nextSet] != nil
                guard let target = stateIndex(nextSet) else { return nil }
                if !known { pending.append(target) }
                transitions[Int(state) * 256 + byte] = target
            }
        }
        self.transitions = transitions
        self.matching = matching
        self.acceptsAtEnd = acceptsAtEnd
        self.start = start
    }

    func isMatch(_ bytes: UnsafeRawBufferPointer) -> Bool {
        transitions.withUnsafeBufferPointer { table in
            matching.withUnsafeBufferPointer { matching in
                var state = Int(start)
                if matching[state] { return true }
                for byte in bytes {
                    // Safe: every entry of a built state is a valid state index.
                    state = Int(table[state &* 256 &+ Int(byte)])
                    if matching[state] { return true }
                }
                return acceptsAtEnd[state]
            }
        }
    }
}

/// Epsilon closures of NFA positions: follows splits, jumps and saves, and the assertions the
/// position allows. The result keeps consuming instructions, `match`, and (when not at the end)
/// pending `$` positions, sorted.
struct RegexClosure {
    let instructions: [RegexInstruction]
    private var seen: [Int]
    private var generation = 0

    init(instructions: [RegexInstruction]) {
        self.instructions = instructions
        seen = Array(repeating: -1, count: instructions.count)
    }

    mutating func closure(of positions: [Int], atStart: Bool, atEnd: Bool) -> [Int] {
        generation += 1
        var result: [Int] = []
        var stack = positions.reversed().map { $0 }
        while let position = stack.popLast() {
            guard seen[position] != generation else { continue }
            seen[position] = generation
            switch instructions[position] {
            case .byteSet, .match: result.append(position)
            case .split(let first, let second):
                stack.append(second)
                stack.append(first)
            case .jump(let target): stack.append(target)
            case .save: stack.append(position + 1)
            case .assertStart: if atStart { stack.append(position + 1) }
            case .assertEnd:
                if atEnd { stack.append(position + 1) } else { result.append(position) }
            case .wordBoundary: break
            }
        }
        return result.sorted()
    }
}

/// Leftmost-first matching with captures (Pike VM): one pass, threads in priority order.
struct RegexPikeVM {
    let program: RegexProgram

    private struct Thread {
        var position: Int
        var slots: [Int]
    }

    func firstMatch(_ bytes: UnsafeRawBufferPointer, from start: Int) -> [Range<Int>?]? {
        let instructions = program.instructions
        let slotCount = max(program.slotCount, 2)
        var current: [Thread] = []
        var next: [Thread] = []
        var marks = Array(repeating: -1, count: instructions.count)
        var matched: [Int]?

        func isWord(_ index: Int) -> Bool {
            guard index >= 0, index < bytes.count else { return false }
            let byte = bytes[index]
            return byte == 0x5F || (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
        }

        /// Adds a thread and its epsilon closure, in priority order.
        func add(_ list: inout [Thread], _ position: Int, _ slots: [Int], at index: Int, mark: Int) {
            var stack: [(Int, [Int])] = [(position, slots)]
            while let (pc, threadSlots) = stack.popLast() {
                guard marks[pc] != mark else { continue }
                marks[pc] = mark
                switch instructions[pc] {
                case .byteSet, .match: list.append(Thread(position: pc, slots: threadSlots))
                case .split(let first, let second):
                    stack.append((second, threadSlots))
                    stack.append((first, threadSlots))
                case .jump(let target): stack.append((target, threadSlots))
                case .save(let slot):
                    var updated = threadSlots
                    if slot < updated.count { updated[slot] = index }
                    stack.append((pc + 1, updated))
                case .assertStart: if index == 0 { stack.append((pc + 1, threadSlots)) }
                case .assertEnd: if index == bytes.count { stack.append((pc + 1, threadSlots)) }
                case .wordBoundary(let expected):
                    if (isWord(index - 1) != isWord(index)) == expected { stack.append((pc + 1, threadSlots)) }
                }
            }
        }

        var mark = 1
        var index = start
        let empty = Array(repeating: -1, count: slotCount)
        add(&current, 0, empty, at: index, mark: mark)
        // Until something matched, a new thread starts at every position, so an empty thread
        // list (a failed `^` or `\b` at this position) does not end the search.
        while !current.isEmpty || (matched == nil && index < bytes.count) {
            mark += 1
            next.removeAll(keepingCapacity: true)
            threads: for thread in current {
                switch instructions[thread.position] {
                case .match:
                    matched = thread.slots
                    // Threads after this one have lower priority and lose to this match.
                    break threads
                case .byteSet(let set):
                    if index < bytes.count, set.contains(bytes[index]) {
                        add(&next, thread.position + 1, thread.slots, at: index + 1, mark: mark)
                    }
                default: break
                }
            }
            if index >= bytes.count { break }
            index += 1
            // Unanchored: until something matched, a new lowest-priority thread starts here.
            if matched == nil { add(&next, 0, empty, at: index, mark: mark) }
            swap(&current, &next)
        }
        guard let slots = matched else { return nil }
        return stride(from: 0, to: slotCount, by: 2).map { slot in
            slots[slot] >= 0 && slots[slot + 1] >= 0 ? slots[slot]..<slots[slot + 1] : nil
        }
    }
}
