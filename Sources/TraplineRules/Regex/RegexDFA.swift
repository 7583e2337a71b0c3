#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A DFA for "does the pattern match", built in full when the regex is compiled.
///
/// States are sets of NFA positions. Unanchored, every step also re-enters the program's start
/// ("anywhere"); anchored, it does not ("starting here", and an empty set is a dead state). A
/// state that contains `match` ends the search. Nil when the program uses word boundaries
/// (they depend on the previous byte), needs more than `maxStates` states, or would take more
/// than `maxWork` steps to build.
final class RegexDFA: Sendable {
    /// `transitions[state * 256 + byte]`.
    private let transitions: [Int32]
    /// States that contain a match.
    private let matching: [Bool]
    /// States that match if the input ends here (a pending `$`).
    private let acceptsAtEnd: [Bool]
    private let start: Int32
    /// Anchored only: the start state away from the input's first byte (where `^` fails).
    private let startInside: Int32
    /// The state no match can come from (an empty set), or -1 when there is none.
    private let dead: Int32
    /// Per state, the one byte that leaves it when every other byte loops back (-1 otherwise).
    /// An unanchored search spends most of its time in such a state (waiting for the pattern's
    /// first byte), and `memchr` finds that byte many bytes at a time.
    private let escapes: [Int16]

    static let maxStates = 2_000
    /// Positions visited by closures and scanned in states. Building a state costs one closure
    /// (up to the whole program) per byte class, so the state cap alone lets a long pattern
    /// take many seconds to compile (found by fuzzing a `key_regex` of a hundred `.`s). Past
    /// this budget the Pike VM runs instead.
    static let maxWork = 5_000_000

    init?(program: RegexProgram, anchored: Bool = false) {
        guard !program.usesWordBoundary else { return nil }
        let instructions = program.instructions
        var closureBuilder = RegexClosure(instructions: instructions)
        let restart = anchored ? [] : closureBuilder.closure(of: [0], atStart: false, atEnd: false)
        let classes = Self.byteClasses(instructions)
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
        var startInside = start
        var dead: Int32 = -1
        if !anchored && restart.isEmpty, let empty = stateIndex([]) {
            // A pattern that must start at the input's start: once it fails, it cannot match.
            dead = empty
            pending.append(empty)
        }
        if anchored {
            guard let inside = stateIndex(closureBuilder.closure(of: [0], atStart: false, atEnd: false)),
                let empty = stateIndex([])
            else { return nil }
            (startInside, dead) = (inside, empty)
            pending += [inside, empty]
        }
        var scanned = 0
        while let state = pending.popLast() {
            let set = states[Int(state)]
            scanned += classes.count * (set.count + restart.count)
            guard scanned + closureBuilder.steps <= Self.maxWork else { return nil }
            // What `$` would allow if the input ended in this state.
            let atEnd = closureBuilder.closure(of: set, atStart: false, atEnd: true)
            acceptsAtEnd[Int(state)] = atEnd.contains { if case .match = instructions[$0] { true } else { false } }
            if matching[Int(state)] {
                for byte in 0..<256 { transitions[Int(state) * 256 + byte] = state }
                continue
            }
            // One transition per byte class (bytes no instruction tells apart), copied to its bytes.
            for (representative, members) in classes {
                var next: [Int] = []
                for position in set {
                    if case .byteSet(let bytes) = instructions[position], bytes.contains(representative) {
                        next.append(position + 1)
                    }
                }
                var nextSet = closureBuilder.closure(of: next, atStart: false, atEnd: false)
                if !restart.isEmpty { nextSet = Array(Set(nextSet).union(restart)).sorted() }
                let known = index[nextSet] != nil
                guard let target = stateIndex(nextSet) else { return nil }
                if !known { pending.append(target) }
                for byte in members { transitions[Int(state) * 256 + Int(byte)] = target }
            }
        }
        escapes = (0..<states.count).map { state in
            var escape: Int16 = -1
            for byte in 0..<256 where transitions[state * 256 + byte] != Int32(state) {
                guard escape == -1 else { return -1 }
                escape = Int16(byte)
            }
            return escape
        }
        self.transitions = transitions
        self.matching = matching
        self.acceptsAtEnd = acceptsAtEnd
        self.start = start
        self.startInside = startInside
        self.dead = dead
    }

    /// Groups the 256 bytes into classes no byte set of the program distinguishes, so building
    /// a state costs one closure per class instead of one per byte.
    static func byteClasses(_ instructions: [RegexInstruction]) -> [(representative: UInt8, members: [UInt8])] {
        var signatures = [[Bool]](repeating: [], count: 256)
        var distinct: [ByteSet] = []
        for instruction in instructions {
            if case .byteSet(let set) = instruction, !distinct.contains(set) { distinct.append(set) }
        }
        for byte in 0..<256 { signatures[byte] = distinct.map { $0.contains(UInt8(byte)) } }
        var classes: [[Bool]: Int] = [:]
        var result: [(representative: UInt8, members: [UInt8])] = []
        for byte in 0..<256 {
            if let existing = classes[signatures[byte]] {
                result[existing].members.append(UInt8(byte))
            } else {
                classes[signatures[byte]] = result.count
                result.append((UInt8(byte), [UInt8(byte)]))
            }
        }
        return result
    }

