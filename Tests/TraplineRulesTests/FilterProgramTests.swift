import Testing
import TraplineCore
import TraplineRules
import TraplineTestSupport

/// The filter processor README's examples, on the fixture.
@Suite struct FilterProgramTests {
    @Test func basicTraceConditionsAreORed() throws {
        let (spans, outcome) = try RuleFixtures.filterSpans([
            #"span.attributes["container.name"] == "app_container_1""#,
            #"resource.attributes["host.name"] == "localhost""#,
            #"span.name == "app_3""#,
        ])
        // The whole checkout resource goes (host.name), leaving payments' span.
        #expect(spans.map(\.name) == ["charge"])
        #expect(outcome.droppedRecords == 3)
    }

    @Test func droppingByResourceAttribute() throws {
        let (spans, _) = try RuleFixtures.filterSpans([#"resource.attributes["k8s.pod.name"] == "my-pod-name""#])
        #expect(spans.map(\.name) == ["GET /healthz", "app_3", "db query"])
    }

    @Test func droppingNonHTTPAndHTTPSpans() throws {
        let (nonHTTP, _) = try RuleFixtures.filterSpans([#"span.attributes["http.request.method"] == nil"#])
        #expect(nonHTTP.map(\.name) == ["GET /healthz", "app_3", "charge"])
        let (http, _) = try RuleFixtures.filterSpans([#"span.attributes["http.request.method"] != nil"#])
        #expect(http.map(\.name) == ["db query"])
    }

    @Test func droppingShortNonErrorSpans() throws {
        let (spans, _) = try RuleFixtures.filterSpans([
            #"(span.end_time - span.start_time) < Duration("1s") and span.status.code != STATUS_CODE_ERROR"#
        ])
        #expect(spans.map(\.name) == ["app_3", "db query"])
    }

    @Test func spanEventConditionsDropEventsNotSpans() throws {
        let (spans, outcome) = try RuleFixtures.filterSpans([
            #"spanevent.attributes["grpc"] == true"#, #"IsMatch(spanevent.name, ".*grpc.*")"#,
        ])
        #expect(spans.count == 4)
        #expect(spans.first { $0.name == "app_3" }?.events == ["exception"])
        #expect(outcome.droppedEvents == 1)
        #expect(outcome.droppedRecords == 0)
    }

    @Test func mixedContextsRunInTheLowerOne() throws {
        // Every event of a localhost resource goes; spans stay.
        let (spans, outcome) = try RuleFixtures.filterSpans([
            #"resource.attributes["host.name"] == "localhost" or spanevent.name == "grpc.timeout""#
        ])
        #expect(spans.count == 4)
        #expect(spans.first { $0.name == "app_3" }?.events == [])
        #expect(outcome.droppedEvents == 2)
    }

    @Test func legacyContextWithUnprefixedPaths() throws {
        let (spans, _) = try RuleFixtures.filterSpans(
            [#"attributes["container.name"] == "app_container_1""#, "kind == SPAN_KIND_CLIENT"], context: .span)
        #expect(spans.map(\.name) == ["db query", "charge"])
    }

    @Test func scopeConditionsDropTheScopesSpans() throws {
        let (spans, _) = try RuleFixtures.filterSpans([#"scope.name == "io.opentelemetry.grpc""#])
        #expect(spans.map(\.name) == ["GET /healthz", "app_3", "db query"])
    }

    @Test func logConditions() throws {
        let logs = try RuleFixtures.filterLogs([
            #"IsMatch(log.body, ".*password.*")"#, "log.severity_number < SEVERITY_NUMBER_WARN",
        ])
        // Severity 0 (unset) is below WARN too, as in the Collector.
        #expect(logs.map(\.severityNumber) == [17, 13])
    }

    @Test func rootSpansByConverter() throws {
        let (spans, _) = try RuleFixtures.filterSpans(["IsRootSpan()"], context: .span)
        #expect(spans.map(\.name) == ["app_3", "db query"])
    }
}

@Suite struct RawKeyValueAttributeTests {
    /// A `KeyValue` with a field beyond key and value is kept raw by the decoder; rules still
    /// read its value.
    @Test func rulesReadAttributesKeptRaw() throws {
        var span = ProtoBuilder(bytes: RequestBuilders.span(name: "raw"))
        span.messageField(9) { pair in
            pair.stringField(1, "k")
            pair.messageField(2) { $0.stringField(1, "v") }
            pair.varintField(15, 1)
        }
        let request = RequestBuilders.traceRequest(spans: [span.bytes])
        var batch = SpanBatch()
        let input = InputBuffer(request)
        OTLPProtobufDecoder().decodeTraces(input: input, frame: 0..<request.count, sourceOffset: 0, into: &batch)
        #expect(batch.attributes.values.contains { $0.kind == .rawKeyValue })
        let group = try RuleFixtures.group(conditions: [#"span.attributes["k"] == "v""#], signal: .traces)
        var mask = RowMask()
        mask.reset(count: batch.count)
        let outcome = FilterProgram(groups: [group]).apply(to: &batch, mask: &mask)
        #expect(outcome.droppedRecords == 1)
    }
}
