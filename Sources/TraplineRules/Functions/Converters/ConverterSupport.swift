/// Go-style duration text (`300ms`, `1.5s`, `1h30m`, `-2m`) as nanoseconds.
/// Go duration text (`300ms`, `1.5s`, `1h30m`), as OTTL's `Duration` and the Collector's
/// configuration write durations.
public enum DurationText {
    /// The nanoseconds `text` stands for; nil when it is not a duration. Allocates nothing beyond reading `text`.
    public static func parse(_ text: String) -> Int64? {
        var characters = Substring(text)
        var negative = false
        if characters.first == "-" || characters.first == "+" {
            negative = characters.first == "-"
            characters = characters.dropFirst()
        }
        if characters == "0" { return 0 }
        guard !characters.isEmpty else { return nil }
        var total = 0.0
        while !characters.isEmpty {
            let number = characters.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            characters = characters.dropFirst(number.count)
            let unit = characters.prefix { !$0.isNumber && $0 != "." }
            characters = characters.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            total += value * scale
        }
        guard total < 9.2e18 else { return nil }
        return Int64(negative ? -total : total)
    }
}

/// A `strftime`-style format for `Time(…)`: `%Y %y %m %d %H %I %p %M %S %L %f %z %b %B %a %A %T %%`.
struct TimeFormat: Sendable {
    enum Piece: Sendable {
        case literal(Character)
        case directive(Character)
    }

