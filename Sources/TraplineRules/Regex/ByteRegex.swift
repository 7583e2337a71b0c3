/// A regular expression in RE2 syntax (the subset OTTL users write), compiled once at load time
/// into a byte program over UTF-8.
///
/// `isMatch` runs a DFA built when the pattern is compiled (one table lookup per input byte, no
/// allocation); patterns the DFA cannot express (word boundaries, or more states than the cap)
/// run the Pike VM instead. Captures (`firstMatch`, replacing, extracting) always use the Pike
/// VM. Immutable after `init`, so one compiled regex is shared by every worker.
public struct ByteRegex: Sendable {
    /// Everything compiled, behind one reference, so copying a regex costs one retain.
    private let compiled: CompiledRegex

    /// The pattern as written.
    public var pattern: String { compiled.pattern }
    var program: RegexProgram { compiled.program }
    var dfa: RegexDFA? { compiled.dfa }
    /// The anchored DFA: whether a match starts at a given position.
    var anchoredDFA: RegexDFA? { compiled.anchoredDFA }
    /// Names of capture groups by index (index 0 is the whole match and has no name).
    public var groupNames: [String?] { compiled.groupNames }
    /// Whether the program asserts the start of the input, which a search from a later offset
    /// (on a rebased buffer) would misread; such searches skip the DFA pre-check.
    var usesAnchors: Bool { compiled.usesAnchors }

    /// Compiles `pattern`.
    ///
    /// - Throws: `RegexSyntaxError` with the character offset of the problem.
    ///
    /// Allocates the compiled program (and its DFA when the pattern allows one).
    public init(_ pattern: String) throws(RegexSyntaxError) {
        var parser = RegexParser(pattern)
        let node = try parser.parse()
        let program = try RegexCompiler.compile(node, groupCount: parser.groupNames.count)
        compiled = CompiledRegex(
            pattern: pattern, program: program, dfa: RegexDFA(program: program),
            anchoredDFA: RegexDFA(program: program, anchored: true), groupNames: parser.groupNames,
            usesAnchors: program.instructions.contains { if case .assertStart = $0 { true } else { false } })
    }

    /// Number of capture groups, not counting the whole match.
    public var groupCount: Int { groupNames.count - 1 }

    /// Whether the pattern matches anywhere in `bytes`. Allocates nothing when the DFA applies.
    public func isMatch(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let dfa { return dfa.isMatch(bytes) }
        return RegexPikeVM(program: program).search(bytes, from: 0)
    }

    /// Whether the pattern matches anywhere in `text`.
    /// Allocates nothing when the DFA applies (the string is read in place).
    public func isMatch(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isMatch(UnsafeRawBufferPointer($0)) }
    }

    /// The leftmost match at or after `start`: byte ranges of the whole match (index 0) and of
    /// each group (nil when the group took no part). Allocates the matcher and the ranges returned.
    public func firstMatch(_ bytes: UnsafeRawBufferPointer, from start: Int = 0) -> [Range<Int>?]? {
        if let dfa, !dfa.isMatch(UnsafeRawBufferPointer(rebasing: bytes[start...])), !usesAnchors { return nil }
        return RegexPikeVM(program: program).firstMatch(bytes, from: start)
    }

    /// Every non-overlapping match, left to right. Allocates nothing when there is no match
    /// (the DFA says so first).
    public func allMatches(_ bytes: UnsafeRawBufferPointer) -> [[Range<Int>?]] {
        if let dfa, !dfa.isMatch(bytes) { return [] }
        var matches: [[Range<Int>?]] = []
        var position = 0
        let vm = RegexPikeVM(program: program)
        while position <= bytes.count, let match = vm.firstMatch(bytes, from: position), let whole = match[0] {
            matches.append(match)
            // An empty match moves on by one whole UTF-8 character so the scan always advances.
            position = whole.isEmpty ? Self.nextCharacter(bytes, after: whole.upperBound) : whole.upperBound
        }
        return matches
    }

    static func nextCharacter(_ bytes: UnsafeRawBufferPointer, after index: Int) -> Int {
        var next = index + 1
        while next < bytes.count && bytes[next] & 0xC0 == 0x80 { next += 1 }
        return next
    }
}

