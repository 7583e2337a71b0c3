public import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
@_spi(Plumbing) public import Trapline
@_spi(Plumbing) public import TraplineCore
import TraplineStages

/// Sidecar mode: `otlp` receivers on HTTP and gRPC, the pipeline, `otlphttp` exporters to the next hop,
/// and `/metrics`, `/healthz`, `/readyz` (on the `prometheus` exporter's endpoint, and on every
/// receiver's port).
public final class Sidecar: Sendable {
    private let current: Mutex<RequestPipeline>
    private let started: (routes: [OutputRoute], forwarders: [String], metricsEndpoint: String?, receivers: [String])
    /// Routes the command line added to the file's (`--audit FILE`): a reload keeps them.
    private let commandLineRoutes: [OutputRoute]
    let forwarders: [any ExportQueue]
    private let receivers: [(id: String, config: OTLPReceiverConfig, signals: Set<Signal>)]
    /// The `Authorization` value each receiver's HTTP and gRPC listeners require
    /// (`bearertokenauth`), by receiver id.
    private let authorizations: [String: (http: String?, grpc: String?)]
    private let metricsEndpoint: String?
    private let servers = Mutex<[String: HTTPServerBox]>([:])
    private let grpcServers = Mutex<[any GRPCListener]>([])
    /// The receivers' TLS (their certificate reloaders run until the stop).
    private let serverTLS = Mutex<[any ListenerTLS]>([])
    private let stopping = Atomic<Bool>(false)

    private struct HTTPServerBox: @unchecked Sendable { let server: HTTPServer }

    private let watchers: [any MetricsExposition]
    /// The `memory_limiter` processors: while one is above its soft limit, requests of its
    /// pipelines' signals are refused with 503 before their bodies are read.
    let memoryMonitors: [MemoryMonitor]

    /// Makes the sidecar of a loaded configuration.
    ///
    /// - Parameters:
    ///   - loaded: the pipeline file, loaded without problems.
    ///   - outputs: its exporters (files and quarantines, `otlphttp`, the metrics endpoint).
    ///   - watchers: the Kubernetes API watches feeding `k8sattributes` stages (their series join
    ///     `/metrics`).
    /// - Throws: `IOFailure` when a file exporter cannot be opened.
    @_spi(Plumbing) public init(
        loaded: ConfigLoader.Result, outputs: PipelineConfig.Outputs, watchers: [any MetricsExposition] = []
    ) throws(IOFailure) {
        self.watchers = watchers
        current = Mutex(try RequestPipeline(loaded: loaded, routes: outputs.routes))
        started = Self.shape(loaded, outputs)
        let configured = loaded.config.outputs().routes
        commandLineRoutes = outputs.routes.filter { !configured.contains($0) }
        forwarders = outputs.forwarders.map {
            ExportQueues.make(id: $0.id, config: $0.config, signals: $0.signals, batch: $0.batch)
        }
        // An exporter whose storage cannot be opened must not take requests it could not keep.
        if let failure = forwarders.lazy.compactMap({ ($0 as? ForwardingExporter)?.storageFailure }).first {
            // Their transports are closed before they go (an HTTP client must be shut down).
            for forwarder in forwarders { forwarder.drain(until: Date()) }
            throw failure
        }
        receivers = loaded.config.otlpReceivers
        authorizations = Dictionary(
            loaded.config.otlpReceivers.map { receiver in
                (
                    receiver.id,
                    (
                        http: loaded.config.authenticator(receiver.config.authenticator)?.headerValue(),
                        grpc: loaded.config.authenticator(receiver.config.grpc?.authenticator)?.headerValue()
                    )
                )
            }, uniquingKeysWith: { first, _ in first })
        metricsEndpoint = outputs.metricsEndpoint
        memoryMonitors = loaded.config.memoryLimiters.map {
            MemoryMonitor(id: $0.id, config: $0.config, signals: $0.signals)
        }
    }

    /// Makes SwiftNIO's shared event loops the executor of every task in the process, so the
    /// gRPC receiver's handlers and the exporters' consumers run on the threads that do their
    /// I/O (no wake-up of another thread per request). Only before any task has started.
    ///
    /// - Returns: whether it was installed (false when a task ran first).
    ///
    /// Allocates nothing beyond NIO's loops.
    public static func runTasksOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// The pipeline requests run through now (a reload swaps it).
    package var pipeline: RequestPipeline { current.withLock { $0 } }

