import Dispatch
import Foundation
import Synchronization
@_spi(Plumbing) import Trapline

#if canImport(Glibc)
    import Glibc
#endif

/// Why a resolution gave no list.
package struct BackendResolverError: Error, Sendable, CustomStringConvertible {
    package var description: String

    package init(description: String) { self.description = description }
}

/// Where a `loadbalancing` exporter's backends come from. The resolver calls `update` with each
/// resolution (on its own task or thread); the exporter rebuilds its ring when the list changed.
package protocol BackendResolver: Sendable {
    /// Resolves now and then as configured. Allocates its task.
    func start(_ update: @escaping @Sendable (Result<[String], BackendResolverError>) -> Void)
    /// Stops resolving. Allocates nothing.
    func stop()
}

/// Makes the resolver a configuration names.
enum BackendResolvers {
    static func make(_ resolver: LoadBalancingSettings.Resolver) -> any BackendResolver {
        switch resolver {
        case .fixed(let hostnames): FixedResolver(hostnames: hostnames)
        case .dns(let hostname, let port, let interval, let timeout):
            DNSResolver(hostname: hostname, port: port, intervalSeconds: interval, timeoutSeconds: timeout)
        case .kubernetes(let service, let namespace, let ports, let timeout):
            InstalledModules.tls?.kubernetesResolver(
                service: service, namespace: namespace, ports: ports, timeoutSeconds: timeout)
                ?? UnavailableResolver(reason: "the k8s resolver needs the TraplineTLS module")
        }
    }
}

/// `static`: the list as configured, once.
struct FixedResolver: BackendResolver {
    let hostnames: [String]

    func start(_ update: @escaping @Sendable (Result<[String], BackendResolverError>) -> Void) {
        update(.success(hostnames))
    }

    func stop() {}
}

/// A resolver this build cannot run: every resolution fails, saying why.
struct UnavailableResolver: BackendResolver {
    let reason: String

    func start(_ update: @escaping @Sendable (Result<[String], BackendResolverError>) -> Void) {
        update(.failure(BackendResolverError(description: reason)))
    }

    func stop() {}
}

/// `dns`: the addresses a hostname resolves to (A and AAAA, through the system resolver), each
/// with the configured port, sorted so that the same set is the same list; resolved again every
/// `interval`. A resolution that fails or takes longer than `timeout` leaves the list as it was
/// (counted as failed), as the Collector's resolver does.
final class DNSResolver: BackendResolver {
    let hostname: String
    let port: Int
    let intervalSeconds: Double
    let timeoutSeconds: Double
    /// Signalled (with `stopped` set) to end the loop's wait.
    private let wake = NSCondition()
    private let stopped = Atomic<Bool>(false)

    init(hostname: String, port: Int, intervalSeconds: Double, timeoutSeconds: Double) {
        self.hostname = hostname
        self.port = port
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
    }

    /// Resolves on a thread of its own, not a task: getaddrinfo blocks, and a blocked task would
    /// hold one of the few threads Swift concurrency has (in a busy process the resolutions
    /// stopped altogether).
    func start(_ update: @escaping @Sendable (Result<[String], BackendResolverError>) -> Void) {
        Thread.detachNewThread { [self] in
            while !stopped.load(ordering: .relaxed) {
                update(Self.resolve(hostname, port: port, timeoutSeconds: timeoutSeconds))
                wake.withLock {
                    let until = Date().addingTimeInterval(intervalSeconds)
                    while !stopped.load(ordering: .relaxed) && Date() < until { _ = wake.wait(until: until) }
                }
            }
        }
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        wake.withLock { wake.broadcast() }
    }

    /// One resolution, on a thread of its own so that a resolver that does not answer costs
    /// `timeout` and no more (getaddrinfo has no timeout of its own).
    static func resolve(_ hostname: String, port: Int, timeoutSeconds: Double) -> Result<
        [String], BackendResolverError
    > {
        let answer = Mutex<Result<[String], BackendResolverError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            answer.withLock { $0 = addresses(hostname, port: port) }
            done.signal()
        }
        guard done.wait(timeout: .now() + timeoutSeconds) == .success, let result = answer.withLock({ $0 }) else {
            return .failure(
                BackendResolverError(description: "resolving \(hostname) took longer than \(timeoutSeconds) s"))
        }
        return result
    }

    /// The numeric addresses of `hostname` as `host:port` (IPv6 in brackets), sorted, unique.
    static func addresses(_ hostname: String, port: Int) -> Result<[String], BackendResolverError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(hostname, nil, &hints, &list)
        guard status == 0 else {
            return .failure(
                BackendResolverError(description: "resolving \(hostname): \(String(cString: gai_strerror(status)))"))
        }
        defer { freeaddrinfo(list) }
        var found = Set<String>()
        var entry = list
        while let current = entry {
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                current.pointee.ai_addr, current.pointee.ai_addrlen, &host, socklen_t(host.count), nil, 0,
                NI_NUMERICHOST) == 0
            {
                let address = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                found.insert(address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)")
            }
            entry = current.pointee.ai_next
        }
        return .success(found.sorted())
    }
}
