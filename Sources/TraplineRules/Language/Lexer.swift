/// One token of an OTTL expression and its 1-based column.
struct Token: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case string(String)
        case int(Int64)
        case float(Double)
        /// `0x…`: bytes.
        case bytes([UInt8])
        case punctuation(String)
        case end
    }

    var kind: Kind
    var column: Int
}

/// Splits an OTTL expression into tokens.
enum Lexer {
    static let punctuation = [
        "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "<", ">", "+", "-", "*", "/",
    ]

    static func tokens(_ text: String) throws(RuleError) -> [Token] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        func isDigit(_ scalar: Unicode.Scalar) -> Bool { scalar.value >= 0x30 && scalar.value <= 0x39 }
        func isIdentifierStart(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || (scalar.value >= 0x41 && scalar.value <= 0x5A)
                || (scalar.value >= 0x61 && scalar.value <= 0x7A)
        }
        while index < scalars.count {
            let scalar = scalars[index]
            let column = index + 1
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                index += 1
                continue
            }
            if scalar == "\"" {
                index += 1
                var value = ""
                var closed = false
                while index < scalars.count {
                    let character = scalars[index]
                    index += 1
                    if character == "\"" {
                        closed = true
                        break
                    }
                    if character == "\\" {
                        guard index < scalars.count else { break }
                        let escaped = scalars[index]
                        index += 1
                        switch escaped {
                        case "n": value.unicodeScalars.append("\n")
                        case "t": value.unicodeScalars.append("\t")
                        case "r": value.unicodeScalars.append("\r")
                        case "\"", "\\": value.unicodeScalars.append(escaped)
                        default:
                            // OTTL keeps unknown escapes as written, so regexes like "\\d" and "\d" both work.
                            value.unicodeScalars.append("\\")
                            value.unicodeScalars.append(escaped)
                        }
                        continue
                    }
                    value.unicodeScalars.append(character)
                }
                guard closed else { throw RuleError(.invalidToken, column: column, "unterminated string") }
                tokens.append(Token(kind: .string(value), column: column))
                continue
            }
            if isDigit(scalar) {
                var end = index
                if scalar == "0", end + 1 < scalars.count, scalars[end + 1] == "x" || scalars[end + 1] == "X" {
                    end += 2
                    var hex = ""
                    while end < scalars.count, scalars[end].properties.isASCIIHexDigit {
                        hex.unicodeScalars.append(scalars[end])
                        end += 1
                    }
                    guard hex.count % 2 == 0, !hex.isEmpty else {
                        throw RuleError(
                            .invalidToken, column: column, "bytes literal needs an even number of hex digits")
                    }
                    var bytes: [UInt8] = []
                    var digits = hex.makeIterator()
                    while let high = digits.next(), let low = digits.next() {
                        bytes.append(UInt8(String([high, low]), radix: 16)!)
                    }
                    tokens.append(Token(kind: .bytes(bytes), column: column))
                    index = end
                    continue
                }
                var isFloat = false
                while end < scalars.count {
                    let next = scalars[end]
                    if isDigit(next) {
                        end += 1
                    } else if next == ".", !isFloat, end + 1 < scalars.count, isDigit(scalars[end + 1]) {
                        isFloat = true
                        end += 1
                    } else if next == "e" || next == "E" {
                        isFloat = true
                        end += 1
                        if end < scalars.count, scalars[end] == "+" || scalars[end] == "-" { end += 1 }
                    } else {
                        break
                    }
                }
                let literal = String(String.UnicodeScalarView(scalars[index..<end]))
                if isFloat {
                    guard let value = Double(literal) else {
                        throw RuleError(.invalidToken, column: column, "'\(literal)' is not a number")
                    }
                    tokens.append(Token(kind: .float(value), column: column))
                } else {
                    guard let value = Int64(literal) else {
                        throw RuleError(.invalidToken, column: column, "'\(literal)' does not fit a 64-bit integer")
                    }
                    tokens.append(Token(kind: .int(value), column: column))
                }
                index = end
                continue
            }
            if isIdentifierStart(scalar) {
                var end = index
                while end < scalars.count, isIdentifierStart(scalars[end]) || isDigit(scalars[end]) { end += 1 }
                tokens.append(
                    Token(kind: .identifier(String(String.UnicodeScalarView(scalars[index..<end]))), column: column))
                index = end
                continue
            }
            let rest = String(String.UnicodeScalarView(scalars[index..<min(index + 2, scalars.count)]))
            guard let symbol = punctuation.first(where: { rest.hasPrefix($0) }) else {
                throw RuleError(.invalidToken, column: column, "unexpected character '\(scalar)'")
            }
            tokens.append(Token(kind: .punctuation(symbol), column: column))
            index += symbol.unicodeScalars.count
        }
        tokens.append(Token(kind: .end, column: scalars.count + 1))
        return tokens
    }
}
