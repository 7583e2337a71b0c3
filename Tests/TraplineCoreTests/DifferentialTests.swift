import Testing
import TraplineCore
import TraplineTestSupport

/// Trapline's decoder against libprotobuf-c on generated and damaged requests: both accept or
/// both reject, and what both accept decodes to the same fields.
@Suite struct DifferentialTests {
    enum Outcome { case bothAccepted, bothRejected, onlyTraplineRejected, onlyOracleRejected }

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
            guard let oracle else {
                #expect(
                    OracleAgreement.containsGroup(bytes), "\(label): Trapline accepted what libprotobuf-c rejects")
                return .onlyOracleRejected
            }
            #expect(ours.dump == oracle, "\(label): fields differ")
            return .bothAccepted
        } else if oracle != nil {
            let reasons = Set(ours.rejections.errors.map(\.code))
            #expect(
                reasons.isSubset(of: OracleAgreement.traplineOnlyReasons),
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

    /// A fuzz finding (`regressions/fuzz/differential/`): `AnyValue.bool_value` sent as bytes.
    /// libprotobuf-c (and upb) read it as an unknown field; Trapline loses that span, says why,
    /// and keeps the other 17.
    @Test func boolValueSentAsBytesIsDamageOnlyTraplineReports() throws {
        let bytes = try Fixtures.bytes("regressions/fuzz/differential/bool-value-as-bytes.pb")
        #expect(compare(.traces, bytes, label: "bool-value-as-bytes") == .onlyTraplineRejected)
        let batch = TestDecode.traces(bytes)
        #expect(batch.count == 17)
        #expect(batch.rejections.errors.map(\.code).contains(.wrongWireType))
        compare(.logs, bytes, label: "bool-value-as-bytes as logs")
    }

    /// A fuzz finding (`regressions/fuzz/differential/`): a varint of 31 bytes, where the wire
    /// format allows 10. libprotobuf-c reads on through it; Trapline (like upb) rejects the record.
    @Test func overlongVarintIsDamageOnlyTraplineReports() throws {
        let bytes = try Fixtures.bytes("regressions/fuzz/differential/overlong-varint.pb")
        #expect(compare(.traces, bytes, label: "overlong-varint") == .onlyTraplineRejected)
        #expect(TestDecode.traces(bytes).rejections.errors.map(\.code) == [.varintTooLong])
        compare(.logs, bytes, label: "overlong-varint as logs")
    }

    /// A fuzz finding (`regressions/fuzz/differential/`): a field numbered 0, which protobuf
    /// forbids. libprotobuf-c skips it; Trapline (like upb) rejects the record.
    @Test func fieldNumberZeroIsDamageOnlyTraplineReports() throws {
        let bytes = try Fixtures.bytes("regressions/fuzz/differential/field-number-zero.pb")
        #expect(compare(.traces, bytes, label: "field-number-zero") == .onlyTraplineRejected)
        #expect(TestDecode.traces(bytes).rejections.errors.map(\.code) == [.fieldNumberZero])
        compare(.logs, bytes, label: "field-number-zero as logs")
    }

    /// A fuzz finding (`regressions/fuzz/differential/`): a group (wire type 3) in a field no
    /// message knows. The wire format lets a reader skip it, as Trapline and upb do;
    /// libprotobuf-c rejects every group. Trapline's re-encoding drops it, and libprotobuf-c
    /// reads that back with the fields Trapline decoded.
    @Test func groupInAnUnknownFieldIsSkipped() throws {
        let bytes = try Fixtures.bytes("regressions/fuzz/differential/group-in-unknown-field.pb")
        #expect(OracleAgreement.containsGroup(bytes))
        #expect(Oracle.dump(.traces, bytes) == nil)
        let batch = TestDecode.traces(bytes)
        #expect(batch.rejections.isEmpty)
        #expect(batch.count > 0)
        #expect(compare(.traces, bytes, label: "group-in-unknown-field") == .onlyOracleRejected)
    }
}