    /// What a reload may not change: receivers and exporters (their listeners and open files).
    private static func shape(_ loaded: ConfigLoader.Result, _ outputs: PipelineConfig.Outputs) -> (
        routes: [OutputRoute], forwarders: [String], metricsEndpoint: String?, receivers: [String]
    ) {
        (
            outputs.routes,
            outputs.forwarders.map {
                "\($0.id) \($0.config) \($0.signals.sorted { $0.rawValue < $1.rawValue }) \(String(describing: $0.batch))"
            },
            outputs.metricsEndpoint,
            loaded.config.otlpReceivers.map {
                "\($0.id) \($0.config) \($0.signals.sorted { $0.rawValue < $1.rawValue })"
            }
        )
    }

    /// Replaces the pipeline with a new configuration's (SIGHUP): its processors and connectors
    /// take the next request; receivers and exporters must stay as they are. A configuration
    /// with problems keeps the running pipeline. Either way it is counted in
    /// `trapline_config_reloads_total{result}`.
    ///
    /// - Returns: nil when the new pipeline runs, else why not.
    ///
    /// Allocates the new pipeline's stages; exporters and metrics are kept.
    public func reload(_ loaded: ConfigLoader.Result) -> String? {
        let running = pipeline
        guard loaded.diagnostics.isEmpty else {
            running.recordReload(succeeded: false)
            return loaded.diagnostics.sorted.map(\.description).joined(separator: "\n")
        }
        var outputs = loaded.config.outputs()
        outputs.routes += commandLineRoutes
        let shape = Self.shape(loaded, outputs)
        guard shape.routes == started.routes, shape.forwarders == started.forwarders,
            shape.metricsEndpoint == started.metricsEndpoint, shape.receivers == started.receivers
        else {
            running.recordReload(succeeded: false)
            return "receivers and exporters cannot change on reload in this version; restart to change them"
        }
        let next = running.reloaded(with: loaded)
        current.withLock { $0 = next }
        next.recordReload(succeeded: true)
        return nil
    }

    /// Starts the exporters and binds every listener.
    ///
    /// - Returns: the bound port of each receiver id, and of `prometheus` for the metrics endpoint.
    ///
    /// Allocates the event loop, servers and exporter threads.
    public func start() throws -> [String: Int] {
        for forwarder in forwarders { forwarder.start() }
        for monitor in memoryMonitors { monitor.start() }
        var ports: [String: Int] = [:]
        for receiver in receivers {
            if let grpc = receiver.config.grpc {
                let tls = try grpc.tls.map { try Self.listenerTLS($0) }
                if let tls { serverTLS.withLock { $0.append(tls) } }
                guard let support = InstalledModules.grpc else {
                    throw ModuleNotInstalled(feature: "OTLP/gRPC", module: "TraplineGRPC")
                }
                let server = try support.startReceiver(
                    GRPCReceiverRequest(
                        settings: grpc, signals: receiver.signals, source: receiver.id,
                        authorization: authorizations[receiver.id]?.grpc, tls: tls),
                    sidecar: self)
                grpcServers.withLock { $0.append(server) }
                ports[receiver.id + " grpc"] = server.port
            }
            guard receiver.config.servesHTTP, let address = HostPort(receiver.config.endpoint) else { continue }
            let routes = OTLPRoutes(
                signals: receiver.signals, source: receiver.id,
                maxBodyBytes: receiver.config.maxRequestBodySize, sidecar: self,
                authorization: authorizations[receiver.id]?.http)
            let tls = try receiver.config.tls.map { try Self.listenerTLS($0) }
            if let tls { serverTLS.withLock { $0.append(tls) } }
            let server = try HTTPServer(
                host: address.host, port: address.port, routes: routes,
                readTimeout: receiver.config.readTimeoutSeconds, idleTimeout: receiver.config.idleTimeoutSeconds,
                tls: try tls?.handlerFactory(applicationProtocols: []))
            servers.withLock { $0[receiver.id] = HTTPServerBox(server: server) }
            ports[receiver.id] = server.port
        }
        if let metricsEndpoint, let address = HostPort(metricsEndpoint) {
            let server = try HTTPServer(
                host: address.host, port: address.port, routes: MetricsRoutes(sidecar: self), readTimeout: 30,
                idleTimeout: 60)
            servers.withLock { $0["prometheus"] = HTTPServerBox(server: server) }
            ports["prometheus"] = server.port
        }
        return ports
    }

    /// What the sidecar's pipeline did since start (for `--report-file` at shutdown).
    public var report: ReplayReport { pipeline.report() }

