/// UTF-8 validation over raw bytes, as protobuf requires of `string` fields.
///
/// ASCII is checked eight bytes at a time; anything else goes through the scalar check of
/// RFC 3629 (no overlongs, no surrogates, nothing past U+10FFFF). Does not allocate.
@usableFromInline package enum UTF8Validation {
    /// Returns the offset of the first byte that starts an invalid sequence, or `nil` when all
    /// of `bytes` is valid UTF-8.
    @inlinable
    package static func firstInvalidOffset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var index = 0
        // Safe: index + 8 <= count before each 8-byte load.
        while index &+ 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if word & 0x8080_8080_8080_8080 != 0 { break }
            index &+= 8
        }
        while index < count {
            if base.load(fromByteOffset: index, as: UInt8.self) < 0x80 {
                index &+= 1
                continue
            }
            return _nonASCIISlowPath(base, from: index, count: count)
        }
        return nil
    }

    /// Whether the `count` bytes at `base` are ASCII and at most 32: a few overlapping loads and no
    /// loop, for inlining where most strings are short keys and values (`false` says only that
    /// `isValid` must decide).
    @inlinable @inline(__always)
    package static func isShortASCII(_ base: UnsafeRawPointer, count: Int) -> Bool {
        let highBits: UInt64 = 0x8080_8080_8080_8080
        // Safe: every load is of bytes inside 0..<count.
        @inline(__always) func word(_ at: Int) -> UInt64 { base.loadUnaligned(fromByteOffset: at, as: UInt64.self) }
        if count >= 8 {
            if count <= 16 { return (word(0) | word(count &- 8)) & highBits == 0 }
            guard count <= 32 else { return false }
            return (word(0) | word(8) | word(count &- 16) | word(count &- 8)) & highBits == 0
        }
        if count >= 4 {
            let first = base.loadUnaligned(as: UInt32.self)
            return (first | base.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self)) & 0x8080_8080 == 0
        }
        guard count > 0 else { return true }
        let first = base.load(as: UInt8.self) | base.load(fromByteOffset: count >> 1, as: UInt8.self)
        return (first | base.load(fromByteOffset: count &- 1, as: UInt8.self)) & 0x80 == 0
    }

    /// Whether all of `bytes` is valid UTF-8.
    @inlinable
    package static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        firstInvalidOffset(bytes) == nil
    }

    @usableFromInline @inline(never)
    static func _nonASCIISlowPath(_ base: UnsafeRawPointer, from start: Int, count: Int) -> Int? {
        var index = start
        @inline(__always) func byte(_ at: Int) -> UInt8 { base.load(fromByteOffset: at, as: UInt8.self) }
        @inline(__always) func isContinuation(_ at: Int) -> Bool { at < count && byte(at) & 0xC0 == 0x80 }
        while index < count {
            let lead = byte(index)
            if lead < 0x80 {
                index &+= 1
                continue
            }
            switch lead {
            case 0xC2...0xDF:
                guard isContinuation(index + 1) else { return index }
                index &+= 2
            case 0xE0...0xEF:
                guard index + 2 < count, isContinuation(index + 1), isContinuation(index + 2) else { return index }
                let second = byte(index + 1)
                if lead == 0xE0 && second < 0xA0 { return index }  // overlong
                if lead == 0xED && second > 0x9F { return index }  // UTF-16 surrogate
                index &+= 3
            case 0xF0...0xF4:
                guard index + 3 < count, isContinuation(index + 1), isContinuation(index + 2),
                    isContinuation(index + 3)
                else { return index }
                let second = byte(index + 1)
                if lead == 0xF0 && second < 0x90 { return index }  // overlong
                if lead == 0xF4 && second > 0x8F { return index }  // past U+10FFFF
                index &+= 4
            default:
                return index
            }
        }
        return nil
    }

    /// Length of the valid sequence starting at `index`, or 0 when the byte there starts an
    /// invalid one. Used when repairing text lines.
    static func validSequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        let lead = bytes[index]
        if lead < 0x80 { return 1 }
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        let sequence = UnsafeRawBufferPointer(rebasing: bytes[index..<(index + length)])
        return firstInvalidOffset(sequence) == nil ? length : 0
    }
}
