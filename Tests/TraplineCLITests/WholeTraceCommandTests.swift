import Foundation
import Testing
import TraplineTestSupport

/// The `filter` processor's `whole_trace`: a trace is kept or dropped whole when any of its spans
/// matches, exactly in `replay` (two passes) and in streaming (`run` on stdin, each window held for
/// the decision wait), over a capture whose traces are spread across many requests.
@Suite(.serialized) struct WholeTraceCommandTests {
    /// The shop capture with its traces dealt out round by round, 20 spans a request: a trace's
    /// spans sit up to 88 requests apart.
    static func interleavedCapture(in directory: String) throws -> String {
        let plain = directory + "/plain.jsonl"
        let replay = try ProcessRunner.trapline([
            "replay", "--output-format", "otlp-json", "--output", plain, Fixtures.path("generated/shop-traces.otlp"),
        ])
        #expect(replay.status == 0)
        let interleaved = directory + "/interleaved.jsonl"
        let result = try ProcessRunner.python("interleave_traces.py", ["--input", plain, "--output", interleaved])
        #expect(result.status == 0, "\(result.standardError)")
        return interleaved
    }

    /// The condition is on the status alone (the first pass then skips the spans' attributes,
    /// events and links) or, meaning the same, names an attribute too (the first pass reads all).
    static func config(_ directory: String, mode: String, wait: String, readsAttributes: Bool = false) throws -> String
    {
        let path = directory + "/whole-trace-\(mode)-\(wait)-\(readsAttributes).yaml"
        let condition =
            readsAttributes
            ? #"span.status.code == STATUS_CODE_ERROR and span.attributes["never.set"] == nil"#
            : "span.status.code == STATUS_CODE_ERROR"
        try """
        receivers: {stdin: null}
        processors:
          filter/errors:
            whole_trace: \(mode)
            decision_wait: \(wait)
            trace_conditions: ['\(condition)']
        exporters:
          stdout: {format: json}
          prometheus: {path: "\(path).prom"}
        service: {pipelines: {traces: {receivers: [stdin], processors: [filter/errors], exporters: [stdout, prometheus]}}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `trace/span` → whether the span is an error, from OTLP JSON lines.
    static func spans(_ data: Data) throws -> [String: Bool] {
        var spans: [String: Bool] = [:]
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let request = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            for resource in request["resourceSpans"] as? [[String: Any]] ?? [] {
                for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                    for span in scope["spans"] as? [[String: Any]] ?? [] {
                        let status = span["status"] as? [String: Any]
                        let id = "\(span["traceId"] as? String ?? "")/\(span["spanId"] as? String ?? "")"
                        spans[id] = (status?["code"] as? Int) == 2
                    }
                }
            }
        }
        return spans
    }

    /// Replay and streaming with a long enough wait give the same spans, and exactly the whole
    /// traces the condition names: with `true` every span of a trace with an error is gone, with
    /// `keep` only those traces are left.
    @Test(arguments: [("true", false), ("keep", true)])
    func replayAndStreamingGiveTheSameWholeTraces(mode: String, readsAttributes: Bool) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let capture = try Self.interleavedCapture(in: directory.path)
        let input = try Self.spans(Data(contentsOf: URL(fileURLWithPath: capture)))
        #expect(input.count == 2000)
        let errorTraces = Set(input.filter(\.value).map { String($0.key.prefix(32)) })
        #expect(errorTraces.count > 50)
        let expected = Set(input.keys.filter { errorTraces.contains(String($0.prefix(32))) == (mode == "keep") })

        // The stream takes about a second, and a loaded machine (the whole suite on two cores) has
        // slowed it past 3 s and 6 s waits; the end of the input decides what is held at once, so
        // a long wait costs nothing here.
        let config = try Self.config(directory.path, mode: mode, wait: "30s", readsAttributes: readsAttributes)
        let audit = directory.path + "/audit.jsonl"
        let replay = try ProcessRunner.trapline([
            "replay", "--config", config, "--output-format", "otlp-json", "--audit", audit, capture,
        ])
        #expect(replay.status == 0, "\(replay.standardError)")
        let replayed = Set(try Self.spans(replay.standardOutput).keys)
        #expect(replayed == expected)
        #expect(replay.standardError.contains("filter/errors: whole traces: \(errorTraces.count) matching\n"))
        // The audit names each dropped span with the whole-trace reason.
        let lines = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2000 - expected.count)
        #expect(lines.allSatisfy { $0.contains(#""reason":"whole trace: "#) })

        // Streaming: the same capture written a request every 10 ms into `run` on stdin.
        let script = Fixtures.root.appendingPathComponent("Tests/Scripts/interleave_traces.py").path
        let streamStarted = ContinuousClock.now
        let streamed = try ProcessRunner.bash(
            "python3 '\(script)' --pace 0.01 '\(capture)' | '\(ProcessRunner.traplineBinary.path)' run --config '\(config)'"
        )
        #expect(streamed.status == 0, "\(streamed.standardError)")
        // The end of stdin ended the wait: the held windows were not kept for their 30 s.
        #expect(ContinuousClock.now - streamStarted < .seconds(30))
        #expect(Set(try Self.spans(streamed.standardOutput).keys) == replayed)
        #expect(!streamed.standardError.contains("arrived after"), "\(streamed.standardError)")
        // Stdin from the file itself (not live, read once): held and decided the same way.
        let redirected = try ProcessRunner.bash(
            "'\(ProcessRunner.traplineBinary.path)' run --config '\(config)' < '\(capture)'")
        #expect(redirected.status == 0, "\(redirected.standardError)")
        #expect(Set(try Self.spans(redirected.standardOutput).keys) == replayed)
        let metrics = try String(contentsOfFile: config + ".prom", encoding: .utf8)
        #expect(
            metrics.contains("trapline_whole_trace_matching_traces{processor=\"filter/errors\"} \(errorTraces.count)"))
        #expect(metrics.contains("trapline_whole_trace_late_spans_total{processor=\"filter/errors\"} 0"))
    }

    /// A decision wait shorter than a trace's spread: spans that arrive after their trace went out
    /// follow that decision (a matching span is still dropped) and are counted as late; every span
    /// is accounted for.
    @Test func spansAfterTheDecisionAreLateAndFollowIt() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let capture = try Self.interleavedCapture(in: directory.path)
        let input = try Self.spans(Data(contentsOf: URL(fileURLWithPath: capture)))
        let config = try Self.config(directory.path, mode: "true", wait: "20ms")
        let script = Fixtures.root.appendingPathComponent("Tests/Scripts/interleave_traces.py").path
        let streamed = try ProcessRunner.bash(
            "python3 '\(script)' --pace 0.01 '\(capture)' | '\(ProcessRunner.traplineBinary.path)' run --config '\(config)' --report-file '\(directory.path)/report.json'"
        )
        #expect(streamed.status == 0, "\(streamed.standardError)")
        let out = try Self.spans(streamed.standardOutput)
        // No error span goes on, late or not.
        #expect(out.values.allSatisfy { !$0 })
        let report = try ReportJSON.load(directory.path + "/report.json")
        let records = try #require(ReportJSON.records(report))
        #expect(ReportJSON.isBalanced(records))
        #expect(records["forwarded"] == out.count)
        let tally = try #require((report["whole_trace"] as? [[String: Any]])?.first)
        let late = tally["late_spans"] as? Int ?? 0
        #expect(late > 0)
        // Late spans of error traces went on with their trace's first decision: more forwarded
        // than the exact answer.
        let errorTraces = Set(input.filter(\.value).map { String($0.key.prefix(32)) })
        let exact = input.keys.filter { !errorTraces.contains(String($0.prefix(32))) }.count
        #expect(out.count > exact)
        #expect(streamed.standardError.contains("spans arrived after their trace was decided"))
    }

    /// Mistakes are diagnostics at their line.
    @Test func mistakesAreRefusedAtTheirLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, String)] = [
            (
                "  filter: {whole_trace: maybe, trace_conditions: ['name == \"x\"']}",
                "expected true, false, drop or keep"
            ),
            ("  filter: {whole_trace: true, log_conditions: ['body == \"x\"']}", "it needs trace conditions"),
            (
                "  filter: {whole_trace: true, trace_conditions: ['spanevent.name == \"exception\"']}",
                "a span event condition drops events, not spans"
            ),
            (
                "  filter: {whole_trace: true, trace_conditions: ['name == \"x\"'], num_traces: 0}",
                "expected a whole number of 1 or more"
            ),
        ]
        for (processor, message) in cases {
            let path = directory.path + "/bad.yaml"
            try """
            receivers: {stdin: null}
            processors:
            \(processor)
            exporters: {stdout: null}
            service: {pipelines: {traces: {receivers: [stdin], processors: [filter], exporters: [stdout]}, logs: {receivers: [stdin], processors: [filter], exporters: [stdout]}}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try ProcessRunner.trapline(["validate", "--config", path])
            #expect(result.status == 78)
            #expect(result.standardError.contains("bad.yaml:3:"), "\(result.standardError)")
            #expect(result.standardError.contains(message), "\(result.standardError)")
        }
        // Sidecar mode decides each request as it comes: refused.
        let sidecar = directory.path + "/sidecar.yaml"
        try """
        receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
        processors:
          filter: {whole_trace: keep, trace_conditions: ['name == "x"']}
        exporters: {otlphttp: {endpoint: "http://127.0.0.1:9"}}
        service: {pipelines: {traces: {receivers: [otlp], processors: [filter], exporters: [otlphttp]}}}
        """.write(toFile: sidecar, atomically: true, encoding: .utf8)
        let refused = try ProcessRunner.trapline(["validate", "--config", sidecar])
        #expect(refused.status == 78)
        #expect(refused.standardError.contains("whole_trace needs input it can hold back or read twice"))
    }
}
