import Testing
import TraplineCore
import TraplineTestSupport

/// Trapline's decoder against libprotobuf-c on generated and damaged requests: both accept or
/// both reject, and what both accept decodes to the same fields.
@Suite struct DifferentialTests {
    /// Checks libprotobuf-c does not make (it keeps strings as C strings and has no id or depth
    /// rules), so Trapline may reject for them alone.
    static let schemaOnlyReasons: Set<DecodeError.Code> = [.invalidUTF8, .invalidIDLength, .nestingTooDeep]

    enum Outcome { case bothAccepted, bothRejected, onlyTraplineRejected }

    @discardableResult
    func compare(_ signal: Signal, _ bytes: [UInt8], label: String) -> Outcome {
        let ours: (dump: String, rejections: BatchRejections)
        switch signal {
        case .traces:
            let batch = TestDecode.traces(bytes)
            ours = (BatchDump.render(batch), batch.rejections)
        case .logs:
            let batch = TestDecode.logs(bytes)
            ours = (BatchDump.render(batch), batch.rejections)
        }
        let oracle = Oracle.dump(signal, bytes)
        if ours.rejections.isEmpty {
            #expect(oracle != nil, "\(label): Trapline accepted what libprotobuf-c rejects")
            if let oracle { #expect(ours.dump == oracle, "\(label): fields differ") }
            return .bothAccepted
        } else if oracle != nil {
            let reasons = Set(ours.rejections.errors.map(\.code))
            #expect(
                reasons.isSubset(of: Self.schemaOnlyReasons),
                "\(label): Trapline rejected (\(reasons)) what libprotobuf-c accepts")
            return .onlyTraplineRejected
        }
        return .bothRejected
    }

    @Test func generatedTraceRequestsAgree() {
        var generator = RequestGenerator(seed: 2024)
        var outcomes: [Outcome: Int] = [:]
        for index in 0..<2000 {
            let request = generator.traceRequest()
            #expect(compare(.traces, request, label: "traces #\(index)") == .bothAccepted)
            outcomes[compare(.traces, generator.mutate(request), label: "mutated traces #\(index)"), default: 0] += 1
        }
        // The damaged half must exercise both sides of the comparison, not only one.
        #expect(outcomes[.bothAccepted, default: 0] > 200)
        #expect(outcomes[.bothRejected, default: 0] > 200)
    }

    @Test func generatedLogRequestsAgree() {
        var generator = RequestGenerator(seed: 77)
        var outcomes: [Outcome: Int] = [:]
        for index in 0..<1500 {
            let request = generator.logsRequest()
            #expect(compare(.logs, request, label: "logs #\(index)") == .bothAccepted)
            outcomes[compare(.logs, generator.mutate(request), label: "mutated logs #\(index)"), default: 0] += 1
        }
        #expect(outcomes[.bothAccepted, default: 0] > 150)
        #expect(outcomes[.bothRejected, default: 0] > 150)
    }

    @Test(arguments: [
        ("corpus/otlp/ctraces/sample_trace.bin", Signal.traces), ("corpus/otlp/otlp2parquet/trace.pb", .traces),
        ("corpus/otlp/otlp2parquet/traces.pb", .traces), ("corpus/otlp/otlp2parquet/logs.pb", .logs),
        ("generated/shop-traces-single.pb", .traces),
    ])
    func fixturesAgree(path: String, signal: Signal) throws {
        compare(signal, try Fixtures.bytes(path), label: path)
    }

    /// Copy-through and column encodings both re-decode, in libprotobuf-c, to the input's fields.
    @Test func encodingsPreserveEveryField() {
        var generator = RequestGenerator(seed: 99)
        for index in 0..<600 {
            let traces = generator.traceRequest()
            let spanBatch = TestDecode.traces(traces)
            guard spanBatch.rejections.isEmpty else { continue }
            let expected = Oracle.dump(.traces, traces)
            #expect(Oracle.dump(.traces, TestDecode.encode(spanBatch)) == expected, "traces #\(index) copy-through")
            #expect(
                Oracle.dump(.traces, TestDecode.encode(spanBatch, fromColumns: true)) == expected,
                "traces #\(index) columns")
            let logs = generator.logsRequest()
            let logBatch = TestDecode.logs(logs)
            guard logBatch.rejections.isEmpty else { continue }
            let expectedLogs = Oracle.dump(.logs, logs)
            #expect(Oracle.dump(.logs, TestDecode.encode(logBatch)) == expectedLogs, "logs #\(index) copy-through")
            #expect(
                Oracle.dump(.logs, TestDecode.encode(logBatch, fromColumns: true)) == expectedLogs,
                "logs #\(index) columns")
        }
    }
}
