import Foundation
import Testing
import TraplineCore
import TraplineStages
import TraplineTestSupport

@_spi(Plumbing) @testable import Trapline

/// `filter` and `transform` in pipeline files: the Collector's schema, and rule mistakes
/// reported at their file line and the column inside the rule.
@Suite struct ProcessorConfigTests {
    static func pipeline(processors: String, list: String) -> String {
        """
        receivers:
          stdin:
        processors:
        \(processors)
        exporters:
          stdout:
        service:
          pipelines:
            traces:
              receivers: [stdin]
              processors: [\(list)]
              exporters: [stdout]
            logs:
              receivers: [stdin]
              processors: [\(list)]
              exporters: [stdout]
        """
    }

    /// Acceptance (issue 5): an unknown function, a wrong argument count, a type mismatch and
    /// an unknown path, each with its line and column, before anything runs.
    @Test func ruleMistakesPointAtTheirLineAndColumn() {
        let yaml = Self.pipeline(
            processors: """
                  transform:
                    trace_statements:
                      - set(span.name, Upper(span.name))
                      - 'delete_key(span.attributes)'
                      - set(span.kind, "server")
                    log_statements:
                      - context: log
                        statements:
                          - set(log.atributes["a"], "b")
                """, list: "transform")
        let found = ConfigLoader.load(yaml: yaml, file: "rules.yaml").diagnostics.sorted
        let positions = found.map { "\($0.line):\($0.column)" }
        // Columns are of the mistake: the converter, the call, the value, the path.
        #expect(positions == ["6:24", "7:10", "8:24", "12:17"], "\(found.map(\.description))")
        #expect(found[0].message.contains("unknown converter 'Upper'"))
        #expect(found[1].message.contains("delete_key needs 2 arguments"))
        #expect(found[2].message.contains("cannot set a int field to a string value"))
        #expect(found[3].message.contains("'log.atributes' is not a path") && found[3].message.contains("'attributes'"))
        #expect(found[0].description.hasPrefix("rules.yaml:6:24: error: processors.transform.trace_statements.0: "))
    }

    @Test func filterSchemaMistakesAreReportedToo() {
        let yaml = Self.pipeline(
            processors: """
                  filter/a:
                    error_mode: loud
                    trace_conditions:
                      - context: spn
                        conditions: ['name == "x"']
                    profile_conditions: ['profile.name == "x"']
                    traces:
                      spans: ['name == "x"']
                  filter/b:
                    logs:
                      log_record:
                        - severity_number < SEVERITY_NUMBER_WARN and
                """, list: "filter/a, filter/b")
        let found = ConfigLoader.load(yaml: yaml, file: "f.yaml").diagnostics.sorted
        #expect(found.map(\.line) == [5, 7, 9, 11, 15], "\(found.map(\.description))")
        #expect(found[0].hint == "one of: ignore, silent, propagate")
        #expect(found[1].hint == "did you mean 'span'?")
        #expect(found[2].message.contains("'profile_conditions' is not supported"))
        #expect(found[3].hint == "did you mean 'span'?")
        #expect(found[4].message.contains("expected a value"))
    }

