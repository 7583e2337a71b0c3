import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix
import Synchronization
@_spi(Plumbing) import Trapline
import TraplineCore
@_spi(Plumbing) import TraplineServer
import TraplineTLS

/// OTLP/gRPC: the collector services' unary `Export` over one HTTP/2 connection to the next
/// hop, TLS unless `tls.insecure`. The codes OTLP names retryable are retried (`CANCELLED`, `DEADLINE_EXCEEDED`,
/// `ABORTED`, `OUT_OF_RANGE`, `UNAVAILABLE`, `DATA_LOSS`, and `RESOURCE_EXHAUSTED` when the
/// server sent `RetryInfo`), after the `RetryInfo` delay when there is one; any other code
/// refuses the request for good.
final class GRPCExportTransport: ExportTransport {
    private let client: GRPCClient<HTTP2ClientTransport.Posix>?
    private let group: MultiThreadedEventLoopGroup
    private let running: Mutex<Task<Void, any Error>?> = Mutex(nil)
    private let options: CallOptions
    private let metadata: Metadata

    init(endpoint: HostPort, config: OTLPExporterConfig) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let target: any ResolvableTarget =
            if endpoint.host.contains(":") {
                .ipv6(address: endpoint.host, port: endpoint.port)
            } else if endpoint.host.split(separator: ".").count == 4
                && endpoint.host.allSatisfy({ $0.isNumber || $0 == "." })
            {
                .ipv4(address: endpoint.host, port: endpoint.port)
            } else {
                .dns(host: endpoint.host, port: endpoint.port)
            }
        let client = try? GRPCClient(
            transport: .http2NIOPosix(
                target: target, transportSecurity: ClientTLS.grpcSecurity(config.tls),
                config: .defaults { transport in
                    if let name = config.tls.serverNameOverride { transport.http2.authority = name }
                    transport.compression.enabledAlgorithms = .all
                    transport.compression.algorithm = config.compression == .gzip ? .gzip : .none
                },
                eventLoopGroup: group))
        self.client = client
        var options = CallOptions.defaults
        options.timeout = .milliseconds(Int64(config.timeoutSeconds * 1000))
        options.compression = config.compression == .gzip ? .gzip : CompressionAlgorithm.none
        self.options = options
        var metadata = Metadata()
        for (name, value) in config.headers.sorted(by: { $0.key < $1.key }) {
            metadata.addString(value, forKey: name.lowercased())
        }
        self.metadata = metadata
        if let client { running.withLock { $0 = Task { try await client.runConnections() } } }
    }

    func prepare(signal: Signal, body: [UInt8]) -> (MethodDescriptor, [UInt8])? {
        guard let service = OTLPGRPCService.services.first(where: { $0.0 == signal })?.1 else { return nil }
        return (MethodDescriptor(fullyQualifiedService: service, method: "Export"), body)
    }

    func attempt(_ request: (MethodDescriptor, [UInt8])) async -> ExportAttempt {
        guard let client else { return .refused }
        do {
            let response = try await client.unary(
                request: ClientRequest(message: request.1, metadata: metadata), descriptor: request.0,
                serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(), options: options
            ) { try $0.message }
            return .accepted(rejected: OTLPWire.rejectedCount(inResponse: response))
        } catch let error as RPCError {
            return Self.classify(error)
        } catch {
            return .retryable(after: nil)
        }
    }

    /// What an RPC error means for a retry, as the OTLP specification's table says.
    static func classify(_ error: RPCError) -> ExportAttempt {
        var delay: Double?
        for details in error.metadata[binaryValues: "grpc-status-details-bin"] {
            delay = GRPCStatusDetails.retryDelaySeconds(in: details)
        }
        switch error.code {
        case .cancelled, .deadlineExceeded, .aborted, .outOfRange, .unavailable, .dataLoss:
            return .retryable(after: delay)
        case .resourceExhausted:
            guard let delay else { return .refused }
            return .retryable(after: delay)
        default:
            return .refused
        }
    }

    /// Ends the connection, then its event loop. The loop is shut down only once the client's
    /// connection task has ended: a loop shut down under a connect in progress (a next hop that
    /// refuses, retried with backoff) leaves that connect's promise unfulfilled, which NIO
    /// reports as a leak and debug builds stop on.
    ///
    /// Waits at most 5 s: the connection task and the wait for it run on the concurrency pool,
    /// which a busy process (two cores, every pool thread blocked) may not give them for long;
    /// waiting 30 s more for a cancelled connection held a replay's end, and the test suite, for
    /// half a minute to two. Past that the loop goes when the connection has ended, in the
    /// background.
    func close() {
        client?.beginGracefulShutdown()
        let task = running.withLock { $0 }
        let done = DispatchSemaphore(value: 0)
        Task {
            _ = try? await task?.value
            done.signal()
        }
        guard done.wait(timeout: .now() + 5) == .success else {
            // Calls still in flight hold the graceful shutdown open; cancelling ends them.
            task?.cancel()
            let group = group
            Task {
                _ = try? await task?.value
                try? await group.shutdownGracefully()
            }
            return
        }
        try? group.syncShutdownGracefully()
    }
}
