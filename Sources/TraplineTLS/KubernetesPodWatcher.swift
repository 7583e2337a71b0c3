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
    /// The pods kept, by uid, reduced to what the processor extracts.
    private let pods = Mutex<[String: (pod: PodTable.Pod, identifiers: PodTable.Identifiers)]>([:])
    private let watch: Mutex<KubernetesListWatch?> = Mutex(nil)

    @_spi(Plumbing) public init(request: KubernetesSourceRequest, endpoint: Endpoint) {
        self.request = request
        var path = "/api/v1/pods"
        if let namespace = request.context.loader.config.filterNamespace {
            path = "/api/v1/namespaces/\(namespace)/pods"
        }
        let handlers = KubernetesListWatch.Handlers(
            replace: { [weak self] items in self?.replace(items) },
            apply: { [weak self] type, object in self?.apply(type, object) ?? false },
            changed: { [weak self] in self?.publish() })
        watch.withLock { $0 = KubernetesListWatch(endpoint: endpoint, path: path, handlers: handlers) }
    }

    private var listWatch: KubernetesListWatch { watch.withLock { $0! } }

    /// What the watch has done so far.
    public var progress: Counts { listWatch.progress }

    /// Starts listing and watching in the background. Allocates the watch task.
    public func start() { listWatch.start() }

    /// Stops the watch. Allocates nothing.
    public func stop() { listWatch.stop() }

    /// Waits until the first list has filled the table, or `timeout` seconds (the Collector's
    /// `wait_for_metadata`); false on timeout. Allocates nothing.
    public func waitForFirstList(timeout: Double) -> Bool { listWatch.waitForFirstList(timeout: timeout) }

    private func replace(_ items: [[String: Any]]) {
        pods.withLock { pods in
            pods.removeAll()
            for item in items {
                guard let uid = PodListLoader.string(item, "metadata", "uid") else { continue }
                if let entry = request.context.entry(forPod: item) { pods[uid] = entry }
            }
        }
        publish()
    }

    private func apply(_ type: String, _ object: [String: Any]) -> Bool {
        guard let uid = PodListLoader.string(object, "metadata", "uid") else { return false }
        let entry = type == "DELETED" ? nil : request.context.entry(forPod: object)
        pods.withLock { $0[uid] = entry }
        return true
    }

    private func publish() {
        // Sorted by uid: the same pods make the same table, whatever order events came in.
        let entries = pods.withLock { pods in pods.sorted { $0.key < $1.key }.map(\.value) }
        let table = PodListLoader.table(entries: entries)
        request.source.replace(table)
        listWatch.setKept(table.count)
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
