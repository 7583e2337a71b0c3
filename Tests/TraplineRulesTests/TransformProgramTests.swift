import Testing
import TraplineCore
import TraplineRules
import TraplineTestSupport

/// The transform processor README's examples, on the fixture.
@Suite struct TransformProgramTests {
    func spans(_ statements: [String], conditions: [String] = [], context: RuleContext? = nil) throws -> [RecordView] {
        let group = try RuleFixtures.group(
            statements: statements, conditions: conditions, signal: .traces, context: context)
        let (views, outcome) = RuleFixtures.transformSpans([group])
        #expect(outcome.errors == 0, "\(String(describing: outcome.firstError))")
        return views
    }

    func logs(_ statements: [String], conditions: [String] = [], errors: Int = 0) throws -> [RecordView] {
        let group = try RuleFixtures.group(statements: statements, conditions: conditions, signal: .logs)
        let (views, outcome) = RuleFixtures.transformLogs([group])
        #expect(outcome.errors == errors, "\(String(describing: outcome.firstError))")
        return views
    }

    @Test func basicTraceStatements() throws {
        let views = try spans([
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
        let views = try spans(statements)
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

    @Test func limitKeepsPriorityKeysFirstAndTruncateCutsValues() throws {
        let views = try spans([
            #"limit(span.attributes, 2, ["retries"])"#, "truncate_all(span.attributes, 4)",
        ])
        let app = try #require(views.first { $0.name == "app_3" })
        #expect(app.attributes == ["http.request.method": "POST", "retries": "3"])
        #expect(views.first { $0.name == "db query" }?.attributes == ["db.system": "post"])
    }

    @Test func setWhenMissing() throws {
        let views = try spans([#"set(span.attributes["test"], "pass") where span.attributes["test"] == nil"#])
        #expect(views.allSatisfy { $0.attributes["test"] == "pass" })
    }

    @Test func renameByCopyAndDelete() throws {
        let views = try spans([
            #"set(resource.attributes["namespace"], resource.attributes["k8s.namespace.name"])"#,
            #"delete_key(resource.attributes, "k8s.namespace.name")"#,
        ])
        let checkout = try #require(views.first)
        #expect(checkout.resourceAttributes["namespace"] == "shop")
        #expect(checkout.resourceAttributes["k8s.namespace.name"] == nil)
        #expect(views.last?.resourceAttributes["namespace"] == nil)
    }

    @Test func renameByKeyPattern() throws {
        let views = try spans([
            #"replace_all_patterns(resource.attributes, "key", "k8s\\.namespace\\.name", "namespace")"#
        ])
        #expect(views.first?.resourceAttributes["namespace"] == "shop")
        #expect(views.first?.resourceAttributes["k8s.namespace.name"] == nil)
    }

    @Test func combineTwoAttributes() throws {
        let views = try spans([
            #"set(resource.attributes["test"], Concat([resource.attributes["foo"], resource.attributes["bar"]], " "))"#
        ])
        #expect(views.first?.resourceAttributes["test"] == "left right")
    }

    @Test func copyMatchingAttributesThroughTheCache() throws {
        let views = try spans([
            #"set(resource.cache["attrs"], resource.attributes)"#,
            #"keep_matching_keys(resource.cache["attrs"], "pod_labels_.*")"#,
            #"set(resource.attributes["kubernetes.labels"], resource.cache["attrs"])"#,
        ])
        #expect(views.first?.resourceAttributes["kubernetes.labels"] == "{pod_labels_app:cart,pod_labels_tier:web}")
        #expect(views.last?.resourceAttributes["kubernetes.labels"] == "{}")
    }

    @Test func basicLogStatements() throws {
        let views = try logs([
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

    @Test func moveBodyToAttribute() throws {
        let views = try logs([#"set(log.attributes["body"], log.body)"#])
        #expect(views[0].attributes["body"] == "request failed")
        #expect(views[4].attributes["body"] == "{object:pod}")
    }

    @Test func parseJSONBodiesThroughTheCache() throws {
        // IsMatch reads a map body as its JSON text (as the Collector's string-like getter does),
        // so the map body passes the where clause and ParseJSON then fails on it: one error.
        let views = try logs(
            [
                #"merge_maps(log.cache, ParseJSON(log.body), "upsert") where IsMatch(log.body, "^\\{")"#,
                #"set(log.attributes["attr1"], log.cache["attr1"])"#,
                #"set(log.attributes["attr2"], log.cache["attr2"])"#,
                #"set(log.attributes["nested.attr3"], log.cache["nested"]["attr3"])"#,
            ], errors: 1)
        #expect(views[2].attributes == ["attr1": "foo", "attr2": "bar", "nested.attr3": "example"])
        #expect(views[0].attributes["attr1"] == nil)
    }

    @Test func severityFromUnstructuredBody() throws {
        let views = try logs([
            #"set(log.severity_number, SEVERITY_NUMBER_INFO) where IsString(log.body) and IsMatch(log.body, "\\sINFO\\s")"#,
            #"set(log.severity_number, SEVERITY_NUMBER_WARN) where IsString(log.body) and IsMatch(log.body, "\\sWARN\\s")"#,
        ])
        #expect(views[1].severityNumber == 9)
        #expect(views[0].severityNumber == 17)
    }

    @Test func groupConditionsGateTheStatements() throws {
        let views = try logs(
            [#"set(log.body, log.attributes["http.route"])"#],
            conditions: [#"IsMap(log.body) and log.body["object"] != nil"#])
        #expect(views[4].body == "/pods")
        #expect(views[0].body == "request failed")
    }

    @Test func setsEveryLevel() throws {
        let views = try logs([
            #"set(resource.attributes["test"], "pass")"#, #"set(scope.attributes["test"], ["pass"])"#,
            #"set(log.attributes["test"], true)"#,
        ])
        #expect(views[0].resourceAttributes["test"] == "pass")
        #expect(views[0].scopeAttributes["test"] == "[pass]")
        #expect(views[0].scopeName == "app")
        #expect(views.allSatisfy { $0.attributes["test"] == "true" })
    }

    @Test func convertersAndFields() throws {
        let views = try spans([
            #"set(span.name, ConvertCase(span.name, "upper")) where span.kind == SPAN_KIND_SERVER"#,
            #"set(span.attributes["duration_ms"], (span.end_time_unix_nano - span.start_time_unix_nano) / 1000000)"#,
            #"set(span.status.message, "slow") where span.end_time - span.start_time > Duration("1s")"#,
            #"set(span.attributes["hash"], SHA256("abc")) where span.name == "db query""#,
            #"set(span.attributes["parts"], Split("a,b", ","))"#,
            #"flatten(span.attributes)"#,
        ])
        #expect(views.map(\.name) == ["GET /HEALTHZ", "app_3", "db query", "CHARGE"])
        #expect(views[0].attributes["duration_ms"] == "5")
        #expect(views[1].statusMessage == "slow")
        #expect(views[2].statusMessage == "slow")
        #expect(views[2].attributes["hash"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(views[3].attributes["parts"] == "[a,b]")
    }

    @Test func idsAndFlagsReadAndWrite() throws {
        let views = try spans([
            #"set(span.attributes["trace"], span.trace_id.string)"#,
            #"set(span.trace_id.string, "ffffffffffffffffffffffffffffff01") where span.name == "db query""#,
            #"set(span.attributes["flags"], span.flags + 1)"#,
        ])
        #expect(views[0].attributes["trace"] == "0102030405060708090a0b0c0d0e0f10")
        #expect(views[2].traceID == "ffffffffffffffffffffffffffffff01")
        #expect(views[0].attributes["flags"] == "1")
    }

    @Test func runtimeErrorsAreCountedUnderIgnore() throws {
        let group = try RuleFixtures.group(
            statements: [#"set(span.attributes["n"], Int(span.name))"#, #"set(span.attributes["j"], ParseJSON("{"))"#],
            signal: .traces)
        let (views, outcome) = RuleFixtures.transformSpans([group])
        // Int of a name that is no number is nil, which `set` ignores; ParseJSON fails per span.
        #expect(outcome.errors == 4)
        #expect(outcome.firstError?.message.contains("ParseJSON") == true)
        #expect(views.allSatisfy { $0.attributes["n"] == nil })
    }

    @Test func propagateFailsTheBatch() throws {
        let group = try RuleFixtures.group(
            statements: [#"set(span.attributes["j"], ParseJSON(span.name))"#], signal: .traces, errorMode: .propagate)
        let (_, outcome) = RuleFixtures.transformSpans([group])
        #expect(outcome.failed)
    }
}
