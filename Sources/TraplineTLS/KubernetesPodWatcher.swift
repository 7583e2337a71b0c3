import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
@_spi(Plumbing) public import Trapline
public import TraplineServer
import TraplineStages

/// Keeps a `k8sattributes` stage's pod table in step with the Kubernetes API, as the Collector's
/// processor does in a cluster: list the pods, then watch from the list's resourceVersion over
/// HTTPS with the service account's token and CA. Each pod is kept reduced to what the processor
/// extracts (memory grows with the pods kept, not with their objects).
///
/// The last good table stays through everything that can go wrong: the server closing the
/// watch (watched again from the last resourceVersion), a 410 Gone (listed again), a line that
/// is not JSON (skipped and counted), an unreachable server (retried after a pause).
public final class KubernetesPodWatcher: MetricsExposition {
    /// Where the API server is and how to prove who we are.
    public struct Endpoint: Sendable {
        /// The API server's host.
        public var host: String
        /// The API server's port.
        public var port: Int
        /// The bearer token.
        public var token: String
        /// The CA bundle that signs the server's certificate.
        public var caFile: String

        /// Makes an endpoint. Allocates nothing.
        public init(host: String, port: Int, token: String, caFile: String) {
            self.host = host
            self.port = port
            self.token = token
            self.caFile = caFile
        }

        /// The in-cluster endpoint: `KUBERNETES_SERVICE_HOST`/`_PORT`, the token and CA of the
        /// pod's service account (`/var/run/secrets/kubernetes.io/serviceaccount`, or the folder
        /// `TRAPLINE_SERVICEACCOUNT_DIR` names); nil outside a cluster.
        /// Reads the token file; allocates the endpoint's strings.
        public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment) -> Endpoint? {
            guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else { return nil }
            let port = Int(environment["KUBERNETES_SERVICE_PORT"] ?? "") ?? 443
            let directory =
                environment["TRAPLINE_SERVICEACCOUNT_DIR"] ?? "/var/run/secrets/kubernetes.io/serviceaccount"
            guard let token = try? String(contentsOfFile: directory + "/token", encoding: .utf8) else { return nil }
            return Endpoint(
                host: host, port: port, token: token.trimmingCharacters(in: .whitespacesAndNewlines),
                caFile: directory + "/ca.crt")
        }
    }

    /// What the watch has done, for metrics and tests.
    public struct Counts: Sendable, Equatable {
        /// Lists of pods made.
        public var lists = 0
        /// Watches opened.
        public var watches = 0
        /// Watch events applied.
        public var events = 0
        /// Watch lines that were not a usable event (skipped).
        public var badEvents = 0
        /// Lists made again after a 410 Gone.
        public var relistsAfterGone = 0
        /// Requests that failed.
        public var failures = 0
        /// Pods in the current table.
        public var pods = 0
    }

    private let request: KubernetesSourceRequest
    private let endpoint: Endpoint
    private let counts = Mutex(Counts())
    private let listed = Atomic<Bool>(false)
    private let task = Mutex<Task<Void, Never>?>(nil)

    @_spi(Plumbing) public init(request: KubernetesSourceRequest, endpoint: Endpoint) {
        self.request = request
        self.endpoint = endpoint
    }

    /// What the watch has done so far.
    public var progress: Counts { counts.withLock { $0 } }

    /// Starts listing and watching in the background. Allocates the watch task.
    public func start() {
        let work = Task.detached { [self] in await run() }
        task.withLock { $0 = work }
    }

    /// Stops the watch. Allocates nothing.
    public func stop() {
        task.withLock { $0?.cancel() }
    }

    /// Waits until the first list has filled the table, or `timeout` seconds (the Collector's
    /// `wait_for_metadata`); false on timeout. Allocates nothing.
    public func waitForFirstList(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !listed.load(ordering: .relaxed) && Date() < deadline { usleep(20_000) }
        return listed.load(ordering: .relaxed)
    }

    private var podsPath: String {
        var path = "/api/v1/pods"
        if let namespace = request.context.loader.config.filterNamespace {
            path = "/api/v1/namespaces/\(namespace)/pods"
        }
        return path
    }

    private func run() async {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(endpoint.caFile)
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
        var pods: [String: (pod: PodTable.Pod, identifiers: PodTable.Identifiers)] = [:]
        while !Task.isCancelled {
            do {
                var resourceVersion = try await list(client, into: &pods)
                watching: while !Task.isCancelled {
                    switch try await watch(client, from: resourceVersion, pods: &pods) {
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

    private func get(_ client: HTTPClient, _ pathAndQuery: String) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: "https://\(endpoint.host):\(endpoint.port)\(pathAndQuery)")
        request.headers.add(name: "Authorization", value: "Bearer \(endpoint.token)")
        request.headers.add(name: "Accept", value: "application/json")
        return try await client.execute(request, timeout: .hours(24))
    }

    struct APIError: Error { var status: Int }

    /// Lists every pod; replaces the table; returns the list's resourceVersion.
    private func list(
        _ client: HTTPClient, into pods: inout [String: (pod: PodTable.Pod, identifiers: PodTable.Identifiers)]
    ) async throws -> String {
        let response = try await get(client, podsPath)
        guard response.status == .ok else { throw APIError(status: Int(response.status.code)) }
        let body = try await response.body.collect(upTo: 1 << 30)
        guard let list = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw APIError(status: 0)
        }
        pods.removeAll()
        for item in (list["items"] as? [[String: Any]]) ?? [] {
            guard let uid = PodListLoader.string(item, "metadata", "uid") else { continue }
            if let entry = request.context.entry(forPod: item) { pods[uid] = entry }
        }
        publish(pods)
        counts.withLock { $0.lists += 1 }
        listed.store(true, ordering: .relaxed)
        return PodListLoader.string(list, "metadata", "resourceVersion") ?? ""
    }

    enum WatchEnd {
        case closed(String)
        case gone
    }

    /// Watches from `resourceVersion` until the server ends the stream.
    private func watch(
        _ client: HTTPClient, from resourceVersion: String,
        pods: inout [String: (pod: PodTable.Pod, identifiers: PodTable.Identifiers)]
    ) async throws -> WatchEnd {
        let response = try await get(
            client, podsPath + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=\(resourceVersion)"
        )
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
                switch apply(line, to: &pods, lastVersion: &last) {
                case .applied: changed = true
                case .ignored: break
                case .gone:
                    if changed { publish(pods) }
                    return .gone
                }
            }
            if changed { publish(pods) }
        }
        return .closed(last)
    }

    enum Applied {
        case applied
        case ignored
        case gone
    }

    /// One watch event line.
    private func apply(
        _ line: [UInt8], to pods: inout [String: (pod: PodTable.Pod, identifiers: PodTable.Identifiers)],
        lastVersion: inout String
    ) -> Applied {
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
        if let version = PodListLoader.string(object, "metadata", "resourceVersion") { lastVersion = version }
        guard type != "BOOKMARK", let uid = PodListLoader.string(object, "metadata", "uid") else { return .ignored }
        switch type {
        case "ADDED", "MODIFIED": pods[uid] = request.context.entry(forPod: object)
        case "DELETED": pods[uid] = nil
        default: return .ignored
        }
        return .applied
    }

    private func publish(_ pods: [String: (pod: PodTable.Pod, identifiers: PodTable.Identifiers)]) {
        // Sorted by uid: the same pods make the same table, whatever order events came in.
        let table = PodListLoader.table(entries: pods.sorted { $0.key < $1.key }.map(\.value))
        request.source.replace(table)
        counts.withLock { $0.pods = table.count }
    }
}

