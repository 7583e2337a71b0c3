/// Compiles a parsed regex into a byte program: `save 0, body, save 1, match`, characters as
/// their UTF-8 byte sequences.
struct RegexCompiler {
    private var instructions: [RegexInstruction] = []
    private var usesWordBoundary = false

    /// Programs longer than this are refused (a nested counted repetition can explode).
    static let maxInstructions = 100_000

    static func compile(_ node: RegexNode, groupCount: Int) throws(RegexSyntaxError) -> RegexProgram {
        var compiler = RegexCompiler()
        compiler.instructions.append(.save(0))
        try compiler.emit(node)
        compiler.instructions.append(.save(1))
        compiler.instructions.append(.match)
        return RegexProgram(
            instructions: compiler.instructions, slotCount: groupCount * 2,
            usesWordBoundary: compiler.usesWordBoundary)
    }

    private mutating func append(_ instruction: RegexInstruction) throws(RegexSyntaxError) -> Int {
        guard instructions.count < Self.maxInstructions else {
            throw RegexSyntaxError(message: "pattern too large once repetitions are expanded", offset: 0)
        }
        instructions.append(instruction)
        return instructions.count - 1
    }

    private mutating func emit(_ node: RegexNode) throws(RegexSyntaxError) {
        switch node {
        case .characters(let ranges):
            try emitCharacters(ranges)
        case .concatenation(let items):
            for item in items { try emit(item) }
        case .alternation(let branches):
            var exits: [Int] = []
            for (index, branch) in branches.enumerated() {
                if index == branches.count - 1 {
                    try emit(branch)
                } else {
                    let split = try append(.split(0, 0))
                    try emit(branch)
                    exits.append(try append(.jump(0)))
                    instructions[split] = .split(split + 1, instructions.count)
                }
            }
            for exit in exits { instructions[exit] = .jump(instructions.count) }
        case .repetition(let body, let minimum, let maximum, let greedy):
            for _ in 0..<minimum { try emit(body) }
            if let maximum {
                for _ in minimum..<maximum {
                    let split = try append(.split(0, 0))
                    try emit(body)
                    instructions[split] = branch(split + 1, instructions.count, greedy: greedy)
                }
            } else {
                let loop = try append(.split(0, 0))
                try emit(body)
                _ = try append(.jump(loop))
                instructions[loop] = branch(loop + 1, instructions.count, greedy: greedy)
            }
        case .group(let body, let index):
            if let index { _ = try append(.save(index * 2)) }
            try emit(body)
            if let index { _ = try append(.save(index * 2 + 1)) }
        case .assertStart: _ = try append(.assertStart)
        case .assertEnd: _ = try append(.assertEnd)
        case .wordBoundary(let expected):
            usesWordBoundary = true
            _ = try append(.wordBoundary(expected))
        }
    }

    private func branch(_ body: Int, _ skip: Int, greedy: Bool) -> RegexInstruction {
        greedy ? .split(body, skip) : .split(skip, body)
    }

    /// One character of `ranges`: the ASCII part as one byte set, longer UTF-8 sequences as
    /// chains of byte sets, all alternatives of one another.
    private mutating func emitCharacters(_ ranges: [ClosedRange<UInt32>]) throws(RegexSyntaxError) {
        var ascii = ByteSet()
        var sequences: [[ClosedRange<UInt8>]] = []
        for range in ranges {
            if range.lowerBound <= 0x7F { ascii.insert(UInt8(range.lowerBound)...UInt8(min(range.upperBound, 0x7F))) }
            if range.upperBound >= 0x80 {
                sequences += UTF8Ranges.sequences(max(range.lowerBound, 0x80)...range.upperBound)
            }
        }
        var alternatives: [[ByteSet]] = []
        if !ascii.isEmpty { alternatives.append([ascii]) }
        for sequence in sequences {
            alternatives.append(
                sequence.map {
                    var set = ByteSet()
                    set.insert($0)
                    return set
                })
        }
        guard !alternatives.isEmpty else {
            // An empty class never matches: a byte set with no members.
            _ = try append(.byteSet(ByteSet()))
            return
        }
        var exits: [Int] = []
        for (index, alternative) in alternatives.enumerated() {
            let isLast = index == alternatives.count - 1
            let split = isLast ? nil : try append(.split(0, 0))
            for set in alternative { _ = try append(.byteSet(set)) }
            if let split {
                exits.append(try append(.jump(0)))
                instructions[split] = .split(split + 1, instructions.count)
            }
        }
        for exit in exits { instructions[exit] = .jump(instructions.count) }
    }
}

/// Splits a range of scalars (≥ 0x80) into UTF-8 byte-range sequences, each position one
/// contiguous byte range (the approach RE2 and Rust's `utf8-ranges` describe).
enum UTF8Ranges {
    static func sequences(_ range: ClosedRange<UInt32>) -> [[ClosedRange<UInt8>]] {
        var result: [[ClosedRange<UInt8>]] = []
        // Surrogates are not scalars and never appear in valid UTF-8.
        var pieces: [ClosedRange<UInt32>] = []
        if range.lowerBound < 0xD800 { pieces.append(range.lowerBound...min(range.upperBound, 0xD7FF)) }
        if range.upperBound > 0xDFFF { pieces.append(max(range.lowerBound, 0xE000)...range.upperBound) }
        for piece in pieces {
            for (low, high) in [(0x80, 0x7FF), (0x800, 0xFFFF), (0x10000, 0x10FFFF)] as [(UInt32, UInt32)] {
                let lower = max(piece.lowerBound, low)
                let upper = min(piece.upperBound, high)
                if lower <= upper { split(lower, upper, into: &result) }
            }
        }
        return result
    }

    private static func split(_ low: UInt32, _ high: UInt32, into result: inout [[ClosedRange<UInt8>]]) {
        let length = encode(low).count
        for continuation in 1..<length {
            let mask: UInt32 = (1 << (6 * UInt32(continuation))) - 1
            if low & ~mask != high & ~mask {
                if low & mask != 0 {
                    split(low, low | mask, into: &result)
                    split((low | mask) + 1, high, into: &result)
                    return
                }
                if high & mask != mask {
                    split(low, (high & ~mask) - 1, into: &result)
                    split(high & ~mask, high, into: &result)
                    return
                }
            }
        }
        let lowBytes = encode(low)
        let highBytes = encode(high)
        result.append(zip(lowBytes, highBytes).map { $0...$1 })
    }

    static func encode(_ scalar: UInt32) -> [UInt8] {
        switch scalar {
        case ..<0x80: return [UInt8(scalar)]
        case ..<0x800: return [UInt8(0xC0 | scalar >> 6), UInt8(0x80 | scalar & 0x3F)]
        case ..<0x10000:
            return [UInt8(0xE0 | scalar >> 12), UInt8(0x80 | (scalar >> 6) & 0x3F), UInt8(0x80 | scalar & 0x3F)]
        default:
            return [
                UInt8(0xF0 | scalar >> 18), UInt8(0x80 | (scalar >> 12) & 0x3F), UInt8(0x80 | (scalar >> 6) & 0x3F),
                UInt8(0x80 | scalar & 0x3F),
            ]
        }
    }
}
