import Foundation
import NIOCore
import Synchronization
@_spi(Plumbing) import TraplineServer

/// The `loadbalancing` exporter's `k8s` resolver: the ready addresses of a Service's
/// EndpointSlices (`discovery.k8s.io/v1`, selected by the `kubernetes.io/service-name` label),
/// each once per configured port, kept in step with a watch of the API. Every change of the set
/// is one resolution; a list or watch that fails keeps the last set (the watch retries). Needs
/// `get`, `list` and `watch` on `endpointslices` in the Service's namespace.
final class KubernetesEndpointsResolver: BackendResolver {
    private let service: String
    private let ports: [Int]
    private let endpoint: KubernetesPodWatcher.Endpoint?
    private let namespace: String
    /// `timeout`: how long a list of the slices may take before it counts as failed and is tried again.
    private let timeoutSeconds: Double
    /// Ready addresses by EndpointSlice name.
    private let slices = Mutex<[String: [String]]>([:])
    private let watch = Mutex<KubernetesListWatch?>(nil)

    init(
        service: String, namespace: String, ports: [Int], timeoutSeconds: Double,
        endpoint: KubernetesPodWatcher.Endpoint?
    ) {
        self.service = service
        self.timeoutSeconds = timeoutSeconds
        self.namespace = namespace
        self.ports = ports
        self.endpoint = endpoint
    }

    func start(_ update: @escaping @Sendable (Result<[String], BackendResolverError>) -> Void) {
        guard let endpoint else {
            update(
                .failure(
                    BackendResolverError(
                        description:
                            "the k8s resolver reads the Kubernetes API, but KUBERNETES_SERVICE_HOST or the service account token is missing"
                    )))
            return
        }
        let publish: @Sendable () -> Void = { [weak self] in
            guard let self else { return }
            update(.success(backends()))
        }
        let handlers = KubernetesListWatch.Handlers(
            replace: { [weak self] items in
                self?.slices.withLock { slices in
                    slices.removeAll()
                    for item in items {
                        if let (name, addresses) = Self.readyAddresses(item) { slices[name] = addresses }
                    }
                }
                publish()
            },
            apply: { [weak self] type, object in
                guard let self, let (name, addresses) = Self.readyAddresses(object) else { return false }
                slices.withLock { $0[name] = type == "DELETED" ? nil : addresses }
                return true
            },
            changed: publish)
        let watch = KubernetesListWatch(
            endpoint: endpoint, path: "/apis/discovery.k8s.io/v1/namespaces/\(namespace)/endpointslices",
            query: "labelSelector=kubernetes.io%2Fservice-name%3D\(service)",
            listTimeout: .milliseconds(Int64(timeoutSeconds * 1000)), handlers: handlers)
        self.watch.withLock { $0 = watch }
        watch.start()
    }

    func stop() { watch.withLock { $0?.stop() } }

    /// Every ready address of every slice, once per port, sorted.
    func backends() -> [String] {
        let addresses = Set(slices.withLock { $0.values.flatMap { $0 } })
        return addresses.flatMap { address in
            ports.map { address.contains(":") ? "[\(address)]:\($0)" : "\(address):\($0)" }
        }.sorted()
    }

    /// An EndpointSlice's name and the addresses of its endpoints that are ready (an endpoint
    /// without conditions counts as ready, as the API documents).
    static func readyAddresses(_ slice: [String: Any]) -> (String, [String])? {
        guard let name = (slice["metadata"] as? [String: Any])?["name"] as? String else { return nil }
        var addresses: [String] = []
        for endpoint in (slice["endpoints"] as? [[String: Any]]) ?? [] {
            let ready = ((endpoint["conditions"] as? [String: Any])?["ready"] as? Bool) ?? true
            guard ready else { continue }
            addresses += (endpoint["addresses"] as? [String]) ?? []
        }
        return (name, addresses)
    }
}
