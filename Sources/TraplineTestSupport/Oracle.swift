import COTLPOracle
public import TraplineCore

/// libprotobuf-c, through protoc-c generated code: the independent decoder differential tests
/// compare Trapline with.
public enum Oracle {
    /// libprotobuf-c's canonical dump of the request, or `nil` when it rejects the bytes.
    public static func dump(_ signal: Signal, _ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { buffer in
            var out: UnsafeMutablePointer<CChar>?
            let status = otlp_oracle_dump(code(signal), buffer.baseAddress, buffer.count, &out)
            guard status == 0, let out else { return nil }
            defer { otlp_oracle_free(out) }
            return String(cString: out)
        }
    }

    /// Record count libprotobuf-c finds, or `nil` when it rejects the bytes.
    public static func recordCount(_ signal: Signal, _ bytes: UnsafeRawBufferPointer) -> Int? {
        let count = otlp_oracle_unpack_count(
            code(signal), bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        return count < 0 ? nil : count
    }

    private static func code(_ signal: Signal) -> Int32 {
        signal == .traces ? Int32(OTLP_ORACLE_TRACES) : Int32(OTLP_ORACLE_LOGS)
    }
}

/// Decodes bytes with Trapline into fresh batches (test convenience).
public enum TestDecode {
    /// Decodes one trace request.
    public static func traces(_ bytes: [UInt8], sourceOffset: Int = 0) -> SpanBatch {
        var batch = SpanBatch()
        let input = InputBuffer(bytes)
        OTLPProtobufDecoder().decodeTraces(
            input: input, frame: 0..<bytes.count, sourceOffset: sourceOffset, into: &batch)
        return batch
    }

    /// Decodes one logs request.
    public static func logs(_ bytes: [UInt8], sourceOffset: Int = 0) -> LogBatch {
        var batch = LogBatch()
        let input = InputBuffer(bytes)
        OTLPProtobufDecoder().decodeLogs(input: input, frame: 0..<bytes.count, sourceOffset: sourceOffset, into: &batch)
        return batch
    }

    /// Decodes one metrics request.
    public static func metrics(_ bytes: [UInt8], sourceOffset: Int = 0) -> MetricBatch {
        var batch = MetricBatch()
        let input = InputBuffer(bytes)
        OTLPProtobufDecoder().decodeMetrics(
            input: input, frame: 0..<bytes.count, sourceOffset: sourceOffset, into: &batch)
        return batch
    }

    /// Encodes a batch as a bare request (no frame prefix).
    public static func encode(_ batch: SpanBatch, fromColumns: Bool = false) -> [UInt8] {
        let writer = WireWriter()
        OTLPProtobufEncoder(framing: .none, encodeFromColumns: fromColumns).encode(batch, into: writer)
        return Array(writer.bytes)
    }

    /// Encodes a batch as a bare request (no frame prefix).
    public static func encode(_ batch: LogBatch, fromColumns: Bool = false) -> [UInt8] {
        let writer = WireWriter()
        OTLPProtobufEncoder(framing: .none, encodeFromColumns: fromColumns).encode(batch, into: writer)
        return Array(writer.bytes)
    }

    /// Encodes a metrics batch as a bare request, leaving out what `mask` drops.
    public static func encode(_ batch: MetricBatch, keeping mask: RowMask? = nil, fromColumns: Bool = false) -> [UInt8]
    {
        let writer = WireWriter()
        OTLPProtobufEncoder(framing: .none, encodeFromColumns: fromColumns).encode(batch, keeping: mask, into: writer)
        return Array(writer.bytes)
    }
}
