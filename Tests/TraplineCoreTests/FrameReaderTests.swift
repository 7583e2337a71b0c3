import Foundation
import Testing
@_spi(Plumbing) import TraplineCore
@_spi(Plumbing) import TraplineTestSupport

@Suite struct FrameReaderTests {
    static func lengthPrefixed(_ requests: [[UInt8]]) -> [UInt8] {
        requests.flatMap { request in
            let count = UInt32(request.count)
            return [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
                + request
        }
    }

    @Test(arguments: [
        "generated/shop-traces.otlp", "generated/shop-logs.varint.otlp", "generated/shop-traces-single.pb",
        "corpus/otlp/ctraces/sample_trace.bin", "corpus/buildlogs/gocache-off.log", "generated/multi-member.otlp.gz",
    ])
    func framingDoesNotDependOnHowBytesArrive(path: String) throws {
        let bytes = try Fixtures.bytes(path)
        #expect(try FramingVerifier.disagreements(bytes, maxSplits: 60) == [])
    }

    @Test func lengthPrefixedStreamYieldsEachRequest() throws {
        let events = try FramingVerifier.wholeEvents(try Fixtures.bytes("generated/shop-traces.otlp"))
        #expect(events.count == 20)
        guard case .frame(.protobuf(.traces), 4, _) = events[0] else {
            Issue.record("first frame: \(events[0])")
            return
        }
    }

    @Test func multiMemberGzipEqualsItsPlainBytes() throws {
        let inflated = try FramingVerifier.wholeEvents(try Fixtures.bytes("generated/multi-member.otlp.gz"))
        let plain = try FramingVerifier.wholeEvents(try Fixtures.bytes("generated/multi-member.otlp"))
        #expect(inflated == plain)
        #expect(plain.count == 5)
    }

    @Test func truncatedLastFrameIsRejectedAndEarlierFramesKept() throws {
        let requests = [
            RequestBuilders.traceRequest(spans: [RequestBuilders.span()]),
            RequestBuilders.traceRequest(spans: [RequestBuilders.span(name: "second")]),
        ]
        let stream = Self.lengthPrefixed(requests)
        for cut in (4 + requests[0].count + 1)..<stream.count {
            let events = try FramingVerifier.wholeEvents(Array(stream[..<cut]))
            #expect(events.count == 2)
            #expect(
                events.last == .rejected(code: "truncated_frame", offset: 4 + requests[0].count, records: 1),
                "cut \(cut)")
        }
    }

    @Test func damagedFrameInTheMiddleKeepsFramesAround() throws {
        var damaged = RequestBuilders.traceRequest(spans: [RequestBuilders.span(name: "bad")])
        damaged[damaged.count - 20] = 0xFF  // inside the span: a bad tag or value
        let good = RequestBuilders.traceRequest(spans: [RequestBuilders.span(name: "good")])
        let events = try FramingVerifier.wholeEvents(Self.lengthPrefixed([good, damaged, good]))
        #expect(events.count == 3)
        let decodable = events.compactMap { event -> SpanBatch? in
            guard case .frame(_, _, let bytes) = event else { return nil }
            return TestDecode.traces(bytes)
        }
        #expect(decodable.map(\.count) == [1, 0, 1])
        #expect(decodable[1].rejections.recordCount == 1)
    }

    @Test func oversizedFrameIsRejectedWithItsSize() throws {
        var options = ReadOptions()
        options.maxFrameBytes = 100
        let big = RequestBuilders.traceRequest(spans: Array(repeating: RequestBuilders.span(), count: 5))
        let events = try FramingVerifier.wholeEvents(Self.lengthPrefixed([big]), options: options)
        #expect(events == [.rejected(code: "frame_too_large", offset: 0, records: 1)])
    }

    @Test func unsupportedInputsSayWhyAndJSONIsFramedByLine() throws {
        #expect(
            try FramingVerifier.wholeEvents([0x28, 0xB5, 0x2F, 0xFD, 1, 2, 3]) == [
                .rejected(code: "unsupported_compression", offset: 0, records: 1)
            ])
        #expect(
            try FramingVerifier.wholeEvents(Array("\n  {\"resourceLogs\": []}".utf8)) == [
                .frame(payload: .json(firstLine: 2), sourceOffset: 1, bytes: Array("  {\"resourceLogs\": []}".utf8))
            ])
        #expect(try FramingVerifier.wholeEvents([]) == [])
    }

    /// A member whose CRC fails gives none of its records (issue 22): the first member's 3
    /// frames stay, the last member's 2 are not handed on, and the reason names the check.
    @Test func aMemberThatFailsItsCRCGivesNothing() throws {
        var gzip = try Fixtures.bytes("generated/multi-member.otlp.gz")
        gzip[gzip.count - 6] ^= 0xFF  // the last member's CRC
        let events = try FramingVerifier.wholeEvents(gzip)
        let frames = events.filter { if case .frame = $0 { return true } else { return false } }
        #expect(frames.count == 3)
        guard case .rejected(let code, _, 1) = events.last else {
            Issue.record("expected a rejection last: \(events)")
            return
        }
        #expect(code == "gzip_checksum_mismatch")
    }

    @Test func gzipTrailingGarbageIsRejectedAndZeroPaddingIsNot() throws {
        let gzip = try Fixtures.bytes("generated/multi-member.otlp.gz")
        let events = try FramingVerifier.wholeEvents(gzip + Array("garbage".utf8))
        #expect(events.count == 6)
        guard case .rejected("gzip_trailing_garbage", _, 1) = events.last else {
            Issue.record("expected gzip_trailing_garbage last: \(events)")
            return
        }
        // gzip(1) ignores zero bytes after the last member; so does Trapline.
        #expect(try FramingVerifier.wholeEvents(gzip + [UInt8](repeating: 0, count: 1000)).count == 5)
        let afterPadding = try FramingVerifier.wholeEvents(gzip + [0, 0, 0x1F, 0x8B])
        #expect(afterPadding.count == 6)
    }

    /// A gzip input cut short keeps the whole frames before the cut and says it was cut.
    @Test func aTruncatedGzipKeepsWhatCameBeforeTheCut() throws {
        let gzip = try Fixtures.bytes("generated/multi-member.otlp.gz")
        let events = try FramingVerifier.wholeEvents(Array(gzip.dropLast(200)))
        let frames = events.filter { if case .frame = $0 { return true } else { return false } }
        #expect(frames.count >= 3, "\(events)")
        guard case .rejected("gzip_truncated", _, 1) = events.last else {
            Issue.record("expected gzip_truncated last: \(events)")
            return
        }
    }

    @Test func decompressionCapStopsABomb() throws {
        var options = ReadOptions()
        options.maxDecompressedBytes = 10_000
        let events = try FramingVerifier.wholeEvents(
            try Fixtures.bytes("generated/shop-traces.otlp.gz"), options: options)
        #expect(events.last == .rejected(code: "decompressed_too_large", offset: 10_000, records: 1))
    }

    @Test func readsFilesAndStdinLikePipes() throws {
        let path = Fixtures.path("generated/shop-logs.varint.otlp")
        let mapped = try FramingVerifier.events(try FrameReader(path: path))
        #expect(mapped.count == 10)
        #expect(throws: IOFailure.self) { try FrameReader(path: "/nonexistent/trapline-input") }
        #expect(throws: IOFailure.self) { try FrameReader(path: Fixtures.path("generated")) }
    }
}
