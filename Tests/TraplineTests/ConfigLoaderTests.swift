import Foundation
import Testing
@_spi(Plumbing) import TraplineCore
@_spi(Plumbing) import TraplineTestSupport

@_spi(Plumbing) @testable import Trapline

@Suite struct ConfigLoaderTests {
    static var pipelineFiles: [String] {
        let directory = Fixtures.root.appendingPathComponent("Pipelines").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yaml") && !$0.hasSuffix(".test.yaml") }.sorted().map { directory + "/" + $0 }
    }

    @Test func pipelineFilesExist() {
        #expect(Self.pipelineFiles.count >= 3)
    }

    @Test(arguments: pipelineFiles)
    func everyShippedPipelineValidates(path: String) {
        let result = ConfigLoader.load(path: path, environment: [:])
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.sorted.map(\.description))")
        #expect(!result.config.pipelines.isEmpty)
    }

    @Test func builtInDefaultIsThePipelinesFile() throws {
        let file = try String(
            contentsOf: Fixtures.root.appendingPathComponent("Pipelines/default.yaml"), encoding: .utf8)
        #expect(DefaultPipeline.yaml == file)
        let result = ConfigLoader.load(yaml: DefaultPipeline.yaml, file: DefaultPipeline.fileName)
        #expect(result.diagnostics.isEmpty)
        #expect(result.config.pipelines.map(\.signal) == [.traces, .logs, .metrics])
    }

    @Test func builtInRuntimeTrapPackIsItsPipelinesFile() throws {
        let file = try String(
            contentsOf: Fixtures.root.appendingPathComponent("Pipelines/traps/runtime.yaml"), encoding: .utf8)
        #expect(BuiltinTrapPacks.runtimeYAML == file)
        let pack = BuiltinTrapPacks.decodePack(file, file: BuiltinTrapPacks.runtimeFileName)
        #expect(pack.diagnostics.isEmpty, "\(pack.diagnostics.sorted.map(\.description))")
        #expect(
            pack.rules.map(\.trapClass) == [
                "latency_slo_breach", "tls_handshake_failure", "waf_block_legitimate", "sampling_below_floor",
                "export_success_below_floor", "probe_success_below_floor",
            ])
        // The latency, export and probe rules keep baselines; the fixed objective is an option.
        #expect(pack.rules.map { $0.baseline != nil } == [true, false, false, false, true, true])
        // Every rule compiles: a pipeline using the pack loads without problems.
        let result = ConfigLoader.load(
            yaml: """
                receivers: {stdin: }
                processors: {traps: {rules: [{builtin: runtime}]}}
                exporters: {stdout: }
                service: {pipelines: {traces: {receivers: [stdin], processors: [traps], exporters: [stdout]}}}
                """, file: "inline.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.sorted.map(\.description))")
    }

    @Test func everyMistakeIsReportedWithItsLineAndColumn() {
        let yaml = """
            receivers:
              file/in:
                includ: [a.json]
              kafka:
                brokers: [x]
            exporters:
              file/out:
                path: out.json
                format: protobuf
              prometheus:
                path: m.prom
                endpoint: ":9464"
            service:
              pipelines:
                traces:
                  receivers: [file/in]
                  exporters: [file/outt, prometheus]
                metrics:
                  receivers: [file/in]
                  exporters: [file/out, spanmetrics]
            """
        let found = ConfigLoader.load(yaml: yaml, file: "bad.yaml").diagnostics.sorted
        let positions = found.map { "\($0.line):\($0.column) \($0.path)" }
        #expect(
            positions == [
                "2:3 receivers.file/in",  // include missing
                "3:5 receivers.file/in.includ",  // unknown key, nearest 'include'
                "4:3 receivers.kafka",  // unsupported type
                "9:5 exporters.file/out.format",  // invalid value
                "10:3 exporters.prometheus",  // both endpoint and path
                "10:3 exporters.prometheus",  // and an endpoint without an otlp receiver does not start
                "17:19 service.pipelines.traces.exporters",  // undefined reference
                "20:29 service.pipelines.metrics.exporters",  // a connector only a traces pipeline exports to
            ])
        #expect(found[1].hint == "did you mean 'include'?")
        #expect(
            found[2].message.contains("kafka")
                && found[2].hint?.contains("file, filelog, otlp, otlpjsonfile, stdin") == true)
        #expect(found[6].hint == "did you mean 'file/out'?")
        #expect(found[0].description.hasPrefix("bad.yaml:2:3: error: receivers.file/in: "))
        // OTLP metrics flow from a file like any signal; only the undefined exporter is wrong.
        #expect(found[7].message == "exporter 'spanmetrics' is not defined")
    }

    /// `prometheus` carries Trapline's own metrics: a pipeline that exports only there would
    /// count its records forwarded and write them nowhere, so it is refused (as the Collector
    /// refuses a prometheus exporter in a traces pipeline).
    @Test func aPipelineExportingOnlyToPrometheusIsRefused() {
        for signal in ["traces", "logs", "metrics"] {
            let yaml = """
                receivers: {stdin: }
                exporters: {prometheus: {path: m.prom}}
                service: {pipelines: {\(signal): {receivers: [stdin], exporters: [prometheus]}}}
                """
            let found = ConfigLoader.load(yaml: yaml, file: "p.yaml").diagnostics.sorted
            #expect(
                found.map(\.message) == [
                    "pipeline '\(signal)' writes its records nowhere: 'prometheus' exports Trapline's own metrics"
                ])
        }
    }

    @Test func duplicateIdsAreReported() {
        let yaml = """
            receivers:
              stdin:
              stdin:
            service:
            """
        let messages = ConfigLoader.load(yaml: yaml, file: "dup.yaml").diagnostics.sorted.map {
            "\($0.line): \($0.message)"
        }
        #expect(messages == ["3: duplicate key 'stdin' in this mapping (first at line 2)"])
    }

    /// A duplicate key no longer hides the file's other problems (issue 22): each is reported
    /// where it stands, with the rest.
    @Test func aDuplicateKeyIsReportedWithEveryOtherProblem() {
        let yaml = """
            receivers:
              stdin:
            exporters:
              stdout:
              stdout:
                format: proto
            processors:
              filter:
                trace_conditions: ['name == ']
                trace_conditions: []
            service:
              pipelines:
                traces:
                  receivers: [stdin]
                  processors: [filter]
                  exporters: [stdot]
            """
        let messages = ConfigLoader.load(yaml: yaml, file: "dup.yaml").diagnostics.sorted.map {
            "\($0.line):\($0.column): \($0.message)"
        }
        #expect(messages.count == 4, "\(messages)")
        #expect(messages.contains("5:3: duplicate key 'stdout' in this mapping (first at line 4)"))
        #expect(messages.contains("10:5: duplicate key 'trace_conditions' in this mapping (first at line 9)"))
        #expect(messages.contains { $0.hasPrefix("9:") }, "the rule error is lost: \(messages)")
        #expect(messages.contains { $0.hasPrefix("16:") && $0.contains("'stdot' is not defined") })
    }

    /// `$$` is a literal `$`, as in the Collector's confmap: `$$1` reaches the replacement as
    /// `$1` and `$${env:X}` stays literal text; a lone `$` is itself.
    @Test func doubleDollarIsALiteralDollar() {
        var decoder = ConfigDecoder(file: "x.yaml", environment: ["NAME": "v"])
        let at = ConfigLocation(path: "", file: "x.yaml", line: 1, column: 1)
        #expect(decoder.substitute("X-$$1", at: at) == "X-$1")
        #expect(decoder.substitute("k8s.pod.labels.$$1", at: at) == "k8s.pod.labels.$1")
        #expect(decoder.substitute("$${env:NAME} is ${env:NAME}", at: at) == "${env:NAME} is v")
        #expect(decoder.substitute("^a$ costs $5 $", at: at) == "^a$ costs $5 $")
        #expect(decoder.substitute("$$$$", at: at) == "$$")
        #expect(decoder.diagnostics.isEmpty)
    }

    @Test func wrongTypesAreReported() {
        let yaml = """
            receivers:
              stdin:
            exporters:
              stdout: [json]
            service:
              pipelines: []
            """
        let messages = ConfigLoader.load(yaml: yaml, file: "types.yaml").diagnostics.sorted.map {
            "\($0.line): \($0.message)"
        }
        #expect(messages == ["4: expected a mapping, found a list", "6: expected a mapping, found a list"])
    }

    @Test func environmentVariablesAreSubstituted() {
        let yaml = """
            receivers:
              file:
                include: ["${env:CAPTURES}/*.json", "${env:MORE:-extra}/*.pb"]
            exporters:
              file:
                path: ${env:MISSING}
            service:
              pipelines:
                logs:
                  receivers: [file]
                  exporters: [file]
            """
        let result = ConfigLoader.load(yaml: yaml, file: "env.yaml", environment: ["CAPTURES": "/data"])
        guard case .file(let file)? = result.config.receiver(ComponentID(parsing: "file")!) else {
            Issue.record("no file receiver")
            return
        }
        #expect(file.include == ["/data/*.json", "extra/*.pb"])
        #expect(
            result.diagnostics.sorted.map(\.message) == [
                "'path' is required", "environment variable MISSING is not set",
            ])
    }

    @Test func brokenYAMLSaysWhere() {
        let found = ConfigLoader.load(yaml: "receivers:\n  stdin:\n exporters: [\n", file: "broken.yaml").diagnostics
            .sorted
        #expect(found.count == 1)
        #expect(found.first?.line == 3)
        #expect(found.first?.message.hasPrefix("not valid YAML") == true)
    }

    /// A fuzz finding (`regressions/fuzz/config/`): a file whose first line holds 86 lone CRs.
    /// YAML ends a line at a lone CR as at LF, and so do the diagnostics' line numbers.
    @Test func loneCarriageReturnsEndLinesInDiagnostics() throws {
        let text = String(
            decoding: try Fixtures.bytes("regressions/fuzz/config/lone-cr-line-breaks.yaml"), as: UTF8.self)
        let result = ConfigLoader.load(yaml: text, file: "lone-cr.yaml", environment: [:])
        #expect(result.diagnostics.sorted.map(\.line) == [90])
        let small = ConfigLoader.load(yaml: "receivers: {}\r\rprocessors: [\r", file: "cr.yaml", environment: [:])
        #expect(small.diagnostics.sorted.map(\.line) == [4])
    }

    /// A fuzz finding (`regressions/fuzz/config/`): one mapping repeats three keys and a key that
    /// is itself a list. Yams then names a different place on every run; the diagnostics must not
    /// change from one load to the next.
    @Test func duplicateKeysGiveTheSameDiagnosticsEveryTime() throws {
        let bytes = try Fixtures.bytes("regressions/fuzz/config/duplicate-list-keys.yaml")
        let text = String(decoding: bytes, as: UTF8.self)
        let first = ConfigLoader.load(yaml: text, file: "fuzz.yaml", environment: [:]).diagnostics.sorted
        #expect(
            first.map(\.message) == [
                "a mapping or list used as a key, more than once in one mapping",
                "duplicate key 'connectors' in this mapping", "duplicate key 'processors' in this mapping",
                "duplicate key 'receivers' in this mapping",
            ])
        for _ in 0..<20 {
            let again = ConfigLoader.load(yaml: text, file: "fuzz.yaml", environment: [:]).diagnostics.sorted
            #expect(again.map(\.description) == first.map(\.description))
        }
    }

    /// The config fuzz target's timeout (`regressions/fuzz/config/long-key-regex.yaml`): a
    /// `key_regex` of a hundred `.`s (K8sAttributesTests shows it matching). The regex itself is
    /// valid; the mutations around it are what is reported.
    @Test func longKeyRegexFindingGivesItsDiagnostics() throws {
        let bytes = try Fixtures.bytes("regressions/fuzz/config/long-key-regex.yaml")
        let text = String(decoding: bytes, as: UTF8.self)
        let diagnostics = ConfigLoader.load(yaml: text, file: "fuzz.yaml", environment: [:]).diagnostics.sorted
        #expect(diagnostics.map(\.line) == [20, 28, 35, 48, 64])
        #expect(!diagnostics.contains { $0.message.contains("regex") || $0.line == 33 })
    }
}
