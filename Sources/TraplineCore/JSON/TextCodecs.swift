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

    /// Parses 16 hex digits from `bytes` at `start` into a big-endian word.
    static func hexWord(_ bytes: UnsafeRawBufferPointer, _ start: Int) -> UInt64? {
        precondition(start >= 0 && start + 16 <= bytes.count)
        // Safe: start + 16 <= count (checked above).
        guard let high = hexDigits8(bytes.loadUnaligned(fromByteOffset: start, as: UInt64.self)),
            let low = hexDigits8(bytes.loadUnaligned(fromByteOffset: start + 8, as: UInt64.self))
        else { return nil }
        return high << 32 | low
    }

    /// The value of eight hex digits (either case), the first in the lowest byte of `raw` as
    /// memory holds them, or nil if any byte is not a hex digit. All eight at once in one word
    /// (SWAR): a byte's high bit after adding `0x80 - lo` says it is at least `lo`, and the
    /// addition cannot carry into the next byte while every byte is below 0x80, which is checked
    /// first. (Sixteen digits as one `SIMD16` took more instructions: LLVM split the vector.)
    @inline(__always)
    static func hexDigits8(_ raw: UInt64) -> UInt64? {
        let word = UInt64(littleEndian: raw)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs = ones &* 0x80
        guard word & highs == 0 else { return nil }
        let digit = (word &+ ones &* (0x80 - 0x30)) & ~(word &+ ones &* (0x80 - 0x3A))
        let folded = word | ones &* 0x20  // 'A'...'F' to 'a'...'f'
        let letter = (folded &+ ones &* (0x80 - 0x61)) & ~(folded &+ ones &* (0x80 - 0x67)) & highs
        guard (digit | letter) & highs == highs else { return nil }
        // Digits are their low nibble; letters their low nibble plus 9.
        let nibbles = (word & (ones &* 0x0F)) &+ (letter >> 7) &* 9
        // The first digit is the most significant: reverse the bytes, then pack pairs of nibbles,
        // pairs of bytes and pairs of halves.
        var packed = nibbles.byteSwapped
        packed = (packed | packed >> 4) & 0x00FF_00FF_00FF_00FF
        packed = (packed | packed >> 8) & 0x0000_FFFF_0000_FFFF
        return (packed | packed >> 16) & 0xFFFF_FFFF
    }

    /// Parses an unsigned decimal integer; nil when not all digits or past UInt64.
    static func parseUnsigned(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        let count = bytes.count
        guard count > 0, count <= 20 else { return nil }
        // Nineteen digits cannot pass UInt64.max (twenty digits): no overflow checks below that.
        guard count < 20 else { return parseUnsignedChecked(bytes) }
        var value: UInt64 = 0
        var index = 0
        // The digits before the last multiple of eight one by one, then eight at a time.
        while index < count & 7 {
            let digit = bytes[index] &- 0x30
            guard digit < 10 else { return nil }
            value = value &* 10 &+ UInt64(digit)
            index &+= 1
        }
        while index < count {
            // Safe: count - index is a multiple of eight, so index + 8 <= count.
            guard let eight = decimalDigits8(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) else {
                return nil
            }
            value = value &* 100_000_000 &+ eight
            index &+= 8
        }
        return value
    }

    /// The value of eight decimal digits, the first in the lowest byte of `raw` as memory holds
    /// them, or nil if any byte is not a digit. All eight at once in one word (SWAR): the range
    /// check adds a bias per byte that cannot carry into the next byte while every byte is below
    /// 0x80, which is checked with it.
    @inline(__always)
    static func decimalDigits8(_ raw: UInt64) -> UInt64? {
        let word = UInt64(littleEndian: raw)
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs = ones &* 0x80
        let inRange = (word &+ ones &* (0x80 - 0x30)) & ~(word &+ ones &* (0x80 - 0x3A))
        guard word & highs == 0, inRange & highs == highs else { return nil }
        // Each byte its digit; then pairs, fours and eights of digits combined by multiplying
        // the more significant (lower) part by 10, 100 and 10,000.
        var digits = word &- ones &* 0x30
        digits = (digits &* 10 &+ digits >> 8) & 0x00FF_00FF_00FF_00FF
        digits = (digits &* 100 &+ digits >> 16) & 0x0000_FFFF_0000_FFFF
        return (digits &* 10_000 &+ digits >> 32) & 0xFFFF_FFFF
    }

    /// `parseUnsigned` one digit at a time with overflow checks (twenty digits).
    private static func parseUnsignedChecked(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
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
