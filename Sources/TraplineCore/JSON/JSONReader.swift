/// A string token: the bytes between the quotes, and whether they hold escapes.
struct JSONString {
    /// Frame offsets of the content (without the quotes).
    var range: Range<Int>
    /// Whether the content has backslash escapes (then it must be unescaped before use).
    var hasEscapes: Bool
    /// Whether every byte is ASCII (then it is valid UTF-8 without a check).
    var isASCII: Bool

    init(range: Range<Int>, hasEscapes: Bool, isASCII: Bool = false) {
        self.range = range
        self.hasEscapes = hasEscapes
        self.isASCII = isASCII
    }
}

/// Reads JSON (RFC 8259) from a frame, one token at a time, without building a tree.
///
/// Strings come back as ranges of the input; numbers as ranges to be parsed by the field that
/// wants them. Syntax errors throw `DecodeError.invalidJSON` with the frame's source offset:
/// after one, the rest of the value cannot be read. Skipping a value is iterative, so deep
/// nesting cannot overflow the stack.
struct JSONReader {
    let base: UnsafeRawPointer
    var position: Int
    let end: Int
    let sourceOffset: Int

    init(frame: UnsafeRawBufferPointer, sourceOffset: Int) {
        base = frame.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        position = 0
        end = frame.count
        self.sourceOffset = sourceOffset
    }

    @inline(__always)
    func byte(at index: Int) -> UInt8 { base.load(fromByteOffset: index, as: UInt8.self) }

    @inline(__always)
    func syntaxError(at index: Int) -> DecodeError {
        DecodeError(.invalidJSON, offset: sourceOffset + index)
    }

    /// Skips spaces, tabs, CR and LF.
    @inline(__always)
    mutating func skipWhitespace() {
        while position < end {
            let current = byte(at: position)
            guard current == 0x20 || current == 0x0A || current == 0x0D || current == 0x09 else { return }
            position &+= 1
        }
    }

