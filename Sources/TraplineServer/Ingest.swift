import NIOCore
import Synchronization
@_spi(Plumbing) package import Trapline
package import TraplineCore
import TraplineStages

/// Why a request of a known signal was refused before its message was read. HTTP answers each
/// with 503 and `Retry-After`; gRPC with `UNAVAILABLE` or `RESOURCE_EXHAUSTED` and `RetryInfo`.
package enum IngestRefusal: Error, Equatable {
    case shuttingDown
    /// A `memory_limiter` of the signal's pipelines is above its soft limit.
    case highMemory(limiter: String)
    /// One `metadata_keys` combination more than the exporter's `metadata_cardinality_limit`.
    case metadataCardinality(limit: Int)
    /// An exporter's sending queue (with the slots already promised) is full.
    case queueFull

    package var message: String {
        switch self {
        case .shuttingDown: "shutting down"
        case .highMemory(let limiter): "data refused due to high memory usage (\(limiter)); retry later"
        case .metadataCardinality(let limit):
            "too many combinations of metadata_keys values (metadata_cardinality_limit \(limit))"
        case .queueFull: "the sending queue is full; retry later"
        }
    }

    /// How long a client should wait before it sends again.
    package var retryAfterSeconds: Int { self == .shuttingDown ? 5 : 1 }
}

/// What the HTTP and gRPC receivers share: one admission decision per request before its
/// body is read, and one path from the request's bytes through the pipeline to the exporters.
extension Sidecar {
    /// Decides on a request of `signal` before its body is read: refused while shutting down or
    /// above a memory limit, else a slot promised in every exporter of the signal.
    ///
    /// - Parameter metadata: the request's header or gRPC metadata values of a name.
    package func admit(signal: Signal, metadata: (String) -> [String]) -> Result<Reservation?, IngestRefusal> {
        if isStopping { return .failure(.shuttingDown) }
        // Memory first: above a memory_limiter's soft limit nothing more is taken in, as the
        // Collector's receivers refuse what its memory_limiter refuses.
        for monitor in memoryMonitors where monitor.signals.contains(signal) && monitor.isRefusing {
            monitor.countRefusal()
            return .failure(.highMemory(limiter: monitor.id))
        }
        // Backpressure before the body is read or decoded: each exporter of the signal promises a
        // slot in its queue, or the request is refused.
        var held: [any ExportQueue] = []
        for forwarder in forwarders where forwarder.signals.contains(signal) {
            if let batch = forwarder.batch, !forwarder.admits(metadata: batch.metadata(metadata)) {
                for exporter in held { exporter.release() }
                return .failure(.metadataCardinality(limit: batch.metadataCardinalityLimit))
            }
            guard forwarder.reserve() else {
                for exporter in held { exporter.release() }
                return .failure(.queueFull)
            }
            held.append(forwarder)
        }
        return .success(held.isEmpty ? nil : Reservation(exporters: held))
    }

    /// Runs an admitted request's bytes through the pipeline and queues what goes on in the
    /// slots promised at admission (accepted now means queued, never dropped). Compressed bytes
    /// are inflated once first; bytes that cannot be are counted as refused (with their reason)
    /// and come back as the failure, for the receiver to answer in its protocol.
    ///
    /// - Parameters:
    ///   - bytes: the request as it came (protobuf or JSON), read in place when not compressed.
    ///   - compression: how `bytes` are compressed, if they are.
    ///   - limit: the most they may inflate to.
    ///   - peer: the client's IP address (for `k8sattributes`' connection association).
    package func ingest(
        _ bytes: UnsafeRawBufferPointer, compression: RequestInflater.Encoding?, limit: Int, json: Bool,
        signal: Signal, source: String, peer: String?, reservation: Reservation?, metadata: (String) -> [String]
    ) -> Result<RequestOutcome, RequestInflater.Failure> {
        var body = InputBuffer(borrowing: bytes)
        if let compression {
            do throws(RequestInflater.Failure) {
                body = InputBuffer(try RequestInflater.inflate(bytes, compression, limit: limit))
            } catch {
                switch error {
                case .tooLarge: pipeline.recordRefused(.decompressedTooLarge, source: source)
                case .corrupt(let failure): pipeline.recordRefused(failure.reason, source: source)
                }
                return .failure(error)
            }
        }
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        var outcome = pipeline.process(body, json: json, signal: signal, source: source, clientAddress: peer)
        if let reservation, !outcome.isUndecodable, !outcome.forwarded.isEmpty {
            reservation.consume()
            for forwarder in reservation.exporters {
                let kept = forwarder.offer(
                    signal: signal, body: outcome.forwarded, records: outcome.records.forwarded,
                    metadata: forwarder.batch?.metadata(metadata) ?? "")
                if !kept { outcome.notKept = true }
            }
        }
        return .success(outcome)
    }
}

/// `bearertokenauth` on the receivers.
package enum Authorization {
    /// Whether a request's `Authorization` value is the expected one, compared in time that
    /// does not depend on where they differ.
    package static func matches(_ given: String?, _ expected: String) -> Bool {
        let given = Array((given ?? "").utf8)
        let expected = Array(expected.utf8)
        var difference = given.count ^ expected.count
        for index in 0..<expected.count {
            difference |= Int(expected[index] ^ (index < given.count ? given[index] : 0))
        }
        return difference == 0
    }
}