    @Test func pastedCollectorConfigsLoad() {
        let yaml = Self.pipeline(
            processors: #"""
                  filter/ottl:
                    error_mode: ignore
                    traces:
                      span:
                        - 'attributes["container.name"] == "app_container_1"'
                        - 'resource.attributes["host.name"] == "localhost"'
                      spanevent:
                        - 'true'
                    logs:
                      log_record:
                        - 'IsMatch(body, ".*password.*")'
                  filter:
                    error_mode: propagate
                    trace_conditions:
                      - conditions:
                          - resource.attributes["host.name"] == "localhost"
                      - error_mode: ignore
                        conditions:
                          - span.attributes["container.name"] == "container_1"
                          - span.name == "app_3"
                      - conditions:
                          - spanevent.attributes["grpc"] == true
                          - IsMatch(spanevent.name, ".*grpc.*")
                    log_conditions:
                      - conditions:
                          - IsMatch(log.body, ".*password.*")
                          - log.severity_number < SEVERITY_NUMBER_WARN
                  transform:
                    error_mode: ignore
                    trace_statements:
                      - keep_keys(span.attributes, ["service.name", "service.namespace", "cloud.region", "process.command_line"])
                      - replace_pattern(span.attributes["process.command_line"], "password\\=[^\\s]*(\\s?)", "password=***")
                      - limit(span.attributes, 100, [])
                      - truncate_all(span.attributes, 4096)
                    log_statements:
                      - set(log.severity_text, "FAIL") where log.body == "request failed"
                      - replace_all_matches(log.attributes, "/user/*/list/*", "/user/{userId}/list/{listId}")
                      - replace_all_patterns(log.attributes, "value", "/account/\\d{4}", "/account/{accountId}")
                      - set(log.body, log.attributes["http.route"])
                      - statements:
                          - merge_maps(log.cache, ParseJSON(log.body), "upsert") where IsMatch(log.body, "^\\{")
                          - set(log.attributes["attr1"], log.cache["attr1"])
                          - set(log.attributes["nested.attr3"], log.cache["nested"]["attr3"])
                """#, list: "filter/ottl, filter, transform")
        let result = ConfigLoader.load(yaml: yaml, file: "pasted.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.sorted.map(\.description))")
        #expect(result.stages.stages.map(\.id) == ["filter/ottl", "filter", "transform"])
    }

    @Test func pipelinesOfOneSignalMustAgreeOnProcessors() {
        let yaml = """
            receivers:
              stdin:
            processors:
              filter:
                trace_conditions: ['span.name == "x"']
            exporters:
              stdout:
            service:
              pipelines:
                traces:
                  receivers: [stdin]
                  processors: [filter]
                  exporters: [stdout]
                traces/raw:
                  receivers: [stdin]
                  exporters: [stdout]
            """
        let found = ConfigLoader.load(yaml: yaml, file: "two.yaml").diagnostics.sorted
        #expect(found.count == 1)
        #expect(found.first?.message.contains("must list the same processors") == true)
    }

    @Test func aStageRunsOnlyForTheSignalsThatListIt() throws {
        let yaml = """
            receivers:
              stdin:
            processors:
              filter:
                trace_conditions: ['true']
                log_conditions: ['true']
            exporters:
              stdout:
            service:
              pipelines:
                traces:
                  receivers: [stdin]
                  processors: [filter]
                  exporters: [stdout]
                logs:
                  receivers: [stdin]
                  exporters: [stdout]
            """
        let result = ConfigLoader.load(yaml: yaml, file: "one.yaml")
        #expect(result.diagnostics.isEmpty)
        var spans = TelemetryFixture.spans(
            #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a"},{"name":"b"}]}]}]}"#)
        var logs = TelemetryFixture.logs(
            #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}"#)
        var mask = RowMask()
        var counts: [StageCounts] = []
        result.stages.run(&spans, mask: &mask, counts: &counts)
        #expect(mask.keptCount == 0 && counts[0].filtered == 2)
        counts = []
        result.stages.run(&logs, mask: &mask, counts: &counts)
        #expect(mask.keptCount == 1 && counts[0].filtered == 0)
    }
}

/// `batch` and `memory_limiter` settings: the Collector's checks, with their reasons.
@Suite struct BatchAndMemoryLimiterConfigTests {
    @Test(arguments: [
        ("memory_limiter: {limit_mib: 100}", "check_interval must be greater than zero"),
        ("memory_limiter: {check_interval: 1s}", "set limit_mib or limit_percentage"),
        (
            "memory_limiter: {check_interval: 1s, limit_mib: 100, spike_limit_mib: 100}",
            "spike_limit_mib must be smaller"
        ),
        ("memory_limiter: {check_interval: 1s, limit_percentage: 120}", "limit_percentage must be at most 100"),
        ("batch: {send_batch_size: 100, send_batch_max_size: 10}", "send_batch_max_size must be 0 or at least"),
        ("batch: {metadata_cardinality_limit: many}", "expected a whole number"),
        ("batch: {timeout: soon}", "expected a duration"),
    ])
    func mistakesAreReported(processor: String, expected: String) {
        let name = String(processor.prefix { $0 != ":" })
        let yaml = ProcessorConfigTests.pipeline(processors: "  " + processor, list: name)
        let found = ConfigLoader.load(yaml: yaml, file: "p.yaml").diagnostics.all.map(\.description)
        #expect(found.contains { $0.contains(expected) }, "\(found)")
    }

    @Test func goodSettingsLoadAndLimitsFollowTheCollector() throws {
        let yaml = ProcessorConfigTests.pipeline(
            processors: """
                  memory_limiter: {check_interval: 1s, limit_mib: 1000}
                  memory_limiter/percent: {check_interval: 1s, limit_percentage: 50, spike_limit_percentage: 10}
                  batch: {send_batch_size: 10, send_batch_max_size: 20, timeout: 1s, metadata_keys: [X-Tenant]}
                """, list: "memory_limiter, memory_limiter/percent, batch")
        let loaded = ConfigLoader.load(yaml: yaml, file: "p.yaml")
        #expect(loaded.diagnostics.all.isEmpty, "\(loaded.diagnostics.all)")
        let limiters = loaded.config.memoryLimiters
        #expect(limiters.count == 2)
        // The spike allowance defaults to a fifth of the limit.
        #expect(limiters[0].config.limits(available: 8 << 30) == (soft: 800 << 20, hard: 1000 << 20))
        #expect(limiters[1].config.limits(available: 1000) == (soft: 400, hard: 500))
        let batch = try #require(loaded.config.batching(of: loaded.config.pipelines[0]))
        #expect(batch.sendBatchSize == 10 && batch.sendBatchMaxSize == 20 && batch.timeoutSeconds == 1)
        #expect(batch.metadataKeys == ["x-tenant"] && batch.metadataCardinalityLimit == 1000)
    }
}
