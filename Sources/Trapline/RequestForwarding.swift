public import TraplineCore

/// A network exporter a replay or a `run` over files and stdin hands its requests to (the
/// `otlphttp` exporter; `TraplineServer` implements it), so a capture can be replayed into a
/// backend. The replay waits for every send to be acknowledged before it reports.
@_spi(Plumbing) public protocol RequestForwarding: AnyObject, Sendable {
    /// The exporter id (`otlphttp[/name]`), naming it in the report.
    var id: String { get }
    /// The signals of the pipelines that list it.
    var signals: Set<Signal> { get }
    /// Its series in the Prometheus text format (sent, refused, failed, retries, queue).
    var exposition: String { get }
    /// Queues one export request (a bare OTLP message) holding `records` records of `signal`,
    /// waiting while the sending queue is full (backpressure: the replay reads no faster than
    /// the next hop takes).
    func send(signal: Signal, body: [UInt8], records: Int)
    /// Waits until every request queued so far has been answered (sent, refused or given up
    /// after every retry), or `deadline` passes; the exporter keeps running.
    ///
    /// - Returns: whether nothing is left waiting.
    func waitUntilAnswered(until deadline: ContinuousClock.Instant) -> Bool
    /// Waits until every queued request is sent, refused or given up (or `deadline` passes:
    /// then what is left failed), and stops.
    ///
    /// - Returns: the records the next hop refused (400, `partial_success`) and those that
    ///   could not be delivered after every retry, by signal.
    func finish(until deadline: ContinuousClock.Instant) -> ForwardingLosses
}

/// What a forwarding exporter did not deliver.
@_spi(Plumbing) public struct ForwardingLosses: Sendable, Equatable {
    /// Refused by the next hop, by signal (spans, log records).
    public var rejected = SignalCounts()
    /// Not delivered after every retry, by signal.
    public var failed = SignalCounts()

    /// Nothing lost. Allocates nothing.
    public init() {}

    public static func == (lhs: ForwardingLosses, rhs: ForwardingLosses) -> Bool {
        lhs.rejected == rhs.rejected && lhs.failed == rhs.failed
    }
}
