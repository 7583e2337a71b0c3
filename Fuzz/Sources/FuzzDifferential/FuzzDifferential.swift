// libFuzzer target: Trapline's protobuf decoder against libprotobuf-c (protoc-c generated OTLP
// code) on the same bytes, as either signal. Both accept or both reject; what both accept holds
// the same fields (BatchDump renders Trapline's columns in the oracle's canonical text); and
// both of Trapline's encodings of it re-decode, in libprotobuf-c, to those fields (in Trapline,
// when a group inside a nested value went out again and libprotobuf-c cannot read it). Trapline may
// accept alone only input with groups, and reject alone only for checks libprotobuf-c does not
// make (OracleAgreement, linked from the main package's test support). Build and run with
// Fuzz/run.sh.
import COTLPOracle
import FuzzDriver
@_spi(Plumbing) import TraplineCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let input = InputBuffer(bytes)
    let decoder = OTLPProtobufDecoder()
    var spans = SpanBatch()
    decoder.decodeTraces(input: input, frame: 0..<bytes.count, sourceOffset: 0, into: &spans)
    compare(
        signal: OTLP_ORACLE_TRACES, bytes, accepted: spans.rejections.isEmpty,
        reasons: spans.rejections.errors.map(\.reason), dump: { BatchDump.render(spans) },
        encodings: { [encode(spans, fromColumns: false), encode(spans, fromColumns: true)] },
        redecode: { encoded in
            var again = SpanBatch()
            decoder.decodeTraces(input: InputBuffer(encoded), frame: 0..<encoded.count, sourceOffset: 0, into: &again)
            return BatchDump.render(again)
        })
    var logs = LogBatch()
    decoder.decodeLogs(input: input, frame: 0..<bytes.count, sourceOffset: 0, into: &logs)
    compare(
        signal: OTLP_ORACLE_LOGS, bytes, accepted: logs.rejections.isEmpty,
        reasons: logs.rejections.errors.map(\.reason), dump: { BatchDump.render(logs) },
        encodings: { [encode(logs, fromColumns: false), encode(logs, fromColumns: true)] },
        redecode: { encoded in
            var again = LogBatch()
            decoder.decodeLogs(input: InputBuffer(encoded), frame: 0..<encoded.count, sourceOffset: 0, into: &again)
            return BatchDump.render(again)
        })
    return 0
}

func compare(
    signal: Int, _ bytes: [UInt8], accepted: Bool, reasons: [Rejection.Reason], dump: () -> String,
    encodings: () -> [[UInt8]], redecode: ([UInt8]) -> String
) {
    let oracle = oracleDump(signal, bytes)
    if accepted {
        guard let oracle else {
            // libprotobuf-c rejects groups, which the wire format allows and Trapline skips:
            // then what Trapline kept, re-encoded without them, must read back the same.
            FuzzDriver.require(
                OracleAgreement.containsGroup(bytes), "Trapline accepted what libprotobuf-c rejects (signal \(signal))")
            let ours = dump()
            for encoded in encodings() {
                guard let readBack = oracleDump(signal, encoded) else {
                    // A group inside an array or key-value list goes out again with the value's
                    // bytes (nested values are copied as they came, unknown fields and all), so
                    // libprotobuf-c cannot read the encoding either: Trapline reads it back instead.
                    FuzzDriver.require(
                        OracleAgreement.containsGroup(encoded), "libprotobuf-c rejects an encoding (signal \(signal))")
                    FuzzDriver.require(
                        redecode(encoded) == ours, "an encoding with a group lost or changed fields (signal \(signal))")
                    continue
                }
                FuzzDriver.require(readBack == ours, "an encoding lost or changed fields (signal \(signal))")
            }
            return
        }
        let ours = dump()
        FuzzDriver.require(
            ours == oracle, "fields differ (signal \(signal)):\n--- Trapline\n\(ours)--- libprotobuf-c\n\(oracle)")
        for encoded in encodings() {
            FuzzDriver.require(
                oracleDump(signal, encoded) == oracle, "an encoding lost or changed fields (signal \(signal))")
        }
    } else if oracle != nil {
        FuzzDriver.require(
            Set(reasons).isSubset(of: OracleAgreement.traplineOnlyReasons),
            "Trapline rejected (\(reasons)) what libprotobuf-c accepts (signal \(signal))")
    }
}

/// libprotobuf-c's canonical dump, or nil when it rejects the bytes.
func oracleDump(_ signal: Int, _ bytes: [UInt8]) -> String? {
    bytes.withUnsafeBufferPointer { buffer in
        var out: UnsafeMutablePointer<CChar>?
        guard otlp_oracle_dump(Int32(signal), buffer.baseAddress, buffer.count, &out) == 0, let out else { return nil }
        defer { otlp_oracle_free(out) }
        return String(cString: out)
    }
}

func encode(_ batch: SpanBatch, fromColumns: Bool) -> [UInt8] {
    let writer = WireWriter()
    OTLPProtobufEncoder(framing: .none, encodeFromColumns: fromColumns).encode(batch, into: writer)
    return Array(writer.bytes)
}

func encode(_ batch: LogBatch, fromColumns: Bool) -> [UInt8] {
    let writer = WireWriter()
    OTLPProtobufEncoder(framing: .none, encodeFromColumns: fromColumns).encode(batch, into: writer)
    return Array(writer.bytes)
}
