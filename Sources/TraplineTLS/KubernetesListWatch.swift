import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// One collection of the Kubernetes API kept in step, as the Collector's informers keep theirs:
/// list it, then watch from the list's resourceVersion over HTTPS with the service account's
/// token and CA. The server closing the watch means watching again from the last version; a 410
/// Gone, listing again; a line that is not an event is skipped and counted; a failed request is
/// retried after a pause. What the objects mean is the owner's (`KubernetesPodWatcher`,
/// `KubernetesEndpointsResolver`).
final class KubernetesListWatch: Sendable {
    /// What the owner does with the collection.
    struct Handlers: Sendable {
        /// A whole list: replace everything with these objects.
        var replace: @Sendable ([[String: Any]]) -> Void
        /// One watch event (`ADDED`, `MODIFIED`, `DELETED`) on an object; true when it changed
        /// something.
        var apply: @Sendable (_ type: String, _ object: [String: Any]) -> Bool
        /// After the events of one chunk of the watch changed something.
        var changed: @Sendable () -> Void
    }

    /// What the watch has done, for metrics and tests.
    typealias Counts = KubernetesPodWatcher.Counts

    private let endpoint: KubernetesPodWatcher.Endpoint
    /// The collection's path (`/api/v1/pods`), and a query to add (`labelSelector=...`).
    private let path: String
    private let query: String
    private let handlers: Handlers
    /// How long a list may take (a watch is open-ended).
    private let listTimeout: TimeAmount
    private let counts = Mutex(Counts())
    private let listed = Atomic<Bool>(false)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(
        endpoint: KubernetesPodWatcher.Endpoint, path: String, query: String = "", listTimeout: TimeAmount = .hours(24),
        handlers: Handlers
    ) {
        self.endpoint = endpoint
        self.listTimeout = listTimeout
        self.path = path
        self.query = query
        self.handlers = handlers
    }

    var progress: Counts { counts.withLock { $0 } }

    /// Counts the objects the owner keeps now.
    func setKept(_ count: Int) { counts.withLock { $0.pods = count } }

    func start() {
        let work = Task.detached { [self] in await run() }
        task.withLock { $0 = work }
    }

    func stop() { task.withLock { $0?.cancel() } }

    /// Waits until the first list, or `timeout` seconds; false on timeout.
    func waitForFirstList(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !listed.load(ordering: .relaxed) && Date() < deadline { usleep(20_000) }
        return listed.load(ordering: .relaxed)
    }

    private func run() async {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(endpoint.caFile)
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
        while !Task.isCancelled {
            do {
                var resourceVersion = try await list(client)
                watching: while !Task.isCancelled {
                    switch try await watch(client, from: resourceVersion) {
                    case .closed(let last): resourceVersion = last
                    case .gone:
                        counts.withLock { $0.relistsAfterGone += 1 }
                        break watching
                    }
                }
            } catch {
                counts.withLock { $0.failures += 1 }
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
        }
        try? await client.shutdown()
    }

    private func get(_ client: HTTPClient, _ extra: String, timeout: TimeAmount = .hours(24)) async throws
        -> HTTPClientResponse
    {
        let parameters = [query, extra].filter { !$0.isEmpty }.joined(separator: "&")
        var request = HTTPClientRequest(
            url: "https://\(endpoint.host):\(endpoint.port)\(path)" + (parameters.isEmpty ? "" : "?" + parameters))
        request.headers.add(name: "Authorization", value: "Bearer \(endpoint.token)")
        request.headers.add(name: "Accept", value: "application/json")
        return try await client.execute(request, timeout: timeout)
    }

    struct APIError: Error { var status: Int }

    /// Lists the collection, hands it over whole, and returns the list's resourceVersion.
    private func list(_ client: HTTPClient) async throws -> String {
        let response = try await get(client, "", timeout: listTimeout)
        guard response.status == .ok else { throw APIError(status: Int(response.status.code)) }
        let body = try await response.body.collect(upTo: 1 << 30)
        guard let list = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw APIError(status: 0)
        }
        handlers.replace((list["items"] as? [[String: Any]]) ?? [])
        counts.withLock { $0.lists += 1 }
        listed.store(true, ordering: .relaxed)
        return ((list["metadata"] as? [String: Any])?["resourceVersion"] as? String) ?? ""
    }

    enum WatchEnd {
        case closed(String)
        case gone
    }

    /// Watches from `resourceVersion` until the server ends the stream.
    private func watch(_ client: HTTPClient, from resourceVersion: String) async throws -> WatchEnd {
        let response = try await get(
            client, "watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=\(resourceVersion)")
        if response.status == .gone { return .gone }
        guard response.status == .ok else { throw APIError(status: Int(response.status.code)) }
        counts.withLock { $0.watches += 1 }
        var last = resourceVersion
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            var changed = false
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                guard !line.allSatisfy({ $0 == 32 || $0 == 13 }) else { continue }
                switch apply(line, lastVersion: &last) {
                case .applied: changed = true
                case .ignored: break
                case .gone:
                    if changed { handlers.changed() }
                    return .gone
                }
            }
            if changed { handlers.changed() }
        }
        return .closed(last)
    }

    enum Applied {
        case applied
        case ignored
        case gone
    }

    /// One watch event line.
    private func apply(_ line: [UInt8], lastVersion: inout String) -> Applied {
        guard let event = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let type = event["type"] as? String, let object = event["object"] as? [String: Any]
        else {
            counts.withLock { $0.badEvents += 1 }
            return .ignored
        }
        counts.withLock { $0.events += 1 }
        if type == "ERROR" {
            // A Status; 410: the resourceVersion is too old, list again.
            return (object["code"] as? Int) == 410 ? .gone : .ignored
        }
        if let version = (object["metadata"] as? [String: Any])?["resourceVersion"] as? String {
            lastVersion = version
        }
        guard type == "ADDED" || type == "MODIFIED" || type == "DELETED" else { return .ignored }
        return handlers.apply(type, object) ? .applied : .ignored
    }
}
