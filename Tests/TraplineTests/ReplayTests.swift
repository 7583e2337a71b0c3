import Foundation
import Testing
@_spi(Plumbing) import Trapline
@_spi(Plumbing) import TraplineCore
import TraplineStages
@_spi(Plumbing) import TraplineTestSupport

@Suite struct ReplayTests {
    func replay(
        _ inputs: [String], output: OutputDestination = .none, format: OutputFormat = .otlpProto,
        read: ReadOptions = ReadOptions()
    ) -> ReplayReport {
        Replay(
            options: ReplayOptions(
                inputs: inputs, read: read, outputFormat: format, output: output, observedTimeUnixNano: 1)
        ).run()
    }

    @Test(arguments: [
        ("generated/shop-traces.otlp", 2000, 0), ("generated/shop-traces.otlp.gz", 2000, 0),
        ("generated/shop-logs.varint.otlp", 0, 1000), ("corpus/otlp/otlp2parquet/logs.pb", 0, 81),
        ("corpus/buildlogs/gocache-off.log", 0, 9),
    ])
    func replayAccountsForEveryRecord(path: String, spans: Int, logs: Int) throws {
        let directory = try Fixtures.temporaryDirectory()
        let output = directory.appendingPathComponent("out.otlp").path
        let report = replay([Fixtures.path(path)], output: .file(output))
        #expect(report.records.isBalanced)
        #expect(report.records.received == spans + logs)
        #expect(report.spansForwarded == spans)
        #expect(report.logRecordsForwarded == logs)
        #expect(report.exitStatus == 0)
        // The output is itself a length-prefixed stream that replays to the same counts.
        let again = replay([output])
        #expect(again.records == report.records)
    }

