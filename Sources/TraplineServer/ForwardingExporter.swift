public import Foundation
import Synchronization
@_spi(Plumbing) public import Trapline
public import TraplineCore

/// The `otlphttp` and `otlp` exporters: a bounded queue of export requests and consumers that
/// send them to the next hop as OTLP protobuf (HTTP POST or gRPC `Export`), retrying what the
/// transport calls retryable with exponential backoff and jitter (honouring `Retry-After` and
/// `RetryInfo`), and counting every record as sent, rejected downstream (400,
/// `INVALID_ARGUMENT`, `partial_success`) or failed after the retries: none is dropped without
/// a count. When the queue is full, `offer` says so and the receiver refuses.
public final class ForwardingExporter: @unchecked Sendable {
    /// One export request waiting to be sent.
    struct Item {
        var signal: Signal
        var body: [UInt8]
        var records: Int
        /// When it was queued (a `batch` processor's timeout counts from the first).
        var queued = ContinuousClock.now
        /// Its batch key (`metadata_keys` values); only requests with the same key merge.
        var metadata = ""
        /// Its entries in the storage log (several when requests were merged); empty without one.
        var sequences: [UInt64] = []
    }

    /// The exporter id (`otlphttp[/name]` or `otlp[/name]`).
    public let id: String
    /// The backend's address when it is one of a `loadbalancing` exporter's (labelled
    /// `endpoint` in the metrics).
    let endpoint: String?
    let config: OTLPExporterConfig
    /// The signals of the pipelines that list it.
    @_spi(Plumbing) public let signals: Set<Signal>
    private let condition = NSCondition()
    private var queue: [Item] = []
    private var sending = 0
    /// Slots promised to requests whose bodies are still being read or processed.
    private var reserved = 0
    private var stopping = false
    /// Consumer tasks waiting for work, for a batch to fill or for a retry's backoff.
    private var waiters: [ConsumerWaiter] = []
    private let transport: any ExportTransport
    /// The queue on disk (`sending_queue.storage`), if configured and opened.
    private let storage: ExportStorage?
    /// Why the storage could not be opened (the exporter must not start without it).
    public let storageFailure: IOFailure?
    /// Requests read back from the storage at start, queued by `start()`.
    private var restored: [ExportStorage.Entry] = []
    /// Records left in the storage at a stop (sent after the next start; not lost).
    private(set) var storedAtStop = 0
    /// Requests that could not be written to the storage (refused to their sender).
    private(set) var storageWriteFailures = 0

    // Counters (under `condition`).
    private(set) var sentRecords = 0
    private(set) var rejectedDownstream = 0
    private(set) var failedRecords = 0
    private(set) var retries = 0
    private(set) var refusedRequests = 0
    /// What was not delivered, by signal (a replay takes it out of the forwarded records).
    private var losses = ForwardingLosses()

    /// The `batch` processor of the pipelines that list it: queued requests of one signal are
    /// merged into one send.
    public let batch: BatchSettings?
    /// Sends that merged several requests.
    private(set) var mergedSends = 0
    /// The `metadata_keys` value combinations seen, and requests refused for one too many.
    private var metadataSeen: Set<String> = []
    private(set) var metadataRefusals = 0

    @_spi(Plumbing) public init(
        id: String, config: OTLPExporterConfig, signals: Set<Signal>, batch: BatchSettings? = nil,
        endpoint: String? = nil
    ) {
        self.id = id
        self.endpoint = endpoint
        self.config = config
        self.signals = signals
        self.batch = batch
        switch config.transport {
        case .http:
            transport = InstalledModules.tls?.httpExportTransport(config: config) ?? UnavailableTransport()
        case .grpc(let endpoint):
            transport =
                InstalledModules.grpc?.exportTransport(endpoint: endpoint, config: config)
                ?? UnavailableTransport()
        }
        guard let settings = config.storageSettings else {
            storage = nil
            storageFailure = nil
            return
        }
        if settings.createDirectory {
            try? FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
        }
        do throws(IOFailure) {
            let (opened, entries) = try ExportStorage.open(
                directory: settings.directory, exporter: id, maxBytes: config.maxStorageMiB << 20, fsync: settings.fsync
            )
            storage = opened
            restored = entries
            storageFailure = nil
        } catch {
            storage = nil
            storageFailure = error
        }
    }

