import Testing
@_spi(Plumbing) import TraplineCore
@_spi(Plumbing) import TraplineTestSupport

@Suite struct TextLogDecoderTests {
    struct Line: Equatable, CustomStringConvertible {
        var body: [UInt8]
        var number: Int64
        var description: String { "\(number): \(String(decoding: body, as: UTF8.self))" }
    }

    static func decode(_ bytes: [UInt8], options: ReadOptions = ReadOptions()) throws -> (
        lines: [Line], summary: TextLogDecoder.Summary
    ) {
        var options = options
        options.inputFormat = .text
        var reader = FrameReader(name: "build.log", buffer: InputBuffer(bytes), options: options)
        var lines: [Line] = []
        var summary = TextLogDecoder.Summary()
        var batch = LogBatch()
        while let event = try reader.next() {
            guard case .frame(let frame) = event, case .text(let first, let continues) = frame.payload else { continue }
            let part = TextLogDecoder().decode(
                input: frame.input, frame: frame.range, sourceOffset: frame.sourceOffset, firstLine: first,
                continuesLine: continues, sourcePath: "build.log", observedTime: 5, into: &batch)
            summary.repairedLines += part.repairedLines
            summary.continuedLines += part.continuedLines
            batch.withBytes { bytes in
                for row in 0..<batch.count {
                    let attributes = batch.recordAttributes[row].range
                    #expect(bytes.string(batch.attributes.keys[attributes.lowerBound]) == "log.file.path")
                    #expect(bytes.string(batch.attributes.values[attributes.lowerBound].slice) == "build.log")
                    lines.append(
                        Line(
                            body: Array(bytes[batch.bodies[row].slice]),
                            number: batch.attributes.values[attributes.lowerBound + 1].int))
                    #expect(batch.observedTimes[row] == 5)
                }
            }
        }
        return (lines, summary)
    }

    @Test func lineEndingsOfEveryKindSplitLines() throws {
        let (lines, _) = try Self.decode(Array("first\nsecond\r\nthird\rfourth\n\nsixth".utf8))
        #expect(lines.map(\.description) == ["1: first", "2: second", "3: third", "4: fourth", "6: sixth"])
    }

    @Test func invalidUTF8IsReplacedAndCounted() throws {
        let (lines, summary) = try Self.decode([0x6F, 0x6B, 0x0A, 0x62, 0xFF, 0x64, 0x0A, 0x61, 0x00, 0x62, 0x0A])
        #expect(lines.map(\.body) == [[0x6F, 0x6B], [0x62, 0xEF, 0xBF, 0xBD, 0x64], [0x61, 0x00, 0x62]])
        #expect(summary.repairedLines == 1)
    }

    @Test func overlongLinesAreSplitIntoRecordsWithTheSameNumber() throws {
        var options = ReadOptions()
        options.maxLineBytes = 16
        let text = String(repeating: "x", count: 40) + "\nshort\n"
        let (lines, summary) = try Self.decode(Array(text.utf8), options: options)
        #expect(lines.map(\.number) == [1, 1, 1, 2])
        #expect(lines.map(\.body.count) == [16, 16, 8, 5])
        #expect(summary.continuedLines == 2)
        #expect(try FramingVerifier.disagreements(Array(text.utf8), options: options) == [])
    }

    @Test func crlfJustPastTheLimitStaysOneLineBreak() throws {
        // The CR is the 17th byte, the one the reader looks at to see whether the line ends there:
        // cutting between it and its LF counted a line more for every such line after.
        var options = ReadOptions()
        options.maxLineBytes = 16
        let text = String(repeating: "a", count: 16) + "\r\nnext\r\n" + String(repeating: "b", count: 16) + "\r\nlast"
        let (lines, _) = try Self.decode(Array(text.utf8), options: options)
        #expect(lines.map(\.number) == [1, 2, 3, 4])
        #expect(try FramingVerifier.disagreements(Array(text.utf8), options: options) == [])
    }

    @Test func splitsKeepFourByteCharactersWhole() throws {
        // A 4-byte character across the limit: the split backs up to its first byte.
        var options = ReadOptions()
        options.maxLineBytes = 16
        let text = String(repeating: "a", count: 13) + String(repeating: "😀", count: 3)
        let (lines, summary) = try Self.decode(Array(text.utf8), options: options)
        #expect(lines.map(\.body.count) == [13, 12])
        #expect(lines.allSatisfy { String(validating: $0.body, as: UTF8.self) != nil })
        #expect(summary.repairedLines == 0)
    }

    @Test func limitsUnderOneCharacterAreRaisedToFourBytes() throws {
        var options = ReadOptions()
        options.maxLineBytes = 1
        let (lines, _) = try Self.decode(Array("ab€😀".utf8), options: options)
        #expect(lines.map { String(decoding: $0.body, as: UTF8.self) } == ["ab", "€", "😀"])
    }

    @Test func crlfSplitAcrossReadsIsOneLineBreak() throws {
        var options = ReadOptions()
        options.inputFormat = .text
        let bytes = Array("a\r\nb\r\nc".utf8)
        #expect(try FramingVerifier.disagreements(bytes, options: options) == [])
    }

    @Test func realBuildLogKeepsEveryNonEmptyLine() throws {
        let bytes = try Fixtures.bytes("corpus/buildlogs/asm-stub-missing.arm64.log")
        let (lines, _) = try Self.decode(bytes)
        let expected = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == expected.count)
        #expect(lines.first.map { String(decoding: $0.body, as: UTF8.self) } == expected.first.map(String.init))
    }
}
