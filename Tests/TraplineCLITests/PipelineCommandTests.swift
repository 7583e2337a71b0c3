import Foundation
import Testing
import TraplineCore
import TraplineTestSupport

/// Pipeline files through the binary: `validate`, `replay --config`, metrics checked by promtool.
@Suite(.tags(.slow)) struct PipelineCommandTests {
    static var pipelineFiles: [String] {
        let directory = Fixtures.root.appendingPathComponent("Pipelines").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yaml") && !$0.hasSuffix(".test.yaml") }.sorted().map { "Pipelines/" + $0 }
    }

    /// Prometheus text as `name{labels}` → value.
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { samples[String(parts[0])] = value }
        }
        return samples
    }

    static func sum(_ samples: [String: Double], _ family: String) -> Double {
        samples.filter { $0.key == family || $0.key.hasPrefix(family + "{") }.values.reduce(0, +)
    }

    /// Acceptance (issue 4): promtool accepts the metrics of every shipped pipeline, and the
    /// metrics keep the accounting equation.
    @Test(arguments: pipelineFiles)
    func everyPipelineReplaysWithMetricsPromtoolAccepts(pipeline: String) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let metrics = directory + "/trapline.prom"
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "TRAPLINE_OUTPUT=\(directory)/out", "TRAPLINE_METRICS=\(metrics)", ProcessRunner.traplineBinary.path,
                "replay", "-q", "--config", Fixtures.root.appendingPathComponent(pipeline).path, "--output",
                directory + "/stdout", "--metrics-file", metrics, Fixtures.path("generated/shop-logs.varint.otlp"),
                Fixtures.path("corpus/otlp/otel-proto/metrics.json"), Fixtures.path("corpus/buildlogs/gocache-off.log"),
            ])
        let check = try ProcessRunner.run(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "promtool check metrics < '\(metrics)'"])
        #expect(check.status == 0, "\(check.standardError)")
        let samples = Self.samples(try String(contentsOfFile: metrics, encoding: .utf8))
        let received = try #require(samples["trapline_records_received_total"])
        #expect(received == 1000 + 4 + 9)
        #expect(
            received
                == Self.sum(samples, "trapline_records_forwarded_total")
                + Self.sum(samples, "trapline_records_filtered_total")
                + Self.sum(samples, "trapline_records_blocked_total")
                + Self.sum(samples, "trapline_records_rejected_total"))
        // Metrics go through the pipelines that have a metrics pipeline, and are refused
        // (`no_pipeline`) by the others: the exit status says whether anything was rejected.
        let rejected = Self.sum(samples, "trapline_records_rejected_total")
        #expect(run.status == (rejected > 0 ? 65 : 0), "\(run.standardError)")
        let metricsForwarded = samples["trapline_records_forwarded_total{signal=\"metrics\"}"] ?? 0
        let unpiped = samples["trapline_records_rejected_total{reason=\"no_pipeline\"}"] ?? 0
        // The two shipped files with an OTLP metrics pipeline forward metrics.json's 4 data points;
        // the others refuse them with everything else they have no pipeline for.
        let takesMetrics = ["Pipelines/default.yaml", "Pipelines/filter-transform.yaml"].contains(pipeline)
        #expect(metricsForwarded == (takesMetrics ? 4 : 0))
        #expect(unpiped >= (takesMetrics ? 0 : 4))
        #expect(samples["trapline_build_info{version=\"0.1.0\"}"] == 1)
    }

    @Test func configExportersWriteJSONAndGzip() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let config = directory + "/pipeline.yaml"
        try """
        receivers:
          stdin:
        exporters:
          file/json:
            path: \(directory)/spans.jsonl
          file/gz:
            path: \(directory)/logs.otlp.gz
            format: proto
            compression: gzip
        service:
          pipelines:
            traces:
              receivers: [stdin]
              exporters: [file/json]
            logs:
              receivers: [stdin]
              exporters: [file/gz]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try ProcessRunner.trapline([
            "replay", "-q", "--config", config, Fixtures.path("generated/shop-traces.otlp.gz"),
            Fixtures.path("generated/shop-logs.varint.otlp"),
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput.isEmpty)
        let spans = try ProcessRunner.trapline(["replay", "--output-format", "none", directory + "/spans.jsonl"])
        #expect(spans.standardError.contains("2000 records received, 2000 forwarded (2000 spans"))
        let logs = try ProcessRunner.trapline(["replay", "--output-format", "none", directory + "/logs.otlp.gz"])
        #expect(logs.standardError.contains("1000 records received, 1000 forwarded (0 spans, 1000 log records)"))
    }

    @Test func badConfigStopsBeforeAnythingRuns() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let config = directory + "/bad.yaml"
        try
            "exporters:\n  fiel:\n    path: x\nservice:\n  pipelines:\n    traces:\n      receivers: [stdin]\n      exporters: [fiel]\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        for arguments in [
            ["validate", "--config", config],
            ["replay", "--config", config, Fixtures.path("generated/shop-traces.otlp")],
        ] {
            let run = try ProcessRunner.trapline(arguments)
            #expect(run.status == 78)
            #expect(
                run.standardError.contains(
                    "\(config):2:3: error: exporters.fiel: exporter type 'fiel' is not supported (did you mean 'file'?")
            )
            #expect(
                run.standardError.contains(
                    "\(config):7:19: error: service.pipelines.traces.receivers: receiver 'stdin' is not defined"))
            #expect(run.standardOutput.isEmpty)
        }
        let valid = try ProcessRunner.trapline([
            "validate", "--config", Fixtures.root.appendingPathComponent("Pipelines/default.yaml").path,
        ])
        #expect(valid.status == 0)
    }

    /// `validate` is what startup checks: a stdin pipeline with a `prometheus` exporter serving
    /// `/metrics` (sidecar mode only) is refused by both, with the same line.
    @Test func validateRefusesWhatRunRefuses() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let config = directory + "/forward.yaml"
        try """
        receivers:
          stdin:
        exporters:
          stdout:
          prometheus:
            endpoint: 127.0.0.1:0
        service:
          pipelines:
            logs:
              receivers: [stdin]
              exporters: [stdout, prometheus]

        """.write(toFile: config, atomically: true, encoding: .utf8)
        let expected =
            "\(config):5:3: error: exporters.prometheus: exporter 'prometheus' serves /metrics, which needs sidecar mode (an otlp receiver)"
        for arguments in [["validate", "--config", config], ["run", "--config", config]] {
            let run = try ProcessRunner.trapline(arguments, input: Data("a line\n".utf8))
            #expect(run.status == 78, "\(arguments)")
            #expect(run.standardError.contains(expected), "\(arguments): \(run.standardError)")
            #expect(run.standardOutput.isEmpty)
        }
    }

    /// `trapline components` prints the table the loader reads.
    @Test func componentsListsEverySection() throws {
        let run = try ProcessRunner.trapline(["components"])
        #expect(run.status == 0)
        let text = String(decoding: run.standardOutput, as: UTF8.self)
        for line in ["receivers:", "processors:", "exporters:", "connectors:", "  filter ", "  otlphttp, otlp_http "] {
            #expect(text.contains(line), "\(line)")
        }
    }
}

@Suite(.tags(.slow)) struct RunCommandTests {
    @Test func runReadsTheConfigReceiversAndFlushesEveryExporter() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "TRAPLINE_CAPTURES=\(Fixtures.path("generated"))", "TRAPLINE_OUTPUT=\(directory)/out.jsonl",
                "TRAPLINE_METRICS=\(directory)/trapline.prom", ProcessRunner.traplineBinary.path, "run", "--config",
                Fixtures.root.appendingPathComponent("Pipelines/replay-to-json.yaml").path,
            ])
        #expect(run.status == 0, "\(run.standardError)")
        // shop-traces.otlp, its .gz, shop-logs.varint.otlp, multi-member.otlp(.gz) and demo-shop.otlp.gz:
        // 2000 + 2000 + 1000 + 50 + 50 + 1922.
        #expect(run.standardError.contains("7022 records received, 7022 forwarded (6022 spans, 1000 log records)"))
        let again = try ProcessRunner.trapline(["replay", "--output-format", "none", directory + "/out.jsonl"])
        #expect(again.standardError.contains("7022 records received, 7022 forwarded"))
        #expect(FileManager.default.fileExists(atPath: directory + "/trapline.prom"))
    }

    @Test func sigtermStopsReadingAndFlushesWhatWasRead() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let process = Process()
        process.executableURL = ProcessRunner.traplineBinary
        process.arguments = ["run", "-q", "--report-file", directory + "/report.json"]
        let input = Pipe()
        let output = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Three whole requests; stdin stays open, as a live stream's would.
        let stream = try Fixtures.bytes("generated/shop-traces.otlp")
        var frames = 0
        var position = 0
        while frames < 3 {
            let length =
                Int(stream[position]) << 24 | Int(stream[position + 1]) << 16 | Int(stream[position + 2]) << 8
                | Int(stream[position + 3])
            position += 4 + length
            frames += 1
        }
        input.fileHandleForWriting.write(Data(stream[..<position]))
        // If the stop were ignored the run would wait on stdin for ever: a watchdog ends it so
        // the failure shows instead of hanging the suite.
        let pid = process.processIdentifier
        let watched = process
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) {
            if watched.isRunning { kill(pid, SIGKILL) }  // never a pid the run no longer owns
        }
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "the run ignored SIGTERM and was killed by the watchdog")
        try? input.fileHandleForWriting.close()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0 || process.terminationStatus == 65)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/report.json")))
                as? [String: Any])
        let records = try #require(report["records"] as? [String: Int])
        #expect(records["received"] == records["forwarded"]! + records["rejected"]!)
        #expect(records["forwarded"]! <= 300)
    }

    @Test func runWithoutMatchingInputsSaysSo() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let config = directory + "/none.yaml"
        try
            "receivers:\n  file:\n    include: [\(directory)/nothing-*.otlp]\nexporters:\n  stdout:\nservice:\n  pipelines:\n    traces:\n      receivers: [file]\n      exporters: [stdout]\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let run = try ProcessRunner.trapline(["run", "--config", config])
        #expect(run.status == 66)
        #expect(run.standardError.contains("no file matches"))
    }
}
