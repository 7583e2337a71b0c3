import Foundation
public import TraplineCore
import TraplineRules
import Yams

/// A pipeline test file (`trapline test`): the pipeline under test and its tests, each with
/// input records and what should come out.
///
/// ```yaml
/// pipeline: demo.yaml              # relative to this file
/// environment: {TRAPLINE_POD_LIST: Fixtures/k8s/kubelet-pods.json}
/// tests:
///   - name: probes are dropped
///     processors: [filter/probes]  # default: every processor of the pipeline
///     input: |                     # OTLP JSON, one request per line; or input_file: capture.otlp
///       {"resourceSpans": […]}
///     expect:
///       received: 2
///       filtered: 1
///       output:
///         some: ['name == "GET /cart"']
///         none: ['name == "GET /healthz"']
///         every: ['attributes["user.email"] == nil']
///       traps: {count: 1, blocked: 1, classes: {tls_handshake_failure: 1}}
///       ter: 0.5
/// ```
@_spi(Plumbing) public struct PipelineTestFile: Sendable {
    /// The test file's path.
    public var path: String
    /// The pipeline file's path (resolved against the test file's folder).
    public var pipeline: String
    /// `${env:…}` values for the pipeline file, over the process environment.
    public var environment: [String: String] = [:]
    /// The tests, in file order.
    public var tests: [PipelineTest] = []

    /// Reads and checks a test file: every problem with its line and column, as the pipeline
    /// file's diagnostics are.
    ///
    /// - Parameter path: the test file.
    /// - Returns: the file, or its problems. Reads the file; allocates the tests.
    public static func load(path: String) -> Result<PipelineTestFile, PipelineTestFileError> {
        var decoder = ConfigDecoder(file: path, environment: ProcessInfo.processInfo.environment)
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            decoder.diagnostics.error("cannot read the test file", at: decoder.rootLocation)
            return .failure(PipelineTestFileError(diagnostics: decoder.diagnostics))
        }
        let root: ConfigNode
        do {
            guard let node = try YAMLComposer.compose(text) else {
                decoder.diagnostics.error("the test file is empty", at: decoder.rootLocation)
                return .failure(PipelineTestFileError(diagnostics: decoder.diagnostics))
            }
            root = decoder.convert(node)
        } catch let error as YamlError {
            decoder.diagnostics.error("not valid YAML: \(decoder.problem(of: error))", at: decoder.location(of: error))
            return .failure(PipelineTestFileError(diagnostics: decoder.diagnostics))
        } catch {
            decoder.diagnostics.error("not valid YAML: \(error)", at: decoder.rootLocation)
            return .failure(PipelineTestFileError(diagnostics: decoder.diagnostics))
        }
        let file = decoder.decodeTestFile(root, path: path)
        guard decoder.diagnostics.isEmpty, let file else {
            return .failure(PipelineTestFileError(diagnostics: decoder.diagnostics))
        }
        return .success(file)
    }
}

/// A test file's problems.
@_spi(Plumbing) public struct PipelineTestFileError: Error, Sendable, CustomStringConvertible {
    /// Every problem, with its line and column.
    public var diagnostics: ConfigDiagnostics
    /// One problem per line.
    public var description: String { diagnostics.sorted.map(\.description).joined(separator: "\n") }
}

/// One test: input records through the pipeline (or some of its processors), and expectations.
@_spi(Plumbing) public struct PipelineTest: Sendable {
    /// Its name, for the result line.
    public var name: String
    /// Its line in the test file.
    public var line: Int
    /// The processors to run, in order; nil runs the pipeline's.
    public var processors: [String]?
    /// The input records.
    public var input: Input
    /// How the input is read (as `--input-format`); default: told from the bytes.
    public var inputFormat = InputFormat.auto
    /// What should come out.
    public var expect = Expectations()

    /// Where a test's records come from.
    public enum Input: Sendable, Hashable {
        /// OTLP JSON written in the test (one request per line, or one document).
        case inline(String)
        /// A capture file (any format `replay` reads), resolved against the test file's folder.
        case file(String)
    }

