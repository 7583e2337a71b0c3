/// A regular expression in RE2 syntax (the subset OTTL users write), compiled once at load time
/// into a byte program over UTF-8.
///
/// `isMatch` runs a DFA built when the pattern is compiled (one table lookup per input byte, no
/// allocation); patterns the DFA cannot express (word boundaries, or more states than the cap)
/// run the Pike VM instead. Captures (`firstMatch`, replacing, extracting) always use the Pike
/// VM. Immutable after `init`, so one compiled regex is shared by every worker.
public struct ByteRegex: Sendable {
    /// The pattern as written.
    public let pattern: String
    let program: RegexProgram
    let dfa: RegexDFA?
    /// Names of capture groups by index (index 0 is the whole match and has no name).
    public let groupNames: [String?]

    /// Compiles `pattern`.
    ///
    /// - Throws: `RegexSyntaxError` with the character offset of the problem.
    public init(_ pattern: String) throws(RegexSyntaxError) {
        self.pattern = pattern
        var parser = RegexParser(pattern)
        let node = try parser.parse()
        groupNames = parser.groupNames
        program = try RegexCompiler.compile(node, groupCount: parser.groupNames.count)
        dfa = RegexDFA(program: program)
    }

    /// Number of capture groups, not counting the whole match.
    public var groupCount: Int { groupNames.count - 1 }

    /// Whether the pattern matches anywhere in `bytes`. Allocates nothing when the DFA applies.
    public func isMatch(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let dfa { return dfa.isMatch(bytes) }
        return RegexPikeVM(program: program).firstMatch(bytes, from: 0) != nil
    }

    /// Whether the pattern matches anywhere in `text`.
    public func isMatch(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isMatch(UnsafeRawBufferPointer($0)) }
    }

    /// The leftmost match at or after `start`: byte ranges of the whole match (index 0) and of
    /// each group (nil when the group took no part).
    public func firstMatch(_ bytes: UnsafeRawBufferPointer, from start: Int = 0) -> [Range<Int>?]? {
        RegexPikeVM(program: program).firstMatch(bytes, from: start)
    }

    /// Every non-overlapping match, left to right.
    public func allMatches(_ bytes: UnsafeRawBufferPointer) -> [[Range<Int>?]] {
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
struct RegexProgram: Sendable {
    var instructions: [RegexInstruction]
    var slotCount: Int
    var usesWordBoundary: Bool
}
