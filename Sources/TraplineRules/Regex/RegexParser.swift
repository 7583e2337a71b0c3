/// A parsed regular expression, over Unicode scalars.
indirect enum RegexNode {
    /// One character from a set of scalar ranges (sorted, not overlapping).
    case characters([ClosedRange<UInt32>])
    case concatenation([RegexNode])
    case alternation([RegexNode])
    case repetition(RegexNode, min: Int, max: Int?, greedy: Bool)
    /// A group; `index` is its capture number, nil for `(?:…)`.
    case group(RegexNode, index: Int?)
    case assertStart
    case assertEnd
    case wordBoundary(Bool)
}

/// Parses RE2 syntax: literals and escapes, `.`, classes (with ranges, negation, `\d\w\s` and
/// POSIX names), `^ $ \A \z \b \B`, groups (capturing, `(?:…)`, `(?P<name>…)`, `(?<name>…)`),
/// flags `(?i)` `(?s)` and `(?i:…)`, alternation, and greedy or lazy `* + ? {n} {n,} {n,m}`.
struct RegexParser {
    private let scalars: [UInt32]
    private var position = 0
    private var caseInsensitive = false
    private var dotMatchesNewline = false
    /// Group names by capture index; index 0 is the whole match.
    private(set) var groupNames: [String?] = [nil]

    /// Repetition counts above this are refused: they would compile to huge programs.
    static let maxRepeat = 1000

    init(_ pattern: String) { scalars = pattern.unicodeScalars.map(\.value) }

    mutating func parse() throws(RegexSyntaxError) -> RegexNode {
        let node = try parseAlternation()
        if position < scalars.count { throw error("unmatched ')'") }
        return node
    }

    private func error(_ message: String, at offset: Int? = nil) -> RegexSyntaxError {
        RegexSyntaxError(message: message, offset: offset ?? position)
    }

    private var current: UInt32? { position < scalars.count ? scalars[position] : nil }

    private mutating func take(_ character: Character) -> Bool {
        guard current == character.unicodeScalars.first!.value else { return false }
        position += 1
        return true
    }