    /// Anchored DFAs: where the first match that starts at `position` ends, or nil.
    func firstMatchEnd(_ bytes: UnsafeRawBufferPointer, at position: Int) -> Int? {
        transitions.withUnsafeBufferPointer { table in
            matching.withUnsafeBufferPointer { matching in
                var state = Int(position == 0 ? start : startInside)
                if matching[state] { return position }
                var index = position
                while index < bytes.count {
                    // Safe: every entry of a built state is a valid state index.
                    state = Int(table[state &* 256 &+ Int(bytes[index])])
                    index += 1
                    if matching[state] { return index }
                    if state == Int(dead) { return nil }
                }
                return acceptsAtEnd[state] ? index : nil
            }
        }
    }

    func isMatch(_ bytes: UnsafeRawBufferPointer) -> Bool {
        transitions.withUnsafeBufferPointer { table in
            matching.withUnsafeBufferPointer { matching in
                escapes.withUnsafeBufferPointer { escapes in
                    var state = Int(start)
                    if matching[state] { return true }
                    guard let base = bytes.baseAddress else { return acceptsAtEnd[state] }
                    let dead = Int(self.dead)
                    var index = 0
                    while index < bytes.count {
                        let escape = escapes[state]
                        if escape >= 0 {
                            // Nothing but `escape` leaves this state: jump to it.
                            guard let found = memchr(base + index, Int32(escape), bytes.count - index) else {
                                return acceptsAtEnd[state]
                            }
                            index = UnsafeRawPointer(found) - base
                        }
                        // Safe: every entry of a built state is a valid state index.
                        state = Int(table[state &* 256 &+ Int(bytes[index])])
                        if matching[state] { return true }
                        if state == dead { return false }
                        index += 1
                    }
                    return acceptsAtEnd[state]
                }
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
    /// Positions visited by every closure so far: the cost of building a DFA.
    private(set) var steps = 0

    init(instructions: [RegexInstruction]) {
        self.instructions = instructions
        seen = Array(repeating: -1, count: instructions.count)
    }

    mutating func closure(of positions: [Int], atStart: Bool, atEnd: Bool) -> [Int] {
        generation += 1
        var result: [Int] = []
        var stack = positions.reversed().map { $0 }
        while let position = stack.popLast() {
            steps += 1
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

/// Leftmost-first matching with captures, holding its buffers between searches (one per
/// evaluator, reused by every replacement of a batch). The work happens on a struct moved out
/// of the object for the search, so no access to the buffers goes through dynamic
/// exclusivity checks.
final class RegexPikeVM {
    private var state: PikeState

    init(program: RegexProgram) { state = PikeState(program: program) }

    /// The slots of the last match `search` found (start and end of each group, -1 when unset).
    var matchedSlots: [Int] { state.matchedSlots }

    /// Makes `program` the one searched, keeping the buffers; nothing to do when it already is.
    func use(_ program: RegexProgram) {
        if state.program !== program { state.reset(for: program) }
    }

    func search(_ bytes: UnsafeRawBufferPointer, from start: Int, anchored: Bool = false) -> Bool {
        var local = PikeState(program: state.program, empty: true)
        swap(&local, &state)
        defer { swap(&local, &state) }
        return local.search(bytes, from: start, anchored: anchored)
    }

    func firstMatch(_ bytes: UnsafeRawBufferPointer, from start: Int) -> [Range<Int>?]? {
        guard search(bytes, from: start) else { return nil }
        return state.groupRanges
    }
}

/// The Pike VM itself: one pass over the input, threads in priority order, thread lists and
/// capture slots in flat arrays that keep their storage from search to search.
struct PikeState {
    private(set) var program: RegexProgram
    private var slotCount: Int
    private var marks: [Int]
    private var currentPCs: [Int] = []
    private var currentSlots: [Int] = []
    private var nextPCs: [Int] = []
    private var nextSlots: [Int] = []
    private var work: [Int]
    private var stack: [(pc: Int, restoreSlot: Int, restoreValue: Int)] = []
    private var generation = 0

    /// The slots of the last match `search` found (start and end of each group, -1 when unset).
    private(set) var matchedSlots: [Int] = []

    init(program: RegexProgram) {
        self.program = program
        slotCount = max(program.slotCount, 2)
        marks = Array(repeating: 0, count: program.instructions.count)
        work = Array(repeating: -1, count: slotCount)
    }

    /// A placeholder without buffers (swapped in while the real state works).
    init(program: RegexProgram, empty: Bool) {
        self.program = program
        slotCount = 2
        marks = []
        work = []
    }

    /// Switches to another program, keeping the buffers' storage.
    mutating func reset(for program: RegexProgram) {
        self.program = program
        slotCount = max(program.slotCount, 2)
        marks.removeAll(keepingCapacity: true)
        marks.append(contentsOf: repeatElement(0, count: program.instructions.count))
        work.removeAll(keepingCapacity: true)
        work.append(contentsOf: repeatElement(-1, count: slotCount))
        generation = 0
    }

    private static func isWord(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> Bool {
        guard index >= 0, index < bytes.count else { return false }
        let byte = bytes[index]
        return byte == 0x5F || (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
    }

    /// Adds the thread at `pc` (captures in `work`) and its epsilon closure to the next list,
    /// in priority order. Saves are undone on the way back, so `work` is shared.
    private mutating func add(_ pc: Int, at index: Int, _ bytes: UnsafeRawBufferPointer) {
        let instructions = program.instructions
        stack.append((pc, -1, 0))
        while let frame = stack.popLast() {
            if frame.restoreSlot >= 0 {
                work[frame.restoreSlot] = frame.restoreValue
                continue
            }
            let pc = frame.pc
            guard marks[pc] != generation else { continue }
            marks[pc] = generation
            switch instructions[pc] {
            case .byteSet, .match:
                nextPCs.append(pc)
                nextSlots.append(contentsOf: work)
            case .split(let first, let second):
                stack.append((second, -1, 0))
                stack.append((first, -1, 0))
            case .jump(let target): stack.append((target, -1, 0))
            case .save(let slot):
                if slot < slotCount {
                    stack.append((0, slot, work[slot]))
                    work[slot] = index
                }
                stack.append((pc + 1, -1, 0))
            case .assertStart: if index == 0 { stack.append((pc + 1, -1, 0)) }
            case .assertEnd: if index == bytes.count { stack.append((pc + 1, -1, 0)) }
            case .wordBoundary(let expected):
                if (Self.isWord(bytes, index - 1) != Self.isWord(bytes, index)) == expected {
                    stack.append((pc + 1, -1, 0))
                }
            }
        }
    }

    /// The groups of the last match as ranges (nil for a group that took no part).
    var groupRanges: [Range<Int>?] {
        stride(from: 0, to: slotCount, by: 2).map { slot in
            matchedSlots[slot] >= 0 && matchedSlots[slot + 1] >= 0 ? matchedSlots[slot]..<matchedSlots[slot + 1] : nil
        }
    }

    /// Finds the leftmost match at or after `start` (only at `start` when `anchored`); its slots
    /// are then in `matchedSlots`.
    mutating func search(_ bytes: UnsafeRawBufferPointer, from start: Int, anchored: Bool = false) -> Bool {
        let instructions = program.instructions
        var matched = false
        var index = start
        let firstBytes = program.firstBytes
        if let firstBytes {
            // No thread can start before a byte that begins a match: skip to the first one.
            while index < bytes.count && !firstBytes.contains(bytes[index]) { index += 1 }
            if index >= bytes.count { return false }
        }
        currentPCs.removeAll(keepingCapacity: true)
        currentSlots.removeAll(keepingCapacity: true)
        nextPCs.removeAll(keepingCapacity: true)
        nextSlots.removeAll(keepingCapacity: true)
        for slot in work.indices { work[slot] = -1 }
        generation += 1
        add(0, at: index, bytes)
        swap(&currentPCs, &nextPCs)
        swap(&currentSlots, &nextSlots)
        // Until something matched, a new thread starts at every position, so an empty thread
        // list (a failed `^` or `\b` at this position) does not end the search.
        while !currentPCs.isEmpty || (!anchored && !matched && index < bytes.count) {
            generation += 1
            nextPCs.removeAll(keepingCapacity: true)
            nextSlots.removeAll(keepingCapacity: true)
            threads: for (thread, pc) in currentPCs.enumerated() {
                switch instructions[pc] {
                case .match:
                    matchedSlots.removeAll(keepingCapacity: true)
                    matchedSlots.append(contentsOf: currentSlots[(thread * slotCount)..<((thread + 1) * slotCount)])
                    matched = true
                    // Threads after this one have lower priority and lose to this match.
                    break threads
                case .byteSet(let set):
                    if index < bytes.count, set.contains(bytes[index]) {
                        for slot in 0..<slotCount { work[slot] = currentSlots[thread * slotCount + slot] }
                        add(pc + 1, at: index + 1, bytes)
                    }
                default: break
                }
            }
            if index >= bytes.count { break }
            index += 1
            if !matched && !anchored {
                if let firstBytes, nextPCs.isEmpty {
                    // Nothing in flight: jump to the next byte a match can start with.
                    while index < bytes.count && !firstBytes.contains(bytes[index]) { index += 1 }
                    if index >= bytes.count { break }
                }
                if firstBytes == nil || (index < bytes.count && firstBytes!.contains(bytes[index])) {
                    for slot in work.indices { work[slot] = -1 }
                    add(0, at: index, bytes)
                }
            }
            swap(&currentPCs, &nextPCs)
            swap(&currentSlots, &nextSlots)
        }
        return matched
    }
}
