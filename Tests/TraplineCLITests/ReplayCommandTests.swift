import Foundation
import Testing
@_spi(Plumbing) import TraplineCore
@_spi(Plumbing) import TraplineTestSupport

@Suite(.tags(.slow)) struct ReplayCommandTests {
    static let protobufFixtures: [(String, Signal, String)] = [
        ("corpus/otlp/ctraces/sample_trace.bin", .traces, "single"),
        ("corpus/otlp/otlp2parquet/trace.pb", .traces, "single"),
        ("corpus/otlp/otlp2parquet/traces.pb", .traces, "single"),
        ("corpus/otlp/otlp2parquet/logs.pb", .logs, "single"),
        ("generated/shop-traces-single.pb", .traces, "single"),
        ("generated/shop-traces.otlp", .traces, "length-prefixed"),
        ("generated/shop-logs.varint.otlp", .logs, "varint"),
        ("generated/multi-member.otlp", .traces, "length-prefixed"),
    ]

    /// Acceptance: every protobuf fixture replays to requests that PyPI's protobuf (upb) and
    /// libprotobuf-c parse to messages equal to the input's.
    @Test(arguments: protobufFixtures)
    func replayOutputEqualsInputAsMessages(path: String, signal: Signal, framing: String) throws {
        let output = try Fixtures.temporaryDirectory().appendingPathComponent("out.otlp").path
        let run = try ProcessRunner.trapline(["replay", "--quiet", "--output", output, Fixtures.path(path)])
        #expect(run.status == 0, "\(run.standardError)")
        let python = try ProcessRunner.python(
            "otlp_equal.py", [signal.rawValue, Fixtures.path(path), framing, output, "length-prefixed"])
        #expect(python.status == 0, "\(String(decoding: python.standardOutput, as: UTF8.self))\(python.standardError)")
        #expect(String(decoding: python.standardOutput, as: UTF8.self).hasPrefix("equal "))

        let inputFrames = try FramingVerifier.wholeEvents(try Fixtures.bytes(path))
        let outputFrames = try FramingVerifier.wholeEvents(Array(try Data(contentsOf: URL(fileURLWithPath: output))))
        #expect(inputFrames.count == outputFrames.count)
        for (input, written) in zip(inputFrames, outputFrames) {
            guard case .frame(_, _, let expected) = input, case .frame(_, _, let actual) = written else {
                Issue.record("not frames: \(input) \(written)")
                continue
            }
            let expectedDump = try #require(Oracle.dump(signal, expected))
            #expect(Oracle.dump(signal, actual) == expectedDump)
        }
    }

    @Test func stdinStreamsLikeAFile() throws {
        let fromFile = try ProcessRunner.trapline([
            "replay", "-q", "--output", "-", Fixtures.path("generated/shop-traces.otlp"),
        ])
        let input = try Data(contentsOf: Fixtures.url("generated/shop-traces.otlp.gz"))
        let fromStdin = try ProcessRunner.trapline(["replay", "-q", "--output", "-", "-"], input: input)
        #expect(fromFile.status == 0)
        #expect(fromStdin.status == 0, "\(fromStdin.standardError)")
        #expect(fromStdin.standardOutput == fromFile.standardOutput)
        #expect(fromFile.standardOutput.count > 900_000)
    }

    /// A mapped JSON lines file read by windows whose pages go back to the kernel behind the
    /// writing (every 4 MiB) gives the same output as the same bytes streamed from stdin.
    @Test func aLargeMappedFileGivesWhatStdinGives() throws {
        let json = try ProcessRunner.trapline([
            "replay", "-q", "--output-format", "otlp-json", "--output", "-",
            Fixtures.path("generated/shop-traces.otlp"),
        ])
        #expect(json.status == 0)
        var lines = Data()
        while lines.count < 14 << 20 { lines.append(json.standardOutput) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trapline-large-\(UUID()).jsonl").path
        try lines.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromFile = try ProcessRunner.trapline(["replay", "-q", "--workers", "1", "--output", "-", path])
        let fromStdin = try ProcessRunner.trapline(
            ["replay", "-q", "--workers", "1", "--output", "-", "-"], input: lines)
        #expect(fromFile.status == 0, "\(fromFile.standardError)")
        #expect(fromStdin.status == 0, "\(fromStdin.standardError)")
        #expect(fromFile.standardOutput.count > 5 << 20)
        #expect(fromFile.standardOutput == fromStdin.standardOutput)
    }

    @Test func textLogsFromStdinBecomeLogRecords() throws {
        let text = Data(
            "go: downloading example.com/mod v1.0.0\r\n# runtime/cgo\ncgo: C compiler \"gcc\" not found\n".utf8)
        let report = try Fixtures.temporaryDirectory().appendingPathComponent("report.json").path
        let run = try ProcessRunner.trapline(
            ["replay", "-q", "--output-format", "none", "--report-file", report, "-"], input: text)
        #expect(run.status == 0)
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        #expect((object?["records"] as? [String: Int])?["forwarded"] == 3)
    }

    @Test func progressShowsOnlyWhenAskedOrOnATerminal() throws {
        let input = Fixtures.path("generated/shop-traces.otlp")
        let always = try ProcessRunner.trapline([
            "replay", "-q", "--progress", "always", "--output-format", "none", input,
        ])
        #expect(always.standardError.contains("records/s"))
        #expect(always.standardError.contains("0 rejected"))
        // stderr is a pipe here, as in CI: `auto` draws nothing.
        let auto = try ProcessRunner.trapline(["replay", "-q", "--output-format", "none", input])
        #expect(auto.standardError.isEmpty)
    }

    @Test func summaryGoesToStandardErrorUnlessQuiet() throws {
        let loud = try ProcessRunner.trapline([
            "replay", "--output-format", "none", Fixtures.path("corpus/otlp/otlp2parquet/traces.pb"),
        ])
        #expect(loud.standardError.contains("19 records received, 19 forwarded"))
        let quiet = try ProcessRunner.trapline([
            "replay", "-q", "--output-format", "none", Fixtures.path("corpus/otlp/otlp2parquet/traces.pb"),
        ])
        #expect(quiet.standardError.isEmpty)
    }

    static let exitCases: [([String], Int32)] = [
        (["replay"], 64),
        (["replay", "--input-format", "yaml", "x"], 64),
        (["replay", "--no-such-flag", "x"], 64),
        (["replay", "-q", "--output-format", "none", "/nonexistent/input.otlp"], 66),
        (
            [
                "replay", "-q", "--output-format", "none",
                "Fixtures/corpus/otlp/otlp2parquet/invalid/trace_invalid_kind.json",
            ], 65
        ),
        (["replay", "-q", "--output", "/dev/full", "Fixtures/generated/shop-traces.otlp"], 74),
        (
            [
                "replay", "-q", "--output-format", "none", "--report-file", "/nonexistent-dir/r.json",
                "Fixtures/corpus/otlp/otlp2parquet/trace.pb",
            ], 74
        ),
        (["replay", "-q", "--output", "/dev/null", "Fixtures/corpus/otlp/otlp2parquet/trace.pb"], 0),
    ]

    @Test(arguments: exitCases)
    func exitCodesFollowSysexits(arguments: [String], status: Int32) throws {
        let resolved = arguments.map { $0.hasPrefix("Fixtures/") ? Fixtures.root.appendingPathComponent($0).path : $0 }
        let run = try ProcessRunner.trapline(resolved)
        #expect(run.status == status, "\(run.standardError)")
    }

    @Test func rejectionsNameSourceOffsetAndReason() throws {
        let directory = try Fixtures.temporaryDirectory()
        var stream: [UInt8] = []
        for name in ["one", "two"] {
            let request = RequestBuilders.traceRequest(spans: [RequestBuilders.span(name: name)])
            stream += [0, 0, 0, UInt8(request.count)] + request
        }
        stream += [0, 0, 1, 0, 0x0A]  // a frame of 256 bytes with one present
        let path = directory.appendingPathComponent("cut.otlp").path
        try Data(stream).write(to: URL(fileURLWithPath: path))
        let report = directory.appendingPathComponent("report.json").path
        let run = try ProcessRunner.trapline(["replay", "--output-format", "none", "--report-file", report, path])
        #expect(run.status == 65)
        #expect(
            run.standardError.contains(
                "rejected \(path) at byte \(stream.count - 5): frame of 256 bytes runs past the end of the input (1 bytes left)"
            ))
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(
            (object["records"] as? [String: Int]) == [
                "received": 3, "forwarded": 2, "filtered": 0, "blocked": 0, "rejected": 1,
            ])
        let rejection = try #require((object["rejections"] as? [[String: Any]])?.first)
        #expect(rejection["reason"] as? String == "truncated_frame")
        #expect(rejection["offset"] as? Int == stream.count - 5)
        #expect(rejection["source"] as? String == path)
    }

    /// The report says how much of a file replay the replaying thread spent alone (reading,
    /// merging, writing): a part of the wall time, with one worker and with two; live input
    /// (stdin) is not timed so.
    @Test(arguments: [1, 2]) func theReportMeasuresTheSerialPart(workers: Int) throws {
        let directory = try Fixtures.temporaryDirectory()
        let report = directory.appendingPathComponent("report.json").path
        let input = Fixtures.path("generated/shop-traces.otlp")
        let run = try ProcessRunner.trapline([
            "replay", "-q", "--workers", "\(workers)", "-o", "/dev/null", "--report-file", report, input,
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let serial = try #require(object["serial"] as? [String: Double])
        let seconds = try #require(serial["seconds"]), total = try #require(serial["of_seconds"])
        #expect(seconds > 0 && seconds < total, "\(serial)")
        #expect(abs((serial["fraction"] ?? 0) - seconds / total) < 1e-9)

        let live = try ProcessRunner.trapline(
            ["replay", "-q", "--output-format", "none", "--report-file", report, "-"], input: Data("a line\n".utf8))
        #expect(live.status == 0, "\(live.standardError)")
        let liveObject = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(liveObject["serial"] == nil)
    }
}
