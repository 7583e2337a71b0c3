import Foundation
import Testing
import TraplineTestSupport

/// The `spanmetrics` connector through the binary: the Collector's schema, its default dimensions
/// and buckets, extra dimensions with defaults, the cardinality limit's overflow series.
@Suite(.tags(.slow)) struct SpanMetricsCommandTests {
    /// Five spans of known durations: checkout GET x2 (1 ms, 3 ms), checkout POST error (250 ms,
    /// with http.request.method), cart GET (20 s), and a client span of checkout (2 ms exactly).
    static let spans = #"""
        {"resourceSpans":[
         {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
          "scopeSpans":[{"spans":[
           {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060701","name":"GET /cart","kind":2,
            "startTimeUnixNano":"1000000000","endTimeUnixNano":"1001000000"},
           {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060702","name":"GET /cart","kind":2,
            "startTimeUnixNano":"1000000000","endTimeUnixNano":"1003000000"},
           {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060703","name":"POST /order","kind":2,
            "startTimeUnixNano":"1000000000","endTimeUnixNano":"1250000000","status":{"code":2},
            "attributes":[{"key":"http.request.method","value":{"stringValue":"POST"}}]},
           {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060704","name":"SELECT","kind":3,
            "startTimeUnixNano":"1000000000","endTimeUnixNano":"1002000000"}]}]},
         {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
          "scopeSpans":[{"spans":[
           {"traceId":"0102030405060708090a0b0c0d0e0f11","spanId":"0102030405060705","name":"GET /cart","kind":2,
            "startTimeUnixNano":"1000000000","endTimeUnixNano":"21000000000"}]}]}]}
        """#

    static func run(connector: String, workers: Int = 1) throws -> String {
        let directory = try Fixtures.temporaryDirectory().path
        // One request per resource, one per line: two frames, so workers can split them.
        let flat = spans.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined()
        let resources = flat.dropFirst(#"{"resourceSpans":["#.count).dropLast(2)
            .components(separatedBy: #"]}]},{"resource""#)
        #expect(resources.count == 2)
        let requests = [resources[0] + "]}]}", #"{"resource""# + resources[1]].map {
            #"{"resourceSpans":["# + $0 + "]}"
        }
        try (requests.joined(separator: "\n") + "\n").write(
            toFile: directory + "/spans.json", atomically: true, encoding: .utf8)
        try """
        receivers: {stdin: }
        connectors:
          spanmetrics:
        \(connector)
        exporters:
          stdout:
          prometheus:
            path: \(directory)/metrics.prom
        service:
          pipelines:
            traces:
              receivers: [stdin]
              exporters: [stdout, spanmetrics]
            metrics:
              receivers: [spanmetrics]
              exporters: [prometheus]
        """.write(toFile: directory + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let run = try ProcessRunner.trapline([
            "replay", "-q", "--config", directory + "/pipeline.yaml", "--output-format", "none", "--workers",
            String(workers), directory + "/spans.json",
        ])
        #expect(run.status == 0, "\(run.standardError)")
        let check = try ProcessRunner.run(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "promtool check metrics < '\(directory)/metrics.prom'"])
        #expect(check.status == 0, "\(check.standardError)")
        let text = try String(contentsOfFile: directory + "/metrics.prom", encoding: .utf8)
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("trapline_") && !$0.hasPrefix("#") }
        return lines.joined(separator: "\n")
    }

    @Test func defaultDimensionsAndBucketsCountEachSpanOnce() throws {
        let text = try Self.run(connector: "")
        let get =
            #"service_name="checkout",span_name="GET /cart",span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_UNSET""#
        #expect(text.contains("traces_span_metrics_calls_total{\(get)} 2"))
        // 1 ms and 3 ms: one under 2 ms, both under 4 ms (buckets are upper bounds, le).
        #expect(text.contains("traces_span_metrics_duration_seconds_bucket{\(get),le=\"0.002\"} 1"))
        #expect(text.contains("traces_span_metrics_duration_seconds_bucket{\(get),le=\"0.004\"} 2"))
        #expect(text.contains("traces_span_metrics_duration_seconds_sum{\(get)} 0.004"))
        let select =
            #"service_name="checkout",span_name="SELECT",span_kind="SPAN_KIND_CLIENT",status_code="STATUS_CODE_UNSET""#
        #expect(text.contains("traces_span_metrics_duration_seconds_bucket{\(select),le=\"0.002\"} 1"))  // 2 ms exactly
        let error =
            #"service_name="checkout",span_name="POST /order",span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_ERROR""#
        #expect(text.contains("traces_span_metrics_calls_total{\(error)} 1"))
        #expect(text.contains("traces_span_metrics_duration_seconds_bucket{\(error),le=\"0.2\"} 0"))
        #expect(text.contains("traces_span_metrics_duration_seconds_bucket{\(error),le=\"0.4\"} 1"))
        // 20 s is past the last bucket (15 s): only +Inf holds it.
        let slow =
            #"service_name="cart",span_name="GET /cart",span_kind="SPAN_KIND_SERVER",status_code="STATUS_CODE_UNSET""#
        #expect(text.contains("traces_span_metrics_duration_seconds_bucket{\(slow),le=\"15\"} 0"))
        #expect(text.contains("traces_span_metrics_duration_seconds_bucket{\(slow),le=\"+Inf\"} 1"))
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("traces_span_metrics_calls_total{") }.count == 4)
    }

    @Test func extraDimensionsDefaultsExclusionsBucketsAndNamespace() throws {
        let text = try Self.run(
            connector: """
                        namespace: shop
                        histogram:
                          explicit:
                            buckets: [2ms, 1s]
                        exclude_dimensions: [span.kind]
                        dimensions:
                          - name: http.request.method
                            default: GET
                          - name: missing.attribute
                """)
        #expect(
            text.contains(
                #"shop_calls_total{service_name="checkout",span_name="POST /order",status_code="STATUS_CODE_ERROR",http_request_method="POST"} 1"#
            ))
        #expect(
            text.contains(
                #"shop_calls_total{service_name="checkout",span_name="GET /cart",status_code="STATUS_CODE_UNSET",http_request_method="GET"} 2"#
            ))
        #expect(!text.contains("missing_attribute"))
        #expect(!text.contains("span_kind"))
        #expect(
            text.contains(
                #"shop_duration_seconds_bucket{service_name="cart",span_name="GET /cart",status_code="STATUS_CODE_UNSET",http_request_method="GET",le="1"} 0"#
            ))
    }

    /// The limit keeps the first series in input order; the rest count in one overflow series,
    /// whatever the number of workers.
    @Test func theCardinalityLimitCountsTheRestInOneOverflowSeries() throws {
        let text = try Self.run(connector: "    aggregation_cardinality_limit: 2")
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("traces_span_metrics_calls_total{") }.count == 3)
        #expect(text.contains(#"traces_span_metrics_calls_total{otel_metric_overflow="true"} 2"#))
        #expect(text.contains(#"traces_span_metrics_duration_seconds_count{otel_metric_overflow="true"} 2"#))
        #expect(try Self.run(connector: "    aggregation_cardinality_limit: 2", workers: 2) == text)
    }

    @Test func connectorMistakesAreReported() throws {
        let directory = try Fixtures.temporaryDirectory().path
        try """
        receivers: {stdin: }
        connectors:
          spanmetrics:
            histogram:
              exponential: {max_size: 10}
            exclude_dimensions: [span.nam]
          count:
        exporters: {stdout: }
        service:
          pipelines:
            traces: {receivers: [stdin], exporters: [stdout, spanmetrics]}
        """.write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let result = try ProcessRunner.trapline(["validate", "--config", directory + "/bad.yaml"])
        #expect(result.status == 78)
        #expect(result.standardError.contains("exponential histograms are not supported"))
        #expect(result.standardError.contains("'span.nam' is not a default dimension"))
        #expect(result.standardError.contains("connector type 'count' is not supported"))
        #expect(result.standardError.contains("add a metrics pipeline with receivers: [spanmetrics]"))
    }
}
