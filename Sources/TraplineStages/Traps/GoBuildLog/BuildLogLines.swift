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
        guard raw.hasPrefix("{\""), raw.has("\"Action\":") else {
            lines.append(Line(number: number, text: raw))
            return
        }
        // A -json event: only its Output is build output; events without one (build-fail, pass) carry none.
        guard let output = Self.jsonStringField("Output", in: raw) else { return }
        var pieces = output.split(separator: "\n", omittingEmptySubsequences: false)
        if pieces.last == "" { pieces.removeLast() }
        for piece in pieces { lines.append(Line(number: number, text: piece)) }
    }

    /// The value of the top-level string field `name` of one JSON object on one line, unescaped; `nil` when
    /// absent or not a well-formed string.
    static func jsonStringField(_ name: String, in object: Substring) -> String? {
        guard let keyRange = object.firstRange(of: "\"\(name)\":\"") else { return nil }
        var result = ""
        var iterator = object[keyRange.upperBound...].unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            switch scalar {
            case "\"":
                return result
            case "\\":
                guard let escaped = iterator.next() else { return nil }
                switch escaped {
                case "n": result.unicodeScalars.append("\n")
                case "t": result.unicodeScalars.append("\t")
                case "r": result.unicodeScalars.append("\r")
                case "b": result.unicodeScalars.append("\u{8}")
                case "f": result.unicodeScalars.append("\u{C}")
                case "u":
                    var value: UInt32 = 0
                    for _ in 0..<4 {
                        guard let digit = iterator.next(), let nibble = UInt32(String(digit), radix: 16) else {
                            return nil
                        }
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
}
