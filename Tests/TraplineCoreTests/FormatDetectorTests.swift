import Testing
import TraplineCore
import TraplineTestSupport

@Suite struct FormatDetectorTests {
    @Test(arguments: [
        ("corpus/otlp/ctraces/sample_trace.bin", DetectedInput.format(.otlpProto)),
        ("corpus/otlp/otlp2parquet/logs.pb", .format(.otlpProto)),
        ("generated/shop-traces-single.pb", .format(.otlpProto)),
        ("generated/shop-traces.otlp", .format(.otlpProtoLengthPrefixed)),
        ("generated/shop-logs.varint.otlp", .format(.otlpProtoVarintDelimited)),
        ("generated/shop-traces.otlp.gz", .gzip),
        ("corpus/otlp/otel-proto/trace.json", .format(.otlpJSON)),
        ("corpus/otlp/jaeger-ui/otlp2jaeger-multi-in.jsonl", .format(.otlpJSON)),
        ("corpus/buildlogs/gocache-off.log", .format(.text)),
        ("corpus/buildlogs/asm-stub-missing.arm64.log", .format(.text)),
    ])
    func detectsFixtures(path: String, expected: DetectedInput) throws {
        let bytes = try Fixtures.bytes(path)
        #expect(bytes.withUnsafeBytes { FormatDetector.detect($0, isComplete: true) } == expected)
        // A stream's first 64 KiB must say the same.
        let prefix = Array(bytes.prefix(FormatDetector.preferredPrefixLength))
        #expect(
            prefix.withUnsafeBytes { FormatDetector.detect($0, isComplete: prefix.count == bytes.count) } == expected)
    }

    @Test(arguments: [
        ([UInt8](), DetectedInput.empty),
        ([0x28, 0xB5, 0x2F, 0xFD, 0x00], .zstd),
        (Array("\n\nplain text after blank lines\n".utf8), .format(.text)),
        (Array("\nabcdefghijklmnopqrstuvwxyz".utf8), .format(.text)),
        (Array("{ not quite json".utf8), .format(.text)),
        (Array("\u{FEFF}  {\"resourceSpans\":[]}".utf8), .format(.otlpJSON)),
        ([0x00, 0x00, 0x00, 0x00], .format(.otlpProtoLengthPrefixed)),
        (Array(" \n\t\r\n  ".utf8), .empty),
        (Array("\u{1B}[31mred\u{1B}[0m build output\n".utf8), .format(.text)),
        (Array("garbage\n{\"resourceSpans\":[]}\n{\"resourceSpans\":[]}\n".utf8), .format(.otlpJSON)),
        (Array("first\n{ not json\nplain\nlines\n".utf8), .format(.text)),
        ([0x0F, 0x01, 0x02, 0x03, 0x04], .format(.otlpProto)),
    ])
    func detectsEdgeCases(bytes: [UInt8], expected: DetectedInput) {
        #expect(bytes.withUnsafeBytes { FormatDetector.detect($0, isComplete: true) } == expected)
    }

    /// One damaged frame anywhere in a framed capture, or a broken first one, does not make it
    /// text (issue 22): the framing that holds across the input decides.
    @Test(arguments: [
        ("generated/shop-traces.otlp", DetectedInput.format(.otlpProtoLengthPrefixed)),
        ("generated/shop-logs.varint.otlp", .format(.otlpProtoVarintDelimited)),
    ])
    func aDamagedFrameKeepsTheLayout(path: String, expected: DetectedInput) throws {
        let bytes = try Fixtures.bytes(path)
        let isPrefixed = expected == .format(.otlpProtoLengthPrefixed)
        var frameStarts: [Int] = []
        var position = 0
        while position < bytes.count {
            frameStarts.append(position)
            if isPrefixed {
                let length =
                    Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8
                    | Int(bytes[position + 3])
                position += 4 + length
            } else {
                var length = 0
                var shift = 0
                while bytes[position] & 0x80 != 0 {
                    length |= Int(bytes[position] & 0x7F) << shift
                    shift += 7
                    position += 1
                }
                length |= Int(bytes[position]) << shift
                position += 1 + length
            }
        }
        try #require(frameStarts.count >= 3)
        // The first content byte of the first, a middle and the last frame: wire type 7.
        for frame in [0, frameStarts.count / 2, frameStarts.count - 1] {
            var damaged = bytes
            damaged[frameStarts[frame] + (isPrefixed ? 4 : 2)] = 0x0F
            for count in [damaged.count, min(damaged.count, FormatDetector.preferredPrefixLength)] {
                let prefix = Array(damaged.prefix(count))
                let detected = prefix.withUnsafeBytes {
                    FormatDetector.detect($0, isComplete: count == damaged.count)
                }
                #expect(detected == expected, "frame \(frame), \(count) bytes")
            }
        }
    }
}
