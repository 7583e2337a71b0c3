import Foundation

/// A `batch` processor's settings, as the exporters downstream of it apply them.
public struct BatchSettings: Hashable, Sendable {
    /// Records (spans, log records) after which a batch is sent (default 8192; 0: only the
    /// timeout sends).
    public var sendBatchSize = 8192
    /// The most records one batch holds (0: no limit). A single request larger than this is
    /// sent alone, not split.
    public var sendBatchMaxSize = 0
    /// How long the first request of a batch waits for others (default 200 ms).
    public var timeoutSeconds = 0.2
    /// Client metadata (request header names, lowercased) whose values get batches of their
    /// own: requests of different tenants are never merged. Only the sidecar's requests carry
    /// metadata; files and stdin batch together, as the Collector's without metadata.
    public var metadataKeys: [String] = []
    /// The most distinct metadata value combinations batched at once (default 1000); a
    /// request bringing one more is refused with 503.
    public var metadataCardinalityLimit = 1000
    /// The most bytes one merged send holds (0: no limit); not a Collector setting: the
    /// `loadbalancing` exporter's backends merge their shares under it, below gRPC's 4 MiB.
    package var sendBatchMaxBytes = 0

    /// The Collector's defaults. Allocates nothing.
    public init() {}

    /// The batch key of a request with these headers: the values of `metadataKeys`, in order
    /// (empty when there are none). Allocates the key.
    package func metadata(_ header: (String) -> [String]) -> String {
        metadataKeys.map { key in key + "=" + header(key).joined(separator: ",") }.joined(separator: ";")
    }

    /// Whether a batch of `records` is full.
    package func isFull(_ records: Int) -> Bool { sendBatchSize > 0 && records >= sendBatchSize }

    /// Whether `more` records (of `moreBytes`) still fit in a batch of `records` (of `bytes`).
    package func fits(_ more: Int, in records: Int, moreBytes: Int = 0, bytes: Int = 0) -> Bool {
        guard records > 0 else { return true }
        return (sendBatchMaxSize == 0 || records + more <= sendBatchMaxSize)
            && (sendBatchMaxBytes == 0 || bytes + moreBytes <= sendBatchMaxBytes)
    }

    /// What a `loadbalancing` exporter's backend does without a `batch` processor: a send
    /// takes along whatever shares are queued for it (up to 1 MiB), and waits for none. A
    /// request split three ways would otherwise become three sends of a third each, and the
    /// per-send cost of gRPC made the split 0.55 times as fast as one direct export.
    package static var coalescing: BatchSettings {
        var settings = BatchSettings()
        settings.sendBatchSize = 0
        settings.timeoutSeconds = 0
        settings.sendBatchMaxBytes = 1 << 20
        return settings
    }
}

/// Encoded requests of one signal merged into one, without decoding them: protobuf messages
/// concatenate (their repeated `resource_spans`/`resource_logs` append, as the protobuf
/// encoding defines), and OTLP JSON lines are joined inside their one top-level array.
struct RequestBatch {
    /// The merged request: a bare protobuf message, or one JSON line.
    private(set) var bytes: [UInt8] = []
    /// Records in it.
    private(set) var records = 0
    /// When its first request came.
    private(set) var started: ContinuousClock.Instant?
    let isJSON: Bool

    init(isJSON: Bool) { self.isJSON = isJSON }

    var isEmpty: Bool { started == nil }

    /// Adds one request: a bare protobuf message (or one framed with a 4-byte length, which
    /// is dropped), or one JSON line `{"resourceSpans":[…]}`.
    mutating func add(_ request: [UInt8], records: Int, framed: Bool) {
        if started == nil { started = .now }
        self.records += records
        if !isJSON {
            bytes += framed ? request.dropFirst(4) : request[...]
            return
        }
        // `{"resourceX":[` … `]}\n`: the first request keeps its head; each one after joins its
        // array's items on with a comma.
        guard let open = request.firstIndex(of: UInt8(ascii: "[")) else { return }
        var end = request.endIndex
        while end > open, request[end - 1] == 0x0A || request[end - 1] == 0x0D { end -= 1 }
        end -= 2  // `]}`
        guard end > open else { return }
        if bytes.isEmpty {
            bytes += request[..<end]
        } else if end > open + 1 {
            bytes.append(UInt8(ascii: ","))
            bytes += request[(open + 1)..<end]
        }
    }

    /// The merged request, ready to write (a JSON line closed and ended), and the batch
    /// emptied.
    mutating func take() -> (bytes: [UInt8], records: Int) {
        defer {
            bytes.removeAll(keepingCapacity: true)
            records = 0
            started = nil
        }
        if isJSON && !bytes.isEmpty { bytes += Array("]}\n".utf8) }
        return (bytes, records)
    }

    /// Whether the first request has waited `timeout`.
    func isDue(_ settings: BatchSettings, now: ContinuousClock.Instant) -> Bool {
        guard let started else { return false }
        return now - started >= .milliseconds(Int64(settings.timeoutSeconds * 1000))
    }
}
