import Testing
import TraplineCore

@Suite struct UTF8ValidationTests {
    static let cases: [([UInt8], Int?)] = [
        (Array("plain ascii text over eight bytes".utf8), nil),
        (Array("ünïcödé ✓ 🚀".utf8), nil),
        ([0x00, 0x41], nil),
        ([0x41, 0xC0, 0x80], 1),  // overlong NUL
        ([0xED, 0xA0, 0x80], 0),  // UTF-16 surrogate
        ([0xF4, 0x90, 0x80, 0x80], 0),  // past U+10FFFF
        ([0x41, 0x42, 0xE2, 0x82], 2),  // cut off
        ([0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0xFF], 8),
    ]

    @Test(arguments: cases)
    func findsFirstInvalidByte(bytes: [UInt8], expected: Int?) {
        #expect(bytes.withUnsafeBytes { UTF8Validation.firstInvalidOffset($0) } == expected)
    }
}
