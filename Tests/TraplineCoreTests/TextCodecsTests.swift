import Testing

@testable import TraplineCore

/// The word-at-a-time readers (hex ids, decimal times, string scanning) against plain
/// byte-by-byte definitions, on every position a stop or a bad byte can take.
@Suite struct TextCodecsTests {
    /// Hex by the definition: each digit's value, most significant first.
    static func referenceHex(_ text: [UInt8]) -> UInt64? {
        var value: UInt64 = 0
        for byte in text {
            guard let digit = TextCodecs.hexValue(byte) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    static func referenceDecimal(_ text: [UInt8]) -> UInt64? {
        guard !text.isEmpty, text.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in text {
            guard (0x30...0x39).contains(byte) else { return nil }
            let (times, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, carried) = times.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflowed, !carried else { return nil }
            value = sum
        }
        return value
    }

    @Test func hexWordsMatchTheDigitsOneByOne() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdefABCDEF".utf8)
        for _ in 0..<2_000 {
            var text = (0..<16).map { _ in alphabet.randomElement(using: &generator)! }
            #expect(text.withUnsafeBytes { TextCodecs.hexWord($0, 0) } == Self.referenceHex(text))
            // Every byte value at every position: only the 22 digits pass.
            let position = Int.random(in: 0..<16, using: &generator)
            text[position] = UInt8.random(in: 0...255, using: &generator)
            #expect(text.withUnsafeBytes { TextCodecs.hexWord($0, 0) } == Self.referenceHex(text))
        }
        for byte in UInt8.min...UInt8.max {
            for position in [0, 7, 8, 15] {
                var text = Array("0123456789abcdef".utf8)
                text[position] = byte
                #expect(text.withUnsafeBytes { TextCodecs.hexWord($0, 0) } == Self.referenceHex(text))
            }
        }
        #expect(Array("ffffffffffffffff".utf8).withUnsafeBytes { TextCodecs.hexWord($0, 0) } == UInt64.max)
        #expect(Array("x0123456789ABCDEF".utf8).withUnsafeBytes { TextCodecs.hexWord($0, 1) } == 0x0123_4567_89AB_CDEF)
    }

    @Test func decimalsMatchTheDigitsOneByOne() {
        var generator = SystemRandomNumberGenerator()
        var cases: [[UInt8]] = [
            Array("0".utf8), Array("00000000".utf8), Array("1700000000123456789".utf8),
            Array("18446744073709551615".utf8), Array("18446744073709551616".utf8), Array("99999999999999999999".utf8),
            Array("9999999999999999999".utf8), Array("".utf8), Array("123456789012345678901".utf8),
        ]
        for length in 1...20 {
            for _ in 0..<100 {
                var text = (0..<length).map { _ in UInt8.random(in: 0x30...0x39, using: &generator) }
                cases.append(text)
                text[Int.random(in: 0..<length, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                cases.append(text)
            }
        }
        for byte in UInt8.min...UInt8.max {
            for position in [0, 3, 10, 18] {
                var text = Array("1234567890123456789".utf8)
                text[position] = byte
                cases.append(text)
            }
        }
        for text in cases {
            #expect(text.withUnsafeBytes { TextCodecs.parseUnsigned($0) } == Self.referenceDecimal(text), "\(text)")
        }
    }

    /// A string token ends at its first unescaped quote; control bytes are errors; non-ASCII is
    /// noted. Each stop is put at every offset from 0 to 40, so it falls in the sixteen-byte
    /// blocks, the eight-byte tail and the last bytes, with the frame ending right after the
    /// token or later.
    @Test func stringTokensStopWhereTheBytesSay() throws {
        for length in 0...40 {
            for trailing in [0, 1, 9, 20] {
                let content = Array(repeating: UInt8(ascii: "a"), count: length)
                var frame = [UInt8(ascii: "\"")] + content + [UInt8(ascii: "\"")]
                frame += Array(repeating: UInt8(ascii: " "), count: trailing)
                let token = try Self.read(frame)
                #expect(token.range == 1..<(1 + length))
                #expect(token.isASCII && !token.hasEscapes)
                guard length > 0 else { continue }
                for position in 0..<length {
                    var escaped = frame
                    escaped[1 + position] = UInt8(ascii: "\\")
                    if position + 1 < length { escaped[2 + position] = UInt8(ascii: "n") }
                    let escapedToken = try? Self.read(escaped)
                    if position + 1 < length {
                        #expect(escapedToken?.range == 1..<(1 + length) && escapedToken?.hasEscapes == true)
                    }
                    var unicode = frame
                    unicode[1 + position] = 0xC3
                    let unicodeToken = try Self.read(unicode)
                    #expect(unicodeToken.range == 1..<(1 + length) && !unicodeToken.isASCII)
                    var control = frame
                    control[1 + position] = 0x1F
                    #expect(throws: DecodeError.self) { try Self.read(control) }
                    var early = frame
                    early[1 + position] = UInt8(ascii: "\"")
                    #expect(try Self.read(early).range == 1..<(1 + position))
                }
                // Non-ASCII after the closing quote is not the string's.
                if trailing > 0 {
                    var after = frame
                    after[frame.count - 1] = 0xC3
                    #expect(try Self.read(after).isASCII)
                }
                // No closing quote: an error at the opening one.
                #expect(throws: DecodeError.self) { try Self.read(Array(frame[0..<(1 + length)])) }
            }
        }
    }

    /// The encoder's check for bytes to escape flags a string exactly when it holds a quote, a
    /// backslash or a control byte, wherever it is (sixteen-byte blocks, words, the last word),
    /// and never for UTF-8 beyond ASCII.
    @Test func escapeChecksFlagExactlyTheBytesJSONEscapes() {
        for length in 1...40 {
            let plain = Array(repeating: UInt8(ascii: "a"), count: length)
            #expect(plain.withUnsafeBytes { JSONTextWriter.escapeBits($0.baseAddress!, count: length) } == 0)
            for position in 0..<length {
                for byte: UInt8 in [0x22, 0x5C, 0x00, 0x1F, 0x0A, 0xC3, 0x7F, 0x20, 0x21, 0x5B] {
                    var text = plain
                    text[position] = byte
                    let flagged =
                        text.withUnsafeBytes { JSONTextWriter.escapeBits($0.baseAddress!, count: length) } != 0
                    #expect(flagged == (byte < 0x20 || byte == 0x22 || byte == 0x5C), "\(length) \(position) \(byte)")
                }
            }
        }
    }

    /// Object members read the same whether written compactly (the one-load path for short
    /// keys) or with white space (the general path): keys of every length around the sixteen
    /// and thirty-two bytes one and two loads cover, escaped and non-ASCII keys, and the errors.
    @Test func membersReadTheSameCompactOrSpaced() throws {
        let keys = (0...40).map { String(repeating: "k", count: $0) } + [#"a\"b"#, "ünï", "x\\y"]
        let compact = "{" + keys.enumerated().map { #""\#($1)":\#($0)"# }.joined(separator: ",") + "}"
        let spaced = "{ " + keys.enumerated().map { #""\#($1)" : \#($0)"# }.joined(separator: " ,\n ") + " }"
        for text in [compact, spaced, compact + String(repeating: " ", count: 20)] {
            let members = try Self.members(Array(text.utf8))
            #expect(members.map(\.key) == keys, "\(text)")
            #expect(members.map(\.escaped) == keys.map { $0.contains("\\") })
            #expect(members.map(\.ascii) == keys.map { $0.utf8.allSatisfy { $0 < 0x80 } })
        }
        #expect(try Self.members(Array("{}".utf8)).isEmpty)
        for bad in [#"{"a""#, #"{"a"1}"#, "{\"a\u{1F}b\":1}", #"{"a":1"b":2}"#, #"{,"a":1}"#, #"{"a":1,}"#] {
            #expect(throws: DecodeError.self, "\(bad)") { try Self.members(Array(bad.utf8)) }
        }
    }

    /// Array elements the same compact or spaced; stray and missing commas are errors.
    @Test func elementsReadTheSameCompactOrSpaced() throws {
        for text in ["[1,22,333]", "[ 1 , 22,\n333 ]", "[1 ,22 , 333]"] {
            #expect(try Self.elements(Array(text.utf8)) == ["1", "22", "333"], "\(text)")
        }
        #expect(try Self.elements(Array("[]".utf8)).isEmpty)
        for bad in ["[1,]", "[,1]", "[1 2]", "[1,,2]", "[1", "[1,"] {
            #expect(throws: DecodeError.self, "\(bad)") { try Self.elements(Array(bad.utf8)) }
        }
    }

    static func elements(_ frame: [UInt8]) throws -> [String] {
        try frame.withUnsafeBytes { bytes in
            var reader = JSONReader(frame: bytes, sourceOffset: 0)
            try reader.beginArray()
            var first = true
            var elements: [String] = []
            while try reader.nextElement(&first) {
                elements.append(String(decoding: bytes[try reader.readNumber()], as: UTF8.self))
            }
            return elements
        }
    }

    static func members(_ frame: [UInt8]) throws -> [(key: String, escaped: Bool, ascii: Bool)] {
        try frame.withUnsafeBytes { bytes in
            var reader = JSONReader(frame: bytes, sourceOffset: 0)
            try reader.beginObject()
            var first = true
            var members: [(key: String, escaped: Bool, ascii: Bool)] = []
            while let key = try reader.nextMember(&first) {
                members.append((String(decoding: bytes[key.range], as: UTF8.self), key.hasEscapes, key.isASCII))
                try reader.skipValue(depth: 0, maxDepth: 8)
            }
            return members
        }
    }

    static func read(_ frame: [UInt8]) throws -> JSONString {
        try frame.withUnsafeBytes { bytes in
            var reader = JSONReader(frame: bytes, sourceOffset: 0)
            return try reader.readString()
        }
    }
}
