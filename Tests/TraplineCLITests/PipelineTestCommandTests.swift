import Foundation
import Testing
import TraplineTestSupport

/// `trapline test`: pipeline test files (input records, the pipeline or some of its processors,
/// expectations), the shipped ones among them.
@Suite struct PipelineTestCommandTests {
    static let pipelines = Fixtures.root.appendingPathComponent("Pipelines").path

    static func test(_ arguments: [String]) throws -> (Int32, String, String) {
        let result = try ProcessRunner.trapline(["test"] + arguments)
        return (result.status, String(decoding: result.standardOutput, as: UTF8.self), result.standardError)
    }

    /// Every example pipeline has a test file beside it, and the shipped tests pass.
    @Test func theShippedTestsCoverEveryExamplePipelineAndPass() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.pipelines)
        let pipelines = names.filter { $0.hasSuffix(".yaml") && !$0.hasSuffix(".test.yaml") }.sorted()
        let tests = names.filter { $0.hasSuffix(".test.yaml") }.sorted()
        #expect(tests == pipelines.map { $0.replacingOccurrences(of: ".yaml", with: ".test.yaml") })
        // Run from the repository root, as CI does: the pipelines' own paths are relative to it.
        let result = try ProcessRunner.bash(
            "cd '\(Fixtures.root.path)' && '\(ProcessRunner.traplineBinary.path)' test "
                + tests.map { "Pipelines/" + $0 }.joined(separator: " "))
        let output = String(decoding: result.standardOutput, as: UTF8.self)
        #expect(result.status == 0, "\(output)\(result.standardError)")
        let summary = try #require(output.split(separator: "\n").last)
        #expect(summary.hasSuffix(" passed, 0 failed"), "\(output)")
        #expect((Int(summary.prefix { $0.isNumber }) ?? 0) >= 15, "\(summary)")
    }

    /// A wrong expectation fails its test with what was expected and what came, the others still
    /// run, and the exit status is 1.
    @Test func aWrongExpectationFailsWithWhatWasExpectedAndWhatCame() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.path + "/wrong.test.yaml"
        try """
        pipeline: \(Self.pipelines)/filter-transform.yaml
        tests:
          - name: right
            processors: [filter/noise]
            input: '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"GET /health","attributes":[{"key":"http.route","value":{"stringValue":"/health"}}]},{"name":"GET /cart"}]}]}]}'
            expect: {filtered: 1, forwarded: 1, output: {every: ['span.name == "GET /cart"']}}
          - name: wrong
            processors: [filter/noise]
            input: '{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"GET /health","attributes":[{"key":"http.route","value":{"stringValue":"/health"}}]},{"name":"GET /cart"}]}]}]}'
            expect:
              filtered: 2
              traps: {count: 1}
              output:
                some: ['span.name == "GET /health"']
                none: ['span.name == "GET /cart"']
          - name: no such processor
            processors: [filter/nothing]
            input: '{"resourceSpans":[]}'
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output, errors) = try Self.test([file])
        #expect(status == 1, "\(output)\(errors)")
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.first == "ok    \(file):3: right")
        #expect(lines.contains("FAIL  \(file):7: wrong"))
        #expect(lines.contains("        expected filtered 2, got 1"))
        #expect(lines.contains("        expected 1 trap events, got 0"))
        #expect(
            lines.contains(#"        output condition 'span.name == "GET /health"' (line 14): no record of 1 matches"#))
        #expect(
            lines.contains {
                $0.hasPrefix(#"        output condition 'span.name == "GET /cart"' (line 15): 1 of 1 records match"#)
            }, "\(output)")
        #expect(lines.contains("FAIL  \(file):16: no such processor"))
        #expect(
            lines.contains(
                "        the pipeline has no processor 'filter/nothing' (it has: filter/noise, transform/tidy)"))
        #expect(lines.last == "1 passed, 2 failed")
    }

    /// A test file with problems is refused before anything runs, each problem at its line.
    @Test func aTestFileWithProblemsIsRefusedAtItsLines() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.path + "/bad.test.yaml"
        try """
        pipeline: x.yaml
        tests:
          - name: no input
            expect: {filtered: many}
          - name: bad condition
            input: '{}'
            expect: {output: {every: ['span.name ==']}, ter: -1}
            extra: 1
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output, errors) = try Self.test([file])
        #expect(status == 78)
        #expect(output.isEmpty)
        #expect(errors.contains("bad.test.yaml:3:5: error: tests.0: a test needs 'input' (OTLP JSON) or 'input_file'"))
        #expect(errors.contains("bad.test.yaml:4:14: error: tests.0.expect.filtered: expected a count"))
        #expect(
            errors.contains("bad.test.yaml:7:31: error: tests.1.expect.output.every: the condition does not compile"))
        #expect(errors.contains("bad.test.yaml:7:49: error: tests.1.expect.ter: expected a rate of 0 or more"))
        #expect(errors.contains("bad.test.yaml:8:5: error: tests.1.extra: unknown key 'extra'"), "\(errors)")
        // A pipeline that does not load fails every test with its diagnostics.
        try """
        pipeline: \(directory.path)/missing.yaml
        tests:
          - {name: a, input: '{}'}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let (missing, text, _) = try Self.test([file])
        #expect(missing == 1)
        #expect(text.contains("the pipeline \(directory.path)/missing.yaml does not load"), "\(text)")
    }
}