/// The immutable parts of a compiled regex.
final class CompiledRegex: Sendable {
    let pattern: String
    let program: RegexProgram
    let dfa: RegexDFA?
    let anchoredDFA: RegexDFA?
    let groupNames: [String?]
    let usesAnchors: Bool

    init(
        pattern: String, program: RegexProgram, dfa: RegexDFA?, anchoredDFA: RegexDFA?, groupNames: [String?],
        usesAnchors: Bool
    ) {
        self.pattern = pattern
        self.program = program
        self.dfa = dfa
        self.anchoredDFA = anchoredDFA
        self.groupNames = groupNames
        self.usesAnchors = usesAnchors
    }
}

/// A pattern that is not a regular expression Trapline understands.
public struct RegexSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// 0-based character offset in the pattern.
    public var offset: Int

    public var description: String { "\(message) at character \(offset + 1) of the pattern" }
}

/// One instruction of a compiled regex (Thompson construction over bytes).
enum RegexInstruction: Sendable {
    /// Consumes one byte in `set`.
    case byteSet(ByteSet)
    /// Continues at both targets; the first has priority (leftmost-first).
    case split(Int, Int)
    case jump(Int)
    /// Records the current position in capture slot `n`.
    case save(Int)
    /// Only at the start of the input.
    case assertStart
    /// Only at the end of the input.
    case assertEnd
    /// At a word boundary (`true`) or not at one (`false`).
    case wordBoundary(Bool)
    case match
}

/// 256 bits: which bytes an instruction accepts.
struct ByteSet: Hashable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (lhs: ByteSet, rhs: ByteSet) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
            && lhs.words.3 == rhs.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    mutating func insert(_ range: ClosedRange<UInt8>) {
        for byte in range {
            let bit = UInt64(1) << UInt64(byte & 63)
            switch byte >> 6 {
            case 0: words.0 |= bit
            case 1: words.1 |= bit
            case 2: words.2 |= bit
            default: words.3 |= bit
            }
        }
    }

    var isEmpty: Bool { words.0 | words.1 | words.2 | words.3 == 0 }
}

/// A compiled program: instructions and the number of capture slots (two per group).
final class RegexProgram: Sendable {
    let instructions: [RegexInstruction]
    let slotCount: Int
    let usesWordBoundary: Bool
    /// The bytes a match can start with; nil when a match can be empty or start after an
    /// assertion (then every position is a candidate).
    let firstBytes: ByteSet?
    /// Whether the program branches (alternation, repetition). Without branches a match that
    /// starts at a position has one end, which the anchored DFA finds without the Pike VM.
    let hasSplits: Bool
    /// The one byte every match starts with, when there is exactly one (searched with `memchr`).
    let firstByte: UInt8?

    init(instructions: [RegexInstruction], slotCount: Int, usesWordBoundary: Bool) {
        self.instructions = instructions
        self.slotCount = slotCount
        self.usesWordBoundary = usesWordBoundary
        let firstBytes = Self.firstBytes(instructions)
        self.firstBytes = firstBytes
        let candidates = firstBytes.map { set in (0...255).filter { set.contains(UInt8($0)) } } ?? []
        firstByte = candidates.count == 1 ? UInt8(candidates[0]) : nil
        hasSplits = instructions.contains { if case .split = $0 { true } else { false } }
    }

    private static func firstBytes(_ instructions: [RegexInstruction]) -> ByteSet? {
        var set = ByteSet()
        var seen = Set<Int>()
        var stack = [0]
        while let pc = stack.popLast() {
            guard seen.insert(pc).inserted else { continue }
            switch instructions[pc] {
            case .byteSet(let bytes):
                set.words.0 |= bytes.words.0
                set.words.1 |= bytes.words.1
                set.words.2 |= bytes.words.2
                set.words.3 |= bytes.words.3
            case .split(let first, let second):
                stack.append(first)
                stack.append(second)
            case .jump(let target): stack.append(target)
            case .save: stack.append(pc + 1)
            case .match, .assertStart, .assertEnd, .wordBoundary: return nil
            }
        }
        return set
    }
}
