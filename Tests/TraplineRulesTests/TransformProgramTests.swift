import Testing
import TraplineCore
import TraplineRules
import TraplineTestSupport

/// The transform processor README's examples, on the fixture: whole programs mixing the
/// families (each family's own tests are in `Functions/`).
@Suite struct TransformProgramTests {
    @Test func basicTraceStatements() throws {
        let views = try RuleFixtures.transformedSpans([
            #"keep_keys(span.attributes, ["service.name", "service.namespace", "cloud.region", "process.command_line"])"#,
            #"replace_pattern(span.attributes["process.command_line"], "password\\=[^\\s]*(\\s?)", "password=***")"#,
            "limit(span.attributes, 100, [])",
            "truncate_all(span.attributes, 4096)",
        ])
        let app = try #require(views.first { $0.name == "app_3" })
        #expect(app.attributes == ["process.command_line": "run --password=***-v", "service.namespace": "shop"])
        #expect(views.first { $0.name == "GET /healthz" }?.attributes == [:])
    }

    /// The editors that change every record of a batch in one pass (set of a record attribute,
    /// delete_key, replace_pattern with a literal): keys new to some records and present in
    /// others, a `where` that selects some, values computed per record.
    @Test func columnEditorsChangeEachRecordOnItsOwn() throws {
        let statements = [
            #"set(span.attributes["http.request.method"], "PATCH") where span.name == "charge""#,
            #"set(span.attributes["duration_ms"], (span.end_time_unix_nano - span.start_time_unix_nano) / 1000000)"#,
            #"set(span.attributes["tier"], "gold") where span.kind == SPAN_KIND_SERVER"#,
            #"set(span.attributes["span_name"], span.name)"#,
            #"delete_key(span.attributes, "container.name")"#,
            #"replace_pattern(span.attributes["http.request.method"], "^P", "p")"#,
        ]
        let views = try RuleFixtures.transformedSpans(statements)
        // Row counts too: a views' dictionary would hide a key left twice.
        var batch = TelemetryFixture.spans(RuleFixtures.traces)
        var mask = RowMask()
        mask.reset(count: batch.count)
        _ = TransformProgram(groups: [try RuleFixtures.group(statements: statements, signal: .traces)])
            .apply(to: &batch, mask: mask)
        #expect(batch.spanAttributes.map(\.count) == [4, 6, 3, 4])
        let byName = Dictionary(uniqueKeysWithValues: views.map { ($0.name, $0.attributes) })
        #expect(
            byName["GET /healthz"] == [
                "http.request.method": "GET", "duration_ms": "5", "tier": "gold", "span_name": "GET /healthz",
            ])
        #expect(
            byName["app_3"] == [
                "http.request.method": "pOST", "process.command_line": "run --password=secret -v",
                "service.namespace": "shop", "retries": "3", "duration_ms": "2000", "span_name": "app_3",
            ])
        #expect(byName["db query"] == ["db.system": "postgresql", "duration_ms": "1500", "span_name": "db query"])
        #expect(
            byName["charge"] == [
                "http.request.method": "pATCH", "duration_ms": "300", "tier": "gold", "span_name": "charge",
            ])
    }

    @Test func basicLogStatements() throws {
        let views = try RuleFixtures.transformedLogs([
            #"set(log.severity_text, "FAIL") where log.body == "request failed""#,
            #"replace_all_matches(log.attributes, "/user/*/list/*", "/user/{userId}/list/{listId}")"#,
            #"replace_all_patterns(log.attributes, "value", "/account/\\d{4}", "/account/{accountId}")"#,
            #"set(log.body, log.attributes["http.route"])"#,
        ])
        let first = try #require(views.first)
        #expect(first.severityText == "FAIL")
        #expect(first.attributes["path"] == "/user/{userId}/list/{listId}")
        #expect(first.attributes["account"] == "/account/{accountId}")
        #expect(first.body == "/user/{id}")
        // A record without http.route keeps its body (set to nil changes nothing).
        #expect(views[1].body.hasPrefix("[2023-09-22"))
    }

    @Test func groupConditionsGateTheStatements() throws {
        let views = try RuleFixtures.transformedLogs(
            [#"set(log.body, log.attributes["http.route"])"#],
            conditions: [#"IsMap(log.body) and log.body["object"] != nil"#])
        #expect(views[4].body == "/pods")
        #expect(views[0].body == "request failed")
    }

    @Test func propagateFailsTheBatch() throws {
        let group = try RuleFixtures.group(
            statements: [#"set(span.attributes["j"], ParseJSON(span.name))"#], signal: .traces, errorMode: .propagate)
        let (_, outcome) = RuleFixtures.transformSpans([group])
        #expect(outcome.failed)
    }
}
