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

    /// What a replay does behind the frames it has written: a mapped file's pages go back to
    /// the kernel (the mapping's resident set drops to nothing) and every frame handed out
    /// before still reads its own bytes (mapped again from the file).
    @Test func releasedInputLeavesMemoryAndStaysReadable() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trapline-release-\(UUID()).log").path
        var text = ""
        for number in 0..<240_000 { text += "2026-12-08T01:00:00Z INFO request \(number) took \(number % 977) ms\n" }
        let file = Array(text.utf8)
        try Data(file).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = try FrameReader(path: path)
        var frames: [Frame] = []
        while let event = try reader.next() {
            if case .frame(let frame) = event { frames.append(frame) }
        }
        #expect(frames.map(\.range.count).reduce(0, +) == file.count)
        // Framing read every byte, so every page of the mapping is resident.
        #expect(Self.residentKiB(ofMapping: path) >= file.count / 1024 - 64)
        reader.releaseInput(before: 1 << 20)
        let afterFirstMiB = Self.residentKiB(ofMapping: path)
        #expect(afterFirstMiB >= file.count / 1024 - 1024 - 64, "less than the releasing step is kept")
        reader.releaseInput(before: reader.position)
        #expect(Self.residentKiB(ofMapping: path) <= 4, "only the last part of a page stays")
        let intact = frames.allSatisfy { frame in
            frame.input.bytes[frame.range].elementsEqual(
                file[frame.sourceOffset..<(frame.sourceOffset + frame.range.count)])
        }
        #expect(intact)
    }

    /// A mapped file cut short while it is read (`truncate` by another process): reading the
    /// pages past its new end raises no SIGBUS (the process would die with every record read so
    /// far), the reader ends where the file's bytes now end, and every frame that reaches past
    /// that end says so, while the frames before it keep the file's bytes. Released pages too
    /// (mapped again on reading) stay guarded.
    @Test func aMappedFileCutShortWhileReadEndsWhereItsBytesEnd() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trapline-cut-\(UUID()).log").path
        var text = ""
        for number in 0..<120_000 {
            text += "2026-12-08T04:00:00Z WARN request \(number) retried \(number % 7) times\n"
        }
        let file = Array(text.utf8)
        try Data(file).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = try FrameReader(path: path)
        var before: [Frame] = []
        while before.map(\.range.count).reduce(0, +) < 1 << 20, let event = try reader.next() {
            if case .frame(let frame) = event { before.append(frame) }
        }
        reader.releaseInput(before: reader.position)
        // Mid-line and mid-page: the page holding the new end reads as zeros after it, no fault.
        let cut = 3_000_003
        #expect(truncate(path, off_t(cut)) == 0)
        var after: [Frame] = []
        while let event = try reader.next() {
            if case .frame(let frame) = event { after.append(frame) }
        }
        let input = try #require(before.first?.input)
        // Reading on touched the pages past the end: the loss is known, and where it starts.
        #expect(input.hasLostBytes && input.intactCount == cut)
        // Frames within the file's bytes hold them, wherever they were read (released pages are
        // mapped again), and end with a line; the cut line, or a frame reaching past the end,
        // is what a replay rejects as `input_shrank`.
        var intactEnd = 0
        var cutFrames = 0
        for frame in before + after {
            let end = frame.sourceOffset + frame.range.count
            if end > cut || end == cut && file[end - 1] != 0x0A {
                cutFrames += 1
            } else {
                #expect(frame.input.bytes[frame.range].elementsEqual(file[frame.sourceOffset..<end]))
                intactEnd = max(intactEnd, end)
            }
        }
        #expect(cutFrames >= 1)
        #expect(!before.first!.input.hasLostBytes || after.allSatisfy { $0.sourceOffset + $0.range.count <= cut })
        // Nothing before the cut is lost: the intact frames reach the cut line's start.
        #expect(intactEnd == file[..<cut].lastIndex(of: 0x0A)! + 1)
    }

    /// A gzip file is inflated from its mapping, and the compressed pages behind the inflater go
    /// back to the kernel as it reads: at the end little of the mapping is resident, and the
    /// lines come out whole.
    @Test func aMappedGzipFileLeavesMemoryBehindTheInflater() throws {
        var text: [UInt8] = []
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let hex = Array("0123456789abcdef".utf8)
        for _ in 0..<300_000 {
            // Random hex compresses about 2:1, so the file is large compressed too.
            for _ in 0..<64 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                text.append(hex[Int(state >> 60)])
            }
            text.append(0x0A)
        }
        let compressed = try GzipStreamTests.gzip(text)
        #expect(compressed.count > 8 << 20)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trapline-release-\(UUID()).gz").path
        try Data(compressed).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = try FrameReader(path: path)
        var inflated = 0
        while let event = try reader.next() {
            if case .frame(let frame) = event { inflated += frame.range.count }
        }
        #expect(inflated == text.count)
        #expect(Self.residentKiB(ofMapping: path) <= 5 << 10, "at most one releasing step and a read stay")
    }

    /// The resident kilobytes of this process's mappings of `path` (`/proc/self/smaps`).
    static func residentKiB(ofMapping path: String) -> Int {
        // Read to the end: `/proc` files have no size, and a sized read stops after one page.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { return -1 }
        defer { try? handle.close() }
        let smaps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var inMapping = false
        var total = 0
        for line in smaps.split(separator: "\n") {
            let first = line.prefix { $0 != " " }
            if first.contains("-") && first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                inMapping = line.hasSuffix(path)
            } else if inMapping && line.hasPrefix("Rss:") {
                total += Int(line.split(separator: " ")[1]) ?? 0
            }
        }
        return total
    }

    /// A mapped protobuf stream cut short in the middle of a frame while it is read (a replay
    /// with one worker maps it): the frames before the cut are whole, and the frame it cuts is
    /// either handed out knowing it reaches past the file's bytes (a replay rejects it as read
    /// from lost bytes) or rejected as `input_shrank`, never as a stream written cut off.
    @Test func aMappedProtobufStreamCutShortAccountsForTheCutFrame() throws {
        let shop = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("generated/shop-traces.otlp"))))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trapline-cut-\(UUID()).otlp").path
        let file = (0..<((8 << 20) / shop.count + 1)).flatMap { _ in shop }
        try Data(file).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var reader = try FrameReader(path: path)
        var frames: [Frame] = []
        while frames.count < 5, let event = try reader.next() {
            if case .frame(let frame) = event { frames.append(frame) }
        }
        // Mid-frame: 3 MB and a few bytes.
        let cut = 3_000_007
        #expect(truncate(path, off_t(cut)) == 0)
        var rejections: [DecodeError] = []
        while let event = try reader.next() {
            switch event {
            case .frame(let frame): frames.append(frame)
            case .rejected(let error, _): rejections.append(error)
            }
        }
        #expect(rejections.allSatisfy { $0.reason == .inputShrank }, "\(rejections)")
        var kept = 0
        var cutFrames = 0
        for frame in frames {
            let end = frame.sourceOffset + frame.range.count
            if end <= cut {
                kept += 1
                #expect(frame.input.bytes[frame.range].elementsEqual(file[frame.sourceOffset..<end]))
            } else {
                cutFrames += 1
                #expect(frame.input.hasLostBytes && frame.range.upperBound > frame.input.intactCount)
            }
        }
        #expect(cutFrames + rejections.count >= 1, "the cut frame is accounted for")
        #expect(kept >= cut / 120_000, "the frames before the cut (under 120 kB each) are all there")
    }

    /// `deferFileFrames` (frames handed out as file regions, each read with `pread` by whoever
    /// decodes it, for an embedder that would rather not map its files) gives the frames a
    /// mapped read gives, byte for byte, for both framings.
    @Test func deferredFramesHoldWhatMappedFramesHold() throws {
        for name in ["generated/shop-traces.otlp", "generated/shop-logs.varint.otlp"] {
            let path = Fixtures.path(name)
            var mapped = try FrameReader(path: path)
            var options = ReadOptions()
            options.deferFileFrames = true
            var deferred = try FrameReader(path: path, options: options)
            var buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            defer { if buffer.count > 0 { buffer.deallocate() } }
            var frames = 0
            while let event = try mapped.next() {
                guard case .frame(let expected) = event, case .frame(let region)? = try deferred.next() else {
                    Issue.record("\(name): not a frame from both readers")
                    break
                }
                #expect(region.fileRegion != nil && region.range.isEmpty, "\(name): read before it was loaded")
                let loaded = try #require(region.load(into: &buffer))
                #expect(loaded.sourceOffset == expected.sourceOffset)
                #expect(loaded.input.bytes[loaded.range].elementsEqual(expected.input.bytes[expected.range]))
                frames += 1
            }
            #expect(try deferred.next() == nil)
            #expect(frames >= 10, "\(name)")
            deferred.close()
        }
    }

    @Test func readsFilesAndStdinLikePipes() throws {
        let path = Fixtures.path("generated/shop-logs.varint.otlp")
        let mapped = try FramingVerifier.events(try FrameReader(path: path))
        #expect(mapped.count == 10)
        #expect(throws: IOFailure.self) { try FrameReader(path: "/nonexistent/trapline-input") }
        #expect(throws: IOFailure.self) { try FrameReader(path: Fixtures.path("generated")) }
    }
}
