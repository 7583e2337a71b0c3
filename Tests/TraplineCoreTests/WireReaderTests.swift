import Testing
import TraplineCore

@Suite struct WireReaderTests {
    static let varints: [([UInt8], UInt64)] = [
        ([0x00], 0), ([0x7F], 127), ([0x80, 0x01], 128), ([0xAC, 0x02], 300),
        ([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], 0xFFFF_FFFF),
        ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], UInt64.max),
    ]

    @Test(arguments: varints)
    func readsVarints(bytes: [UInt8], expected: UInt64) throws {
        try bytes.withUnsafeBytes { buffer throws in
            var reader = WireReader(frame: buffer)
            #expect(try reader.readVarint() == expected)
            #expect(reader.isAtEnd)
        }
    }

    @Test func elevenByteVarintNamesItsOffset() throws {
        let bytes: [UInt8] = [0x08] + Array(repeating: 0xFF, count: 10) + [0x01]
        bytes.withUnsafeBytes { buffer in
            var reader = WireReader(frame: buffer, sourceOffset: 100)
            reader.position = 1
            let error = #expect(throws: DecodeError.self) { try reader.readVarint() }
            #expect(error?.reason == .varintTooLong)
            #expect(error?.offset == 101)
        }
    }

    /// A tag has 5 bytes at most and fits in 32 bits, as libprotobuf-c and upb require; the same
    /// value spelled in more bytes, or 35 bits in five, is damage.
    @Test(
        arguments: [
            ([0x8D, 0x80, 0x80, 0x80, 0x00], 1),
            ([0x8D, 0x80, 0x80, 0x80, 0x80, 0x00], nil),
            ([0x8D, 0x80, 0x80, 0x80, 0x0F], 0x1E00_0001),
            ([0x8D, 0x80, 0x80, 0x80, 0x10], nil),
        ] as [([UInt8], UInt32?)])
    func tagIsAtMostFiveBytesAndThirtyTwoBits(bytes: [UInt8], number: UInt32?) throws {
        bytes.withUnsafeBytes { buffer in
            var reader = WireReader(frame: buffer, sourceOffset: 3)
            if let number {
                #expect((try? reader.readTag()) == FieldTag(number: number, wireType: .fixed32))
            } else {
                let error = #expect(throws: DecodeError.self) { try reader.readTag() }
                #expect(error?.reason == .tagTooLong)
                #expect(error?.offset == 3)
                let words = bytes.count > 5 ? "field tag of \(bytes.count) bytes" : "field tag past 32 bits"
                #expect(error?.description.contains(words) == true)
            }
        }
    }

    @Test func truncatedVarintNamesItsOffset() throws {
        let bytes: [UInt8] = [0x80, 0x80]
        bytes.withUnsafeBytes { buffer in
            var reader = WireReader(frame: buffer, sourceOffset: 7)
            let error = #expect(throws: DecodeError.self) { try reader.readVarint() }
            #expect(error?.reason == .truncatedVarint)
            #expect(error?.offset == 7)
        }
    }

    @Test(arguments: [
        (UInt8(0x0E), Rejection.Reason.invalidWireType), (0x0F, .invalidWireType), (0x02, .fieldNumberZero),
    ])
    func badTagsAreRejected(tag: UInt8, code: Rejection.Reason) {
        [tag].withUnsafeBytes { buffer in
            var reader = WireReader(frame: buffer)
            let error = #expect(throws: DecodeError.self) { try reader.readTag() }
            #expect(error?.reason == code)
            #expect(error?.offset == 0)
        }
    }

    @Test func lengthPastEndSaysHowMuchWasLeft() {
        let bytes: [UInt8] = [0x0A, 0x05, 0x01, 0x02]
        bytes.withUnsafeBytes { buffer in
            var reader = WireReader(frame: buffer)
            _ = try? reader.readTag()
            let error = #expect(throws: DecodeError.self) { try reader.readLengthDelimited() }
            #expect(error?.reason == .lengthPastEnd)
            #expect(error?.offset == 1)
            #expect(error?.value == 5)
            #expect(error?.limit == 2)
        }
    }

    @Test func hugeDeclaredLengthDoesNotAllocateOrOverflow() {
        let bytes: [UInt8] = [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]
        bytes.withUnsafeBytes { buffer in
            var reader = WireReader(frame: buffer)
            _ = try? reader.readTag()
            let error = #expect(throws: DecodeError.self) { try reader.readLengthDelimited() }
            #expect(error?.reason == .lengthPastEnd)
        }
    }

    @Test func groupsAreSkippedToTheirEnd() throws {
        // field 5 start-group { field 1 varint 1 } field 5 end-group, then field 2 varint 9
        let bytes: [UInt8] = [0x2B, 0x08, 0x01, 0x2C, 0x10, 0x09]
        try bytes.withUnsafeBytes { buffer throws in
            var reader = WireReader(frame: buffer)
            let tag = try reader.readTag()
            try reader.skipField(tag, depth: 0, maxDepth: 100)
            #expect(try reader.readTag() == FieldTag(number: 2, wireType: .varint))
        }
    }

    @Test(arguments: [[UInt8]([0x2B, 0x08, 0x01]), [0x2C], [0x2B, 0x34]])
    func unbalancedGroupsAreRejected(bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer throws in
            var reader = WireReader(frame: buffer)
            let tag = try reader.readTag()
            let error = #expect(throws: DecodeError.self) { try reader.skipField(tag, depth: 0, maxDepth: 100) }
            #expect(error?.reason == .unbalancedGroup)
        }
    }

    @Test func writerRoundTripsVarintsAndGrows() throws {
        let writer = WireWriter(initialCapacity: 64)
        let values: [UInt64] = (0..<200).map { UInt64(1) << UInt64($0 % 64) | UInt64($0) }
        for value in values.reversed() { writer.writeVarint(value) }
        var reader = WireReader(frame: writer.bytes)
        for value in values { #expect(try reader.readVarint() == value) }
        #expect(reader.isAtEnd)
    }
}
