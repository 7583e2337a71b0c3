public import Foundation
import Synchronization
@_spi(Plumbing) public import Trapline
public import TraplineCore

/// The `loadbalancing` exporter: each request split by its routing key over a consistent hash
/// ring of backends, each backend an `otlp` exporter with its own queue, retries and accounting
/// (a backend that fails is retried and its queue kept while the others go on). The backends
/// come from a resolver (`static`, `dns`, `k8s`); when the list changes the ring is rebuilt, new
/// backends start, and removed ones send what they hold and stop.
///
/// A request is admitted only when every backend has room for its share (the shares are known
/// only after the request is processed); records that cannot be routed (no backend at all) are
/// counted as failed.
@_spi(Plumbing) public final class LoadBalancingExporter: ExportQueue, @unchecked Sendable {
    /// The exporter id (`loadbalancing[/name]`).
    public let id: String
    /// The signals of the pipelines that list it.
    public let signals: Set<Signal>
    /// The `batch` processor of the pipelines that list it: each backend merges its shares.
    public let batch: BatchSettings?
    private let template: OTLPExporterConfig
    private let settings: LoadBalancingSettings
    private let resolver: any BackendResolver
    private let state = Mutex(State())
    /// Wakes a replay waiting for the first backends.
    private let resolved = NSCondition()

    private struct State {
        var ring = HashRing(backends: [])
        /// One exporter per entry of `ring.backends`.
        var backends: [ForwardingExporter] = []
        /// Backends taken off the ring: they send what they hold, then stop.
        var retired: [ForwardingExporter] = []
        /// Slots promised to requests being read or processed.
        var reserved = 0
        var started = false
        var stopping = false
        /// The resolver has answered once (with a list or a failure).
        var answered = false
        var resolutions = 0
        var failedResolutions = 0
        var backendUpdates = 0
        var refusedRequests = 0
        /// Records that found no backend, by signal.
        var unroutable = SignalCounts()
        /// Spreads records with no identity (log records without a trace id).
        var roundRobin = 0
    }

    init(
        id: String, template: OTLPExporterConfig, settings: LoadBalancingSettings, signals: Set<Signal>,
        batch: BatchSettings?
    ) {
        self.id = id
        self.template = template
        self.settings = settings
        self.signals = signals
        self.batch = batch
        resolver = BackendResolvers.make(settings.resolver)
    }

    /// Starts the resolver; backends start as it names them. Allocates the resolver's task.
    public func start() {
        state.withLock { $0.started = true }
        resolver.start { [weak self] result in self?.resolved(result) }
    }

    /// The backends on the ring now, in the resolver's order.
    public var backends: [String] { state.withLock { $0.ring.backends } }

    /// The backends' exporters, in the ring's order (tests).
    var backendsForTesting: [ForwardingExporter] { state.withLock { $0.backends } }

    /// A resolver's answer: a new list rebuilds the ring (the same list changes nothing).
    func resolved(_ result: Result<[String], BackendResolverError>) {
        var retiring: [ForwardingExporter] = []
        state.withLock { state in
            state.answered = true
            guard case .success(let endpoints) = result else {
                state.failedResolutions += 1
                return
            }
            state.resolutions += 1
            guard endpoints != state.ring.backends, !state.stopping else { return }
            state.backendUpdates += 1
            var kept: [String: ForwardingExporter] = [:]
            for (endpoint, exporter) in zip(state.ring.backends, state.backends) { kept[endpoint] = exporter }
            var backends: [ForwardingExporter] = []
            for endpoint in endpoints {
                if let exporter = kept.removeValue(forKey: endpoint) {
                    backends.append(exporter)
                } else {
                    let exporter = makeBackend(endpoint)
                    if state.started { exporter.start() }
                    backends.append(exporter)
                }
            }
            retiring = Array(kept.values)
            state.retired += retiring
            state.ring = HashRing(backends: endpoints)
            state.backends = backends
        }
        resolved.withLock { resolved.broadcast() }
        for exporter in retiring {
            // What it had queued goes to the backends that own it now; what it is sending, it
            // finishes (retrying as configured), then it stops.
            for item in exporter.takeQueued() {
                route(signal: item.signal, body: item.body, records: item.records) { backend, share, count in
                    backend.push(signal: item.signal, body: share, records: count, metadata: item.metadata)
                }
            }
            let deadline = Date().addingTimeInterval(max(template.timeoutSeconds, template.maxElapsedSeconds))
            Thread.detachNewThread { exporter.drain(until: deadline) }
        }
    }

