import Foundation
import Testing
import TraplineTestSupport

/// The `traps` processor through the binary: the runtime pack on the fixture with injected traps,
/// the quarantine, TER by hand and recomputed by PromQL, and the go-crossbuild pack over log records.
@Suite(.tags(.slow)) struct TrapsProcessorCommandTests {
    struct Injected: Hashable {
        var spanID: String
        var trapClass: String
        var blocked: Bool
    }

    static func injected() throws -> [Injected] {
        let text = try String(contentsOfFile: Fixtures.path("runtime-traps/expected.tsv"), encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: "\t").map(String.init)
            return Injected(spanID: fields[0], trapClass: fields[1], blocked: fields[2] == "true")
        }
    }

    static func json(_ path: String) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    /// Replays the fixture through `Pipelines/runtime-traps.yaml` (or `config`) into `directory`.
    static func replayRuntimeFixture(
        _ directory: String, config: String = Fixtures.root.appendingPathComponent("Pipelines/runtime-traps.yaml").path
    ) throws -> [String: Any] {
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "TRAPLINE_OUTPUT=\(directory)/out.otlp", "TRAPLINE_METRICS=\(directory)/trapline.prom",
                ProcessRunner.traplineBinary.path, "replay", "-q", "--config", config, "--report-file",
                directory + "/report.json", Fixtures.path("runtime-traps/spans.otlp"),
            ])
        #expect(run.status == 0, "\(run.standardError)")
        return try json(directory + "/report.json")
    }

    /// Acceptance (issue 7): exactly the injected traps, in input order, and the TER computed by
    /// hand: 6 blocked events / (600 s window × 72 expected per hour = 12 expected) = 0.5. The
    /// latency and probe traps come from the pack's baselines (issue 26): no objective configured.
    @Test func theRuntimePackReportsExactlyTheInjectedTrapsAndTheHandComputedTER() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let report = try Self.replayRuntimeFixture(directory)
        let events = try #require(report["trap_events"] as? [[String: Any]])
        let found = events.map { event -> Injected in
            Injected(
                spanID: Self.spanID(in: event["evidence"] as? String ?? ""), trapClass: event["class"] as? String ?? "",
                blocked: event["blocked"] as? Bool ?? false)
        }
        #expect(found == (try Self.injected()))
        let ter = try #require(report["ter"] as? [String: Any])
        #expect(ter["value"] as? Double == 0.5)
        #expect(ter["blocked"] as? Int == 6)
        #expect(ter["identified"] as? Int == 11)
        #expect(ter["window_seconds"] as? Double == 600)
        #expect(ter["density_per_second"] as? Double == 0.02)
        let byClass = Dictionary(
            uniqueKeysWithValues: try #require(report["traps"] as? [[String: Any]]).map {
                ($0["class"] as? String ?? "", $0["ter"] as? Double)
            })
        // Per class: blocked / 12 expected events.
        #expect(byClass["tls_handshake_failure"] == 0.25)
        #expect(byClass["export_success_below_floor"] == 1.0 / 12)
        #expect(byClass["latency_slo_breach"] == 0)
        #expect(byClass["probe_success_below_floor"] == 0)
        let records = try #require(report["records"] as? [String: Int])
        #expect(records["received"] == 547)
        #expect(records["blocked"] == 6)
        #expect(records["forwarded"] == 541)
        // The baselines' evidence: the span against its own recent past.
        let evidence = events.compactMap { $0["evidence"] as? String }
        #expect(evidence.contains { $0.contains("took 600 ms, 7.53× the p99 of 79.7 ms over its last 15 min") })
        #expect(
            evidence.contains {
                $0.contains("success 85.5% over the last 5 min (3 of 21 failed), below the floor of 90%")
            })
        // The baselines' size in the metrics: 17 server span series, one probe and one exporter series.
        let metrics = try String(contentsOfFile: directory + "/trapline.prom", encoding: .utf8)
        for (rule, series) in [("latency-baseline", 17), ("export-success-floor", 1), ("probe-success-floor", 1)] {
            let labels = "{processor=\"traps/runtime\",rule=\"\(rule)\"}"
            #expect(metrics.contains("trapline_trap_baseline_series\(labels) \(series)\n"), "\(rule)")
            #expect(metrics.contains("trapline_trap_baseline_untracked_spans_total\(labels) 0\n"), "\(rule)")
        }
        let check = try ProcessRunner.run(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "promtool check metrics < '\(directory)/trapline.prom'"])
        #expect(check.status == 0, "\(String(decoding: check.standardOutput, as: UTF8.self)) \(check.standardError)")
    }

    /// The span id at the end of a span's evidence, or after its trace id in a baseline's.
    static func spanID(in evidence: String) -> String {
        // "span 'NAME' [of 'SERVICE'] trace TRACE span SPAN[: …]"
        let words = (evidence.components(separatedBy: " trace ").last ?? "").split(separator: " ")
        return words.count > 2 && words[1] == "span" ? String(words[2].prefix(16)) : ""
    }

    /// The pack's baselines see frames in input order whatever the number of workers: the
    /// catalog's outliers come after the frames that give its p99, and the report and output
    /// are the same with 1, 2 and 3 workers (without the turns, 2 workers judged against 198 or
    /// 202 spans from run to run).
    @Test func baselinesGiveTheSameAnswerWhateverTheWorkers() throws {
        var reports: [String] = []
        var outputs: [Data] = []
        for workers in [1, 2, 3, 2, 3] {
            let directory = try Fixtures.temporaryDirectory().path
            let run = try ProcessRunner.run(
                URL(fileURLWithPath: "/usr/bin/env"),
                [
                    "TRAPLINE_OUTPUT=\(directory)/out.otlp", "TRAPLINE_METRICS=\(directory)/trapline.prom",
                    ProcessRunner.traplineBinary.path, "replay", "-q", "--workers", String(workers), "--config",
                    Fixtures.root.appendingPathComponent("Pipelines/runtime-traps.yaml").path, "--report-file",
                    directory + "/report.json", Fixtures.path("runtime-traps/spans.otlp"),
                ])
            #expect(run.status == 0, "\(run.standardError)")
            let events = try #require(try Self.json(directory + "/report.json")["trap_events"] as? [[String: Any]])
            reports.append(events.map { "\($0["class"] ?? "") \($0["evidence"] ?? "")" }.joined(separator: "\n"))
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: directory + "/out.otlp")))
        }
        #expect(Set(reports).count == 1, "\(reports)")
        #expect(Set(outputs).count == 1)
    }

    /// Blocked spans leave the main output for the quarantine, marked; observed ones go on, marked.
    @Test func blockedSpansGoToTheQuarantineAndObservedOnesAreMarked() throws {
        let directory = try Fixtures.temporaryDirectory().path
        _ = try Self.replayRuntimeFixture(directory)
        let injected = try Self.injected()
        let quarantine = try String(contentsOfFile: directory + "/out.otlp.quarantine.json", encoding: .utf8)
        let mainJSON = try ProcessRunner.trapline([
            "replay", "-q", "--output-format", "otlp-json", directory + "/out.otlp",
        ])
        let main = String(decoding: mainJSON.standardOutput, as: UTF8.self)
        for trap in injected {
            #expect(quarantine.contains(trap.spanID) == trap.blocked, "\(trap)")
            #expect(main.contains(trap.spanID) == !trap.blocked, "\(trap)")
        }
        #expect(quarantine.components(separatedBy: "\"spanId\"").count - 1 == 6)
        #expect(quarantine.components(separatedBy: "{\"key\":\"trap.class\"").count - 1 == 6)
        #expect(quarantine.contains("{\"key\":\"trap.action\",\"value\":{\"stringValue\":\"block\"}}"))
        #expect(main.components(separatedBy: "{\"key\":\"trap.class\"").count - 1 == 5)
        #expect(main.contains("{\"key\":\"trap.class\",\"value\":{\"stringValue\":\"latency_slo_breach\"}}"))
    }

    /// Acceptance (issue 7): one PromQL expression recomputes TER across instances from the
    /// exported series. Two instances (the shipped pipeline, and one that blocks every runtime
    /// trap) give 6 + 11 blocked over 12 + 12 expected; promtool evaluates the expression over
    /// their scraped values.
    @Test func onePromQLExpressionRecomputesTERAcrossInstances() throws {
        let first = try Fixtures.temporaryDirectory().path
        let second = try Fixtures.temporaryDirectory().path
        _ = try Self.replayRuntimeFixture(first)
        let blockAll = second + "/block-all.yaml"
        let shipped = try String(
            contentsOf: Fixtures.root.appendingPathComponent("Pipelines/runtime-traps.yaml"), encoding: .utf8)
        try shipped.replacingOccurrences(of: "- builtin: runtime", with: "- builtin: runtime\n        action: block")
            .write(toFile: blockAll, atomically: true, encoding: .utf8)
        let report = try Self.replayRuntimeFixture(second, config: blockAll)
        #expect((report["ter"] as? [String: Any])?["value"] as? Double == 11.0 / 12)

        var series: [String] = []
        for (instance, directory) in [("a", first), ("b", second)] {
            let text = try String(contentsOfFile: directory + "/trapline.prom", encoding: .utf8)
            for line in text.split(separator: "\n")
            where line.hasPrefix("trapline_trap_events_blocked_total") || line.hasPrefix("trapline_ter_expected_events")
            {
                let parts = line.split(separator: " ")
                var name = String(parts[0])
                name =
                    name.contains("{")
                    ? name.replacingOccurrences(of: "{", with: "{instance=\"\(instance)\",")
                    : name + "{instance=\"\(instance)\"}"
                series.append("      - series: '\(name)'\n        values: '\(parts[1]) \(parts[1])'")
            }
        }
        let test = """
            tests:
              - interval: 1m
                input_series:
            \(series.joined(separator: "\n"))
                promql_expr_test:
                  - expr: sum(trapline_trap_events_blocked_total) / sum(trapline_ter_expected_events)
                    eval_time: 1m
                    exp_samples:
                      - labels: '{}'
                        value: \((6.0 + 11) / 24)

            """
        let file = first + "/ter.test.yaml"
        try test.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try ProcessRunner.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "promtool test rules '\(file)'"])
        #expect(check.status == 0, "\(String(decoding: check.standardOutput, as: UTF8.self)) \(check.standardError)")
    }

    /// The go-crossbuild pack over log records: a build log replayed as text gives the classes
    /// labelled for it, and a blocking trap's lines go to the quarantine.
    @Test(arguments: [
        "asm-stub-missing.arm64.log", "cache-stale-modindex.x.log", "goarm-invalid-8-accepted.arm.x.log",
        "json-cgo-cross-unset.cgoonly.arm64.log", "archonly-cross.arm64.log", "goenv-native.amd64.log",
    ])
    func theGoCrossBuildPackReadsLogRecords(log: String) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let config = directory + "/traps.yaml"
        try """
        receivers:
          stdin:
        processors:
          traps:
            rules:
              - builtin: go-crossbuild
            quarantine: file/quarantine
        exporters:
          stdout:
          file/quarantine:
            path: \(directory)/quarantine.json
        service:
          pipelines:
            logs:
              receivers: [stdin]
              processors: [traps]
              exporters: [stdout]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "HOME=\(Fixtures.path("buildlogs-home"))", ProcessRunner.traplineBinary.path, "replay", "-q",
                "--config", config, "--input-format", "text", "--output-format", "none", "--report-file",
                directory + "/report.json", Fixtures.path("corpus/buildlogs/" + log),
            ])
        #expect(run.status == 0, "\(run.standardError)")
        let report = try Self.json(directory + "/report.json")
        let events = try #require(report["trap_events"] as? [[String: Any]])
        let labels = try String(contentsOfFile: Fixtures.path("corpus/buildlogs/labels.tsv"), encoding: .utf8)
        var wanted = Set<String>()
        for line in labels.split(separator: "\n") {
            let fields: [Substring] = line.split(separator: "\t", omittingEmptySubsequences: false)
            if fields.count > 2 && fields[0] == log && fields[2] != "none" { wanted.insert(String(fields[2])) }
        }
        #expect(Set(events.compactMap { $0["class"] as? String }) == wanted)
        let records = try #require(report["records"] as? [String: Int])
        #expect(records["received"] == records["forwarded"]! + records["blocked"]!)
        let quarantine = (try? String(contentsOfFile: directory + "/quarantine.json", encoding: .utf8)) ?? ""
        #expect((records["blocked"] ?? 0 > 0) == !quarantine.isEmpty)
        for event in events {
            // The event's line is a blocked record, in the quarantine with its line number.
            let line = try #require(event["line"] as? Int)
            #expect(quarantine.contains("{\"key\":\"log.file.line_number\",\"value\":{\"intValue\":\"\(line)\"}}"))
        }
    }

    /// OTLP log records carry the build's settings as attributes (`GOARM` on the record or
    /// `go.env.GOARCH` on the resource): the go-crossbuild pack reads them as the log's context.
    @Test func logRecordAttributesGiveTheBuildContext() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let logs = [
            #"{"resourceLogs":[{"resource":{"attributes":[{"key":"go.env.GOOS","value":{"stringValue":"linux"}},"#,
            #"{"key":"go.env.GOARCH","value":{"stringValue":"amd64"}}]},"scopeLogs":[{"logRecords":["#,
            #"{"timeUnixNano":"1700000000000000000","body":{"stringValue":"go build ./..."},"#,
            #""attributes":[{"key":"GOARM","value":{"stringValue":"7"}}]},"#,
            #"{"timeUnixNano":"1700000001000000000","body":{"stringValue":"ok"}}]}]}]}"#,
        ].joined()
        try (logs + "\n").write(toFile: directory + "/logs.json", atomically: true, encoding: .utf8)
        try """
        receivers: {stdin: }
        processors:
          traps:
            rules: [{builtin: go-crossbuild}]
        exporters: {stdout: }
        service: {pipelines: {logs: {receivers: [stdin], processors: [traps], exporters: [stdout]}}}
        """.write(toFile: directory + "/traps.yaml", atomically: true, encoding: .utf8)
        let run = try ProcessRunner.trapline([
            "replay", "-q", "--config", directory + "/traps.yaml", "--output-format", "none", "--report-file",
            directory + "/report.json", directory + "/logs.json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let report = try Self.json(directory + "/report.json")
        let events = try #require(report["trap_events"] as? [[String: Any]])
        #expect(events.count == 1)
        #expect(events.first?["class"] as? String == "goarm_ignored")
        #expect(events.first?["record"] as? Int == 0)
        #expect(
            report["records"] as? [String: Int] == [
                "received": 2, "forwarded": 1, "filtered": 0, "blocked": 1, "rejected": 0,
            ])
        let ter = try #require(report["ter"] as? [String: Any])
        #expect(ter["window_seconds"] as? Double == 1)  // event time of the two records
    }

    @Test func trapsConfigMistakesAreReportedWithTheirPlace() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let config = directory + "/bad.yaml"
        try """
        receivers:
          stdin:
        processors:
          traps:
            rules:
              - builtin: runtim
              - class: Slow-Call
                when: 'name == "x"'
              - class: no_when
              - class: bad_rule
                when: 'nme == "x"'
                action: drop
            quarantine: file/missing
            ter:
              expected_density_per_hour: -1
        exporters:
          stdout:
        service:
          pipelines:
            traces:
              receivers: [stdin]
              processors: [traps]
              exporters: [stdout]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.trapline(["validate", "--config", config])
        #expect(result.status == 78)
        let text = result.standardError
        #expect(text.contains("bad.yaml:6:"), "\(text)")
        #expect(text.contains("unknown built-in pack 'runtim'") && text.contains("did you mean 'runtime'?"))
        #expect(text.contains("bad.yaml:7:") && text.contains("a trap class is snake_case"))
        #expect(text.contains("a trap rule needs 'when'"))
        #expect(text.contains("bad.yaml:11:") && text.contains("'nme'"))
        #expect(text.contains("bad.yaml:12:") && text.contains("'drop' is not a valid value"))
        #expect(text.contains("bad.yaml:13:") && text.contains("exporter 'file/missing' is not defined"))
        #expect(text.contains("bad.yaml:15:") && text.contains("expected a positive number"))
    }
}