    /// Starts the consumers: `num_consumers` tasks (no thread each; they wait without one).
    /// Allocates the tasks.
    public func start() {
        condition.withLock {
            // What the storage kept from the last run goes first, in the order it came.
            queue.insert(
                contentsOf: restored.map {
                    Item(
                        signal: $0.signal, body: $0.body, records: $0.records, metadata: $0.metadata,
                        sequences: [$0.sequence])
                }, at: 0)
            restored = []
        }
        for _ in 0..<config.consumers {
            Task { [self] in await consume() }
        }
    }

    /// Promises a slot to a request about to be read: false when the queue (with the slots
    /// already promised) is full, so the receiver refuses before reading the body. Allocates nothing.
    public func reserve() -> Bool {
        condition.withLock {
            guard queue.count + reserved < config.queueSize, !stopping, storage?.hasRoom() ?? true else {
                refusedRequests += 1
                return false
            }
            reserved += 1
            return true
        }
    }

    /// Gives back a promised slot the request did not use. Allocates nothing.
    public func release() {
        condition.withLock { reserved = max(0, reserved - 1) }
    }

    /// Whether the queue has room for `extra` more requests than it holds and has promised (a
    /// load balancer's promises, kept by the balancer). Counts a refusal when not.
    func hasRoom(beyond extra: Int) -> Bool {
        condition.withLock {
            guard queue.count + reserved + extra < config.queueSize, !stopping else {
                refusedRequests += 1
                return false
            }
            return true
        }
    }

    /// Takes the requests still queued (not being sent) out, for a load balancer to route again
    /// when this backend leaves its ring; they are not counted here. Allocates nothing.
    func takeQueued() -> [(signal: Signal, body: [UInt8], records: Int, metadata: String)] {
        condition.withLock {
            let taken = queue.map { (signal: $0.signal, body: $0.body, records: $0.records, metadata: $0.metadata) }
            queue.removeAll()
            wakeAll()
            return taken
        }
    }

    /// Queues a request a load balancer promised room for (`hasRoom`); while stopping, its
    /// records are counted as failed.
    func push(signal: Signal, body: [UInt8], records: Int, metadata: String) {
        condition.withLock {
            guard records > 0 else { return }
            guard !stopping else {
                failedRecords += records
                count(records, of: signal, in: &losses.failed)
                return
            }
            queue.append(Item(signal: signal, body: body, records: records, metadata: metadata))
            wakeAll()
        }
    }

    /// Queues an export request in its promised slot (`reserve()` came first), with its batch
    /// key. Keeps `body` (no copy); allocates the queue entry.
    ///
    /// - Returns: false when the storage could not keep it (the disk is full): its records are
    ///   counted as failed and the receiver answers its sender that it should try again.
    @discardableResult
    public func offer(signal: Signal, body: [UInt8], records: Int, metadata: String = "") -> Bool {
        // Written to the storage before it is queued: acknowledged means kept.
        var sequences: [UInt64] = []
        if let storage, records > 0 {
            do throws(IOFailure) {
                sequences = [try storage.append(signal: signal, records: records, metadata: metadata, body: body)]
            } catch {
                condition.withLock {
                    reserved = max(0, reserved - 1)
                    storageWriteFailures += 1
                    failedRecords += records
                    count(records, of: signal, in: &losses.failed)
                }
                return false
            }
        }
        condition.withLock {
            reserved = max(0, reserved - 1)
            guard records > 0 else { return }
            queue.append(Item(signal: signal, body: body, records: records, metadata: metadata, sequences: sequences))
            wakeAll()
        }
        return true
    }

    /// Whether a request with this batch key may come in: false when it would be one
    /// combination of `metadata_keys` values more than `metadata_cardinality_limit` (counted).
    /// Allocates the key's entry the first time.
    public func admits(metadata: String) -> Bool {
        guard let batch, !batch.metadataKeys.isEmpty else { return true }
        return condition.withLock {
            if metadataSeen.contains(metadata) { return true }
            guard metadataSeen.count < batch.metadataCardinalityLimit else {
                metadataRefusals += 1
                return false
            }
            metadataSeen.insert(metadata)
            return true
        }
    }

    /// Requests queued or being sent.
    public var pending: Int { condition.withLock { queue.count + sending } }

