import Foundation
import Testing
import TraplineCore
import TraplineTestSupport

/// Pipeline files through the binary: `validate`, `replay --config`, metrics checked by promtool.
@Suite struct PipelineCommandTests {
    static var pipelineFiles: [String] {
        let directory = Fixtures.root.appendingPathComponent("Pipelines").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted().map { "Pipelines/" + $0 }
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
        #expect(run.status == 65, "\(run.standardError)")  // metrics.json is an unsupported signal
        let check = try ProcessRunner.run(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "promtool check metrics < '\(metrics)'"])
        #expect(check.status == 0, "\(check.standardError)")
        let samples = Self.samples(try String(contentsOfFile: metrics, encoding: .utf8))
        let received = try #require(samples["trapline_records_received_total"])
        #expect(received == 1000 + 1 + 9)
        #expect(
            received
                == Self.sum(samples, "trapline_records_forwarded_total")
                + Self.sum(samples, "trapline_records_filtered_total")
                + Self.sum(samples, "trapline_records_blocked_total")
                + Self.sum(samples, "trapline_records_rejected_total"))
        #expect(samples["trapline_records_rejected_total{reason=\"unsupported_signal\"}"] == 1)
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
}