    private func makeBackend(_ endpoint: String) -> ForwardingExporter {
        var config = template
        config.balancing = nil
        config.transport = .grpc(endpoint: HostPort(endpoint) ?? HostPort("127.0.0.1:4317")!)
        // Without a batch processor, each backend still merges the shares queued for it.
        return ForwardingExporter(
            id: id, config: config, signals: signals, batch: batch ?? .coalescing, endpoint: endpoint)
    }

    // MARK: Receivers (sidecar)

    /// Promises a slot when every backend has room for one more request. Allocates nothing.
    public func reserve() -> Bool {
        state.withLock { state in
            guard !state.stopping, !state.backends.isEmpty,
                state.backends.allSatisfy({ $0.hasRoom(beyond: state.reserved) })
            else {
                state.refusedRequests += 1
                return false
            }
            state.reserved += 1
            return true
        }
    }

    /// Gives back a promised slot. Allocates nothing.
    public func release() {
        state.withLock { $0.reserved = max(0, $0.reserved - 1) }
    }

    /// Whether every backend takes a request with this batch key. Allocates the key's entry the
    /// first time.
    public func admits(metadata: String) -> Bool {
        state.withLock { $0.backends }.allSatisfy { $0.admits(metadata: metadata) }
    }

    /// Splits the request and queues each share at its backend, in the slot promised.
    /// Allocates the shares.
    @discardableResult
    public func offer(signal: Signal, body: [UInt8], records: Int, metadata: String) -> Bool {
        route(signal: signal, body: body, records: records) { backend, share, count in
            backend.push(signal: signal, body: share, records: count, metadata: metadata)
        }
        state.withLock { $0.reserved = max(0, $0.reserved - 1) }
        return true  // the backends' queues are in memory: always kept
    }

    // MARK: Replay and run over files

    /// Splits the request and queues each share, waiting while a backend's queue is full (and,
    /// before the resolver's first answer, up to 10 s for it). Allocates the shares.
    public func send(signal: Signal, body: [UInt8], records: Int) {
        waitForFirstAnswer(until: Date().addingTimeInterval(10))
        route(signal: signal, body: body, records: records) { backend, share, count in
            backend.send(signal: signal, body: share, records: count)
        }
    }

    private func waitForFirstAnswer(until deadline: Date) {
        resolved.withLock {
            while state.withLock({ !$0.answered && !$0.stopping }) && Date() < deadline {
                _ = resolved.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
            }
        }
    }

    /// Splits `body` by the routing key over the ring and hands each share to its backend.
    private func route(
        signal: Signal, body: [UInt8], records: Int, deliver: (ForwardingExporter, [UInt8], Int) -> Void
    ) {
        let (ring, backends) = state.withLock { ($0.ring, $0.backends) }
        guard !backends.isEmpty else {
            state.withLock { $0.unroutable[signal] += records }
            return
        }
        if backends.count == 1 {
            deliver(backends[0], body, records)
            return
        }
        var spread = state.withLock { state -> Int in
            state.roundRobin &+= 1
            return state.roundRobin
        }
        let parts: [OTLPRequestSplitter.Part]
        do {
            parts = try body.withUnsafeBytes { bytes throws(DecodeError) in
                try OTLPRequestSplitter.split(
                    bytes, signal: signal, key: settings.routingKey, destinations: backends.count
                ) { identity in
                    if identity.isEmpty {
                        // No trace id (a log record without one): spread, as the Collector does.
                        spread &+= 1
                        return spread % backends.count
                    }
                    return ring.backend(for: identity) ?? 0
                }
            }
        } catch {
            // Trapline encoded the request itself; a request it cannot walk is a bug, counted.
            state.withLock { $0.unroutable[signal] += records }
            return
        }
        for (index, part) in parts.enumerated() where part.records > 0 {
            deliver(backends[index], part.body, part.records)
        }
    }

