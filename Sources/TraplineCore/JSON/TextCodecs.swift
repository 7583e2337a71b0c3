/// Where `TextCodecs` can write: `[UInt8]`, and the JSON encoder's output buffer.
package protocol ByteAppending {
    mutating func append(_ byte: UInt8)
}

extension Array: ByteAppending where Element == UInt8 {}

/// Hex, base64 and decimal conversions for OTLP JSON, over raw bytes and without Foundation.
package enum TextCodecs {
    /// The value of a hex digit (either case), or nil.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    /// Hex digit values by byte; 0xFF for bytes that are not hex digits.
    static let hexTable: [UInt8] = (0...255).map { hexValue(UInt8($0)) ?? 0xFF }

    /// Parses 16 hex digits from `bytes` at `start` into a big-endian word.
    static func hexWord(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> UInt64? {
        hexTable.withUnsafeBufferPointer { table in
            var value: UInt64 = 0
            var invalid: UInt8 = 0
            for index in start..<(start + 16) {
                let digit = table[Int(bytes[index])]
                invalid |= digit
                value = value << 4 | UInt64(digit & 0xF)
            }
            // Any 0xFF entry sets the high bits; valid digits never do.
            return invalid & 0xF0 == 0 ? value : nil
        }
    }

    /// Parses an unsigned decimal integer; nil when not all digits or past UInt64.
    static func parseUnsigned(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// Parses a signed decimal integer; nil when malformed or outside Int64.
    static func parseSigned(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let first = bytes.first else { return nil }
        if first == UInt8(ascii: "-") {
            guard let magnitude = parseUnsigned(UnsafeRawBufferPointer(rebasing: bytes.dropFirst())) else { return nil }
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            guard magnitude <= UInt64(Int64.max) else { return nil }
            return -Int64(magnitude)
        }
        guard let value = parseUnsigned(bytes), value <= UInt64(Int64.max) else { return nil }
        return Int64(value)
    }

    static let base64Alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func base64Value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x41...0x5A: return byte - 0x41
        case 0x61...0x7A: return byte - 0x61 + 26
        case 0x30...0x39: return byte - 0x30 + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62  // standard and URL-safe
        case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
        default: return nil
        }
    }

    /// Decodes base64 (standard or URL-safe, padding optional) onto `out`; false when invalid.
    static func appendBase64Decoded(_ text: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Bool {
        var count = text.count
        while count > 0 && text[count - 1] == UInt8(ascii: "=") { count -= 1 }
        guard text.count - count <= 2, count % 4 != 1 else { return false }
        var buffer: UInt32 = 0
        var bits = 0
        for index in 0..<count {
            guard let value = base64Value(text[index]) else { return false }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return true
    }

    /// Appends standard base64 with padding.
    package static func appendBase64<Sink: ByteAppending>(_ bytes: UnsafeRawBufferPointer, to out: inout Sink) {
        var index = 0
        while index + 3 <= bytes.count {
            let word = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.append(base64Alphabet[Int(word >> 18 & 63)])
            out.append(base64Alphabet[Int(word >> 12 & 63)])
            out.append(base64Alphabet[Int(word >> 6 & 63)])
            out.append(base64Alphabet[Int(word & 63)])
            index += 3
        }
        let left = bytes.count - index
        if left > 0 {
            let word = UInt32(bytes[index]) << 16 | (left == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out.append(base64Alphabet[Int(word >> 18 & 63)])
            out.append(base64Alphabet[Int(word >> 12 & 63)])
            out.append(left == 2 ? base64Alphabet[Int(word >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
    }
}
