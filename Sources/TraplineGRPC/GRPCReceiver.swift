import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix
import Synchronization
@_spi(Plumbing) import Trapline
import TraplineCore
@_spi(Plumbing) import TraplineServer
import TraplineStages

/// gRPC messages as bytes, in the three forms Trapline needs (no generated message type, no
/// per-field work in gRPC): a received request copied once out of the transport's buffer into
/// the buffer the decoder reads, and requests and responses as the bytes they are.
struct RequestBufferDeserializer: MessageDeserializer {
    /// `max_recv_msg_size_mib` in bytes: a larger message is refused with `RESOURCE_EXHAUSTED`.
    let maxBytes: Int

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> InputBuffer {
        guard serializedMessageBytes.count <= maxBytes else {
            // grpc-go's wording, which clients and the Collector's users know.
            throw RPCError(
                code: .resourceExhausted,
                message: "grpc: received message larger than max (\(serializedMessageBytes.count) vs. \(maxBytes))")
        }
        return serializedMessageBytes.withUnsafeBytes { InputBuffer(copying: $0) }
    }
}

/// Bytes out as they are (a response Trapline wrote, a request it forwards).
struct RawBytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

/// Bytes in as they are (a next hop's response).
struct RawBytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// The OTLP collector services (`TraceService`, `LogsService`, `MetricsService` `Export`) of one `otlp`
/// receiver, over the sidecar's shared admission and pipeline.
struct OTLPGRPCService: RegistrableRPCService {
    let sidecar: Sidecar
    let signals: Set<Signal>
    let source: String
    /// `max_recv_msg_size_mib` in bytes.
    let maxMessageBytes: Int
    /// The `authorization` metadata RPCs must carry (`bearertokenauth`), if any.
    let authorization: String?

    /// The fully qualified service of each signal, as `opentelemetry/proto/collector/*` declares it.
    static let services: [(Signal, String)] = [
        (.traces, "opentelemetry.proto.collector.trace.v1.TraceService"),
        (.logs, "opentelemetry.proto.collector.logs.v1.LogsService"),
        (.metrics, "opentelemetry.proto.collector.metrics.v1.MetricsService"),
    ]

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        // A signal no pipeline takes stays unregistered: gRPC answers UNIMPLEMENTED, as the
        // Collector does for a signal its receiver has no pipeline of.
        for (signal, service) in Self.services where signals.contains(signal) {
            let handler = self
            router.registerHandler(
                forMethod: MethodDescriptor(fullyQualifiedService: service, method: "Export"),
                deserializer: RequestBufferDeserializer(maxBytes: maxMessageBytes), serializer: RawBytesSerializer()
            ) { request, context in
                try await handler.export(signal, request, context)
            }
        }
    }

    /// One unary Export: admitted on its metadata before the message is read, then decoded,
    /// processed and queued like an HTTP request; the response carries `partial_success`.
    private func export(
        _ signal: Signal, _ request: StreamingServerRequest<InputBuffer>, _ context: ServerContext
    ) async throws -> StreamingServerResponse<[UInt8]> {
        let metadata = request.metadata
        let values = { (name: String) in metadata[stringValues: name].map { String($0) } }
        if let authorization, !Authorization.matches(values("authorization").first, authorization) {
            throw RPCError(code: .unauthenticated, message: "missing or wrong authorization")
        }
        let reservation: Reservation?
        switch sidecar.admit(signal: signal, metadata: values) {
        case .success(let held): reservation = held
        case .failure(let refusal): throw Self.error(for: refusal)
        }
        defer { reservation?.release() }
        var message: InputBuffer?
        do {
            for try await part in request.messages {
                // Export is unary: a second message makes the request invalid; none of it is
                // processed, and it is counted like any request refused unread.
                guard message == nil else {
                    sidecar.pipeline.recordRefused(.notUnary, source: source)
                    throw RPCError(code: .invalidArgument, message: "Export takes one message; this request has more")
                }
                message = part
            }
        } catch let error as RPCError where error.code == .resourceExhausted {
            sidecar.pipeline.recordRefused(.frameTooLarge, source: source, limit: maxMessageBytes)
            throw error
        }
        guard let message else { throw RPCError(code: .invalidArgument, message: "the request has no message") }
        let outcome = sidecar.ingest(
            message, json: false, signal: signal, source: source, peer: Self.address(of: context.remotePeer),
            reservation: reservation, metadata: values)
        if outcome.isUndecodable {
            throw RPCError(code: .invalidArgument, message: outcome.firstError ?? "the request cannot be decoded")
        }
        let rejected = outcome.records.rejected
        let response = OTLPWire.exportResponse(
            signal: signal, rejected: rejected, message: rejected > 0 ? outcome.firstError : nil, as: .protobuf)
        return StreamingServerResponse(single: ServerResponse(message: response))
    }

    /// The status a refusal gets: `UNAVAILABLE` while shutting down, else `RESOURCE_EXHAUSTED`;
    /// both with `RetryInfo`, which OTLP clients honour (the specification retries
    /// `RESOURCE_EXHAUSTED` only when the server sends it).
    static func error(for refusal: IngestRefusal) -> RPCError {
        let code: RPCError.Code = refusal == .shuttingDown ? .unavailable : .resourceExhausted
        var metadata = Metadata()
        metadata.addBinary(
            GRPCStatusDetails.retryInfo(
                code: code.rawValue, message: refusal.message, retryDelaySeconds: refusal.retryAfterSeconds),
            forKey: "grpc-status-details-bin")
        return RPCError(code: code, message: refusal.message, metadata: metadata)
    }

    /// The IP address in a gRPC peer description (`ipv4:10.0.0.7:5123`, `ipv6:[::1]:5123`).
    static func address(of peer: String) -> String? {
        if peer.hasPrefix("ipv4:") {
            let rest = peer.dropFirst(5)
            return rest.lastIndex(of: ":").map { String(rest[..<$0]) } ?? String(rest)
        }
        if peer.hasPrefix("ipv6:[") {
            let rest = peer.dropFirst(6)
            return rest.firstIndex(of: "]").map { String(rest[..<$0]) }
        }
        return nil
    }
}