    /// Whether the sidecar is shutting down (`/readyz` answers 503).
    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// The metrics text `/metrics` serves.
    var metricsText: String {
        pipeline.metricsText + PrometheusExpositionMerge.merge(forwarders.map(\.exposition))
            + watchers.map(\.exposition).joined()
            + memoryMonitors.map(\.exposition).joined()
    }

    /// Stops: no new connections or requests, then what was accepted is processed and the
    /// queues are sent until `deadline`, then every file exporter is finished.
    ///
    /// - Returns: the first output failure, if any.
    ///
    /// Allocates nothing beyond the report.
    public func stop(deadline: Date) -> IOFailure? {
        stopping.store(true, ordering: .relaxed)
        let all = servers.withLock { Array($0.values) }
        for box in all where box.server !== metricsServer { box.server.stopAccepting() }
        let grpc = grpcServers.withLock { $0 }
        for server in grpc { server.stopAccepting() }
        // RPCs already admitted are answered (their records queued) before the queues drain.
        let grpcDeadline = ContinuousClock.now + .milliseconds(Int64(max(0, deadline.timeIntervalSinceNow) * 1000))
        for server in grpc { server.waitForRPCs(until: grpcDeadline) }
        // Requests already read finish on their own threads; give them a moment to queue.
        while inFlight.load(ordering: .relaxed) > 0 && Date() < deadline { usleep(10_000) }
        for forwarder in forwarders { forwarder.drain(until: deadline) }
        let failure = pipeline.finish()
        for monitor in memoryMonitors { monitor.stop() }
        for box in all { box.server.stopAccepting() }
        for box in all { box.server.shutDown() }
        for server in grpc { server.shutDown() }
        for tls in serverTLS.withLock({ $0 }) { tls.stop() }
        return failure
    }

    private var metricsServer: HTTPServer? { servers.withLock { $0["prometheus"]?.server } }

    /// A receiver's TLS, from the installed TLS module.
    private static func listenerTLS(_ settings: TLSServerSettings) throws -> any ListenerTLS {
        guard let support = InstalledModules.tls else {
            throw ModuleNotInstalled(feature: "TLS", module: "TraplineTLS")
        }
        return try support.listenerTLS(settings)
    }

    /// Requests being processed (read, not yet answered).
    let inFlight = Atomic<Int>(0)
}

/// `/metrics`, `/healthz`, `/readyz`.
struct MetricsRoutes: HTTPRoutes {
    let sidecar: Sidecar

    var maxBodyBytes: Int { 0 }

    func admit(_ head: HTTPRequestHead) -> Admission {
        switch head.uri.split(separator: "?").first.map(String.init) ?? "" {
        case "/metrics", "/healthz", "/readyz":
            return head.method == .GET || head.method == .HEAD
                ? .admit(nil) : .refuse(.text(.methodNotAllowed, "use GET", headers: [("Allow", "GET")]))
        default:
            return .refuse(.text(.notFound, "not found: this endpoint serves /metrics, /healthz and /readyz"))
        }
    }

    func respond(_ head: HTTPRequestHead, body: ByteBuffer, reservation: Reservation?, peer: String?) -> HTTPReply {
        Self.serve(head, sidecar: sidecar) ?? .text(.notFound, "not found")
    }

    static func serve(_ head: HTTPRequestHead, sidecar: Sidecar) -> HTTPReply? {
        switch head.uri.split(separator: "?").first.map(String.init) ?? "" {
        case "/metrics":
            return HTTPReply(
                status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                body: Array(sidecar.metricsText.utf8))
        case "/healthz": return .text(.ok, "ok")
        case "/readyz": return sidecar.isStopping ? .text(.serviceUnavailable, "shutting down") : .text(.ok, "ready")
        default: return nil
        }
    }
}

/// `POST /v1/traces` and `/v1/logs` as the OTLP/HTTP specification describes them.
struct OTLPRoutes: HTTPRoutes {
    let signals: Set<Signal>
    let source: String
    let maxBodyBytes: Int
    let sidecar: Sidecar
    /// The `Authorization` value requests must carry (`bearertokenauth`), if any.
    let authorization: String?

    static let paths: [String: Signal] = ["/v1/traces": .traces, "/v1/logs": .logs, "/v1/metrics": .metrics]

    /// The sidecar's pipeline of the moment (a reload swaps it between requests).
    var pipeline: RequestPipeline { sidecar.pipeline }