    /// Sends what is queued until it is empty or `deadline` passes, then stops the consumers;
    /// what is left is counted as failed. Allocates nothing.
    public func drain(until deadline: Date) {
        condition.withLock {
            while (!queue.isEmpty || sending > 0) && Date() < deadline {
                _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
            }
            stopping = true
            for item in queue {
                // Kept on disk: sent after the next start, not lost.
                if storage != nil {
                    storedAtStop += item.records
                    continue
                }
                failedRecords += item.records
                count(item.records, of: item.signal, in: &losses.failed)
            }
            queue.removeAll()
            wakeAll()
            // Sends in progress end at their next retry check (woken now) or when their attempt
            // times out: wait for them, so each is counted once, as sent or failed, before a
            // replay reads the losses.
            while sending > 0 { _ = condition.wait(until: Date().addingTimeInterval(0.05)) }
        }
        transport.close()
    }

    /// What a consumer does next.
    private enum Next {
        case send(Item)
        /// Wait to be woken (an offer, a finished send, a drain), or until the deadline.
        case wait(until: ContinuousClock.Instant?)
        case stop
    }

    /// One consumer: a task that takes the next request (or batch), sends it and counts what
    /// came of it. It waits without a thread while the queue is empty or a batch fills.
    private func consume() async {
        while true {
            let waiter = ConsumerWaiter()
            switch next(registering: waiter) {
            case .stop: return
            case .wait(let deadline): await waiter.wait(until: deadline)
            case .send(let item):
                let result = await send(item)
                settle(item, result)
                // Answered one way or the other: not sent again after a restart (a send a stop
                // cut short stays in the storage).
                if case .stopped = result {} else { storage?.settle(item.sequences) }
            }
        }
    }

    /// The next step of a consumer, under the lock; a consumer that must wait is registered
    /// with `waiter` before the lock is released, so no wake-up is missed.
    private func next(registering waiter: ConsumerWaiter) -> Next {
        condition.withLock {
            guard !queue.isEmpty else {
                if stopping { return .stop }
                waiters.append(waiter)
                return .wait(until: nil)
            }
            guard let batch else {
                sending += 1
                return .send(queue.removeFirst())
            }
            // A batch: wait for send_batch_size records of the first request's signal, or its
            // timeout, then merge what is queued of that signal.
            let due = queue[0].queued + .milliseconds(Int64(batch.timeoutSeconds * 1000))
            let signal = queue[0].signal
            let metadata = queue[0].metadata
            let queuedRecords = queue.lazy.filter { $0.signal == signal && $0.metadata == metadata }
                .reduce(0) { $0 + $1.records }
            if !stopping && !batch.isFull(queuedRecords) && ContinuousClock.now < due {
                waiters.append(waiter)
                return .wait(until: due)  // then look again: another consumer may have taken them
            }
            sending += 1
            return .send(takeBatch(of: signal, batch))
        }
    }

    /// Counts what came of a send.
    private func settle(_ item: Item, _ result: Result) {
        condition.withLock {
            sending -= 1
            switch result {
            case .sent(let rejected):
                sentRecords += item.records - rejected
                rejectedDownstream += rejected
                count(rejected, of: item.signal, in: &losses.rejected)
            case .rejected:
                rejectedDownstream += item.records
                count(item.records, of: item.signal, in: &losses.rejected)
            case .failed:
                failedRecords += item.records
                count(item.records, of: item.signal, in: &losses.failed)
            case .stopped:
                if storage != nil {
                    storedAtStop += item.records
                } else {
                    failedRecords += item.records
                    count(item.records, of: item.signal, in: &losses.failed)
                }
            }
            wakeAll()
        }
    }

    /// Wakes every waiter: the threads waiting on `condition` (a replay waiting for room or
    /// answers, a drain) and the consumer tasks. Under `condition`.
    private func wakeAll() {
        condition.broadcast()
        for waiter in waiters { waiter.wake() }
        waiters.removeAll()
    }