    /// What should come out of the test's run. Nil and empty entries are not checked.
    public struct Expectations: Sendable {
        /// Record counts: `received`, `forwarded`, `filtered`, `blocked`, `rejected`.
        public var records: [(name: String, value: Int)] = []
        /// OTTL conditions every forwarded record matches.
        public var every: [OutputCondition] = []
        /// OTTL conditions some forwarded record matches.
        public var some: [OutputCondition] = []
        /// OTTL conditions no forwarded record matches.
        public var none: [OutputCondition] = []
        /// Trap events identified.
        public var trapCount: Int?
        /// Of those, the ones blocked.
        public var trapsBlocked: Int?
        /// Trap events by class.
        public var trapClasses: [String: Int] = [:]
        /// The Trap Escape Rate (to a millionth).
        public var ter: Double?
        /// Rejected records by reason (`invalid_utf8`, `rule_error`, …).
        public var rejectedByReason: [String: Int] = [:]
    }

    /// An expectation on the output: one OTTL condition, compiled for each signal it is valid for.
    public struct OutputCondition: Sendable {
        /// The condition's text.
        public var text: String
        /// Its line in the test file.
        public var line: Int
        /// Compiled per signal (a condition on `span.name` only for traces).
        var programs: [Signal: FilterProgram]
    }
}

extension ConfigDecoder {
    fileprivate mutating func decodeTestFile(_ root: ConfigNode, path: String) -> PipelineTestFile? {
        guard let keys = entries(root, at: rootLocation) else { return nil }
        rejectUnknownKeys(keys, known: ["pipeline", "environment", "tests"])
        let folder = (path as NSString).deletingLastPathComponent
        var file = PipelineTestFile(path: path, pipeline: "")
        for key in keys {
            switch key.key {
            case "pipeline":
                if let name = string(key.node, at: key.location) { file.pipeline = Self.resolve(name, in: folder) }
            case "environment":
                for entry in entries(key.node, at: key.location) ?? [] {
                    if let value = string(entry.node, at: entry.location) { file.environment[entry.key] = value }
                }
            case "tests":
                guard case .sequence(let items) = key.node.value else {
                    diagnostics.error("expected a list of tests, found \(key.node.kindName)", at: key.location)
                    continue
                }
                for (index, item) in items.enumerated() {
                    if let test = decodeTest(
                        item, at: item.location(key.location.appending("\(index)")), folder: folder)
                    {
                        file.tests.append(test)
                    }
                }
            default: break
            }
        }
        if file.pipeline.isEmpty { diagnostics.error("'pipeline' is required", at: rootLocation) }
        if file.tests.isEmpty && diagnostics.isEmpty {
            diagnostics.error("the file has no tests", at: rootLocation, hint: "add a list under 'tests'")
        }
        return file
    }

    private mutating func decodeTest(_ node: ConfigNode, at location: ConfigLocation, folder: String) -> PipelineTest? {
        guard let keys = entries(node, at: location) else { return nil }
        rejectUnknownKeys(keys, known: ["name", "processors", "input", "input_file", "input_format", "expect"])
        var name = "test at line \(location.line)"
        var processors: [String]?
        var input: PipelineTest.Input?
        var expect = PipelineTest.Expectations()
        var inputFormat = InputFormat.auto
        for key in keys {
            switch key.key {
            case "name": name = string(key.node, at: key.location) ?? name
            case "input_format": inputFormat = choice(key.node, at: key.location, as: InputFormat.self) ?? .auto
            case "processors": processors = strings(key.node, at: key.location).map(\.0)
            case "input":
                if let text = string(key.node, at: key.location) { input = .inline(text) }
            case "input_file":
                if let path = string(key.node, at: key.location) { input = .file(Self.resolve(path, in: folder)) }
            case "expect": expect = decodeExpectations(key) ?? expect
            default: break
            }
        }
        if keys.contains(where: { $0.key == "input" }) && keys.contains(where: { $0.key == "input_file" }) {
            diagnostics.error("a test has 'input' or 'input_file', not both", at: location)
        }
        guard let input else {
            diagnostics.error("a test needs 'input' (OTLP JSON) or 'input_file'", at: location)
            return nil
        }
        return PipelineTest(
            name: name, line: location.line, processors: processors, input: input, inputFormat: inputFormat,
            expect: expect)
    }