extension KubernetesPodWatcher {
    /// The watch's series in the Prometheus text format (label `processor`).
    public var exposition: String {
        let now = progress
        let label = "processor=\"\(request.id)\""
        func family(_ name: String, _ type: String, _ help: String, _ value: Int) -> String {
            "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name){\(label)} \(value)\n"
        }
        return family("trapline_k8s_api_lists_total", "counter", "Pod lists read from the Kubernetes API.", now.lists)
            + family("trapline_k8s_api_watches_total", "counter", "Watches of the pods opened.", now.watches)
            + family("trapline_k8s_api_events_total", "counter", "Watch events read.", now.events)
            + family(
                "trapline_k8s_api_bad_events_total", "counter", "Watch lines that were not an event (skipped).",
                now.badEvents)
            + family(
                "trapline_k8s_api_relists_total", "counter", "Lists again after 410 Gone (a resourceVersion too old).",
                now.relistsAfterGone)
            + family(
                "trapline_k8s_api_failures_total", "counter",
                "Lists or watches that failed (retried; the table stays).",
                now.failures)
            + family("trapline_k8s_api_pods", "gauge", "Pods in the table the watch keeps.", now.pods)
    }

    /// Why watches cannot start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts a watch for each `k8sattributes` stage that reads the API, and waits (up to
    /// `wait` seconds each) for their first lists, so the first batches are enriched.
    ///
    /// - Throws: `StartError` outside a cluster (no `KUBERNETES_SERVICE_HOST` or no token).
    @_spi(Plumbing) public static func start(
        _ requests: [KubernetesSourceRequest], wait: Double = 10,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(StartError) -> [KubernetesPodWatcher] {
        guard !requests.isEmpty else { return [] }
        guard let endpoint = Endpoint.inCluster(environment: environment) else {
            throw StartError(
                description:
                    "k8sattributes '\(requests[0].id)' reads pods from the Kubernetes API, but KUBERNETES_SERVICE_HOST or the service account token is missing; give pod_list_file outside a cluster"
            )
        }
        let watchers = requests.map { KubernetesPodWatcher(request: $0, endpoint: endpoint) }
        for watcher in watchers { watcher.start() }
        for watcher in watchers where !watcher.waitForFirstList(timeout: wait) {
            FileHandle.standardError.write(
                Data(
                    "trapline: k8sattributes: no pod list from the API within \(wait) s; going on, pods arrive as they are listed\n"
                        .utf8))
        }
        return watchers
    }
}
