import Foundation
import Testing
import TraplineTestSupport

/// `trapline eval`: one OTTL condition or statement over real records, each record's result.
@Suite struct EvalCommandTests {
    static let capture = Fixtures.path("generated/shop-traces.otlp")

    static func eval(_ arguments: [String], input: Data? = nil) throws -> (Int32, [String], String) {
        let result = try ProcessRunner.trapline(["eval"] + arguments, input: input)
        let lines = String(decoding: result.standardOutput, as: UTF8.self).split(separator: "\n").map(String.init)
        return (result.status, lines, result.standardError)
    }

    /// A condition prints every span with `matched` or `no match`; the count of matches is what
    /// the same condition in a filter drops (the replay's report).
    @Test func aConditionSaysWhichRecordsMatchAsAFilterWouldDropThem() throws {
        let condition = #"attributes["http.request.method"] == "DELETE""#
        let (status, lines, summary) = try Self.eval([condition, Self.capture])
        #expect(status == 0, "\(summary)")
        #expect(lines.count == 2000)
        let matched = lines.filter { $0.hasSuffix(": matched") }
        #expect(lines.allSatisfy { $0.hasPrefix("span ") && ($0.hasSuffix(": matched") || $0.hasSuffix(": no match")) })
        #expect(
            summary.contains("condition valid for logs, metrics, traces; 2000 records, \(matched.count) matched"),
            "\(summary)")
        let directory = try Fixtures.temporaryDirectory().path
        try """
        receivers: {stdin: null}
        processors:
          filter: {trace_conditions: ['\(condition)']}
        exporters: {stdout: null}
        service: {pipelines: {traces: {receivers: [stdin], processors: [filter], exporters: [stdout]}}}
        """.write(toFile: directory + "/filter.yaml", atomically: true, encoding: .utf8)
        let replay = try ProcessRunner.trapline([
            "replay", "--config", directory + "/filter.yaml", "--output-format", "none", Self.capture,
        ])
        #expect(replay.standardError.contains("\(matched.count) filtered"), "\(replay.standardError)")
        #expect(matched.count > 0)
        // -q: only the matches.
        let (_, quiet, _) = try Self.eval(["-q", condition, Self.capture])
        #expect(quiet == matched)
        // A span event's match is its span's (as a trap's `when` finds it).
        let (_, events, eventSummary) = try Self.eval(["-q", #"IsMatch(spanevent.name, "exception")"#, Self.capture])
        #expect(!events.isEmpty && events.allSatisfy { $0.hasPrefix("span ") }, "\(eventSummary)")
    }

    /// A statement prints each field it changed, before and after, and `unchanged` elsewhere.
    @Test func aStatementPrintsTheFieldsItChangedBeforeAndAfter() throws {
        let json = Data(
            #"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"GET /cart","attributes":[{"key":"env","value":{"stringValue":"dev"}}]},{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060709","name":"db"}]}]}]}"#
                .utf8)
        let (status, lines, summary) = try Self.eval(
            [#"set(attributes["env"], "prod") where name == "GET /cart""#, "-"], input: json)
        #expect(status == 0, "\(summary)")
        #expect(
            lines == [
                #"span 0102030405060708 (trace 0102030405060708090a0b0c0d0e0f10) "GET /cart": attributes["env"]: "dev" -> "prod""#,
                #"span 0102030405060709 (trace 0102030405060708090a0b0c0d0e0f10) "db": unchanged"#,
            ])
        #expect(summary.contains("statement valid for"), "\(summary)")
        #expect(summary.contains("2 records, 1 changed"), "\(summary)")
        // A new field, and a resource attribute.
        let (_, added, _) = try Self.eval([#"set(resource.attributes["region"], "eu")"#, "-"], input: json)
        #expect(added.first?.hasSuffix(#"resource.attributes["region"]: (none) -> "eu""#) == true, "\(added)")
    }

    /// Log records by their time and body; nothing matched exits 1.
    @Test func logRecordsAndNothingMatched() throws {
        let json = Data(
            #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000000","severityText":"ERROR","body":{"stringValue":"connection refused"}}]}]}]}"#
                .utf8)
        let (status, lines, _) = try Self.eval([#"severity_text == "ERROR""#, "-"], input: json)
        #expect(status == 0)
        #expect(lines == [#"log 1700000000000000000 "connection refused": matched"#])
        let (none, _, summary) = try Self.eval([#"severity_text == "WARN""#, "-"], input: json)
        #expect(none == 1, "\(summary)")
    }

    /// A rule that compiles neither way says why, with both readings, and exits 78; one that
    /// fails on a record prints that record's error and exits 65.
    @Test func badRulesAndRunTimeErrorsAreReported() throws {
        let (status, _, message) = try Self.eval(["attributes[ == 1", Self.capture])
        #expect(status == 78)
        #expect(message.contains("is neither a statement nor a condition"), "\(message)")
        let json = Data(
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"a"},{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060709","name":"abcd"}]}]}]}"#
                .utf8)
        // Substring past the end of "a" fails; "abcd" matches.
        let (failed, lines, summary) = try Self.eval([#"Substring(name, 0, 3) == "abc""#, "-"], input: json)
        #expect(failed == 65, "\(summary) \(lines)")
        #expect(lines.last?.hasSuffix(": matched") == true, "\(lines)")
        #expect(lines.first?.contains(": error: ") == true, "\(lines)")
        // A damaged input: the good records are evaluated, the bad bytes named with their offset.
        var damaged = try Data(contentsOf: URL(fileURLWithPath: Self.capture))
        damaged.count -= 100
        let (cut, cutLines, cutSummary) = try Self.eval([#"name == "x""#, "-"], input: damaged)
        #expect(cut == 65, "\(cutSummary)")
        #expect(cutLines.count == 1900, "\(cutLines.count)")
        #expect(
            cutSummary.contains("trapline: rejected - at byte 897115: frame of 48304 bytes runs past the end"),
            "\(cutSummary)")
    }

    /// In a pipeline, a transform under `error_mode: ignore` logs the failing record's ids and
    /// the error at most once a second (with how many errors the line stands for); `silent`
    /// logs nothing. Every error is counted either way.
    @Test(arguments: ["ignore", "silent"]) func ruleErrorsAreLoggedWithTheRecordAtARateLimit(mode: String) throws {
        let directory = try Fixtures.temporaryDirectory().path
        try """
        receivers: {stdin: null}
        processors:
          transform:
            error_mode: \(mode)
            trace_statements:
              - 'set(attributes["short"], Substring(name, 0, 40))'
        exporters: {stdout: null}
        service: {pipelines: {traces: {receivers: [stdin], processors: [transform], exporters: [stdout]}}}
        """.write(toFile: directory + "/transform.yaml", atomically: true, encoding: .utf8)
        let replay = try ProcessRunner.trapline([
            "replay", "--config", directory + "/transform.yaml", "--output-format", "none", "--metrics-file",
            directory + "/metrics.prom", Self.capture,
        ])
        #expect(replay.status == 0, "\(replay.standardError)")
        let logged = replay.standardError.split(separator: "\n").filter { $0.contains("rule error") }
        let metrics = PipelineCommandTests.samples(
            try String(contentsOfFile: directory + "/metrics.prom", encoding: .utf8))
        let errors = metrics.filter { $0.key.hasPrefix("trapline_rule_errors_total") }.values.reduce(0, +)
        #expect(errors > 100, "\(metrics)")
        if mode == "silent" {
            #expect(logged.isEmpty, "\(logged)")
        } else {
            // The replay takes well under a second: one line, for the first batch's errors.
            #expect(logged.count == 1, "\(logged)")
            let line = String(logged.first ?? "")
            #expect(line.hasPrefix("trapline: transform: rule error on span "), "\(line)")
            #expect(line.contains("(trace ") && line.contains("Substring range is outside the string"), "\(line)")
            #expect(line.contains("error_mode ignore:"), "\(line)")
        }
    }
}
