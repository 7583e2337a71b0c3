import Foundation
import Testing
import TraplineTestSupport

/// `trapline gate` through the binary: what it prints, its report and its exit status.
@Suite(.tags(.slow)) struct GateCommandTests {
    static func log(_ name: String) -> String { Fixtures.path("corpus/buildlogs/" + name) }

    @Test func aBlockingTrapPrintsFileLineClassEvidenceAndRemedyAndExits3() throws {
        let path = Self.log("asm-stub-missing.arm64.log")
        let result = try ProcessRunner.trapline(["gate", path])
        #expect(result.status == 3)
        let output = String(decoding: result.standardOutput, as: UTF8.self)
        // The line that proves it, the log around it, and the remedy.
        #expect(output.hasPrefix("\(path):9: asm_stub_missing: vec/add.go:4:6: missing function body\n    | "))
        #expect(output.contains("\n    | # example.com/asmstub/vec\n"))
        #expect(output.contains("\n    remedy: "))
        #expect(result.standardError.contains("1 blocking trap"))
    }

    @Test func aCleanLogFromStdinExits0AndPrintsNothing() throws {
        let result = try ProcessRunner.trapline(
            ["gate"], input: try Data(contentsOf: URL(fileURLWithPath: Self.log("asm-fallback-ok.arm64.log"))))
        #expect(result.status == 0)
        #expect(result.standardOutput.isEmpty)
    }

    @Test func goBuildJSONOnStdinIsReadToo() throws {
        let result = try ProcessRunner.trapline(
            ["gate", "-"],
            input: try Data(contentsOf: URL(fileURLWithPath: Self.log("json-cache-foreign-arch-object.log"))))
        #expect(result.status == 3)
        let output = String(decoding: result.standardOutput, as: UTF8.self)
        #expect(
            output.hasPrefix(
                "<stdin>:10: cache_pollution: ./main.go:7:2: could not import example.com/hello/greet (object is"))
    }

    @Test func anUnreadableInputExits65AndTheOthersAreStillScanned() throws {
        let directory = try Fixtures.temporaryDirectory()
        let report = directory.appendingPathComponent("report.json").path
        let clean = try ProcessRunner.trapline(
            ["gate", "--report-file", report, Self.log("goenv-native.amd64.log"), "/nonexistent/build.log"])
        #expect(clean.status == 65)
        #expect(clean.standardError.contains("/nonexistent/build.log: open failed"))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(json["exit_status"] as? Int == 65)
        #expect((json["input_errors"] as? [Any])?.count == 1)

        // A trap in any input wins over an unreadable one: the gate failed for a reason it can name.
        let trapped = try ProcessRunner.trapline([
            "gate", "/nonexistent/build.log", Self.log("goarm-invalid.arm.8.log"),
        ])
        #expect(trapped.status == 3)
    }

    @Test func theReportListsTrapsEventsAndTERAndKeepsTheAccounting() throws {
        let directory = try Fixtures.temporaryDirectory()
        let report = directory.appendingPathComponent("report.json").path
        let inputs = ["cache-stale-modindex.x.log", "goarm-invalid-8-accepted.arm.x.log", "asm-stub-native.amd64.log"]
        let result = try ProcessRunner.trapline(["gate", "--quiet", "--report-file", report] + inputs.map(Self.log))
        #expect(result.status == 3)
        #expect(result.standardOutput.isEmpty)
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let records = try #require(json["records"] as? [String: Int])
        #expect(
            records["received"] == records["forwarded"]! + records["filtered"]! + records["blocked"]! + records[
                "rejected"]!)
        // Lines that are not empty: every record of the three logs, as a text replay counts them.
        let lines = try inputs.map { try String(contentsOfFile: Self.log($0), encoding: .utf8) }
            .flatMap { $0.split(separator: "\n") }.count
        #expect(records["received"] == lines)
        let events = try #require(json["trap_events"] as? [[String: Any]])
        #expect(events.map { $0["class"] as? String } == ["cache_pollution", "goarm_ignored"])
        // The goarm trap points at the assembler's line, not at the capture header's GOARM=8.
        #expect(events.map { $0["line"] as? Int } == [19, 23])
        #expect(events.allSatisfy { ($0["context"] as? [String])?.isEmpty == false })
        let ter = try #require(json["ter"] as? [String: Any])
        #expect(ter["identified"] as? Int == 2)
        #expect(ter["blocked"] as? Int == 2)
        // No timestamps in a build log and no configured density: TER is the blocked share, 2 / 2.
        #expect(ter["value"] as? Double == 1.0)
        #expect(ter["window_seconds"] as? Double == 0)
        #expect(ter["density_per_second"] is NSNull)
        #expect(json["exit_status"] as? Int == 3)
    }

    /// `--config`: the pipeline's traps processors decide: go-crossbuild only observed, an inline
    /// log rule blocking; the exit status follows the blocking one alone.
    @Test func aConfigReplacesTheBuiltInPackAndItsActions() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let config = directory + "/gate.yaml"
        try """
        receivers: {stdin: }
        processors:
          traps:
            rules:
              - builtin: go-crossbuild
                action: observe
              - class: panic_in_build
                signal: logs
                when: 'IsMatch(body, "^panic: ")'
                action: block
                remedy: read the stack trace
        exporters: {stdout: }
        service: {pipelines: {logs: {receivers: [stdin], processors: [traps], exporters: [stdout]}}}
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let observed = try ProcessRunner.trapline(["gate", "--config", config, Self.log("asm-stub-missing.arm64.log")])
        #expect(observed.status == 0)
        let output = String(decoding: observed.standardOutput, as: UTF8.self)
        #expect(output.hasPrefix("\(Self.log("asm-stub-missing.arm64.log")):9: asm_stub_missing: "))

        let report = directory + "/report.json"
        let panic = Self.log("exportdata-skew.tool-go1.23-on-go1.24.log")
        let blocked = try ProcessRunner.trapline(["gate", "--config", config, "--report-file", report, panic])
        #expect(blocked.status == 3)
        #expect(
            String(decoding: blocked.standardOutput, as: UTF8.self)
                == "\(panic):11: panic_in_build: panic: unsupported version: 2\n    remedy: read the stack trace\n")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let records = try #require(json["records"] as? [String: Int])
        #expect(records["blocked"] == 1)
        #expect(records["received"] == records["forwarded"]! + 1)

        let noTraps = directory + "/none.yaml"
        try
            "receivers: {stdin: }\nexporters: {stdout: }\nservice: {pipelines: {logs: {receivers: [stdin], exporters: [stdout]}}}\n"
            .write(toFile: noTraps, atomically: true, encoding: .utf8)
        let refused = try ProcessRunner.trapline(["gate", "--config", noTraps, panic])
        #expect(refused.status == 78)
        #expect(refused.standardError.contains("no pipeline lists a traps processor"))
    }
}