    // MARK: Ending

    private var everyBackend: [ForwardingExporter] { state.withLock { $0.backends + $0.retired } }

    /// Waits until every backend has answered what it was given. Allocates nothing.
    public func waitUntilAnswered(until deadline: ContinuousClock.Instant) -> Bool {
        everyBackend.allSatisfy { $0.waitUntilAnswered(until: deadline) }
    }

    /// Drains every backend and says what was not delivered. Allocates nothing.
    public func finish(until deadline: ContinuousClock.Instant) -> ForwardingLosses {
        stopResolving()
        var losses = ForwardingLosses()
        for backend in everyBackend {
            let lost = backend.finish(until: deadline)
            for signal in Signal.allCases {
                losses.rejected[signal] += lost.rejected[signal]
                losses.failed[signal] += lost.failed[signal]
            }
        }
        let unroutable = state.withLock { $0.unroutable }
        for signal in Signal.allCases { losses.failed[signal] += unroutable[signal] }
        return losses
    }

    /// Sends what the backends hold until `deadline`, then stops them. Allocates nothing.
    public func drain(until deadline: Date) {
        stopResolving()
        for backend in everyBackend { backend.drain(until: deadline) }
    }

    private func stopResolving() {
        resolver.stop()
        state.withLock { $0.stopping = true }
        resolved.withLock { resolved.broadcast() }
    }

    /// Requests queued or being sent by every backend.
    public var pending: Int { everyBackend.reduce(0) { $0 + $1.pending } }

    /// The backends' series (labelled with their `endpoint`) and the balancer's own: backends
    /// in use, resolutions, updates of the list, refused requests and records no backend took.
    public var exposition: String {
        let (backends, text) = state.withLock { state in
            let label = "exporter=\"\(id)\""
            let unroutable = Signal.allCases.reduce(0) { $0 + state.unroutable[$1] }
            return (
                state.backends + state.retired,
                """
                # HELP trapline_loadbalancer_backends Backends on the ring now.
                # TYPE trapline_loadbalancer_backends gauge
                trapline_loadbalancer_backends{\(label)} \(state.backends.count)
                # HELP trapline_loadbalancer_resolutions_total Resolutions of the backend list, by outcome.
                # TYPE trapline_loadbalancer_resolutions_total counter
                trapline_loadbalancer_resolutions_total{\(label),success="true"} \(state.resolutions)
                trapline_loadbalancer_resolutions_total{\(label),success="false"} \(state.failedResolutions)
                # HELP trapline_loadbalancer_backend_updates_total Resolutions that changed the backend list (the ring was rebuilt).
                # TYPE trapline_loadbalancer_backend_updates_total counter
                trapline_loadbalancer_backend_updates_total{\(label)} \(state.backendUpdates)
                # HELP trapline_loadbalancer_refused_requests_total Requests refused because a backend's queue was full or no backend was known.
                # TYPE trapline_loadbalancer_refused_requests_total counter
                trapline_loadbalancer_refused_requests_total{\(label)} \(state.refusedRequests)
                # HELP trapline_loadbalancer_unroutable_records_total Records no backend could take (none known), counted as failed.
                # TYPE trapline_loadbalancer_unroutable_records_total counter
                trapline_loadbalancer_unroutable_records_total{\(label)} \(unroutable)

                """
            )
        }
        return text + PrometheusExpositionMerge.merge(backends.map(\.exposition))
    }
}
