/// The bytes a `JSONTextWriter` writes: a growable buffer written through a pointer, so an
/// append costs a capacity check and a store. Appending to `[UInt8]` checks uniqueness and
/// capacity and calls `memcpy` on every call, which was most of the JSON encoder's time (about
/// 40,000 instructions a span, for about 1,100 bytes of JSON).
///
/// Owned by one writer: `move(appendingTo:)` hands the bytes over and frees the buffer, after
/// which the value must not be used.
struct JSONOutput {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    /// Allocates `capacity` bytes (at least 64).
    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    /// Makes room for `extra` more bytes, so the unchecked appends after it stay in bounds.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if capacity &- count < extra { grow(extra) }
    }

    @inline(never)
    private mutating func grow(_ extra: Int) {
        let newCapacity = max(capacity * 2, count + extra)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count &+= 1
    }

    /// Appends without a capacity check: only after `reserve`.
    @inline(__always)
    mutating func appendReserved(_ byte: UInt8) {
        base[count] = byte
        count &+= 1
    }

    /// Stores the 8 bytes of `word` (little-endian: its low byte first) and keeps `used` of
    /// them: only after `reserve` of 8.
    @inline(__always)
    mutating func appendReserved(word: UInt64, keeping used: Int) {
        UnsafeMutableRawPointer(base + count).storeBytes(of: word.littleEndian, as: UInt64.self)
        count &+= used
    }

    /// Stores the 8 bytes of `word` ending `back` bytes past the end (rewriting `8 - back`
    /// bytes already written with the same values) and keeps the `back` new ones: how a string's
    /// last bytes go out in one store. Only after `reserve` of `back`.
    @inline(__always)
    mutating func appendReserved(word: UInt64, endingPast back: Int) {
        UnsafeMutableRawPointer(base + count + back - 8).storeBytes(of: word.littleEndian, as: UInt64.self)
        count &+= back
    }

    /// Copies `count` bytes from `source` with two overlapping loads and stores (of 8, 4, 2 or
    /// 1 bytes), not a call to `memcpy`: keys and short strings are a few bytes each. Only after
    /// `reserve` of `count`.
    @inline(__always)
    mutating func appendReservedShort(_ source: UnsafeRawPointer, count length: Int) {
        let target = UnsafeMutableRawPointer(base + count)
        if length >= 8 {
            var offset = 0
            while offset &+ 8 < length {
                target.storeBytes(
                    of: source.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset,
                    as: UInt64.self)
                offset &+= 8
            }
            target.storeBytes(
                of: source.loadUnaligned(fromByteOffset: length &- 8, as: UInt64.self), toByteOffset: length &- 8,
                as: UInt64.self)
        } else if length >= 4 {
            let last = source.loadUnaligned(fromByteOffset: length &- 4, as: UInt32.self)
            target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
            target.storeBytes(of: last, toByteOffset: length &- 4, as: UInt32.self)
        } else if length >= 2 {
            let last = source.loadUnaligned(fromByteOffset: length &- 2, as: UInt16.self)
            target.storeBytes(of: source.loadUnaligned(as: UInt16.self), as: UInt16.self)
            target.storeBytes(of: last, toByteOffset: length &- 2, as: UInt16.self)
        } else if length == 1 {
            target.storeBytes(of: source.load(as: UInt8.self), as: UInt8.self)
        }
        count &+= length
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        appendReserved(bytes)
    }

    /// Copies `bytes` without a capacity check: only after `reserve`.
    @inline(__always)
    mutating func appendReserved(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count &+= bytes.count
    }

    /// A literal (keys, brackets and the fixed parts between them: a few bytes, so no `memcpy`).
    @inline(__always)
    mutating func append(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        reserve(length)
        appendReservedShort(text.utf8Start, count: length)
    }

    /// Text made at run time. Named apart from `append(_: StaticString)` on purpose: with one name
    /// for both, a string literal picks this one (String is the literals' default type), and the
    /// fixed parts of every attribute took a copy and `withUTF8` each, 1,200 instructions a span.
    mutating func appendText(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// `value` in decimal: two digits a step from a table of the hundred pairs.
    @inline(__always)
    mutating func appendDecimal(_ value: UInt64) {
        reserve(40)
        // Written backwards into the reserved room's upper half (20 digits at most), then moved down.
        let end = base + count + 40
        var cursor = end
        var rest = value
        let pairs = Self.digitPairs.utf8Start
        while rest >= 100 {
            let pair = Int(rest % 100) &* 2
            rest /= 100
            cursor -= 2
            cursor[0] = pairs[pair]
            cursor[1] = pairs[pair &+ 1]
        }
        if rest >= 10 {
            let pair = Int(rest) &* 2
            cursor -= 2
            cursor[0] = pairs[pair]
            cursor[1] = pairs[pair &+ 1]
        } else {
            cursor -= 1
            cursor[0] = UInt8(truncatingIfNeeded: rest) &+ 0x30
        }
        let digits = end - cursor
        (base + count).update(from: cursor, count: digits)
        count &+= digits
    }

    @inline(__always)
    mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude)
    }

    /// The 16 lowercase hex digits of `value`, most significant first (how OTLP JSON writes the
    /// big-endian id bytes): the nibbles spread to bytes and made digits eight at a time.
    @inline(__always)
    mutating func appendHex(_ value: UInt64) {
        reserve(16)
        appendReserved(word: Self.hexDigits(of: UInt32(truncatingIfNeeded: value >> 32)), keeping: 8)
        appendReserved(word: Self.hexDigits(of: UInt32(truncatingIfNeeded: value)), keeping: 8)
    }

    /// Eight ASCII hex digits of `half` in one word, its first digit in the low byte.
    @inline(__always)
    static func hexDigits(of half: UInt32) -> UInt64 {
        var spread = UInt64(half)
        spread = (spread | spread << 16) & 0x0000_FFFF_0000_FFFF
        spread = (spread | spread << 8) & 0x00FF_00FF_00FF_00FF
        spread = (spread | spread << 4) & 0x0F0F_0F0F_0F0F_0F0F
        // Byte i now holds nibble i from the least significant; the text starts with the most.
        spread = spread.byteSwapped
        // 1 in each byte holding 10...15, which then gets 'a' - '0' - 10 = 39 more.
        let letters = ((spread &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        return spread &+ 0x3030_3030_3030_3030 &+ letters &* 39
    }

    /// Hands the bytes to `out` and frees the buffer; the value is not used after.
    mutating func move(appendingTo out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
        base.deallocate()
        count = 0
        capacity = 0
    }

    private static var digitPairs: StaticString {
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
    }
}

extension JSONOutput: ByteAppending {}
