/// The text lines of a build log as the toolchain printed them, with `go build -json` / `go test -json`
/// events unwrapped to the output they carry.
struct BuildLogLines {
    /// One line of output and the 1-based line of the log it came from.
    struct Line {
        var number: Int
        var text: Substring
    }

    private(set) var lines: [Line] = []

    /// Splits `text` at LF, CRLF and lone CR.
    init(_ text: String) {
        Self.forEachLine(of: text) { line, number in append(line, number: number) }
    }

    /// Lines already split (one step of an interleaved log).
    init(lines: [Line]) { self.lines = lines }

    /// Calls `body` with each line of `text` (without its terminator: LF, CRLF or lone CR, as the text
    /// decoder ends lines) and its 1-based number. Over UTF-8 code units: no grapheme breaking per byte.
    static func forEachLine(of text: String, _ body: (Substring, Int) -> Void) {
        let bytes = text.utf8
        var number = 0
        var start = bytes.startIndex
        var index = start
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == 10 || byte == 13 else {
                index = bytes.index(after: index)
                continue
            }
            number += 1
            body(text[start..<index], number)
            index = bytes.index(after: index)
            if byte == 13, index < bytes.endIndex, bytes[index] == 10 { index = bytes.index(after: index) }
            start = index
        }
        if start < bytes.endIndex { body(text[start...], number + 1) }
    }

    private mutating func append(_ raw: Substring, number: Int) {
        // Colour codes (CI runners force them on) are not part of what the toolchain said.
        var line = raw.utf8.contains(0x1B) ? Substring(Self.withoutEscapeSequences(raw)) : raw
        if let rest = Self.withoutTimestamp(line) { line = rest }
        // A byte check first (trimming walks Characters, and this is asked of every line).
        let first = line.utf8.first { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
        guard first == UInt8(ascii: "{"), let event = Self.jsonEvent(line) else {
            lines.append(Line(number: number, text: line))
            return
        }
        // A -json event: only its Output is build output; events without one (build-fail, pass) carry none.
        guard let output = event.output else { return }
        var pieces = output.split(separator: "\n", omittingEmptySubsequences: false)
        if pieces.last == "" { pieces.removeLast() }
        for piece in pieces { lines.append(Line(number: number, text: piece)) }
    }

    /// The line after a CI runner's timestamp (GitHub Actions' `2026-12-07T01:02:03.1234567Z `),
    /// or `nil` when it has none.
    static func withoutTimestamp(_ text: Substring) -> Substring? {
        // Asked of every line: a line that does not start with a digit is out at once.
        guard let first = text.utf8.first, (0x30...0x39).contains(first) else { return nil }
        let bytes = Array(text.utf8.prefix(40))
        func digits(_ range: Range<Int>) -> Bool {
            range.allSatisfy { $0 < bytes.count && (0x30...0x39).contains(bytes[$0]) }
        }
        guard bytes.count >= 21, digits(0..<4), bytes[4] == 0x2D, digits(5..<7), bytes[7] == 0x2D, digits(8..<10),
            bytes[10] == UInt8(ascii: "T"), digits(11..<13), bytes[13] == 0x3A, digits(14..<16), bytes[16] == 0x3A,
            digits(17..<19)
        else { return nil }
        var end = 19
        if end < bytes.count, bytes[end] == UInt8(ascii: ".") {
            end += 1
            while end < bytes.count, (0x30...0x39).contains(bytes[end]) { end += 1 }
        }
        guard end + 1 < bytes.count, bytes[end] == UInt8(ascii: "Z"), bytes[end + 1] == UInt8(ascii: " ") else {
            return nil
        }
        return text.dropFirst(end + 2)
    }

    /// `text` without ANSI escape sequences: CSI (`ESC [ … final byte`, colours and cursor moves),
    /// OSC (`ESC ] … BEL` or `ESC \`, hyperlinks and titles) and two-byte escapes.
    static func withoutEscapeSequences(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == 0x1B else {
                bytes.append(byte)
                continue
            }
            switch iterator.next() {
            case UInt8(ascii: "["):
                while let next = iterator.next(), !(0x40...0x7E).contains(next) {}
            case UInt8(ascii: "]"):
                var previous: UInt8 = 0
                while let next = iterator.next(), next != 0x07, !(previous == 0x1B && next == UInt8(ascii: "\\")) {
                    previous = next
                }
            default:
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A `go build -json` / `go test -json` event: a JSON object with an `Action` member, read as
    /// JSON (any spacing, any member order); its `Output` unescaped when it has one.
    static func jsonEvent(_ line: Substring) -> (output: String?, action: String)? {
        var reader = JSONObjectReader(line.unicodeScalars)
        guard let members = reader.topLevelStrings(), let action = members["Action"] else { return nil }
        return (members["Output"], action)
    }

    /// The value of the top-level string field `name` of one JSON object on one line, unescaped; `nil` when
    /// absent or not a well-formed string.
    static func jsonStringField(_ name: String, in object: Substring) -> String? {
        var reader = JSONObjectReader(object.unicodeScalars)
        return reader.topLevelStrings()?[name]
    }
}

/// Reads one JSON object and keeps its top-level string members; other values are checked for
/// shape and skipped. Enough for the toolchain's `-json` events, with whatever spacing a tool
/// that re-encodes them used.
private struct JSONObjectReader {
    private var scalars: Substring.UnicodeScalarView
    private var index: Substring.UnicodeScalarView.Index

    init(_ scalars: Substring.UnicodeScalarView) {
        self.scalars = scalars
        self.index = scalars.startIndex
    }

    /// The object's string members, or `nil` when the text is not one JSON object.
    mutating func topLevelStrings() -> [String: String]? {
        var members: [String: String] = [:]
        skipSpace()
        guard take("{") else { return nil }
        skipSpace()
        if take("}") { return atEnd() ? members : nil }
        while true {
            skipSpace()
            guard let key = string() else { return nil }
            skipSpace()
            guard take(":") else { return nil }
            skipSpace()
            if peek == "\"" {
                guard let value = string() else { return nil }
                members[key] = value
            } else {
                guard skipValue() else { return nil }
            }
            skipSpace()
            if take(",") { continue }
            guard take("}") else { return nil }
            return atEnd() ? members : nil
        }
    }

    private var peek: Unicode.Scalar? { index < scalars.endIndex ? scalars[index] : nil }

    private mutating func take(_ scalar: Unicode.Scalar) -> Bool {
        guard peek == scalar else { return false }
        index = scalars.index(after: index)
        return true
    }

    private mutating func skipSpace() {
        while let scalar = peek, scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n" {
            index = scalars.index(after: index)
        }
    }

    private mutating func atEnd() -> Bool {
        skipSpace()
        return index == scalars.endIndex
    }

    /// A string, unescaped.
    private mutating func string() -> String? {
        guard take("\"") else { return nil }
        var result = ""
        while let scalar = peek {
            index = scalars.index(after: index)
            switch scalar {
            case "\"":
                return result
            case "\\":
                guard let escaped = peek else { return nil }
                index = scalars.index(after: index)
                switch escaped {
                case "n": result.unicodeScalars.append("\n")
                case "t": result.unicodeScalars.append("\t")
                case "r": result.unicodeScalars.append("\r")
                case "b": result.unicodeScalars.append("\u{8}")
                case "f": result.unicodeScalars.append("\u{C}")
                case "u":
                    var value: UInt32 = 0
                    for _ in 0..<4 {
                        guard let digit = peek, let nibble = UInt32(String(digit), radix: 16) else { return nil }
                        index = scalars.index(after: index)
                        value = value << 4 | nibble
                    }
                    // Lone surrogates (never in the toolchain's output) become U+FFFD.
                    result.unicodeScalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                default: result.unicodeScalars.append(escaped)
                }
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return nil
    }

    /// Skips a number, literal, array or object (strings inside respected).
    private mutating func skipValue() -> Bool {
        guard let first = peek else { return false }
        if first == "{" || first == "[" {
            var depth = 0
            while let scalar = peek {
                if scalar == "\"" {
                    guard string() != nil else { return false }
                    continue
                }
                index = scalars.index(after: index)
                if scalar == "{" || scalar == "[" { depth += 1 }
                if scalar == "}" || scalar == "]" {
                    depth -= 1
                    if depth == 0 { return true }
                }
            }
            return false
        }
        var length = 0
        while let scalar = peek, scalar != ",", scalar != "}", scalar != " ", scalar != "\t" {
            index = scalars.index(after: index)
            length += 1
        }
        return length > 0
    }
}