    func admit(_ head: HTTPRequestHead) -> Admission {
        let path = head.uri.split(separator: "?").first.map(String.init) ?? ""
        // Health checks answer anyone (probes carry no token); everything else needs it.
        if ["/healthz", "/readyz"].contains(path) { return MetricsRoutes(sidecar: sidecar).admit(head) }
        if let authorization, !Authorization.matches(head.headers["authorization"].first, authorization) {
            return .refuse(
                .text(.unauthorized, "missing or wrong authorization", headers: [("WWW-Authenticate", "Bearer")]))
        }
        if path == "/metrics" { return MetricsRoutes(sidecar: sidecar).admit(head) }
        guard let signal = Self.paths[path] else {
            return .refuse(.text(.notFound, "not found: send OTLP with POST to /v1/traces or /v1/logs"))
        }
        guard head.method == .POST else {
            return .refuse(.text(.methodNotAllowed, "\(path) takes POST", headers: [("Allow", "POST")]))
        }
        guard signals.contains(signal) else {
            return .refuse(.text(.notFound, "no \(signal.rawValue) pipeline takes this receiver's \(path)"))
        }
        let contentType = head.headers["content-type"].first ?? ""
        guard OTLPWire.MediaType(contentType: contentType) != nil else {
            pipeline.recordRefused(.unsupportedMediaType, source: source)
            return .refuse(
                .text(
                    .unsupportedMediaType,
                    "unsupported Content-Type '\(contentType)': send application/x-protobuf or application/json"))
        }
        let encoding = (head.headers["content-encoding"].first ?? "identity").lowercased()
        guard ["gzip", "zstd", "identity", "none", ""].contains(encoding) else {
            pipeline.recordRefused(.unsupportedCompression, source: source)
            return .refuse(
                .text(.unsupportedMediaType, "unsupported Content-Encoding '\(encoding)': send gzip, zstd or none"))
        }
        switch sidecar.admit(signal: signal, metadata: { head.headers[$0] }) {
        case .success(let reservation): return .admit(reservation)
        case .failure(let refusal):
            return .refuse(
                .text(
                    .serviceUnavailable, refusal.message, headers: [("Retry-After", String(refusal.retryAfterSeconds))])
            )
        }
    }
    func respond(_ head: HTTPRequestHead, body: ByteBuffer, reservation: Reservation?, peer: String?) -> HTTPReply {
        let path = head.uri.split(separator: "?").first.map(String.init) ?? ""
        if let reply = MetricsRoutes.serve(head, sidecar: sidecar) { return reply }
        guard let signal = Self.paths[path],
            let type = OTLPWire.MediaType(contentType: head.headers["content-type"].first ?? "")
        else { return .text(.notFound, "not found") }
        let encoding = (head.headers["content-encoding"].first ?? "").lowercased()
        let compression: RequestInflater.Encoding? =
            encoding == "gzip" ? .gzip : encoding == "zstd" ? .zstd : nil
        // The body is read where NIO put it: decoded in place, or inflated once.
        let processed = body.withUnsafeReadableBytes { bytes in
            sidecar.ingest(
                bytes, compression: compression, limit: maxBodyBytes, json: type == .json, signal: signal,
                source: source, peer: peer, reservation: reservation, metadata: { head.headers[$0] })
        }
        let outcome: RequestOutcome
        switch processed {
        case .success(let result): outcome = result
        case .failure(.tooLarge):
            return reply(.payloadTooLarge, code: 8, "decompressed body larger than max_request_body_size", type)
        case .failure(.corrupt(let failure)):
            return reply(.badRequest, code: 3, "\(encoding) body cannot be read: \(failure)", type)
        }
        if outcome.isUndecodable {
            return reply(.badRequest, code: 3, outcome.firstError ?? "the request cannot be decoded", type)
        }
        if outcome.notKept {
            return reply(.serviceUnavailable, code: 14, "an exporter's storage could not keep the request; retry", type)
        }
        let rejected = outcome.records.rejected
        let message = rejected > 0 ? outcome.firstError : nil
        return HTTPReply(
            status: .ok, headers: [("Content-Type", type.contentType)],
            body: OTLPWire.exportResponse(signal: signal, rejected: rejected, message: message, as: type))
    }

    private func reply(_ status: HTTPResponseStatus, code: Int, _ message: String, _ type: OTLPWire.MediaType)
        -> HTTPReply
    {
        HTTPReply(
            status: status, headers: [("Content-Type", type.contentType)],
            body: OTLPWire.status(code: code, message: message, as: type))
    }
}

/// Something whose Prometheus series join the sidecar's `/metrics` (the Kubernetes API watches
/// feeding `k8sattributes`).
public protocol MetricsExposition: Sendable {
    /// Its series in the Prometheus text format.
    var exposition: String { get }
}
