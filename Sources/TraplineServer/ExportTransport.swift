@_spi(Plumbing) import Trapline
package import TraplineCore

/// What one attempt to hand a request to the next hop came to.
package enum ExportAttempt: Equatable {
    /// Taken; `rejected` records of it refused in a `partial_success`.
    case accepted(rejected: Int)
    /// Worth another try, after the wait the next hop asked for (if it did).
    case retryable(after: Double?)
    /// Refused for good (a malformed request, an unknown signal): retrying will not help.
    case refused
}

/// How an exporter's requests reach the next hop; the queue, retries and accounting are the
/// exporter's. Attempts run on the exporter's consumer threads.
package protocol ExportTransport: Sendable {
    /// A request made ready once for all its attempts (compressed, addressed).
    associatedtype Prepared
    /// Makes a request of a signal's protobuf body; nil when it cannot be addressed.
    func prepare(signal: Signal, body: [UInt8]) -> Prepared?
    /// One attempt, awaiting its answer (on the transport's event loop, no thread held).
    func attempt(_ request: Prepared) async -> ExportAttempt
    /// Closes connections once the queue has drained.
    func close()
}

/// The transport of an exporter whose module is not installed (`TraplineGRPC` for `otlp`,
/// `TraplineTLS` for `otlphttp`): every request fails (and is counted as `export_failed`); the
/// start says why.
struct UnavailableTransport: ExportTransport {
    func prepare(signal: Signal, body: [UInt8]) -> Never? { nil }
    func attempt(_ request: Never) async -> ExportAttempt {}
    func close() {}
}
