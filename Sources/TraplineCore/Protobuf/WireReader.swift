/// Reads protobuf wire format from a bounded region of a frame.
///
/// The caller proves the region is inside the frame once (at a message boundary); every read
/// below checks against `end` only, with unchecked arithmetic where the check above it proves
/// there is no overflow. Positions are frame offsets; errors add `sourceOffset` so they name
/// the byte offset in the source.
///
/// The reader holds an unsafe pointer: use it only inside a scope that keeps the frame alive.
@usableFromInline package struct WireReader {
    @usableFromInline let base: UnsafeRawPointer
    /// Next byte to read, as an offset from the frame start.
    @usableFromInline package var position: Int
    /// One past the last byte of the region.
    @usableFromInline package let end: Int
    /// Offset of the frame start in the source, added to error offsets.
    @usableFromInline package let sourceOffset: Int

    /// A reader over `frame[start..<end]`.
    ///
    /// - Precondition: `0 <= start <= end <= frame.count`.
    @inlinable
    package init(
        frame: UnsafeRawBufferPointer, start: Int = 0, end: Int? = nil, sourceOffset: Int = 0
    ) {
        let end = end ?? frame.count
        precondition(start >= 0 && start <= end && end <= frame.count, "reader region outside frame")
        // A frame of no bytes may have no base address; any non-nil pointer works since nothing is read.
        self.base = frame.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        self.position = start
        self.end = end
        self.sourceOffset = sourceOffset
    }

    @inlinable
    init(base: UnsafeRawPointer, start: Int, end: Int, sourceOffset: Int) {
        self.base = base
        self.position = start
        self.end = end
        self.sourceOffset = sourceOffset
    }

    /// A reader over a sub-region returned by `readLengthDelimited`, sharing the frame.
    @inlinable
    package func subReader(_ region: Range<Int>) -> WireReader {
        WireReader(base: base, start: region.lowerBound, end: region.upperBound, sourceOffset: sourceOffset)
    }

    /// Whether every byte of the region has been read.
    @inlinable package var isAtEnd: Bool { position >= end }

    /// The next field's tag and the offset it starts at, or nil at the end of the message.
    @inlinable @inline(__always)
    package mutating func nextField() throws(DecodeError) -> (tag: FieldTag, start: Int)? {
        guard position < end else { return nil }
        let start = position
        return (try readTag(), start)
    }

    @inlinable package var remaining: Int { end &- position }

    /// The error for the current position.
    @inlinable
    func error(_ reason: Rejection.Reason, at position: Int, value: Int? = nil, limit: Int? = nil) -> DecodeError {
        DecodeError(reason, offset: sourceOffset &+ position, value: value, limit: limit)
    }

    /// Reads a base-128 varint. The one-byte case is inline; longer ones go out of line.
    @inlinable
    package mutating func readVarint() throws(DecodeError) -> UInt64 {
        if let value = takeOneByteVarint() { return value }
        return try _readVarintSlowPath()
    }

    /// The next byte as a whole varint when it is one (below 0x80), consumed; else nothing read.
    @inlinable @inline(__always)
    mutating func takeOneByteVarint() -> UInt64? {
        guard position < end else { return nil }
        // Safe: position < end <= frame.count.
        let byte = base.load(fromByteOffset: position, as: UInt8.self)
        guard byte < 0x80 else { return nil }
        position &+= 1
        return UInt64(byte)
    }

    @usableFromInline @inline(never)
    mutating func _readVarintSlowPath() throws(DecodeError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw error(.truncatedVarint, at: start) }
            // Safe: position < end.
            let byte = base.load(fromByteOffset: position, as: UInt8.self)
            position &+= 1
            // Bits past 64 in the tenth byte are dropped, as libprotobuf-c and upb do.
            result |= UInt64(byte & 0x7F) &<< shift
            if byte < 0x80 { return result }
            shift &+= 7
            if shift >= 70 { throw error(.varintTooLong, at: start) }
        }
    }

    /// Reads a field tag, rejecting field number 0, wire types 6 and 7, and a tag longer than the
    /// 5 bytes or 32 bits a tag has (libprotobuf-c, upb and the C++ parser reject those too).
    @inlinable
    package mutating func readTag() throws(DecodeError) -> FieldTag {
        let start = position
        let raw = try readTagValue()
        guard let wireType = WireType(rawValue: UInt8(truncatingIfNeeded: raw & 7)) else {
            throw error(.invalidWireType, at: start, value: Int(raw & 7))
        }
        let number = UInt32(truncatingIfNeeded: raw >> 3)
        guard number != 0 else { throw error(.fieldNumberZero, at: start) }
        return FieldTag(number: number, wireType: wireType)
    }

    /// A tag's varint. The one-byte case is inline, as in `readVarint`; longer ones, and their
    /// checks, go out of line: checked inline, every tag read got dearer (+4% to +40%
    /// instructions a span in a replay, callgrind, depending on how the check was written).
    @inlinable
    mutating func readTagValue() throws(DecodeError) -> UInt64 {
        if let value = takeOneByteVarint() { return value }
        return try _readLongTagSlowPath()
    }

    @usableFromInline @inline(never)
    mutating func _readLongTagSlowPath() throws(DecodeError) -> UInt64 {
        let start = position
        let raw = try _readVarintSlowPath()
        guard raw <= UInt64(UInt32.max), position &- start <= 5 else {
            throw error(.tagTooLong, at: start, value: position &- start)
        }
        return raw
    }

    /// Reads a length prefix and returns the region it delimits, checked against the bytes left.
    @inlinable
    package mutating func readLengthDelimited() throws(DecodeError) -> Range<Int> {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(remaining) else {
            throw error(
                .lengthPastEnd, at: start, value: length > UInt64(Int.max) ? Int.max : Int(length), limit: remaining)
        }
        let lower = position
        // Safe: length <= end - position.
        position &+= Int(truncatingIfNeeded: length)
        return lower..<position
    }

    /// Reads a little-endian 64-bit value.
    @inlinable
    package mutating func readFixed64() throws(DecodeError) -> UInt64 {
        guard remaining >= 8 else { throw error(.truncatedFixed, at: position) }
        // Safe: 8 <= end - position.
        let value = base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position &+= 8
        return UInt64(littleEndian: value)
    }

    /// Reads a little-endian 32-bit value.
    @inlinable
    package mutating func readFixed32() throws(DecodeError) -> UInt32 {
        guard remaining >= 4 else { throw error(.truncatedFixed, at: position) }
        // Safe: 4 <= end - position.
        let value = base.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position &+= 4
        return UInt32(littleEndian: value)
    }

    /// The bytes of a region read earlier (valid while the frame is).
    @inlinable
    package func bytes(_ region: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + region.lowerBound, count: region.count)
    }

    /// Skips the value of a field whose tag was just read, validating its framing. Groups are
    /// followed to their end tag, counting toward the nesting limit.
    @inlinable
    package mutating func skipField(_ tag: FieldTag, depth: Int, maxDepth: Int) throws(DecodeError) {
        switch tag.wireType {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup, .endGroup: try _skipGroupSlowPath(tag, depth: depth, maxDepth: maxDepth)
        }
    }

    @usableFromInline @inline(never)
    mutating func _skipGroupSlowPath(_ tag: FieldTag, depth: Int, maxDepth: Int) throws(DecodeError) {
        // Errors point at the group's tag, just before `position`.
        var tagLength = 1
        while tag.encoded >> (7 * UInt64(tagLength)) != 0 { tagLength += 1 }
        let start = position - tagLength
        guard tag.wireType == .startGroup else { throw error(.unbalancedGroup, at: start) }
        guard depth < maxDepth else { throw error(.nestingTooDeep, at: start, value: depth + 1, limit: maxDepth) }
        while true {
            guard !isAtEnd else { throw error(.unbalancedGroup, at: start) }
            let inner = try readTag()
            if inner.wireType == .endGroup {
                guard inner.number == tag.number else { throw error(.unbalancedGroup, at: position) }
                return
            }
            try skipField(inner, depth: depth + 1, maxDepth: maxDepth)
        }
    }
}
