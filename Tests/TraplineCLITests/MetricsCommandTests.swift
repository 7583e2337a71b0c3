import Foundation
import Testing
import TraplineTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The metrics signal through the binary (issue 25): the Python SDK's metrics (every instrument
/// kind) decoded and written again, compared as messages with PyPI's protobuf (upb); the SDK's
/// OTLP/HTTP and OTLP/gRPC metric exporters through the sidecar to a next hop; `filter` and
/// `transform` on metrics against an independent implementation.
@Suite(.serialized, .tags(.slow)) struct MetricsCommandTests {
    /// The SDK's metrics request in `directory/sdk.otlp` (length-prefixed); its data points.
    static func sdkCapture(in directory: String) throws -> (path: String, points: Int) {
        let path = directory + "/sdk.otlp"
        let run = try ProcessRunner.python("otlp_sdk_metrics.py", ["file", path])
        let said = String(decoding: run.standardOutput, as: UTF8.self)
        #expect(run.status == 0, "\(said)\(run.standardError)")
        return (path, Int(said.split(whereSeparator: \.isWhitespace).last ?? "") ?? 0)
    }

    static func equal(_ expected: String, _ actual: String) throws -> String? {
        let run = try ProcessRunner.python(
            "otlp_equal.py", ["metrics", expected, "length-prefixed", actual, "length-prefixed"])
        return run.status == 0 ? nil : String(decoding: run.standardOutput, as: UTF8.self) + run.standardError
    }

    /// Sums, gauges, explicit and exponential histograms from the SDK: protobuf → protobuf,
    /// protobuf → JSON → (upb) protobuf and JSON → protobuf lose nothing; every point is counted.
    @Test func sdkMetricsSurviveProtobufAndJSON() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let (capture, points) = try Self.sdkCapture(in: directory)
        #expect(points >= 15)
        let report = directory + "/report.json"
        var run = try ProcessRunner.trapline(
            ["replay", "-q", "--output", directory + "/out.otlp", "--report-file", report, capture])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try Self.equal(capture, directory + "/out.otlp") == nil)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
        let accounting = try #require((object as? [String: Any])?["forwarded_by_signal"] as? [String: Int])
        #expect(accounting["data_points"] == points)

        run = try ProcessRunner.trapline(
            ["replay", "-q", "--output-format", "otlp-json", "--output", directory + "/out.json", capture])
        #expect(run.status == 0, "\(run.standardError)")
        let converted = try ProcessRunner.python(
            "otlp_json_to_proto.py", ["metrics", directory + "/out.json", directory + "/upb.otlp"])
        #expect(converted.status == 0, "\(converted.standardError)")
        #expect(try Self.equal(capture, directory + "/upb.otlp") == nil)

        run = try ProcessRunner.trapline([
            "replay", "-q", "--output", directory + "/again.otlp", directory + "/out.json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try Self.equal(capture, directory + "/again.otlp") == nil)
    }

    /// `filter` (metric and datapoint conditions) and `transform` (metric and datapoint
    /// statements) of `Pipelines/filter-transform.yaml` on the SDK's metrics, against the same
    /// rules written in Python over PyPI's protobuf; the report counts the dropped points.
    @Test func filterAndTransformOnMetricsMatchAnIndependentImplementation() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let (capture, points) = try Self.sdkCapture(in: directory)
        let output = directory + "/out.otlp"
        let report = directory + "/report.json"
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "TRAPLINE_FORMAT=proto", "TRAPLINE_OUTPUT=\(output)", "TRAPLINE_METRICS=\(directory)/m.prom",
                ProcessRunner.traplineBinary.path, "replay", "-q", "--config",
                Fixtures.root.appendingPathComponent("Pipelines/filter-transform.yaml").path, "--report-file", report,
                capture,
            ])
        #expect(run.status == 0, "\(run.standardError)")
        let check = try ProcessRunner.python(
            "filter_transform_expected.py", ["metrics", capture, "length-prefixed", output, "length-prefixed"])
        let said = String(decoding: check.standardOutput, as: UTF8.self)
        #expect(check.status == 0, "\(said)\(check.standardError)")
        let dropped = Int(said.split(whereSeparator: \.isWhitespace).last.map(String.init) ?? "") ?? -1
        #expect(dropped > 0)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
        let records = try #require((object as? [String: Any])?["records"] as? [String: Int])
        #expect(
            records == [
                "received": points, "forwarded": points - dropped, "filtered": dropped, "blocked": 0, "rejected": 0,
            ])
    }

    /// The SDK's OTLP/HTTP and OTLP/gRPC metric exporters send to the sidecar; the `otlphttp`
    /// exporter hands every data point to the next hop, which receives the requests the SDK sent.
    @Test func sdkExportersSendMetricsOverHTTPAndGRPC() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let hop = try NextHop(directory: directory, arguments: ["--save", directory + "/arrived.otlp"])
        defer { hop.stop() }
        let config = """
            receivers:
              otlp:
                protocols:
                  http: {endpoint: 127.0.0.1:0}
                  grpc: {endpoint: 127.0.0.1:0}
            exporters:
              otlphttp:
                endpoint: http://127.0.0.1:\(hop.port)
                retry_on_failure: {initial_interval: 100ms}
              prometheus: {endpoint: 127.0.0.1:0}
            service:
              pipelines:
                metrics: {receivers: [otlp], exporters: [otlphttp, prometheus]}
            """
        try config.write(toFile: directory + "/metrics.yaml", atomically: true, encoding: .utf8)
        let (trapline, port) = try ListeningTrapline.start(config: directory + "/metrics.yaml")
        defer { _ = trapline.stop() }
        var sent: [String] = []
        var expectedPoints = 0
        for (mode, target) in [
            ("http", "http://127.0.0.1:\(port("otlp"))/v1/metrics"), ("grpc", "127.0.0.1:\(port("otlp grpc"))"),
        ] {
            let file = directory + "/sent-\(mode).otlp"
            let run = try ProcessRunner.python("otlp_sdk_metrics.py", [mode, target, file])
            let said = String(decoding: run.standardOutput, as: UTF8.self)
            #expect(run.status == 0 && said.hasSuffix("SUCCESS\n"), "\(mode): \(said)\(run.standardError)")
            expectedPoints += Int(said.split(separator: " ").dropFirst().first ?? "") ?? 0
            sent.append(file)
            // One request at a time, so the next hop receives them in the order they were sent.
            #expect(
                FileChanges.wait(in: directory, seconds: 30) { hop.dataPoints == expectedPoints },
                "\(mode): \(hop.counted)")
        }
        var both = Data()
        for file in sent { both += try Data(contentsOf: URL(fileURLWithPath: file)) }
        try both.write(to: URL(fileURLWithPath: directory + "/sent.otlp"))
        #expect(try Self.equal(directory + "/sent.otlp", directory + "/arrived.otlp") == nil)
        let (status, _, body) = try SidecarCommandTests.request("http://127.0.0.1:\(port("prometheus"))/metrics")
        #expect(status == 200)
        let samples = PipelineCommandTests.samples(String(decoding: body, as: UTF8.self))
        #expect(samples["trapline_records_forwarded_total{signal=\"metrics\"}"] == Double(expectedPoints))
    }

    /// Bad metric values in JSON lose the data point (or the metric) they are in, with a line and
    /// column, and every good point around them goes on.
    @Test func badMetricValuesLoseOnlyTheirPoint() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let json = """
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[
             {"name":"a","gauge":{"dataPoints":[{"asDouble":1},{"asInt":"x"},{"asDouble":3}]}},
             {"name":"b","sum":{"aggregationTemporality":"NOT_A_TEMPORALITY","dataPoints":[{"asInt":"1"},{"asInt":"2"}]}},
             {"name":"c","histogram":{"dataPoints":[{"count":"2","bucketCounts":["1","1"],"explicitBounds":[1.5]}]}}
            ]}]}]}
            """
        try json.write(toFile: directory + "/bad.json", atomically: true, encoding: .utf8)
        let report = directory + "/report.json"
        let run = try ProcessRunner.trapline(
            ["replay", "-q", "--output", directory + "/out.otlp", "--report-file", report, directory + "/bad.json"])
        #expect(run.status == 65, "\(run.standardError)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(
            object["records"] as? [String: Int] == [
                "received": 6, "forwarded": 3, "filtered": 0, "blocked": 0, "rejected": 3,
            ])
        let rejections = try #require(object["rejections"] as? [[String: Any]])
        #expect(rejections.map { $0["reason"] as? String } == ["invalid_number", "unknown_enum_name"])
        #expect(rejections.map { $0["line"] as? Int } == [2, 3])
    }
}