    private mutating func parseAlternation() throws(RegexSyntaxError) -> RegexNode {
        var branches = [try parseConcatenation()]
        while take("|") { branches.append(try parseConcatenation()) }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseConcatenation() throws(RegexSyntaxError) -> RegexNode {
        var items: [RegexNode] = []
        let savedFlags = (caseInsensitive, dotMatchesNewline)
        defer { (caseInsensitive, dotMatchesNewline) = savedFlags }
        while let scalar = current, scalar != 0x7C, scalar != 0x29 {  // not | or )
            guard var atom = try parseAtom() else { continue }
            atom = try parseQuantifiers(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .concatenation(items)
    }

    private mutating func parseQuantifiers(_ node: RegexNode) throws(RegexSyntaxError) -> RegexNode {
        var node = node
        var quantified = false
        while let scalar = current {
            let start = position
            let bounds: (Int, Int?)
            switch scalar {
            case 0x2A: bounds = (0, nil)  // *
            case 0x2B: bounds = (1, nil)  // +
            case 0x3F: bounds = (0, 1)  // ?
            case 0x7B:  // {
                guard let counted = try parseCountedRepeat() else { return node }
                bounds = counted
            default: return node
            }
            if scalar != 0x7B { position += 1 }
            // `a**` is refused, as RE2 does.
            if quantified { throw error("bad repetition operator", at: start) }
            quantified = true
            let greedy = !take("?")
            node = .repetition(node, min: bounds.0, max: bounds.1, greedy: greedy)
        }
        return node
    }

    /// `{n}`, `{n,}`, `{n,m}`; nil (and nothing consumed) when the brace is a literal.
    private mutating func parseCountedRepeat() throws(RegexSyntaxError) -> (Int, Int?)? {
        let start = position
        position += 1
        func number(_ parser: inout RegexParser) -> Int? {
            var value: Int?
            while let digit = parser.current, digit >= 0x30, digit <= 0x39 {
                value = (value ?? 0) * 10 + Int(digit - 0x30)
                if value! > 100_000 { value = 100_000 }
                parser.position += 1
            }
            return value
        }
        guard let low = number(&self) else {
            position = start
            return nil
        }
        var high: Int? = low
        if take(",") { high = number(&self) }
        guard take("}") else {
            position = start
            return nil
        }
        if low > Self.maxRepeat || (high ?? 0) > Self.maxRepeat {
            throw error("repetition count above \(Self.maxRepeat)", at: start)
        }
        if let high, high < low { throw error("bad repetition range", at: start) }
        return (low, high)
    }

    private mutating func parseAtom() throws(RegexSyntaxError) -> RegexNode? {
        guard let scalar = current else { return nil }
        let start = position
        position += 1
        switch scalar {
        case 0x28: return try parseGroup(start: start)  // (
        case 0x5B: return .characters(try parseClass(start: start))  // [
        case 0x2E:  // .
            return .characters(
                dotMatchesNewline ? [0...0x10FFFF] : RegexCharacters.complement([0x0A...0x0A]))
        case 0x5E: return .assertStart  // ^
        case 0x24: return .assertEnd  // $
        case 0x5C: return try parseEscape(start: start, inClass: false).node
        case 0x2A, 0x2B, 0x3F: throw error("missing argument to repetition operator", at: start)
        default: return .characters(folded([scalar...scalar]))
        }
    }

    private mutating func parseGroup(start: Int) throws(RegexSyntaxError) -> RegexNode? {
        var index: Int? = nil
        if take("?") {
            if take("P") || current == 0x3C {  // (?P<name> or (?<name>
                guard take("<") else { throw error("bad named group", at: start) }
                var name = ""
                while let scalar = current, scalar != 0x3E {
                    name.unicodeScalars.append(Unicode.Scalar(scalar) ?? "?")
                    position += 1
                }
                guard take(">"), !name.isEmpty else { throw error("bad named group", at: start) }
                groupNames.append(name)
                index = groupNames.count - 1
            } else {
                // Flags: (?i) (?s) (?is) (?-i) and (?i:…).
                var enable = true
                var flags = (caseInsensitive, dotMatchesNewline)
                while let scalar = current, scalar != 0x29, scalar != 0x3A {
                    switch scalar {
                    case 0x69: flags.0 = enable  // i
                    case 0x73: flags.1 = enable  // s
                    case 0x6D, 0x55: break  // m, U: accepted, no effect on single-line input
                    case 0x2D: enable = false
                    default: throw error("unknown group flag", at: position)
                    }
                    position += 1
                }
                if take(")") {
                    (caseInsensitive, dotMatchesNewline) = flags
                    return nil
                }
                guard take(":") else { throw error("missing ')'", at: start) }
                let saved = (caseInsensitive, dotMatchesNewline)
                (caseInsensitive, dotMatchesNewline) = flags
                let body = try parseAlternation()
                (caseInsensitive, dotMatchesNewline) = saved
                guard take(")") else { throw error("missing ')'", at: start) }
                return .group(body, index: nil)
            }
        } else {
            groupNames.append(nil)
            index = groupNames.count - 1
        }
        let body = try parseAlternation()
        guard take(")") else { throw error("missing ')'", at: start) }
        return .group(body, index: index)
    }

    private mutating func parseClass(start: Int) throws(RegexSyntaxError) -> [ClosedRange<UInt32>] {
        let negated = take("^")
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while true {
            guard let scalar = current else { throw error("missing ']'", at: start) }
            if scalar == 0x5D && !first { break }  // ]
            first = false
            if scalar == 0x5B, position + 1 < scalars.count, scalars[position + 1] == 0x3A {  // [:
                ranges += try parsePOSIXClass()
                continue
            }
            let low: UInt32
            position += 1
            if scalar == 0x5C {
                let escape = try parseEscape(start: position - 1, inClass: true)
                guard let single = escape.scalar else {
                    if case .characters(let set) = escape.node { ranges += set }
                    continue
                }
                low = single
            } else {
                low = scalar
            }
            if current == 0x2D, position + 1 < scalars.count, scalars[position + 1] != 0x5D {  // a-z
                position += 1
                guard var high = current else { throw error("missing ']'", at: start) }
                position += 1
                if high == 0x5C {
                    guard let single = try parseEscape(start: position - 1, inClass: true).scalar else {
                        throw error("bad character class range", at: position)
                    }
                    high = single
                }
                guard high >= low else { throw error("bad character class range", at: position) }
                ranges.append(low...high)
            } else {
                ranges.append(low...low)
            }
        }
        position += 1
        let set = folded(RegexCharacters.normalize(ranges))
        return negated ? RegexCharacters.complement(set) : set
    }

    private mutating func parsePOSIXClass() throws(RegexSyntaxError) -> [ClosedRange<UInt32>] {
        let start = position
        position += 2
        var name = ""
        while let scalar = current, scalar != 0x3A {
            name.unicodeScalars.append(Unicode.Scalar(scalar) ?? "?")
            position += 1
        }
        guard take(":"), take("]") else { throw error("bad POSIX class", at: start) }
        let negated = name.hasPrefix("^")
        if negated { name.removeFirst() }
        guard let set = RegexCharacters.posix[name] else { throw error("unknown POSIX class", at: start) }
        return negated ? RegexCharacters.complement(set) : set
    }

    /// After a backslash: a node (class escapes, assertions) or a single scalar.
    private mutating func parseEscape(start: Int, inClass: Bool) throws(RegexSyntaxError) -> (
        node: RegexNode?, scalar: UInt32?
    ) {
        guard let scalar = current else { throw error("trailing backslash", at: start) }
        position += 1
        func single(_ value: UInt32) -> (RegexNode?, UInt32?) { (.characters(folded([value...value])), value) }
        switch scalar {
        case 0x64: return (.characters(RegexCharacters.digit), nil)  // \d
        case 0x44: return (.characters(RegexCharacters.complement(RegexCharacters.digit)), nil)
        case 0x77: return (.characters(RegexCharacters.word), nil)  // \w
        case 0x57: return (.characters(RegexCharacters.complement(RegexCharacters.word)), nil)
        case 0x73: return (.characters(RegexCharacters.space), nil)  // \s
        case 0x53: return (.characters(RegexCharacters.complement(RegexCharacters.space)), nil)
        case 0x6E: return single(0x0A)
        case 0x74: return single(0x09)
        case 0x72: return single(0x0D)
        case 0x66: return single(0x0C)
        case 0x76: return single(0x0B)
        case 0x41 where !inClass: return (.assertStart, nil)  // \A
        case 0x7A where !inClass: return (.assertEnd, nil)  // \z
        case 0x62 where !inClass: return (.wordBoundary(true), nil)  // \b
        case 0x42 where !inClass: return (.wordBoundary(false), nil)
        case 0x78:  // \x41 or \x{263a}
            var digits = ""
            if take("{") {
                while let digit = current, digit != 0x7D {
                    digits.unicodeScalars.append(Unicode.Scalar(digit) ?? "?")
                    position += 1
                }
                guard take("}") else { throw error("bad \\x escape", at: start) }
            } else {
                for _ in 0..<2 {
                    guard let digit = current else { break }
                    digits.unicodeScalars.append(Unicode.Scalar(digit) ?? "?")
                    position += 1
                }
            }
            guard let value = UInt32(digits, radix: 16), value <= 0x10FFFF else {
                throw error("bad \\x escape", at: start)
            }
            return single(value)
        default:
            // Punctuation escapes itself; a letter or digit escape RE2 does not know is an error.
            let isAlphanumeric =
                (0x30...0x39).contains(scalar) || (0x41...0x5A).contains(scalar)
                || (0x61...0x7A).contains(scalar)
            if isAlphanumeric { throw error("unsupported escape sequence", at: start) }
            return single(scalar)
        }
    }

    /// Adds the other case of ASCII letters under `(?i)`.
    private func folded(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        guard caseInsensitive else { return ranges }
        var result = ranges
        for range in ranges {
            for (from, to, shift) in [(UInt32(0x61), UInt32(0x7A), -32), (UInt32(0x41), UInt32(0x5A), 32)] {
                let low = max(range.lowerBound, from)
                let high = min(range.upperBound, to)
                if low <= high { result.append(UInt32(Int(low) + shift)...UInt32(Int(high) + shift)) }
            }
        }
        return RegexCharacters.normalize(result)
    }
}

/// Character sets as sorted scalar ranges.
enum RegexCharacters {
    static let digit: [ClosedRange<UInt32>] = [0x30...0x39]
    static let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
    static let space: [ClosedRange<UInt32>] = [0x09...0x0A, 0x0C...0x0D, 0x20...0x20]
    static let posix: [String: [ClosedRange<UInt32>]] = [
        "alnum": [0x30...0x39, 0x41...0x5A, 0x61...0x7A], "alpha": [0x41...0x5A, 0x61...0x7A],
        "ascii": [0...0x7F], "blank": [0x09...0x09, 0x20...0x20], "cntrl": [0...0x1F, 0x7F...0x7F],
        "digit": digit, "graph": [0x21...0x7E], "lower": [0x61...0x7A], "print": [0x20...0x7E],
        "punct": [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E], "space": [0x09...0x0D, 0x20...0x20],
        "upper": [0x41...0x5A], "word": word, "xdigit": [0x30...0x39, 0x41...0x46, 0x61...0x66],
    ]

    /// Sorts and merges overlapping or adjacent ranges.
    static func normalize(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, range.lowerBound <= last.upperBound &+ 1 {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }

    /// Every scalar not in `set` (surrogates excluded: they never appear in UTF-8).
    static func complement(_ set: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in normalize(set) {
            if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
            next = range.upperBound &+ 1
        }
        if next <= 0x10FFFF { result.append(next...0x10FFFF) }
        return result
    }
}