/// `google.rpc.Status` with a `google.rpc.RetryInfo` detail, for the `grpc-status-details-bin`
/// trailer (written by hand: three small messages, no generated code).
enum GRPCStatusDetails {
    static func retryInfo(code: Int, message: String, retryDelaySeconds: Int) -> [UInt8] {
        var duration: [UInt8] = []
        ProtoAppender.appendVarintField(1, UInt64(retryDelaySeconds), to: &duration)
        var retryInfo: [UInt8] = []
        duration.withUnsafeBytes { ProtoAppender.appendBytesField(1, $0, to: &retryInfo) }
        var any: [UInt8] = []
        ProtoAppender.appendStringField(1, "type.googleapis.com/google.rpc.RetryInfo", to: &any)
        retryInfo.withUnsafeBytes { ProtoAppender.appendBytesField(2, $0, to: &any) }
        var status: [UInt8] = []
        ProtoAppender.appendVarintField(1, UInt64(code), to: &status)
        ProtoAppender.appendStringField(2, message, to: &status)
        any.withUnsafeBytes { ProtoAppender.appendBytesField(3, $0, to: &status) }
        return status
    }

    /// The `RetryInfo` delay in a `google.rpc.Status`, in seconds; nil when there is none or the
    /// bytes are not such a status.
    static func retryDelaySeconds(in status: [UInt8]) -> Double? {
        status.withUnsafeBytes { bytes -> Double? in
            do throws(DecodeError) {
                var reader = WireReader(frame: bytes)
                while let (tag, _) = try reader.nextField() {
                    guard tag.number == 3 && tag.wireType == .lengthDelimited else {
                        try reader.skipField(tag, depth: 0, maxDepth: 8)
                        continue
                    }
                    var any = reader.subReader(try reader.readLengthDelimited())
                    var isRetryInfo = false
                    var value: WireReader?
                    while let (field, _) = try any.nextField() {
                        if field.number == 1 && field.wireType == .lengthDelimited {
                            let name = try any.readLengthDelimited()
                            isRetryInfo = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[name]), as: UTF8.self)
                                .hasSuffix("google.rpc.RetryInfo")
                        } else if field.number == 2 && field.wireType == .lengthDelimited {
                            value = any.subReader(try any.readLengthDelimited())
                        } else {
                            try any.skipField(field, depth: 1, maxDepth: 8)
                        }
                    }
                    guard isRetryInfo, var retryInfo = value else { continue }
                    while let (field, _) = try retryInfo.nextField() {
                        guard field.number == 1 && field.wireType == .lengthDelimited else {
                            try retryInfo.skipField(field, depth: 2, maxDepth: 8)
                            continue
                        }
                        var duration = retryInfo.subReader(try retryInfo.readLengthDelimited())
                        var seconds = 0.0
                        while let (part, _) = try duration.nextField() {
                            switch (part.number, part.wireType) {
                            case (1, .varint): seconds += Double(Int64(bitPattern: try duration.readVarint()))
                            case (2, .varint):
                                seconds += Double(Int32(truncatingIfNeeded: try duration.readVarint())) / 1e9
                            default: try duration.skipField(part, depth: 3, maxDepth: 8)
                            }
                        }
                        return max(0, seconds)
                    }
                }
            } catch {
                // Not a status: no delay to honour.
            }
            return nil
        }
    }
}