    let pieces: [Piece]
    static let supported: Set<Character> = [
        "Y", "y", "m", "d", "H", "I", "p", "M", "S", "L", "f", "z", "b", "B", "a", "A", "T", "%",
    ]
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    init?(_ format: String) {
        var pieces: [Piece] = []
        var iterator = format.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else {
                pieces.append(.literal(character))
                continue
            }
            guard let directive = iterator.next(), Self.supported.contains(directive) else { return nil }
            if directive == "T" {
                pieces += [.directive("H"), .literal(":"), .directive("M"), .literal(":"), .directive("S")]
            } else if directive == "%" {
                pieces.append(.literal("%"))
            } else {
                pieces.append(.directive(directive))
            }
        }
        self.pieces = pieces
    }

    /// Nanoseconds since the epoch (UTC unless the text has `%z`); nil when the text does not fit.
    func parse(_ text: String) -> Int64? {
        var rest = Substring(text)
        var (year, month, day, hour, minute, second, nanos, offset) = (1970, 1, 1, 0, 0, 0, Int64(0), 0)
        var pm: Bool?
        func digits(_ maximum: Int) -> Int? {
            let run = rest.prefix(maximum).prefix { $0.isASCII && $0.isNumber }
            guard !run.isEmpty, let value = Int(run) else { return nil }
            rest = rest.dropFirst(run.count)
            return value
        }
        for piece in pieces {
            switch piece {
            case .literal(let character):
                guard rest.first == character else { return nil }
                rest = rest.dropFirst()
            case .directive(let directive):
                switch directive {
                case "Y": guard let value = digits(4) else { return nil }; year = value
                case "y":
                    guard let value = digits(2) else { return nil }; year = value < 69 ? 2000 + value : 1900 + value
                case "m": guard let value = digits(2) else { return nil }; month = value
                case "d": guard let value = digits(2) else { return nil }; day = value
                case "H", "I": guard let value = digits(2) else { return nil }; hour = value
                case "M": guard let value = digits(2) else { return nil }; minute = value
                case "S": guard let value = digits(2) else { return nil }; second = value
                case "L", "f":
                    let run = rest.prefix { $0.isASCII && $0.isNumber }
                    guard !run.isEmpty else { return nil }
                    rest = rest.dropFirst(run.count)
                    let digits = String(run.prefix(9))
                    let padded = digits + String(repeating: "0", count: 9 - digits.count)
                    nanos = Int64(padded) ?? 0
                case "p":
                    let word = rest.prefix(2).uppercased()
                    guard word == "AM" || word == "PM" else { return nil }
                    pm = word == "PM"
                    rest = rest.dropFirst(2)
                case "z":
                    if rest.first == "Z" {
                        rest = rest.dropFirst()
                        continue
                    }
                    guard let sign = rest.first, sign == "+" || sign == "-" else { return nil }
                    rest = rest.dropFirst()
                    guard let hours = digits(2) else { return nil }
                    if rest.first == ":" { rest = rest.dropFirst() }
                    let minutes = digits(2) ?? 0
                    offset = (hours * 60 + minutes) * 60 * (sign == "-" ? -1 : 1)
                case "b", "B":
                    let word = rest.prefix { $0.isLetter }
                    guard let index = Self.months.firstIndex(of: String(word.prefix(3)).lowercased()) else {
                        return nil
                    }
                    month = index + 1
                    rest = rest.dropFirst(word.count)
                case "a", "A":
                    rest = rest.drop { $0.isLetter }
                default: return nil
                }
            }
        }
        guard rest.isEmpty, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else {
            return nil
        }
        if let pm { hour = hour % 12 + (pm ? 12 : 0) }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
        return seconds * 1_000_000_000 + nanos
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

/// SHA-256 (FIPS 180-4), for the `SHA256` converter.
enum SHA256Digest {
    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    static func hex(_ message: [UInt8]) -> String {
        var hash: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        var data = message
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        let bits = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) {
            data.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + i * 4
                w[i] =
                    UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for i in 16..<64 {
                let s0 = rotate(w[i - 15], 7) ^ rotate(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotate(w[i - 2], 17) ^ rotate(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = (hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7])
            for i in 0..<64 {
                let s1 = rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)
                let choice = (e & f) ^ (~e & g)
                let t1 = h &+ s1 &+ choice &+ k[i] &+ w[i]
                let s0 = rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ majority
                (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            for (index, value) in [a, b, c, d, e, f, g, h].enumerated() { hash[index] = hash[index] &+ value }
        }
        return hash.map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 8 - digits.count) + digits
        }.joined()
    }

    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 { value >> count | value << (32 - count) }
}

/// JSON text to rule values, as `ParseJSON` returns them (numbers are doubles, as in the Collector).
struct JSONValueParser {
    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    static func parse(_ text: String) -> RuleValue? {
        var parser = JSONValueParser(text)
        guard let value = parser.value() else { return nil }
        parser.skipSpace()
        return parser.index == parser.bytes.count ? value : nil
    }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func value() -> RuleValue? {
        skipSpace()
        guard index < bytes.count, depth < 100 else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            index += 1
            depth += 1
            defer { depth -= 1 }
            var map = RuleMap()
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .map(map)
            }
            while true {
                skipSpace()
                guard case .string(let key)? = string() else { return nil }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let item = value() else { return nil }
                map[key] = item
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { return nil }
                index += 1
                return .map(map)
            }
        case UInt8(ascii: "["):
            index += 1
            depth += 1
            defer { depth -= 1 }
            var list: [RuleValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .list(list)
            }
            while true {
                guard let item = value() else { return nil }
                list.append(item)
                skipSpace()
                guard index < bytes.count else { return nil }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "]") else { return nil }
                index += 1
                return .list(list)
            }
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return word("true", .bool(true))
        case UInt8(ascii: "f"): return word("false", .bool(false))
        case UInt8(ascii: "n"): return word("null", .null)
        default:
            let start = index
            while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
            guard let number = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else { return nil }
            return .double(number)
        }
    }

    private mutating func word(_ text: String, _ result: RuleValue) -> RuleValue? {
        let word = Array(text.utf8)
        guard index + word.count <= bytes.count, Array(bytes[index..<index + word.count]) == word else { return nil }
        index += word.count
        return result
    }

    private mutating func string() -> RuleValue? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        var scalars = String.UnicodeScalarView()
        var run: [UInt8] = []
        func flush() {
            scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
            run.removeAll()
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                flush()
                return .string(String(scalars))
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                flush()
                switch escape {
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{C}")
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count,
                        var code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                    else { return nil }
                    index += 4
                    if (0xD800..<0xDC00).contains(code), index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        let low = UInt32(String(decoding: bytes[index + 2..<index + 6], as: UTF8.self), radix: 16),
                        (0xDC00..<0xE000).contains(low)
                    {
                        code = 0x10000 + (code - 0xD800) << 10 + (low - 0xDC00)
                        index += 6
                    }
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default: scalars.append(Unicode.Scalar(escape))
                }
            default: run.append(byte)
            }
        }
        return nil
    }
}
