import Foundation
import Testing
import TraplineTestSupport

/// The drop audit (`--audit FILE`, the `audit` exporter): one JSON line per record that did not
/// go on, with its ids, the processor, the rule and the reason; the lines add up to the report.
@Suite struct DropAuditCommandTests {
    static let capture = Fixtures.path("generated/shop-traces.otlp")

    /// A filter with a span and a resource condition and a blocking trap rule over the capture:
    /// the audit lists exactly the spans missing from the output, each with the rule that took it.
    @Test func theAuditListsExactlyTheSpansThatDidNotGoOnAndTheRuleThatTookEach() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.path + "/audit.yaml"
        try """
        receivers: {stdin: null}
        processors:
          filter/noise:
            trace_conditions:
              - span.attributes["http.route"] == "/health"
              - resource.attributes["service.name"] == "frontend"
          traps:
            rules:
              - name: no-order-deletes
                class: waf_false_positive
                when: 'attributes["http.request.method"] == "DELETE" and attributes["http.route"] == "/api/v1/orders"'
                action: block
                remedy: none
        exporters:
          file/out: {path: "\(directory.path)/out.jsonl", format: json}
          audit: {path: "\(directory.path)/audit.jsonl"}
        service:
          pipelines:
            traces: {receivers: [stdin], processors: [filter/noise, traps], exporters: [file/out, audit]}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.trapline([
            "replay", "--config", config, "--report-file", directory.path + "/report.json",
            "--metrics-file", directory.path + "/metrics.prom", Self.capture,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let report = try ReportJSON.load(directory.path + "/report.json")
        let records = try #require(ReportJSON.records(report))
        let lines = try Self.lines(directory.path + "/audit.jsonl")
        let byOutcome = Dictionary(grouping: lines) { $0["outcome"] as? String ?? "" }
        #expect(byOutcome["filtered"]?.count == records["filtered"])
        #expect(byOutcome["blocked"]?.count == records["blocked"])
        #expect((records["filtered"] ?? 0) > 0 && (records["blocked"] ?? 0) > 0)
        #expect(byOutcome.keys.sorted() == ["blocked", "filtered"])

        // What is missing from the output is what the audit lists, span by span.
        let input = try Self.spanIDs(ofReplayOf: Self.capture)
        let output = try Self.spanIDs(inJSONLines: directory.path + "/out.jsonl")
        let audited = lines.map { "\($0["trace_id"] as? String ?? "")/\($0["span_id"] as? String ?? "")" }
        #expect(Set(audited).count == audited.count)
        #expect(Set(audited) == input.subtracting(output))
        #expect(input.count == 2000)

        // Each line names its rule: the first matching condition in configuration order.
        for line in byOutcome["filtered"] ?? [] {
            #expect(line["processor"] as? String == "filter/noise")
            #expect(line["reason"] as? String == "condition matched")
            #expect(line["signal"] as? String == "traces")
            #expect(line["source"] as? String == Self.capture)
            #expect((line["name"] as? String)?.isEmpty == false)
            #expect(UInt64(line["start_time_unix_nano"] as? String ?? "") != nil)
        }
        let byRule = Dictionary(grouping: byOutcome["filtered"] ?? []) { $0["rule_index"] as? Int ?? -1 }
        #expect(byRule.keys.sorted() == [0, 1])
        #expect(
            byRule[0]?.allSatisfy { ($0["rule"] as? String) == #"span.attributes["http.route"] == "/health""# } == true)
        #expect(
            byRule[1]?.allSatisfy { ($0["rule"] as? String) == #"resource.attributes["service.name"] == "frontend""# }
                == true)
        for line in byOutcome["blocked"] ?? [] {
            #expect(line["processor"] as? String == "traps")
            #expect(line["rule_index"] as? Int == 0)
            #expect((line["rule"] as? String)?.hasPrefix("no-order-deletes: ") == true)
            #expect(line["reason"] as? String == "trap rule blocked (waf_false_positive)")
        }
        let audit = try #require((report["audit"] as? [[String: Any]])?.first)
        #expect(audit["written"] as? Int == lines.count)
        let metrics = try String(contentsOfFile: directory.path + "/metrics.prom", encoding: .utf8)
        #expect(
            metrics.contains("trapline_audit_records_total{exporter=\"audit\",result=\"written\"} \(lines.count)\n"))
        #expect(result.standardError.contains("audit: audited \(lines.count) records: \(lines.count) written"))
    }

    /// Damaged input and a rule that fails under `propagate`: every rejected record has a line
    /// (a rejected frame one line with its count), the rule error's records each their own.
    @Test func rejectedInputAndRuleErrorsAreAuditedWithTheirReasons() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.path + "/audit.yaml"
        try """
        receivers: {stdin: null}
        processors:
          filter:
            error_mode: propagate
            trace_conditions: ['Substring(name, 0, 10) == "0123456789"']
        exporters: {stdout: null}
        service: {pipelines: {traces: {receivers: [stdin], processors: [filter], exporters: [stdout]}}}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        func span(_ id: Int, _ name: String) -> String {
            #"{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"000000000000000\#(id)","name":"\#(name)"}"#
        }
        func request(_ spans: [String]) -> String {
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[\#(spans.joined(separator: ","))]}]}]}"#
        }
        let input = [
            request([span(1, "0123456789-matched"), span(2, "abcdefghijkl-kept")]),
            request([span(3, "short"), span(4, "abcdefghijkl-refused")]),
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"broken"#,
        ].joined(separator: "\n")
        let result = try ProcessRunner.trapline(
            [
                "replay", "--config", config, "--audit", directory.path + "/audit.jsonl", "--report-file",
                directory.path + "/report.json", "-",
            ], input: Data(input.utf8))
        #expect(result.status == 65, "\(result.standardError)")
        let records = try #require(ReportJSON.records(try ReportJSON.load(directory.path + "/report.json")))
        #expect(records["filtered"] == 1 && records["forwarded"] == 1, "\(records)")
        let lines = try Self.lines(directory.path + "/audit.jsonl")
        let filtered = lines.filter { $0["outcome"] as? String == "filtered" }
        #expect(filtered.map { $0["span_id"] as? String } == ["0000000000000001"])
        #expect(filtered.first?["rule_index"] as? Int == 0)
        let refused = lines.filter { ($0["reason"] as? String)?.hasPrefix("rule_error") == true }
        #expect(Set(refused.compactMap { $0["span_id"] as? String }) == ["0000000000000003", "0000000000000004"])
        #expect(refused.allSatisfy { $0["outcome"] as? String == "rejected" && $0["processor"] as? String == "filter" })
        let unreadable = lines.filter { $0["outcome"] as? String == "rejected" && $0["processor"] == nil }
        #expect(unreadable.count == 1)
        #expect(unreadable.first?["source"] as? String == "-")
        #expect((unreadable.first?["offset"] as? Int ?? 0) > 0)
        #expect(unreadable.first?["line"] as? Int == 3)
        let rejectedRecords = refused.count + unreadable.reduce(0) { $0 + ($1["records"] as? Int ?? 0) }
        #expect(rejectedRecords == records["rejected"])
    }

