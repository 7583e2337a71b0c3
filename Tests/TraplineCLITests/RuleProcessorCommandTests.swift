import Foundation
import Testing
import TraplineCore
import TraplineTestSupport

/// `filter` and `transform` through the binary, checked against an independent Python version
/// of the same rules (PyPI's protobuf) and the accounting in the report.
@Suite(.tags(.slow)) struct RuleProcessorCommandTests {
    static let pipeline = Fixtures.root.appendingPathComponent("Pipelines/filter-transform.yaml").path

    func replay(_ input: String, workers: Int, directory: String) throws -> (output: String, report: [String: Any]) {
        let output = directory + "/out-\(workers).bin"
        let report = directory + "/report-\(workers).json"
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "TRAPLINE_FORMAT=proto", "TRAPLINE_OUTPUT=\(output)", "TRAPLINE_METRICS=\(directory)/m.prom",
                ProcessRunner.traplineBinary.path, "replay", "-q", "--workers", "\(workers)", "--config",
                Self.pipeline, "--report-file", report, input,
            ])
        #expect(run.status == 0, "\(run.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
        return (output, try #require(object as? [String: Any]))
    }

    @Test(arguments: [
        ("traces", "generated/shop-traces.otlp", "length-prefixed"),
        ("logs", "generated/shop-logs.varint.otlp", "varint"),
    ])
    func filterAndTransformMatchAnIndependentImplementation(_ testCase: (String, String, String)) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let (output, report) = try replay(Fixtures.path(testCase.1), workers: 2, directory: directory)
        let check = try ProcessRunner.python(
            "filter_transform_expected.py",
            [testCase.0, Fixtures.path(testCase.1), testCase.2, output, "length-prefixed"])
        let said = String(decoding: check.standardOutput, as: UTF8.self)
        #expect(check.status == 0, "\(said)\(check.standardError)")
        // The report's accounting matches what the independent version dropped.
        let records = try #require(report["records"] as? [String: Int])
        let dropped = Int(said.split(whereSeparator: \.isWhitespace).last.map(String.init) ?? "") ?? -1
        #expect(records["filtered"] == dropped)
        #expect(records["received"] == records["forwarded"]! + records["filtered"]! + records["rejected"]!)
        let rows = try #require(report["stages"] as? [[String: Any]])
        let stages = rows.filter { !["decode", "encode"].contains($0["id"] as? String) }
        #expect(stages.map { $0["id"] as? String } == ["filter/noise", "transform/tidy"])
        #expect(stages[0]["filtered"] as? Int == dropped)
        #expect(stages[1]["rule_errors"] as? Int == 0)
        // One and two workers write the same bytes.
        let (single, _) = try replay(Fixtures.path(testCase.1), workers: 1, directory: directory)
        #expect(FileManager.default.contentsEqual(atPath: single, andPath: output))
    }

    @Test func validateReportsRuleMistakesAndRunsNothing() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let file = directory + "/bad.yaml"
        try """
        receivers:
          stdin:
        processors:
          filter:
            trace_conditions:
              - span.name == "a" and IsMatch(span.name, "(")
              - span.duration > 5
        exporters:
          stdout:
        service:
          pipelines:
            traces:
              receivers: [stdin]
              processors: [filter]
              exporters: [stdout]
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try ProcessRunner.trapline(["validate", "--config", file])
        #expect(run.status == 78)
        let lines = run.standardError.split(separator: "\n").map(String.init).filter { $0.contains(": error: ") }
        #expect(lines.count == 2, "\(run.standardError)")
        // The column of the bad pattern inside the condition, as a file column.
        #expect(lines.first?.hasPrefix("\(file):6:49: error: processors.filter.trace_conditions.0: ") == true)
        #expect(lines.first?.contains("missing ')'") == true)
        #expect(lines.last?.hasPrefix("\(file):7:9: error: ") == true)
        #expect(lines.last?.contains("'span.duration' is not a path of the span context") == true)
    }
}
