import Testing
import TraplineCore
import TraplineRules
import TraplineTestSupport

/// Small readable telemetry for rule tests (hand-written OTLP JSON).
enum RuleFixtures {
    static let traces = #"""
        {"resourceSpans":[
         {"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"checkout"}},
            {"key":"host.name","value":{"stringValue":"localhost"}},
            {"key":"k8s.namespace.name","value":{"stringValue":"shop"}},
            {"key":"foo","value":{"stringValue":"left"}},
            {"key":"bar","value":{"stringValue":"right"}},
            {"key":"pod_labels_app","value":{"stringValue":"cart"}},
            {"key":"pod_labels_tier","value":{"stringValue":"web"}}]},
          "scopeSpans":[{"scope":{"name":"io.opentelemetry.http"},"spans":[
           {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1111111111111111","name":"GET /healthz","kind":2,
            "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000005000000",
            "attributes":[{"key":"http.request.method","value":{"stringValue":"GET"}},
                          {"key":"container.name","value":{"stringValue":"app_container_1"}}]},
           {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"2222222222222222","parentSpanId":"1111111111111111",
            "name":"app_3","kind":3,
            "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000002000000000",
            "attributes":[{"key":"http.request.method","value":{"stringValue":"POST"}},
                          {"key":"process.command_line","value":{"stringValue":"run --password=secret -v"}},
                          {"key":"service.namespace","value":{"stringValue":"shop"}},
                          {"key":"retries","value":{"intValue":"3"}}],
            "events":[{"name":"exception","timeUnixNano":"1700000001000000000"},
                      {"name":"grpc.timeout","timeUnixNano":"1700000001500000000",
                       "attributes":[{"key":"grpc","value":{"boolValue":true}}]}],
            "status":{"code":2,"message":"boom"}},
           {"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"3333333333333333","parentSpanId":"2222222222222222",
            "name":"db query","kind":1,
            "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001500000000",
            "attributes":[{"key":"db.system","value":{"stringValue":"postgresql"}}],
            "status":{"code":1}}]}]},
         {"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"payments"}},
            {"key":"k8s.pod.name","value":{"stringValue":"my-pod-name"}},
            {"key":"host.name","value":{"stringValue":"other"}}]},
          "scopeSpans":[{"scope":{"name":"io.opentelemetry.grpc","version":"1.2"},"spans":[
           {"traceId":"a102030405060708090a0b0c0d0e0f10","spanId":"4444444444444444","name":"charge","kind":2,
            "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000300000000",
            "attributes":[{"key":"http.request.method","value":{"stringValue":"GET"}}]}]}]}
        ]}
        """#

    static let logs = #"""
        {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},
          "scopeLogs":[{"scope":{"name":"app"},"logRecords":[
           {"timeUnixNano":"1700000000000000000","severityNumber":17,"severityText":"ERROR",
            "body":{"stringValue":"request failed"},
            "attributes":[{"key":"http.route","value":{"stringValue":"/user/{id}"}},
                          {"key":"path","value":{"stringValue":"/user/42/list/7"}},
                          {"key":"account","value":{"stringValue":"/account/1234"}}]},
           {"timeUnixNano":"1700000001000000000",
            "body":{"stringValue":"[2023-09-22 07:38:22,570] INFO [Something]: some interesting log"}},
           {"timeUnixNano":"1700000002000000000",
            "body":{"stringValue":"{\"name\":\"log\",\"attr1\":\"foo\",\"attr2\":\"bar\",\"nested\":{\"attr3\":\"example\"}}"}},
           {"timeUnixNano":"1700000003000000000","severityNumber":5,
            "body":{"stringValue":"user logged in with password=hunter2"}},
           {"timeUnixNano":"1700000004000000000","severityNumber":13,
            "body":{"kvlistValue":{"values":[{"key":"object","value":{"stringValue":"pod"}}]}},
            "attributes":[{"key":"http.route","value":{"stringValue":"/pods"}}]}
          ]}]}]}
        """#

    static func group(
        statements: [String] = [], conditions: [String] = [], signal: RuleSignal, context: RuleContext? = nil,
        errorMode: RuleErrorMode = .ignore
    ) throws -> RuleGroup {
        switch RuleGroup.compile(
            statements: statements, conditions: conditions, signal: signal, context: context, errorMode: errorMode)
        {
        case .success(let group): return group
        case .failure(let issues): throw issues
        }
    }

    /// Runs a filter over the traces fixture; returns what a sink writes and the outcome.
    static func filterSpans(_ conditions: [String], context: RuleContext? = nil) throws -> ([RecordView], RuleOutcome) {
        var groups: [RuleGroup] = []
        for condition in conditions {
            groups.append(try group(conditions: [condition], signal: .traces, context: context))
        }
        var batch = TelemetryFixture.spans(traces)
        var mask = RowMask()
        mask.reset(count: batch.count)
        let outcome = FilterProgram(groups: groups).apply(to: &batch, mask: &mask)
        return (TelemetryFixture.view(batch, mask: mask), outcome)
    }

    static func filterLogs(_ conditions: [String]) throws -> [RecordView] {
        var groups: [RuleGroup] = []
        for condition in conditions { groups.append(try group(conditions: [condition], signal: .logs)) }
        var batch = TelemetryFixture.logs(logs)
        var mask = RowMask()
        mask.reset(count: batch.count)
        _ = FilterProgram(groups: groups).apply(to: &batch, mask: &mask)
        return TelemetryFixture.view(batch, mask: mask)
    }

    static func transformSpans(_ groups: [RuleGroup]) -> ([RecordView], RuleOutcome) {
        var batch = TelemetryFixture.spans(traces)
        var mask = RowMask()
        mask.reset(count: batch.count)
        let outcome = TransformProgram(groups: groups).apply(to: &batch, mask: mask)
        return (TelemetryFixture.view(batch, mask: mask), outcome)
    }

    static func transformLogs(_ groups: [RuleGroup]) -> ([RecordView], RuleOutcome) {
        var batch = TelemetryFixture.logs(logs)
        var mask = RowMask()
        mask.reset(count: batch.count)
        let outcome = TransformProgram(groups: groups).apply(to: &batch, mask: mask)
        return (TelemetryFixture.view(batch, mask: mask), outcome)
    }

    /// The traces fixture after `statements` (one group), with no rule failures expected.
    static func transformedSpans(
        _ statements: [String], conditions: [String] = [], context: RuleContext? = nil
    ) throws -> [RecordView] {
        let group = try group(statements: statements, conditions: conditions, signal: .traces, context: context)
        let (views, outcome) = transformSpans([group])
        #expect(outcome.errors == 0, "\(String(describing: outcome.firstError))")
        return views
    }

    /// The logs fixture after `statements` (one group), with `errors` rule failures expected.
    static func transformedLogs(_ statements: [String], conditions: [String] = [], errors: Int = 0) throws
        -> [RecordView]
    {
        let group = try group(statements: statements, conditions: conditions, signal: .logs)
        let (views, outcome) = transformLogs([group])
        #expect(outcome.errors == errors, "\(String(describing: outcome.firstError))")
        return views
    }
}