/// One `otlp` receiver's `protocols.grpc` listener: a gRPC server on its own event loop.
final class GRPCReceiverServer: GRPCListener {
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let serving: Mutex<Task<Void, any Error>?> = Mutex(nil)
    /// The port bound (useful with port 0).
    let port: Int

    /// Binds and starts serving; returns once the port is bound.
    ///
    /// - Throws: the bind's error (address in use, not an address of this host).
    init(
        settings: OTLPGRPCSettings, service: OTLPGRPCService,
        security: HTTP2ServerTransport.Posix.TransportSecurity = .plaintext
    ) throws {
        guard let address = HostPort(settings.endpoint) else { throw GRPCReceiverError.badEndpoint(settings.endpoint) }
        let socket: GRPCNIOTransportCore.SocketAddress =
            address.host.contains(":")
            ? .ipv6(host: address.host, port: address.port) : .ipv4(host: address.host, port: address.port)
        let transport = HTTP2ServerTransport.Posix(
            address: socket, transportSecurity: security,
            config: .defaults { config in
                // The transport resets the stream of a message over its limit (INTERNAL), while OTLP
                // clients expect RESOURCE_EXHAUSTED: it takes up to twice the limit plus 4 MiB and
                // the deserializer refuses what is over `max_recv_msg_size_mib` with that code.
                config.rpc.maxRequestPayloadSize = settings.maxReceiveMessageBytes * 2 + (4 << 20)
                // gzip and deflate, as every OTLP client may send (`grpc-encoding`).
                config.compression.enabledAlgorithms = .all
                if let streams = settings.maxConcurrentStreams { config.http2.maxConcurrentStreams = streams }
                // OTLP requests are tens of kilobytes to megabytes: HTTP/2's defaults (16 KiB
                // frames, a 64 KiB window) cut one into many frames and window updates, each a
                // trip through the stream's pipeline. Larger frames and a window of one default
                // message keep that per-request, not per-16-KiB.
                config.http2.maxFrameSize = 1 << 20
                config.http2.targetWindowSize = min(max(settings.maxReceiveMessageBytes, 1 << 16), 4 << 20)
                let keepalive = settings.keepalive
                func duration(_ key: String) -> Duration? { keepalive[key].map { .milliseconds(Int64($0 * 1000)) } }
                config.connection.maxIdleTime = duration("max_connection_idle") ?? config.connection.maxIdleTime
                config.connection.maxAge = duration("max_connection_age") ?? config.connection.maxAge
                config.connection.maxGraceTime = duration("max_connection_age_grace") ?? config.connection.maxGraceTime
                config.connection.keepalive.time = duration("time") ?? config.connection.keepalive.time
                config.connection.keepalive.timeout = duration("timeout") ?? config.connection.keepalive.timeout
            },
            // NIO's shared loops, which also run the RPC handlers' tasks when `trapline run`
            // installed them as the concurrency executor: a request is read, decoded and
            // answered without hopping threads.
            eventLoopGroup: .singletonMultiThreadedEventLoopGroup)
        let server = GRPCServer(transport: transport, services: [service])
        self.server = server
        serving.withLock { $0 = Task { try await server.serve() } }
        // The listener is bound by `serve` on its task; wait here for its address (or its error).
        let bound = Mutex<Result<Int, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let address = try await transport.listeningAddress
                bound.withLock { $0 = .success(address.ipv4?.port ?? address.ipv6?.port ?? 0) }
            } catch {
                bound.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        switch bound.withLock({ $0 }) {
        case .success(let port)?: self.port = port
        case .failure(let error)?:
            throw error
        case nil: throw GRPCReceiverError.notBound
        }
    }

    /// Stops taking new RPCs; those in progress finish.
    func stopAccepting() { server.beginGracefulShutdown() }

    /// Waits until the RPCs in progress have been answered (graceful shutdown ends the serve
    /// task), or `deadline` passes and they are cancelled.
    func waitForRPCs(until deadline: ContinuousClock.Instant) {
        server.beginGracefulShutdown()
        let done = DispatchSemaphore(value: 0)
        let task = serving.withLock { $0 }
        Task {
            _ = try? await task?.value
            done.signal()
        }
        let seconds = max(0, Double((deadline - ContinuousClock.now).components.seconds))
        if done.wait(timeout: .now() + seconds) == .timedOut { task?.cancel() }
    }

    /// Nothing left to close after `waitForRPCs`: the loops are NIO's shared ones.
    func shutDown() {}
}

enum GRPCReceiverError: Error, CustomStringConvertible {
    case badEndpoint(String)
    case notBound

    var description: String {
        switch self {
        case .badEndpoint(let text): "'\(text)' is not host:port"
        case .notBound: "the gRPC listener did not bind"
        }
    }
}
