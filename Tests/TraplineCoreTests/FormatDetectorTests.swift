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
    ])
    func detectsEdgeCases(bytes: [UInt8], expected: DetectedInput) {
        #expect(bytes.withUnsafeBytes { FormatDetector.detect($0, isComplete: true) } == expected)
    }
}
