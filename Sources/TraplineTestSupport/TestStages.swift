@_spi(Plumbing) public import TraplineCore
public import TraplineStages

// Stages for tests of the chain, the compliance check and replay.

/// Drops every other span (a filter), to exercise the chain before real processors exist.
public struct DropEveryOtherSpan: Stage {
    public init() {}

    public let id = "test_filter/odd"

    public func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        for row in 0..<batch.count where row % 2 == 1 && mask.drop(row) { counts.filtered += 1 }
    }

    public func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
}

/// Blocks spans with a given kind (as a trap's action would).
public struct BlockKind: Stage {
    public let id: String
    public let kind: Int32

    public init(id: String, kind: Int32) {
        self.id = id
        self.kind = kind
    }

    public func process(_ batch: inout SpanBatch, mask: inout RowMask, counts: inout StageCounts) {
        for row in 0..<batch.count where batch.kinds[row] == kind && mask.drop(row) { counts.blocked += 1 }
    }

    public func process(_ batch: inout LogBatch, mask: inout RowMask, counts: inout StageCounts) {}
}

/// Decoded batches of the generated shop fixtures, one per request.
public enum TelemetryBatches {
    /// `generated/shop-traces.otlp`: 20 requests of 100 spans.
    public static func shopSpans() throws -> [SpanBatch] {
        try FramingVerifier.wholeEvents(try Fixtures.bytes("generated/shop-traces.otlp")).compactMap { event in
            guard case .frame(_, _, let bytes) = event else { return nil }
            return TestDecode.traces(bytes)
        }
    }

    /// `generated/shop-logs.varint.otlp`: the shop's log records, varint-delimited.
    public static func shopLogs() throws -> [LogBatch] {
        var options = ReadOptions()
        options.signal = .logs
        let events = try FramingVerifier.wholeEvents(
            try Fixtures.bytes("generated/shop-logs.varint.otlp"), options: options)
        return events.compactMap { event in
            guard case .frame(_, _, let bytes) = event else { return nil }
            return TestDecode.logs(bytes)
        }
    }
}