    /// `sampling_percentage` keeps whole traces (all their lines or none) and counts the rest;
    /// `max_per_second` stops at its rate and counts what it left out; written plus left out is
    /// everything audited, as the report says.
    @Test func samplingKeepsWholeTracesAndTheRateLimitCountsWhatItLeftOut() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.path + "/audit.yaml"
        try """
        receivers: {file: {include: ["\(Self.capture)"]}}
        processors:
          filter: {trace_conditions: ['name != "never"']}
        exporters:
          audit/sampled: {path: "\(directory.path)/sampled.jsonl", sampling_percentage: 25}
          audit/limited: {path: "\(directory.path)/limited.jsonl", max_per_second: 50}
        service:
          pipelines:
            traces: {receivers: [file], processors: [filter], exporters: [audit/sampled, audit/limited]}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.trapline([
            "run", "--config", config, "--report-file", directory.path + "/report.json",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let report = try ReportJSON.load(directory.path + "/report.json")
        #expect(ReportJSON.records(report)?["filtered"] == 2000)
        let tallies = try #require(report["audit"] as? [[String: Any]])
        let sampledTally = try #require(tallies.first { $0["exporter"] as? String == "audit/sampled" })
        let limitedTally = try #require(tallies.first { $0["exporter"] as? String == "audit/limited" })

        let sampled = try Self.lines(directory.path + "/sampled.jsonl")
        #expect(sampledTally["written"] as? Int == sampled.count)
        #expect(sampled.count + (sampledTally["sampled_out"] as? Int ?? 0) == 2000)
        #expect(sampled.count > 300 && sampled.count < 700, "\(sampled.count) of 2000 at 25%")
        // Whole traces: a trace in the sample has all its spans there.
        let everything = try Self.spanIDs(ofReplayOf: Self.capture)
        let spansPerTrace = Dictionary(grouping: everything) { String($0.prefix(32)) }.mapValues(\.count)
        let sampledPerTrace = Dictionary(grouping: sampled) { $0["trace_id"] as? String ?? "" }.mapValues(\.count)
        #expect(sampledPerTrace.allSatisfy { spansPerTrace[$0.key] == $0.value })

        let limited = try Self.lines(directory.path + "/limited.jsonl")
        let written = limitedTally["written"] as? Int ?? -1
        #expect(written == limited.count)
        #expect(written >= 50 && written < 2000, "\(written) lines at 50 a second")
        #expect(written + (limitedTally["rate_limited"] as? Int ?? 0) == 2000)
    }

    /// An `audit` exporter in the traces pipeline takes no log drops; one in both takes both.
    /// Log lines carry the record's time and the start of its body.
    @Test func anAuditExporterTakesTheDropsOfItsOwnPipelines() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.path + "/audit.yaml"
        try """
        receivers: {stdin: null}
        processors:
          filter:
            trace_conditions: ['name == "drop me"']
            log_conditions: ['IsMatch(body, "^debug")']
        exporters:
          stdout: null
          audit/traces: {path: "\(directory.path)/traces.jsonl"}
          audit/all: {path: "\(directory.path)/all.jsonl"}
        service:
          pipelines:
            traces: {receivers: [stdin], processors: [filter], exporters: [stdout, audit/traces, audit/all]}
            logs: {receivers: [stdin], processors: [filter], exporters: [stdout, audit/all]}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let input = [
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"drop me"}]}]}]}"#,
            #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000000","body":{"stringValue":"debug: cache warm"}},{"body":{"stringValue":"error: disk full"}}]}]}]}"#,
        ].joined(separator: "\n")
        let result = try ProcessRunner.trapline(
            ["replay", "--config", config, "--output-format", "none", "-"], input: Data(input.utf8))
        #expect(result.status == 0, "\(result.standardError)")
        let traces = try Self.lines(directory.path + "/traces.jsonl")
        #expect(traces.map { $0["signal"] as? String } == ["traces"])
        let all = try Self.lines(directory.path + "/all.jsonl")
        #expect(all.map { $0["signal"] as? String } == ["traces", "logs"])
        let log = try #require(all.last)
        #expect(log["body_prefix"] as? String == "debug: cache warm")
        #expect(log["time_unix_nano"] as? String == "1700000000000000000")
        #expect(log["rule"] as? String == #"IsMatch(body, "^debug")"#)
    }

    /// Settings out of range are configuration errors at their line.
    @Test func badSettingsAreRefusedAtTheirLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.path + "/audit.yaml"
        try """
        receivers: {stdin: null}
        exporters:
          audit/a: {sampling_percentage: 150, path: x}
          audit/b: {max_per_second: 0, path: x}
          audit/c: {}
        service: {pipelines: {traces: {receivers: [stdin], exporters: [audit/a, audit/b, audit/c]}}}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.trapline(["validate", "--config", config])
        #expect(result.status == 78)
        #expect(result.standardError.contains("audit.yaml:3:"), "\(result.standardError)")
        #expect(result.standardError.contains("expected a percentage from 0 to 100"))
        #expect(result.standardError.contains("audit.yaml:4:"))
        #expect(result.standardError.contains("'path' is required"))
    }

    /// A sidecar with `--audit`: a filtered span and an undecodable request are in the file while
    /// it runs (written as they happen), and `/metrics` counts them.
    @Test func aSidecarAuditsAsItGoes() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.path + "/sidecar.yaml"
        try """
        receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
        processors:
          filter: {trace_conditions: ['name == "GET /health"']}
        exporters:
          file: {path: "\(directory.path)/out.jsonl"}
          prometheus: {endpoint: "127.0.0.1:0"}
        service:
          pipelines:
            traces: {receivers: [otlp], processors: [filter], exporters: [file, prometheus]}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let audit = directory.path + "/audit.jsonl"
        let (trapline, port) = try ListeningTrapline.start(config: config, ["--audit", audit])
        defer { _ = trapline.stop() }
        let url = "http://127.0.0.1:\(port("otlp"))/v1/traces"
        let body =
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"GET /health"},{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060709","name":"GET /cart"}]}]}]}"#
        let json = ["content-type": "application/json"]
        #expect(try SidecarCommandTests.request(url, method: "POST", headers: json, body: Array(body.utf8)).0 == 200)
        let (status, _, _) = try SidecarCommandTests.request(
            url, method: "POST", headers: ["content-type": "application/x-protobuf"], body: [0x0A, 0x05, 0x01])
        #expect(status == 400)
        var lines: [[String: Any]] = []
        #expect(
            FileChanges.wait(in: directory.path, seconds: 10) {
                lines = (try? Self.lines(audit)) ?? []
                return lines.count == 2
            }, "\(lines)")
        #expect(lines.first?["span_id"] as? String == "0102030405060708")
        #expect(lines.first?["source"] as? String == "otlp")
        #expect(lines.last?["outcome"] as? String == "rejected")
        #expect(lines.last?["reason"] as? String == "length_past_end", "\(lines)")
        let (_, _, metrics) = try SidecarCommandTests.request("http://127.0.0.1:\(port("prometheus"))/metrics")
        let text = String(decoding: metrics, as: UTF8.self)
        #expect(text.contains("trapline_audit_records_total{exporter=\"audit\",result=\"written\"} 2\n"), "\(text)")
        #expect(trapline.stop() == 0)
    }

    // MARK: - Helpers

    static func lines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    /// `trace/span` of every span of a capture, read back through a plain replay.
    static func spanIDs(ofReplayOf capture: String) throws -> Set<String> {
        let result = try ProcessRunner.trapline(["replay", "--output-format", "otlp-json", capture])
        return try spanIDs(inJSON: result.standardOutput)
    }

    static func spanIDs(inJSONLines path: String) throws -> Set<String> {
        try spanIDs(inJSON: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func spanIDs(inJSON data: Data) throws -> Set<String> {
        var ids = Set<String>()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let request = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            for resource in request["resourceSpans"] as? [[String: Any]] ?? [] {
                for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                    for span in scope["spans"] as? [[String: Any]] ?? [] {
                        ids.insert("\(span["traceId"] as? String ?? "")/\(span["spanId"] as? String ?? "")")
                    }
                }
            }
        }
        return ids
    }
}