    /// The queued requests of `signal`, from the first, merged while they fit the batch's
    /// maximum: their protobuf messages concatenated (repeated fields append). Under `condition`.
    private func takeBatch(of signal: Signal, _ batch: BatchSettings) -> Item {
        var merged = queue.removeFirst()
        var index = 0
        var parts = 1
        while index < queue.count {
            let next = queue[index]
            guard next.signal == signal && next.metadata == merged.metadata else {
                index += 1
                continue
            }
            guard batch.fits(next.records, in: merged.records, moreBytes: next.body.count, bytes: merged.body.count)
            else { break }
            merged.body += next.body
            merged.records += next.records
            merged.sequences += next.sequences
            queue.remove(at: index)
            parts += 1
            if batch.isFull(merged.records) { break }
        }
        if parts > 1 { mergedSends += 1 }
        return merged
    }

    private func count(_ records: Int, of signal: Signal, in lost: inout SignalCounts) {
        lost[signal] += records
    }

    enum Result {
        case sent(rejected: Int)
        case rejected
        case failed
        /// A stop ended the retries: failed, unless the storage keeps it for the next start.
        case stopped
    }

    /// Sends one request with retries.
    private func send(_ item: Item) async -> Result { await send(item, via: transport) }

    /// The retry loop over one transport: retryable answers wait with exponential backoff and
    /// jitter (or what the next hop asked for) until `max_elapsed_time`; a stop ends the wait.
    private func send<Transport: ExportTransport>(_ item: Item, via transport: Transport) async -> Result {
        guard let request = transport.prepare(signal: item.signal, body: item.body) else { return .failed }
        let started = ContinuousClock.now
        var interval = config.initialIntervalSeconds
        while true {
            let waitAsked: Double?
            switch await transport.attempt(request) {
            case .accepted(let rejected): return .sent(rejected: min(item.records, rejected))
            case .refused: return .rejected  // the next hop will not take it, retrying will not help
            case .retryable(let after): waitAsked = after
            }
            guard config.retryEnabled else { return .failed }
            let wait = Duration.milliseconds(Int64((waitAsked ?? interval * Double.random(in: 0.5...1.5)) * 1000))
            let wakeAt = ContinuousClock.now + wait
            if config.maxElapsedSeconds > 0 && wakeAt - started > .milliseconds(Int64(config.maxElapsedSeconds * 1000))
            {
                return .failed
            }
            var counted = false
            while true {
                let waiter = ConsumerWaiter()
                let stopped: Bool? = condition.withLock {
                    if stopping { return true }
                    if !counted {
                        retries += 1
                        counted = true
                    }
                    guard ContinuousClock.now < wakeAt else { return false }
                    waiters.append(waiter)
                    return nil
                }
                if stopped == true { return .stopped }
                if stopped == false { break }
                await waiter.wait(until: wakeAt)
            }
            interval = min(interval * 1.5, config.maxIntervalSeconds)
        }
    }

    /// The storage's series (under `condition`); empty without storage.
    private func storageExposition(_ label: String) -> String {
        guard let storage else { return "" }
        let (requests, bytes) = storage.unsettled
        return """
            # HELP trapline_exporter_storage_requests Requests kept in the exporter's storage and not answered yet.
            # TYPE trapline_exporter_storage_requests gauge
            trapline_exporter_storage_requests{\(label)} \(requests)
            # HELP trapline_exporter_storage_bytes Bytes of the requests kept in the exporter's storage and not answered yet.
            # TYPE trapline_exporter_storage_bytes gauge
            trapline_exporter_storage_bytes{\(label)} \(bytes)
            # HELP trapline_exporter_storage_restored_records_total Records read back from the storage at start.
            # TYPE trapline_exporter_storage_restored_records_total counter
            trapline_exporter_storage_restored_records_total{\(label)} \(storage.replayedRecords)
            # HELP trapline_exporter_storage_write_failures_total Requests the storage could not keep (refused to their sender).
            # TYPE trapline_exporter_storage_write_failures_total counter
            trapline_exporter_storage_write_failures_total{\(label)} \(storageWriteFailures)
            # HELP trapline_exporter_stored_at_stop_records Records left in the storage when the exporter stopped.
            # TYPE trapline_exporter_stored_at_stop_records gauge
            trapline_exporter_stored_at_stop_records{\(label)} \(storedAtStop)

            """
    }

    /// `Retry-After`: seconds, or an HTTP date.
    package static func retryAfterSeconds(_ value: String) -> Double? {
        if let seconds = Double(value.trimmingCharacters(in: .whitespaces)), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }

    /// The exporter's series in the Prometheus text format (families declared per exporter id).
    public var exposition: String {
        condition.withLock {
            let label = "exporter=\"\(id)\"" + (endpoint.map { ",endpoint=\"\($0)\"" } ?? "")
            return """
                # HELP trapline_exporter_sent_records_total Records the next hop accepted.
                # TYPE trapline_exporter_sent_records_total counter
                trapline_exporter_sent_records_total{\(label)} \(sentRecords)
                # HELP trapline_exporter_rejected_records_total Records the next hop refused (400, partial_success); not retried.
                # TYPE trapline_exporter_rejected_records_total counter
                trapline_exporter_rejected_records_total{\(label)} \(rejectedDownstream)
                # HELP trapline_exporter_failed_records_total Records not delivered after every retry, or left in the queue at shutdown.
                # TYPE trapline_exporter_failed_records_total counter
                trapline_exporter_failed_records_total{\(label)} \(failedRecords)
                # HELP trapline_exporter_retries_total Retried sends (429, 502, 503, 504, connection errors).
                # TYPE trapline_exporter_retries_total counter
                trapline_exporter_retries_total{\(label)} \(retries)
                # HELP trapline_exporter_queue_size Export requests queued or being sent.
                # TYPE trapline_exporter_queue_size gauge
                trapline_exporter_queue_size{\(label)} \(queue.count + sending)
                # HELP trapline_exporter_queue_capacity The sending queue's size.
                # TYPE trapline_exporter_queue_capacity gauge
                trapline_exporter_queue_capacity{\(label)} \(config.queueSize)
                # HELP trapline_exporter_merged_sends_total Sends that merged several queued requests (a batch processor).
                # TYPE trapline_exporter_merged_sends_total counter
                trapline_exporter_merged_sends_total{\(label)} \(mergedSends)
                # HELP trapline_exporter_metadata_refused_total Requests refused for one metadata_keys combination past metadata_cardinality_limit.
                # TYPE trapline_exporter_metadata_refused_total counter
                trapline_exporter_metadata_refused_total{\(label)} \(metadataRefusals)

                """ + storageExposition(label)
        }
    }
}

@_spi(Plumbing) extension ForwardingExporter: ExportQueue {
    /// Waits for a slot in the sending queue (never refuses: a replay reads no faster than the
    /// next hop takes), then queues the request. Keeps `body` (no copy); allocates the queue entry.
    public func send(signal: Signal, body: [UInt8], records: Int) {
        let admitted = condition.withLock {
            while queue.count + reserved >= config.queueSize && !stopping { condition.wait() }
            guard records > 0, !stopping else { return false }
            reserved += 1
            return true
        }
        if admitted { offer(signal: signal, body: body, records: records) }
    }

    /// Waits until nothing is queued or being sent, or `deadline` passes. Allocates nothing.
    public func waitUntilAnswered(until deadline: ContinuousClock.Instant) -> Bool {
        condition.withLock {
            while !queue.isEmpty || sending > 0 {
                guard ContinuousClock.now < deadline else { return false }
                _ = condition.wait(until: Date().addingTimeInterval(0.05))
            }
            return true
        }
    }

    /// Drains the queue (see `drain(until:)`) and says what was not delivered. Allocates nothing.
    public func finish(until deadline: ContinuousClock.Instant) -> ForwardingLosses {
        // The whole remaining time, fractions included (whole seconds alone made a deadline under
        // a second end the drain at once).
        let remaining = (deadline - ContinuousClock.now).components
        let seconds = Double(remaining.seconds) + Double(remaining.attoseconds) / 1e18
        drain(until: Date().addingTimeInterval(max(0, seconds)))
        return condition.withLock { losses }
    }
}

/// One wait of a consumer task: resumed once, by `wake()` or at its deadline.
final class ConsumerWaiter: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Void, Never>)
        case woken
    }

    private let state = Mutex(State.idle)

    /// Waits until `wake()` (which may come first) or `deadline`.
    func wait(until deadline: ContinuousClock.Instant?) async {
        let timer = deadline.map { deadline in
            Task { [self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                wake()
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if case .woken = state { return true }
                state = .waiting(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
        timer?.cancel()
    }

    /// Ends the wait (now, or as soon as it starts).
    func wake() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state = .woken }
            if case .waiting(let continuation) = state { return continuation }
            return nil
        }
        continuation?.resume()
    }
}