    /// Acceptance (issue 4): the number of workers changes nothing in the output or the report.
    @Test(arguments: [
        ("generated/shop-traces.otlp", OutputFormat.otlpProto), ("generated/shop-logs.varint.otlp", .otlpJSON),
        ("corpus/buildlogs", .otlpProto), ("corpus/otlp", .otlpJSON), ("regressions", .otlpProto),
    ])
    func oneAndTwoWorkersWriteTheSameBytes(path: String, format: OutputFormat) throws {
        let directory = try Fixtures.temporaryDirectory()
        var outputs: [Data] = []
        var reports: [String] = []
        for workers in [1, 2, 3] {
            let output = directory.appendingPathComponent("out-\(workers)").path
            let report = Replay(
                options: ReplayOptions(
                    inputs: [Fixtures.path(path)], outputFormat: format, output: .file(output), observedTimeUnixNano: 1,
                    workers: workers, windowBytes: 64 << 10)
            ).run()
            #expect(report.records.isBalanced)
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: output)))
            // Everything but the timings, which differ from run to run.
            reports.append(
                "\(report.records) \(report.rejections) \(report.frames) \(report.jsonLeniency) \(report.inputBytes)")
        }
        #expect(outputs[0].count > 0)
        #expect(outputs[1] == outputs[0])
        #expect(outputs[2] == outputs[0])
        #expect(reports[1] == reports[0])
        #expect(reports[2] == reports[0])
    }

    @Test func directoriesAreReadRecursivelyInSortedOrder() throws {
        let directory = try Fixtures.temporaryDirectory()
        let names = ["b.pb", "a/z.pb", "a/b/c.pb", "c.pb"]
        var expected: [[UInt8]] = []
        for (index, name) in names.enumerated() {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let request = RequestBuilders.traceRequest(spans: [RequestBuilders.span(name: "file-\(index)")])
            try Data(request).write(to: url)
            expected.append(request)
        }
        let output = directory.appendingPathComponent("out.otlp")
        let report = replay(
            [
                directory.appendingPathComponent("a").path, directory.appendingPathComponent("b.pb").path,
                directory.appendingPathComponent("c.pb").path,
            ], output: .file(output.path))
        #expect(report.filesRead == 4)
        #expect(report.records.received == 4)
        let events = try FramingVerifier.wholeEvents(Array(try Data(contentsOf: output)))
        let names2 = events.compactMap { event -> String? in
            guard case .frame(_, _, let bytes) = event else { return nil }
            let batch = TestDecode.traces(bytes)
            return batch.withBytes { $0.string(batch.names[0]) }
        }
        #expect(names2 == ["file-2", "file-1", "file-0", "file-3"])  // a/b/c.pb, a/z.pb, b.pb, c.pb
    }

    @Test func badInputAmongGoodIsRejectedAndTheRestForwarded() throws {
        let directory = try Fixtures.temporaryDirectory()
        var bad = RequestBuilders.traceRequest(spans: [
            RequestBuilders.span(), RequestBuilders.span(), RequestBuilders.span(),
        ])
        bad.removeLast(10)
        let badPath = directory.appendingPathComponent("bad.pb").path
        try Data(bad).write(to: URL(fileURLWithPath: badPath))
        let report = replay([
            Fixtures.path("corpus/otlp/otlp2parquet/traces.pb"), badPath,
            Fixtures.path("corpus/otlp/ctraces/sample_trace.bin"),
        ])
        #expect(report.records.isBalanced)
        // The cut resource entry cannot be delimited, so it counts as one rejected record.
        #expect(report.records.forwarded == 19 + 2)
        #expect(report.records.rejected == 1)
        #expect(report.rejections.map(\.source) == [badPath])
        #expect(report.rejections.first?.error.reason == .lengthPastEnd)
        #expect(report.exitStatus == 65)
    }

    @Test func missingAndEmptyInputsExit66() throws {
        let empty = try Fixtures.temporaryDirectory()
        #expect(replay(["/nonexistent/capture.otlp"]).exitStatus == 66)
        let report = replay([empty.path])
        #expect(report.emptyDirectories == [empty.path])
        #expect(report.exitStatus == 66)
    }

    @Test func outputFailuresExit74AndLeaveNoPartialFile() throws {
        #expect(replay([Fixtures.path("generated/shop-traces.otlp")], output: .file("/dev/full")).exitStatus == 74)
        let report = replay([Fixtures.path("generated/shop-traces.otlp")], output: .file("/nonexistent-dir/out.otlp"))
        #expect(report.exitStatus == 74)
        #expect(report.outputFailure?.path == "/nonexistent-dir/out.otlp")
    }

    /// The JSON captures that break the OTLP JSON encoding: each bad record is rejected by
    /// reason, the good ones around it are forwarded.
    @Test(arguments: [
        ("corpus/otlp/otlp2parquet/traces.jsonl", 19, 0, ["invalid_hex_id"]),
        ("corpus/otlp/otlp2parquet/logs.jsonl", 81, 50, ["invalid_hex_id"]),
        ("corpus/otlp/otlp2parquet/trace.json", 2, 0, ["invalid_hex_id"]),
        ("corpus/otlp/otlp2parquet/log.json", 1, 0, ["invalid_hex_id"]),
        ("corpus/otlp/otlp2parquet/invalid/log_invalid_severity.json", 1, 0, ["unknown_enum_name"]),
        ("corpus/otlp/otlp2parquet/invalid/malformed.json", 1, 0, ["invalid_json"]),
        ("corpus/otlp/otlp2parquet/invalid/metrics_invalid_temporality.json", 1, 0, ["unknown_enum_name"]),
        ("corpus/otlp/otlp2parquet/invalid/trace_invalid_base64.json", 1, 0, ["invalid_hex_id"]),
        ("corpus/otlp/otlp2parquet/invalid/trace_invalid_kind.json", 1, 0, ["unknown_enum_name"]),
        ("corpus/otlp/otlp2parquet/invalid/trace_mixed_encoding.json", 1, 0, ["invalid_hex_id"]),
    ])
    func nonConformantJSONIsRejectedByReason(path: String, received: Int, forwarded: Int, reasons: [String]) {
        let report = replay([Fixtures.path(path)])
        #expect(report.records.isBalanced)
        #expect(report.records.received == received)
        #expect(report.records.forwarded == forwarded)
        #expect(Set(report.rejections.map(\.error.reason.name)) == Set(reasons))
        #expect(report.rejections.allSatisfy { $0.error.line != nil && $0.error.column != nil })
        #expect(report.exitStatus == 65)
    }

    /// A profiles document (a signal Trapline does not process), written for the test.
    static func profilesDocument() throws -> String {
        let path = try Fixtures.temporaryDirectory().appendingPathComponent("profiles.json").path
        let json = #"{"resourceProfiles":[{"resource":{},"scopeProfiles":[{"profiles":[{}]}]}]}"#
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func unsupportedJSONSignalIsCountedAndNamed() throws {
        let report = replay([try Self.profilesDocument()])
        #expect(report.records == RecordCounts(received: 1, forwarded: 0, filtered: 0, blocked: 0, rejected: 1))
        #expect(report.rejections.first?.error.reason == .unsupportedSignal)
        #expect(report.exitStatus == 65)
    }

    /// Metrics are a signal now: a replay without a pipeline file passes every signal, and
    /// counts metrics in data points.
    @Test func metricsAreReplayedAndCountedPerDataPoint() {
        let report = replay([Fixtures.path("corpus/otlp/otel-proto/metrics.json")])
        #expect(report.records == RecordCounts(received: 4, forwarded: 4, filtered: 0, blocked: 0, rejected: 0))
        #expect(report.dataPointsForwarded == 4)
        #expect(report.exitStatus == 0)
    }

    @Test func reportJSONCarriesTheAccountingAndRejections() throws {
        let report = replay([try Self.profilesDocument(), Fixtures.path("corpus/otlp/otlp2parquet/logs.pb")])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        let records = try #require(object["records"] as? [String: Int])
        #expect(records == ["received": 82, "forwarded": 81, "filtered": 0, "blocked": 0, "rejected": 1])
        let rejections = try #require(object["rejections"] as? [[String: Any]])
        #expect(rejections.first?["reason"] as? String == "unsupported_signal")
        #expect(rejections.first?["offset"] as? Int == 0)
        #expect(rejections.first?["line"] as? Int == 1)
        #expect(rejections.first?["column"] as? Int == 1)
        #expect((rejections.first?["source"] as? String)?.hasSuffix("profiles.json") == true)
        #expect(rejections.first?["message"] is String)
    }
}