    /// The next significant byte without consuming it, or `nil` at the end.
    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < end ? byte(at: position) : nil
    }

    /// Consumes `expected` (after white space) or throws.
    @inline(__always)
    mutating func expect(_ expected: UInt8) throws(DecodeError) {
        skipWhitespace()
        guard position < end, byte(at: position) == expected else { throw syntaxError(at: position) }
        position &+= 1
    }

    /// Starts an object: consumes `{`.
    @inline(__always)
    mutating func beginObject() throws(DecodeError) { try expect(UInt8(ascii: "{")) }

    /// The next member's key (with its `:` consumed), or `nil` after the closing `}`.
    ///
    /// - Parameter first: true before the first member; set to false by the call.
    @inline(__always)
    mutating func nextMember(_ first: inout Bool) throws(DecodeError) -> JSONString? {
        if let key = nextCompactKey(&first) { return key }
        skipWhitespace()
        guard position < end else { throw syntaxError(at: position) }
        if byte(at: position) == UInt8(ascii: "}") {
            position &+= 1
            return nil
        }
        if !first { try expect(UInt8(ascii: ",")) }
        first = false
        let key = try readString()
        try expect(UInt8(ascii: ":"))
        return key
    }

    /// The next member's key when it is written compactly (`"key":` right after the `{` or
    /// the `,` here), ASCII, unescaped and shorter than thirty-two bytes, as every OTLP field
    /// name is: one or two vector loads find its end. Nil, with nothing consumed, for anything
    /// else, which the general path then reads (and checks).
    @inline(__always)
    mutating func nextCompactKey(_ first: inout Bool) -> JSONString? {
        let quote = first ? position : position &+ 1
        // Safe: the key's first sixteen bytes and the byte after them are before `end`.
        guard quote &+ 18 <= end, byte(at: quote) == UInt8(ascii: "\""),
            first || byte(at: position) == UInt8(ascii: ",")
        else { return nil }
        let start = quote &+ 1
        let head = base.loadUnaligned(fromByteOffset: start, as: SIMD16<UInt8>.self)
        var length: Int
        var highBits: UInt64
        if let (headLength, headBits) = Self.plainPrefix(head) {
            (length, highBits) = (headLength, headBits)
        } else {
            // Safe: the next sixteen bytes and the byte after them are before `end`.
            guard quote &+ 34 <= end,
                let (tailLength, tailBits) = Self.plainPrefix(
                    base.loadUnaligned(fromByteOffset: start &+ 16, as: SIMD16<UInt8>.self))
            else { return nil }
            let lanes = unsafeBitCast(head, to: (UInt64, UInt64).self)
            (length, highBits) = (16 &+ tailLength, lanes.0 | lanes.1 | tailBits)
        }
        guard highBits & 0x8080_8080_8080_8080 == 0, byte(at: start &+ length) == UInt8(ascii: "\""),
            byte(at: start &+ length &+ 1) == UInt8(ascii: ":")
        else { return nil }
        first = false
        position = start &+ length &+ 2
        return JSONString(range: start..<(start &+ length), hasEscapes: false, isASCII: true)
    }

    /// Starts an array: consumes `[`.
    @inline(__always)
    mutating func beginArray() throws(DecodeError) { try expect(UInt8(ascii: "[")) }

    /// Whether another element follows (its `,` consumed); false after the closing `]`.
    @inline(__always)
    mutating func nextElement(_ first: inout Bool) throws(DecodeError) -> Bool {
        // Compact arrays: a comma right here (the element then reads its own white space).
        if !first && position < end && byte(at: position) == UInt8(ascii: ",") {
            position &+= 1
            return true
        }
        skipWhitespace()
        guard position < end else { throw syntaxError(at: position) }
        if byte(at: position) == UInt8(ascii: "]") {
            position &+= 1
            return false
        }
        if !first { try expect(UInt8(ascii: ",")) }
        first = false
        return true
    }

    /// Reads a string token. Plain runs are skipped sixteen bytes at a time (eight near the end):
    /// a block with no quote, backslash or control byte cannot end or escape anything. Whether
    /// any byte was non-ASCII is noted on the way, so pure-ASCII strings need no separate UTF-8
    /// check.
    @inline(__always)
    mutating func readString() throws(DecodeError) -> JSONString {
        try expect(UInt8(ascii: "\""))
        return try readStringContent()
    }

    /// Reads the rest of a string whose opening quote was just consumed.
    @inline(__always)
    mutating func readStringContent() throws(DecodeError) -> JSONString {
        let start = position
        var highBits: UInt64 = 0
        // The first sixteen bytes peeled off: a string ending in them without escapes (most
        // keys and many values) is done with one load.
        // Safe: position + 16 <= end.
        if position &+ 16 <= end {
            let block = base.loadUnaligned(fromByteOffset: position, as: SIMD16<UInt8>.self)
            if let (length, plainBits) = Self.plainPrefix(block) {
                position &+= length
                highBits = plainBits
                if byte(at: position) == UInt8(ascii: "\"") {
                    position &+= 1
                    return JSONString(
                        range: start..<(position &- 1), hasEscapes: false,
                        isASCII: highBits & 0x8080_8080_8080_8080 == 0)
                }
            } else {
                let lanes = unsafeBitCast(block, to: (UInt64, UInt64).self)
                highBits = lanes.0 | lanes.1
                position &+= 16
            }
        }
        return try finishString(from: start, highBits: highBits)
    }

    /// The rest of a string from `position` on, its content starting at `start`; `highBits`
    /// holds the bytes read so far ORed together.
    @inline(__always)
    mutating func finishString(from start: Int, highBits: UInt64) throws(DecodeError) -> JSONString {
        var escaped = false
        var highBits = highBits
        while true {
            skipPlainText(&highBits)
            guard position < end else { throw syntaxError(at: start - 1) }
            let current = byte(at: position)
            if current == UInt8(ascii: "\"") {
                let range = start..<position
                position &+= 1
                return JSONString(range: range, hasEscapes: escaped, isASCII: highBits & 0x8080_8080_8080_8080 == 0)
            }
            if current == UInt8(ascii: "\\") {
                escaped = true
                position &+= 2
                continue
            }
            if current < 0x20 { throw syntaxError(at: position) }
            highBits |= UInt64(current)
            position &+= 1
        }
    }

    /// Moves `position` to the next quote, backslash or control byte, or to where fewer than
    /// eight bytes are left; the skipped bytes' high bits are ORed into `highBits`.
    ///
    /// Sixteen bytes a step as one vector: the lane arithmetic below compiles to SSE2 on x86-64
    /// (and NEON on arm64), where `SIMD16`'s comparisons and `any()` compile to a loop over the
    /// lanes, so the test is written without them.
    @inline(__always)
    mutating func skipPlainText(_ highBits: inout UInt64) {
        var highLanes = SIMD16<UInt8>()
        defer {
            let lanes = unsafeBitCast(highLanes, to: (UInt64, UInt64).self)
            highBits |= lanes.0 | lanes.1
        }
        // Safe: position + 16 <= end before each load.
        while position &+ 16 <= end {
            let block = base.loadUnaligned(fromByteOffset: position, as: SIMD16<UInt8>.self)
            if let (length, plainBits) = Self.plainPrefix(block) {
                highBits |= plainBits
                position &+= length
                return
            }
            highLanes |= block
            position &+= 16
        }
        // Safe: position + 8 <= end before each load.
        while position &+ 8 <= end {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            let found = Self.endOrEscapeBits(word)
            if found != 0 {
                // The lowest flagged byte is the first quote, backslash or control byte (a
                // false flag can only follow a true one): the bytes before it are text.
                let skipped = found.trailingZeroBitCount >> 3
                highBits |= word & ((1 &<< UInt64(skipped &* 8)) &- 1)
                position &+= skipped
                return
            }
            highBits |= word
            position &+= 8
        }
    }

    /// How many bytes of `block` come before its first quote, backslash or control byte, and
    /// those bytes ORed together (for their high bits); nil when it has none.
    @inline(__always)
    static func plainPrefix(_ block: SIMD16<UInt8>) -> (length: Int, highBits: UInt64)? {
        // Lane 0 in the lowest byte of the first word, on any host.
        let stops = unsafeBitCast(endOrEscapeLanes(block), to: (UInt64, UInt64).self)
        let found = (UInt64(littleEndian: stops.0), UInt64(littleEndian: stops.1))
        let lanes = unsafeBitCast(block, to: (UInt64, UInt64).self)
        let text = (UInt64(littleEndian: lanes.0), UInt64(littleEndian: lanes.1))
        // The lanes are independent, so the lowest flagged lane is the first stop.
        if found.0 != 0 {
            let length = found.0.trailingZeroBitCount >> 3
            return (length, text.0 & ((1 &<< UInt64(length &* 8)) &- 1))
        }
        if found.1 != 0 {
            let inSecond = found.1.trailingZeroBitCount >> 3
            return (8 &+ inSecond, text.0 | (text.1 & ((1 &<< UInt64(inSecond &* 8)) &- 1)))
        }
        return nil
    }

    /// 0x80 in each lane of `block` that holds a quote, a backslash or a byte below 0x20, else
    /// 0. (Per lane: `x ^ c` is zero exactly when `x == c`, and `(y - 1) & ~y` has its high bit
    /// set exactly when `y` is zero; `(x - 0x20) & ~x` exactly when `x < 0x20`.)
    @inline(__always)
    static func endOrEscapeLanes(_ block: SIMD16<UInt8>) -> SIMD16<UInt8> {
        let one = SIMD16<UInt8>(repeating: 1)
        let quote = block ^ SIMD16(repeating: 0x22)
        let backslash = block ^ SIMD16(repeating: 0x5C)
        let found =
            ((quote &- one) & ~quote) | ((backslash &- one) & ~backslash)
            | ((block &- SIMD16(repeating: 0x20)) & ~block)
        return found & SIMD16(repeating: 0x80)
    }

    /// The test bits (0x80 of each byte, the first byte lowest) of the bytes of `word` that are
    /// a quote, a backslash or below 0x20. The lowest set bit is always a true one; bits above
    /// it may be set by a borrow. (SWAR: a byte is zero after XOR with the pattern, or below
    /// 0x20, when its test bit is set.)
    @inline(__always)
    static func endOrEscapeBits(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let found =
            ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
        return found & highs
    }

    /// Reads a number token's range (grammar checked).
    mutating func readNumber() throws(DecodeError) -> Range<Int> {
        skipWhitespace()
        let start = position
        if position < end && byte(at: position) == UInt8(ascii: "-") { position &+= 1 }
        let digitsStart = position
        while position < end, (0x30...0x39).contains(byte(at: position)) { position &+= 1 }
        guard position > digitsStart else { throw syntaxError(at: start) }
        if position < end && byte(at: position) == UInt8(ascii: ".") {
            position &+= 1
            let fraction = position
            while position < end, (0x30...0x39).contains(byte(at: position)) { position &+= 1 }
            guard position > fraction else { throw syntaxError(at: start) }
        }
        if position < end && (byte(at: position) | 0x20) == UInt8(ascii: "e") {
            position &+= 1
            if position < end && (byte(at: position) == UInt8(ascii: "+") || byte(at: position) == UInt8(ascii: "-")) {
                position &+= 1
            }
            let exponent = position
            while position < end, (0x30...0x39).contains(byte(at: position)) { position &+= 1 }
            guard position > exponent else { throw syntaxError(at: start) }
        }
        return start..<position
    }

    /// Reads `true` or `false`.
    mutating func readBool() throws(DecodeError) -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw syntaxError(at: position)
    }

    /// Consumes `null` if it is next.
    @inline(__always)
    mutating func readNullIfPresent() -> Bool {
        skipWhitespace()
        return matchLiteral("null")
    }

    @inline(__always)
    mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard end &- position >= count else { return false }
        let expected = UnsafeRawPointer(literal.utf8Start)
        var index = 0
        // Safe: position + count <= end, and index + 8 <= count inside the loop.
        // Whole words, then the last bytes as one word ending at the literal's end (overlapping
        // what was compared), or two overlapping halves for literals under 8 bytes: no byte loop.
        // Written out per width, not as a generic helper: debug builds (the tests) do not
        // specialize generics, and this runs for every member.
        let here = base + position
        if count >= 8 {
            while index &+ 8 <= count {
                if here.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    != expected.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                {
                    return false
                }
                index &+= 8
            }
            if index < count
                && here.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
                    != expected.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            {
                return false
            }
        } else if count >= 4 {
            let first = here.loadUnaligned(as: UInt32.self) ^ expected.loadUnaligned(as: UInt32.self)
            let last =
                here.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
                ^ expected.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)
            if first | last != 0 { return false }
        } else if count >= 2 {
            let first = here.loadUnaligned(as: UInt16.self) ^ expected.loadUnaligned(as: UInt16.self)
            let last =
                here.loadUnaligned(fromByteOffset: count &- 2, as: UInt16.self)
                ^ expected.loadUnaligned(fromByteOffset: count &- 2, as: UInt16.self)
            if first | last != 0 { return false }
        } else if count == 1 && here.load(as: UInt8.self) != expected.load(as: UInt8.self) {
            return false
        }
        position &+= count
        return true
    }

    /// Skips one value of any kind, checking its syntax. Iterative, with the open containers'
    /// kinds in a bit stack (on the heap only past 64 levels), so no nesting can overflow the
    /// call stack. Depth limits are enforced where values are read, not where they are skipped;
    /// the parameters keep call sites uniform.
    mutating func skipValue(depth: Int, maxDepth: Int) throws(DecodeError) {
        var open = 0
        var inlineBits: UInt64 = 0  // bit n: container n+1 is an object (first 64 levels)
        var deeperBits: [Bool] = []
        func setKind(_ level: Int, isObject: Bool) {
            if level < 64 {
                let mask: UInt64 = 1 << UInt64(level)
                inlineBits = isObject ? inlineBits | mask : inlineBits & ~mask
            } else if level - 64 < deeperBits.count {
                deeperBits[level - 64] = isObject
            } else {
                deeperBits.append(isObject)
            }
        }
        func isObject(_ level: Int) -> Bool {
            level < 64 ? inlineBits & (1 << UInt64(level)) != 0 : deeperBits[level - 64]
        }
        repeat {
            guard let next = peek() else { throw syntaxError(at: position) }
            switch next {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let opensObject = next == UInt8(ascii: "{")
                setKind(open, isObject: opensObject)
                open += 1
                position &+= 1
                // An empty container closes at once; otherwise read the first key or element.
                if peek() == (opensObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    position &+= 1
                    open -= 1
                } else {
                    if opensObject {
                        _ = try readString()
                        try expect(UInt8(ascii: ":"))
                    }
                    continue
                }
            case UInt8(ascii: "\""): _ = try readString()
            case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
            case UInt8(ascii: "n"): guard readNullIfPresent() else { throw syntaxError(at: position) }
            default: _ = try readNumber()
            }
            // After a value: a comma and the next member or element, or closers.
            while open > 0 {
                guard let after = peek() else { throw syntaxError(at: position) }
                if after == UInt8(ascii: ",") {
                    position &+= 1
                    if isObject(open - 1) {
                        _ = try readString()
                        try expect(UInt8(ascii: ":"))
                    }
                    break
                }
                let closer = isObject(open - 1) ? UInt8(ascii: "}") : UInt8(ascii: "]")
                guard after == closer else { throw syntaxError(at: position) }
                position &+= 1
                open -= 1
            }
        } while open > 0
    }
}