    private mutating func decodeExpectations(_ setting: Entry) -> PipelineTest.Expectations? {
        guard let keys = entries(setting.node, at: setting.location) else { return nil }
        let counts = ["received", "forwarded", "filtered", "blocked", "rejected"]
        rejectUnknownKeys(keys, known: counts + ["output", "traps", "ter", "rejected_by_reason"])
        var expect = PipelineTest.Expectations()
        for key in keys {
            switch key.key {
            case _ where counts.contains(key.key):
                if let value = count(key) { expect.records.append((key.key, value)) }
            case "output":
                guard let kinds = entries(key.node, at: key.location) else { continue }
                rejectUnknownKeys(kinds, known: ["every", "some", "none"])
                for kind in kinds {
                    let conditions = strings(kind.node, at: kind.location).compactMap {
                        outputCondition($0.0, at: $0.1)
                    }
                    switch kind.key {
                    case "every": expect.every = conditions
                    case "some": expect.some = conditions
                    case "none": expect.none = conditions
                    default: break
                    }
                }
            case "traps":
                guard let fields = entries(key.node, at: key.location) else { continue }
                rejectUnknownKeys(fields, known: ["count", "blocked", "classes"])
                for field in fields {
                    switch field.key {
                    case "count": expect.trapCount = count(field)
                    case "blocked": expect.trapsBlocked = count(field)
                    case "classes":
                        for entry in entries(field.node, at: field.location) ?? [] {
                            if let value = count(entry) { expect.trapClasses[entry.key] = value }
                        }
                    default: break
                    }
                }
            case "ter":
                guard let text = key.node.scalar, let value = Double(text), value >= 0 else {
                    diagnostics.error("expected a rate of 0 or more", at: key.location)
                    continue
                }
                expect.ter = value
            case "rejected_by_reason":
                for entry in entries(key.node, at: key.location) ?? [] {
                    if let value = count(entry) { expect.rejectedByReason[entry.key] = value }
                }
            default: break
            }
        }
        return expect
    }

    private mutating func count(_ entry: Entry) -> Int? {
        guard let text = entry.node.scalar, let value = Int(text), value >= 0 else {
            diagnostics.error("expected a count (a whole number of 0 or more)", at: entry.location)
            return nil
        }
        return value
    }

    /// Compiles an output condition for every signal it is valid for; one valid for none is a
    /// problem at its line, with the compiler's message.
    private mutating func outputCondition(_ text: String, at location: ConfigLocation) -> PipelineTest.OutputCondition?
    {
        var programs: [Signal: FilterProgram] = [:]
        var firstProblem: String?
        for (signal, ruleSignal) in [(Signal.traces, RuleSignal.traces), (.logs, .logs), (.metrics, .metrics)] {
            switch RuleGroup.compile(
                statements: [], conditions: [text], signal: ruleSignal, context: nil, errorMode: .propagate)
            {
            case .success(let group): programs[signal] = FilterProgram(groups: [group])
            case .failure(let issues):
                firstProblem =
                    firstProblem ?? issues.all.first.map { "\($0.error.message) (column \($0.error.column))" }
            }
        }
        guard !programs.isEmpty else {
            diagnostics.error("the condition does not compile: \(firstProblem ?? "no signal takes it")", at: location)
            return nil
        }
        return PipelineTest.OutputCondition(text: text, line: location.line, programs: programs)
    }

    private static func resolve(_ path: String, in folder: String) -> String {
        path.hasPrefix("/") || folder.isEmpty ? path : folder + "/" + path
    }
}
