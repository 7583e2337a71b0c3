import Foundation
import Testing
import Trapline
import TraplineCore
import TraplineStages

/// The traps' streaming baselines: latency against a span's own recent percentile, success
/// rates against their recent past, through a pipeline as a user configures them.
@Suite struct TrapBaselineTests {
    /// One span of a generated request.
    struct SpanSpec {
        var service = "checkout"
        var name = "GET /orders"
        var endSecond: Double
        var milliseconds: Double
        var kind = 2  // server
        var error = false
        var attributes: [(String, String)] = []  // key, JSON value
    }

    static let base: UInt64 = 1_764_000_000 * 1_000_000_000

    /// An OTLP JSON request holding `spans`, a resource per span (service names differ).
    static func request(_ spans: [SpanSpec]) -> [UInt8] {
        var resources: [String] = []
        for (index, span) in spans.enumerated() {
            let end = base + UInt64(span.endSecond * 1e9)
            let start = end - UInt64(span.milliseconds * 1e6)
            let spanID = String(repeating: "0", count: 8) + String(String(index + 1, radix: 16).suffix(8)).leftPadded(8)
            var attributes = span.attributes.map { #"{"key":"\#($0.0)","value":\#($0.1)}"# }
            if attributes.isEmpty { attributes = [] }
            let status = span.error ? #","status":{"code":2,"message":"failed"}"# : ""
            resources.append(
                #"{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"\#(span.service)"}}]},"#
                    + #""scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"\#(spanID)","#
                    + #""name":"\#(span.name)","kind":\#(span.kind),"startTimeUnixNano":"\#(start)","#
                    + #""endTimeUnixNano":"\#(end)","attributes":[\#(attributes.joined(separator: ","))]\#(status)}]}]}"#
            )
        }
        return Array((#"{"resourceSpans":["# + resources.joined(separator: ",") + "]}").utf8)
    }

    static func pipeline(rule: String) throws -> Pipeline {
        try Pipeline(
            yaml: """
                receivers: {stdin: }
                processors:
                  traps:
                    rules:
                \(rule.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }.joined(separator: "\n"))
                exporters: {stdout: }
                service: {pipelines: {traces: {receivers: [stdin], processors: [traps], exporters: [stdout]}}}
                """)
    }

    static let latencyRule = """
        - class: latency_slo_breach
          when: 'kind == SPAN_KIND_SERVER'
          baseline:
            latency: {window: 15m, percentile: 99, factor: 3, min_samples: 100}
        """

    /// Durations from 20 to 80 ms, spread evenly (a p99 near 80 ms), one span every 2 s.
    static func steady(
        _ count: Int, from second: Double, service: String = "checkout", name: String = "GET /orders",
        milliseconds: (Int) -> Double = { 20 + Double(($0 * 37) % 61) }
    ) -> [SpanSpec] {
        (0..<count).map {
            SpanSpec(service: service, name: name, endSecond: second + Double($0) * 2, milliseconds: milliseconds($0))
        }
    }

    static func events(_ pipeline: Pipeline, _ spans: [SpanSpec]) -> [TrapLedger.Event] {
        pipeline.process(request(spans), format: .json(.traces)).trapEvents
    }

    @Test func aSpanFarAboveItsOwnRecentP99IsATrapWithoutAnObjective() throws {
        let pipeline = try Self.pipeline(rule: Self.latencyRule)
        #expect(Self.events(pipeline, Self.steady(300, from: 0)).isEmpty)
        let outliers = [
            SpanSpec(endSecond: 601, milliseconds: 400),  // 5× the p99: a trap, far below any 2 s objective
            SpanSpec(endSecond: 602, milliseconds: 200),  // 2.5×: not far enough
            SpanSpec(name: "GET /new", endSecond: 603, milliseconds: 400),  // a series without its samples
        ]
        let events = Self.events(pipeline, outliers)
        #expect(events.map(\.row) == [0])
        #expect(events.first?.trapClass.rawValue == "latency_slo_breach")
        let evidence = events.first?.evidence ?? ""
        #expect(evidence.hasPrefix("span 'GET /orders' of 'checkout' trace 0102030405060708090a0b0c0d0e0f10"))
        #expect(evidence.contains("took 400 ms"), "\(evidence)")
        // HdrHistogram with one significant digit: the p99 of 20…80 ms reads within 1/16 above.
        #expect(evidence.contains("the p99 of 8"), "\(evidence)")
        #expect(evidence.contains("over its last 15 min (300 spans; a trap past 3×)"), "\(evidence)")
    }

    @Test func theWindowSlidesInEventTime() throws {
        let pipeline = try Self.pipeline(rule: Self.latencyRule)
        // A slow quarter of an hour (1.5–2 s), then, 20 minutes on, fast traffic.
        _ = Self.events(pipeline, Self.steady(300, from: 0, milliseconds: { 1500 + Double($0 % 50) * 10 }))
        #expect(Self.events(pipeline, Self.steady(300, from: 1800)).isEmpty)
        // The slow spans have left the window: 400 ms is far above the p99 now.
        let events = Self.events(pipeline, [SpanSpec(endSecond: 2500, milliseconds: 400)])
        #expect(events.count == 1)
        // The same span while the slow spans were still in the window was no trap.
        let fresh = try Self.pipeline(rule: Self.latencyRule)
        _ = Self.events(fresh, Self.steady(300, from: 0, milliseconds: { 1500 + Double($0 % 50) * 10 }))
        #expect(Self.events(fresh, [SpanSpec(endSecond: 700, milliseconds: 400)]).isEmpty)
    }

    @Test func eachServiceAndSpanNameHasItsOwnBaseline() throws {
        let pipeline = try Self.pipeline(rule: Self.latencyRule)
        _ = Self.events(pipeline, Self.steady(200, from: 0, service: "fast"))
        _ = Self.events(
            pipeline, Self.steady(200, from: 0, service: "batch", milliseconds: { 1000 + Double($0 % 10) * 100 }))
        let events = Self.events(
            pipeline,
            [
                SpanSpec(service: "batch", endSecond: 500, milliseconds: 1500),  // usual for batch
                SpanSpec(service: "fast", endSecond: 500, milliseconds: 1500),  // 19× fast's p99
            ])
        #expect(events.map(\.row) == [1])
    }

    @Test func aServiceWhoseClockRunsAheadMovesNoOtherWindow() throws {
        let pipeline = try Self.pipeline(rule: Self.latencyRule)
        // "ahead" reports times two hours on; "checkout" keeps its own window all the same.
        _ = Self.events(pipeline, Self.steady(150, from: 7200, service: "ahead") + Self.steady(150, from: 0))
        #expect(Self.events(pipeline, [SpanSpec(endSecond: 301, milliseconds: 400)]).count == 1)
    }

    @Test func theFixedObjectiveStaysAnOption() throws {
        let pipeline = try Self.pipeline(
            rule: """
                - class: latency_slo_breach
                  when: 'kind == SPAN_KIND_SERVER'
                  baseline:
                    latency: {objective: 1s}
                """)
        let events = Self.events(
            pipeline, [SpanSpec(endSecond: 1, milliseconds: 1500), SpanSpec(endSecond: 2, milliseconds: 900)])
        #expect(events.map(\.row) == [0])
        #expect(events.first?.evidence.hasSuffix("took 1.5 s, over the objective of 1 s") == true)
    }

    @Test func spansTheRuleDoesNotSelectStayOutOfTheBaseline() throws {
        let pipeline = try Self.pipeline(rule: Self.latencyRule)
        // Client spans of the same name do not count: the server series has no samples.
        var clients = Self.steady(300, from: 0)
        for index in clients.indices { clients[index].kind = 3 }
        _ = Self.events(pipeline, clients)
        #expect(Self.events(pipeline, [SpanSpec(endSecond: 700, milliseconds: 5000)]).isEmpty)
    }

    static let exportRule = """
        - class: export_success_below_floor
          when: 'IsMatch(name, "^exporter/")'
          action: block
          baseline:
            success:
              counts: {ok: sent_spans, failed: send_failed_spans}
              window: 1h
              recent: 5m
              max_drop: 0.01
              floor: 0.95
              min_samples: 100
        """

    static func export(_ second: Double, sent: Int, failed: Int) -> SpanSpec {
        SpanSpec(
            service: "otelcol", name: "exporter/otlp/traces", endSecond: second, milliseconds: 5, kind: 3,
            attributes: [
                ("sent_spans", #"{"intValue":"\#(sent)"}"#), ("send_failed_spans", #"{"intValue":"\#(failed)"}"#),
            ])
    }

    @Test func anExportSuccessDropAgainstItsRecentRateIsATrap() throws {
        let pipeline = try Self.pipeline(rule: Self.exportRule)
        let healthy = (0..<11).map { Self.export(Double($0) * 300 + 10, sent: 1000, failed: 1) }
        #expect(Self.events(pipeline, healthy).isEmpty)
        // 97% in this span, 98.4% over the last 5 minutes (most of the span before is in them)
        // against 99.9% before: above the 95% floor, but a 1.5-point drop.
        let drop = Self.events(pipeline, [Self.export(3310, sent: 970, failed: 30)])
        #expect(drop.count == 1)
        #expect(drop.first?.blocked == true)
        let evidence = drop.first?.evidence ?? ""
        #expect(
            evidence.contains(
                "success 98.4% over the last 5 min (31 of 1968 failed; 30 of 1000 in this span), against 99.9% in the 55 min before (10043 outcomes"
            ), "\(evidence)")
    }

    @Test func aHealthySpanIsNoTrapWhileAnEarlierFailureWeighsOnTheRecentRate() throws {
        let pipeline = try Self.pipeline(rule: Self.exportRule)
        _ = Self.events(pipeline, (0..<11).map { Self.export(Double($0) * 300 + 10, sent: 1000, failed: 1) })
        #expect(Self.events(pipeline, [Self.export(3310, sent: 700, failed: 300)]).count == 1)
        // A minute on: the recent rate is still down (the bad span is in it), this span is not.
        #expect(Self.events(pipeline, [Self.export(3370, sent: 1000, failed: 1)]).isEmpty)
        #expect(Self.events(pipeline, [Self.export(3430, sent: 900, failed: 100)]).count == 1)
    }

    @Test func aSmallDropOrAHealthyRateIsNoTrap() throws {
        let pipeline = try Self.pipeline(rule: Self.exportRule)
        _ = Self.events(pipeline, (0..<11).map { Self.export(Double($0) * 300 + 10, sent: 1000, failed: 1) })
        #expect(Self.events(pipeline, [Self.export(3310, sent: 995, failed: 5)]).isEmpty)  // 0.4 points
        // Without history, the floor alone: 95.2% passes, 94.3% is a trap.
        let fresh = try Self.pipeline(rule: Self.exportRule)
        #expect(Self.events(fresh, [Self.export(10, sent: 100, failed: 5)]).isEmpty)
        #expect(Self.events(fresh, [Self.export(400, sent: 100, failed: 6)]).count == 1)
    }

    @Test func failedProbesInARecentDropAreTraps() throws {
        let pipeline = try Self.pipeline(
            rule: """
                - class: probe_success_below_floor
                  when: 'attributes["user_agent.synthetic.type"] == "test"'
                  baseline:
                    success:
                      failed_when: 'status.code == STATUS_CODE_ERROR or attributes["http.response.status_code"] >= 500'
                      window: 1h
                      recent: 5m
                      max_drop: 0.1
                      min_samples: 20
                """)
        func probe(_ second: Double, status: Int = 200, error: Bool = false) -> SpanSpec {
            SpanSpec(
                service: "shop", name: "GET /healthz", endSecond: second, milliseconds: 3, error: error,
                attributes: [
                    ("user_agent.synthetic.type", #"{"stringValue":"test"}"#),
                    ("http.response.status_code", #"{"intValue":"\#(status)"}"#),
                ])
        }
        // 50 minutes of probes every 15 s, one failure among them (95% over its 5 minutes).
        var history = (0..<200).map { probe(Double($0) * 15) }
        history[80] = probe(1200, status: 503)
        #expect(Self.events(pipeline, history).isEmpty)
        // The next 5 minutes: 10 successes, then 10 failures (by status, or by a 5xx code). The
        // recent rate counts the part of the 5 minutes before still in the interval: the first
        // two failures leave it at 95% and 90.5%, within 10 points of the 99.5% before.
        let failures = (1...10).map { (failure: Int) -> SpanSpec in
            let second = 3135 + Double(failure) * 15
            return failure % 2 == 0 ? probe(second, status: 502) : probe(second, error: true)
        }
        let events = Self.events(pipeline, (0..<10).map { probe(3000 + Double($0) * 15) } + failures)
        #expect(events.map(\.row) == Array(12...19))
        let evidence = events.first?.evidence ?? ""
        #expect(
            evidence.contains(
                "success 85.7% over the last 5 min (3 of 21 failed), against 99.5% in the 55 min before (192 outcomes"),
            "\(evidence)")
        // Spans without the probe attribute are not probes.
        #expect(Self.events(pipeline, [SpanSpec(endSecond: 3290, milliseconds: 3, error: true)]).isEmpty)
    }

    @Test func aBaselineKeepsAtMostMaxSeries() throws {
        let rule = """
            - class: latency_slo_breach
              when: 'kind == SPAN_KIND_SERVER'
              baseline:
                latency: {window: 8m, min_samples: 10, max_series: 2}
            """
        let loaded = ConfigLoader.load(
            yaml: """
                receivers: {stdin: }
                processors:
                  traps:
                    rules:
                \(rule.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
                exporters: {stdout: }
                service: {pipelines: {traces: {receivers: [stdin], processors: [traps], exporters: [stdout]}}}
                """, file: "max-series.yaml")
        #expect(loaded.diagnostics.isEmpty)
        let stage = try #require(loaded.stages.stages.first as? TrapStage)
        let baseline = try #require(stage.rules.first?.baseline)
        let pipeline = try Pipeline(
            yaml: """
                receivers: {stdin: }
                exporters: {stdout: }
                service: {pipelines: {traces: {receivers: [stdin], exporters: [stdout]}}}
                """, extraStages: [stage])
        _ = Self.events(pipeline, Self.steady(20, from: 0, name: "a") + Self.steady(20, from: 0, name: "b"))
        _ = Self.events(pipeline, Self.steady(20, from: 0, name: "c"))
        #expect(baseline.seriesCount == 2)
        #expect(baseline.untrackedSpans == 20)
        // Once a's and b's spans have left the window, c takes one of their places.
        _ = Self.events(pipeline, Self.steady(20, from: 1000, name: "c"))
        #expect(baseline.seriesCount == 2)
        #expect(baseline.untrackedSpans == 20)
    }

    @Test(arguments: [
        ("signal: logs\n  baseline: {latency: {}}", "a baseline is kept over spans"),
        ("baseline: {latency: {}, success: {}}", "a baseline measures one thing"),
        ("baseline: {latency: {percentile: 0}}", "expected a percentile above 0, at most 100"),
        ("baseline: {latency: {factor: 0.5}}", "expected a factor of 1 or more"),
        ("baseline: {latency: {window: -5m}}", "expected a positive duration like 15m, 30s or 2s"),
        ("baseline: {latency: {min_samples: many}}", "expected a whole number above 0"),
        ("baseline: {latency: {windw: 5m}}", "unknown key 'windw'"),
        ("baseline: {success: {window: 5m, recent: 5m}}", "'recent' must be shorter than 'window'"),
        ("baseline: {success: {window: 24h, recent: 1m}}", "'window' holds 1440 intervals of 'recent', more than 120"),
        ("baseline: {success: {counts: {ok: sent}}}", "counts need both 'ok' and 'failed'"),
        (
            "baseline: {success: {counts: {ok: a, failed: b}, failed_when: 'status.code == 2'}}",
            "'failed_when' judges spans one by one"
        ),
        ("baseline: {success: {floor: 1.5}}", "expected a success rate above 0, at most 1"),
    ])
    func mistakesInABaselineAreReported(setting: String, message: String) {
        let yaml = """
            receivers: {stdin: }
            processors:
              traps:
                rules:
                  - class: slow
                    when: 'true'
                    \(setting.replacingOccurrences(of: "\n  ", with: "\n        "))
            exporters: {stdout: }
            service: {pipelines: {traces: {receivers: [stdin], processors: [traps], exporters: [stdout]}}}
            """
        let loaded = ConfigLoader.load(yaml: yaml, file: "baseline.yaml")
        let messages = loaded.diagnostics.all.map(\.message)
        #expect(messages.contains { $0.hasPrefix(message) }, "\(messages)")
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
