public import Foundation
@_spi(Plumbing) public import Trapline
public import TraplineCore

/// A network exporter as the receivers and a run hand it requests: the `otlphttp` and `otlp`
/// exporters (`ForwardingExporter`) and the `loadbalancing` exporter over several of them.
@_spi(Plumbing) public protocol ExportQueue: RequestForwarding {
    /// The `batch` processor of the pipelines that list it, if any.
    var batch: BatchSettings? { get }
    /// Starts sending (and resolving backends). Allocates its tasks.
    func start()
    /// Promises a slot to a request about to be read; false when there is no room (the receiver
    /// refuses before reading the body). Allocates nothing.
    func reserve() -> Bool
    /// Gives back a promised slot the request did not use. Allocates nothing.
    func release()
    /// Whether a request with this batch key may come in (`metadata_cardinality_limit`).
    /// Allocates the key's entry the first time.
    func admits(metadata: String) -> Bool
    /// Queues a request in the slot `reserve()` promised. Keeps or splits `body`; allocates
    /// the queue entries. False when it could not be kept (a full disk under the exporter's
    /// storage): its records are counted as failed, and the sender should be told to retry.
    @discardableResult
    func offer(signal: Signal, body: [UInt8], records: Int, metadata: String) -> Bool
    /// Sends what is queued until `deadline`, then stops; what is left is counted as failed.
    /// Allocates nothing.
    func drain(until deadline: Date)
    /// Requests queued or being sent.
    var pending: Int { get }
}

/// Makes the exporter a pipeline's `otlphttp`, `otlp` or `loadbalancing` configuration asks for.
@_spi(Plumbing) public enum ExportQueues {
    /// An exporter not started yet. Allocates it.
    public static func make(id: String, config: OTLPExporterConfig, signals: Set<Signal>, batch: BatchSettings?)
        -> any ExportQueue
    {
        if let balancing = config.balancing {
            return LoadBalancingExporter(id: id, template: config, settings: balancing, signals: signals, batch: batch)
        }
        return ForwardingExporter(id: id, config: config, signals: signals, batch: batch)
    }
}
