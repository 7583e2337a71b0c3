import Dispatch
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import Synchronization
@_spi(Plumbing) import Trapline
import TraplineCore
@_spi(Plumbing) import TraplineServer
import TraplineStages

/// One `otlp` receiver's `protocols.grpc` listener: the three OTLP `Export` methods served on
/// SwiftNIO's HTTP/2 directly. Export is unary and its messages are bytes Trapline decodes
/// itself, so a call is one HTTP/2 stream read into one buffer, decoded in place and answered
/// with one message and its trailers — no per-call task, async sequence or generic RPC
/// machinery (with grpc-swift's server the receiver took 2.3 times the CPU of OTLP/HTTP per span).
/// Connection lifetime (`keepalive.server_parameters`: pings, idle and age limits, grace) is
/// NIOHTTP2's connection management handler.
final class OTLPGRPCServer: GRPCListener {
    private let channel: any Channel
    private let calls: CallTracker
    /// The port bound (useful with port 0).
    let port: Int

    /// Binds and starts serving.
    ///
    /// - Throws: the bind's error (address in use, not an address of this host).
    /// - Parameter tls: makes each connection's TLS handler (offering `h2` by ALPN), if any.
    init(settings: OTLPGRPCSettings, service: OTLPGRPCService, tls: (@Sendable () -> any ChannelHandler)?) throws {
        guard let address = HostPort(settings.endpoint) else { throw GRPCReceiverError.badEndpoint(settings.endpoint) }
        let calls = CallTracker()
        let management = Self.connectionManagement(settings.keepalive)
        let (connection, window) = Self.http2Configuration(settings)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(tls()) }
                    // HTTP/2 frames of every stream come to the calls' handler (no per-stream
                    // channels); the connection management sees them on the way.
                    try pipeline.addHandler(NIOHTTP2Handler(mode: .server, connectionConfiguration: connection))
                    try pipeline.addHandler(FlowControlEventFilter())
                    try pipeline.addHandler(
                        NIOHTTP2ServerConnectionManagementHandler(
                            eventLoop: channel.eventLoop, configuration: management))
                    try pipeline.addHandler(OTLPGRPCConnectionHandler(service: service, calls: calls, window: window))
                    calls.connectionOpened(channel)
                }
            }
        channel = try bootstrap.bind(host: address.host, port: address.port).wait()
        self.calls = calls
        port = channel.localAddress?.port ?? address.port
    }

    /// `keepalive.server_parameters` (the Collector's names, in seconds) as NIOHTTP2's
    /// connection management: gRPC's defaults (a ping every 2 hours, 20 s for its answer, no
    /// idle or age limit) where a parameter is not set.
    static func connectionManagement(_ keepalive: [String: Double])
        -> NIOHTTP2ServerConnectionManagementHandler
        .Configuration
    {
        func amount(_ key: String) -> TimeAmount? { keepalive[key].map { .nanoseconds(Int64($0 * 1e9)) } }
        var configuration = NIOHTTP2ServerConnectionManagementHandler.Configuration.defaults
        configuration.maxIdleTime = amount("max_connection_idle")
        configuration.maxAge = amount("max_connection_age")
        configuration.maxGraceTime = amount("max_connection_age_grace") ?? configuration.maxGraceTime
        configuration.keepalive = .init(
            pingInterval: amount("time") ?? .hours(2), ackTimeout: amount("timeout") ?? .seconds(20))
        return configuration
    }

    /// HTTP/2 settings for OTLP requests, which are tens of kilobytes to megabytes: large frames
    /// and a window of one default message (4 MiB) keep a request to a few frames and window
    /// updates rather than one per 16 KiB; `max_concurrent_streams` when set.
    static func http2Configuration(_ settings: OTLPGRPCSettings) -> (
        connection: NIOHTTP2Handler.ConnectionConfiguration, window: Int
    ) {
        let window = min(max(settings.maxReceiveMessageBytes, 1 << 16), 4 << 20)
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        var initial = HTTP2Settings([
            HTTP2Setting(parameter: .initialWindowSize, value: window),
            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 20),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
        ])
        if let streams = settings.maxConcurrentStreams {
            initial.append(HTTP2Setting(parameter: .maxConcurrentStreams, value: streams))
        }
        connection.initialSettings = initial
        return (connection, window)
    }

    /// Stops taking connections and asks every open one to finish (GOAWAY): calls in progress
    /// are answered, new ones go elsewhere.
    func stopAccepting() {
        try? channel.close().wait()
        calls.quiesceConnections()
    }

    /// Waits until the calls in progress have been answered, or `deadline` passes and their
    /// connections are closed.
    func waitForRPCs(until deadline: ContinuousClock.Instant) {
        stopAccepting()
        let tick = DispatchSemaphore(value: 0)
        while calls.inProgress > 0 && ContinuousClock.now < deadline {
            _ = tick.wait(timeout: .now() + .milliseconds(10))
        }
        if calls.inProgress > 0 { calls.closeConnections() }
    }

    /// Closes what is still open; the event loops are NIO's shared ones.
    func shutDown() { calls.closeConnections() }
}

/// Stops the flow-control events NIOHTTP2 raises at every DATA frame and window change
/// (`NIOHTTP2WindowUpdatedEvent`, `NIOHTTP2BulkStreamWindowChangeEvent`) right after the HTTP/2
/// handler. They tell per-stream channels how much they may send; this server has none (its
/// answers go through the HTTP/2 handler, which keeps the windows itself), and every handler
/// after this one paid dynamic casts to look past each: about 30 such events a 100-span request,
/// 31,000 of its 842,000 instructions (callgrind, `Benchmarks/ingest.sh`'s requests).
final class FlowControlEventFilter: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A metatype comparison, not a cast: this runs for every event.
        let type = Swift.type(of: event)
        if type == NIOHTTP2WindowUpdatedEvent.self || type == NIOHTTP2BulkStreamWindowChangeEvent.self { return }
        context.fireUserInboundEventTriggered(event)
    }
}

/// The calls in progress and the open connections of one listener, for a stop.
final class CallTracker: Sendable {
    private let count = Atomic<Int>(0)
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])

    var inProgress: Int { count.load(ordering: .acquiring) }
    func begin() { count.add(1, ordering: .relaxed) }
    func end() { count.subtract(1, ordering: .releasing) }

    func connectionOpened(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        connections.withLock { $0[key] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.connections.withLock { $0.removeValue(forKey: key) }
        }
    }

    /// Asks each connection's management handler for a graceful close (GOAWAY, then close once
    /// its streams are done).
    func quiesceConnections() {
        for channel in connections.withLock({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    func closeConnections() {
        for channel in connections.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }
}

/// The `Export` calls of one HTTP/2 connection, each on its stream: admitted on its headers
/// (before any message byte is read), its one message gathered into one buffer and refused as
/// soon as it is known to be too large or not alone, then decoded in place and answered on the
/// event loop that read it.
///
/// The calls are kept here by stream id rather than each in a channel of its own (NIOHTTP2's
/// stream multiplexer): a call is a handful of frames, and a channel with its pipeline per
/// stream cost more than handling the frames (`Benchmarks/ingest.sh`, Trapline's CPU per span
/// over OTLP/HTTP's: 0.78–0.83 with a channel per stream, 0.86–0.90 without). So flow control is done here too: the
/// connection's window is opened to `window` at the start, and a window (the connection's, a
/// stream's) is given back once half of it has been read — whether the bytes were kept or
/// dropped, so a refused call cannot stall the others.
final class OTLPGRPCConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let service: OTLPGRPCService
    private let calls: CallTracker
    /// The flow-control window each stream starts with (SETTINGS_INITIAL_WINDOW_SIZE) and the
    /// connection is opened to.
    private let window: Int
    private var streams: [HTTP2StreamID: Call] = [:]
    /// Bytes read on the connection since its window was last given back.
    private var connectionUnacknowledged = 0
    /// The client's address, told once for the connection's calls (k8sattributes' association).
    private var peer: String?

    /// What a call has got to.
    private enum Phase {
        /// Admitted; the message is being read.
        case reading
        /// Answered, or being answered: anything more the client sends is dropped.
        case answered
    }

    /// A call on one stream.
    private struct Call {
        var phase = Phase.answered
        var signal = Signal.traces
        var headers = HPACKHeaders()
        var encoding = MessageEncoding.identity
        var reservation: Reservation?
        /// The stream's bytes so far: gRPC's 5-byte prefix and the message.
        var body: ByteBuffer?
        /// Bytes read on the stream since its window was last given back.
        var unacknowledged = 0
    }

    init(service: OTLPGRPCService, calls: CallTracker, window: Int) {
        self.service = service
        self.calls = calls
        self.window = window
    }

    func channelActive(context: ChannelHandlerContext) {
        peer = context.channel.remoteAddress?.ipAddress
        // HTTP/2 starts every connection's window at 65,535 bytes whatever the settings say.
        if window > 65_535 {
            let update = HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: window - 65_535))
            context.writeAndFlush(wrapOutboundOut(update), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let id = frame.streamID
        switch frame.payload {
        case .headers(let headers):
            if streams[id] == nil {
                calls.begin()
                streams[id] = Call()
                start(id, headers.headers, context: context)
                if headers.endStream { finish(id, context: context) }
            } else if headers.endStream {
                // The client's trailers: the request is whole.
                finish(id, context: context)
            }
        case .data(let data):
            let length = data.data.readableBytes + (data.paddingBytes.map { $0 + 1 } ?? 0)
            giveBackConnectionWindow(read: length, context: context)
            // One lookup a frame: the call is reached by its index until the frame is taken.
            guard let call = streams.index(forKey: id) else { return }
            giveBackStreamWindow(id, call, read: length, streamEnded: data.endStream, context: context)
            guard streams.values[call].phase == .reading, case .byteBuffer(var bytes) = data.data else { return }
            if streams.values[call].body == nil,
                let declared = bytes.getInteger(at: bytes.readerIndex + 1, as: UInt32.self),
                bytes.readableBytes < 5 + Int(declared), Int(declared) <= service.maxMessageBytes
            {
                // A message over several frames is gathered into one buffer of its size, so it
                // is copied once, not regrown.
                var whole = context.channel.allocator.buffer(capacity: 5 + Int(declared))
                whole.writeBuffer(&bytes)
                streams.values[call].body = whole
            } else if streams.values[call].body == nil {
                // The whole message in one frame (or too little to know): read where it lies.
                streams.values[call].body = bytes
            } else {
                streams.values[call].body!.writeBuffer(&bytes)
            }
            if let refusal = Self.refusal(of: streams.values[call].body!, maxBytes: service.maxMessageBytes) {
                refuse(id, refusal, context: context)
            } else if data.endStream {
                finish(id, context: context)
            }
        default:
            break
        }
    }

    /// Gives back what was read on the connection once it is half its window: for every DATA
    /// frame, of a call or not, so a refused call cannot stall the others.
    private func giveBackConnectionWindow(read: Int, context: ChannelHandlerContext) {
        connectionUnacknowledged += read
        if connectionUnacknowledged >= window / 2 {
            let update = HTTP2Frame(
                streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: connectionUnacknowledged))
            context.writeAndFlush(wrapOutboundOut(update), promise: nil)
            connectionUnacknowledged = 0
        }
    }

    /// Gives back what was read on stream `id` (the call at `index`) once it is half its
    /// window. A stream that has ended needs none back, and one already answered gets none: its
    /// client stops sending once the window is spent, while the connection's window keeps the
    /// other calls going.
    private func giveBackStreamWindow(
        _ id: HTTP2StreamID, _ index: Dictionary<HTTP2StreamID, Call>.Index, read: Int, streamEnded: Bool,
        context: ChannelHandlerContext
    ) {
        guard !streamEnded, streams.values[index].phase == .reading else { return }
        streams.values[index].unacknowledged += read
        let unacknowledged = streams.values[index].unacknowledged
        if unacknowledged >= window / 2 {
            let update = HTTP2Frame(streamID: id, payload: .windowUpdate(windowSizeIncrement: unacknowledged))
            context.writeAndFlush(wrapOutboundOut(update), promise: nil)
            streams.values[index].unacknowledged = 0
        }
    }

    /// Checks the headers of a new call and admits it, or answers it at once.
    private func start(_ id: HTTP2StreamID, _ headers: HPACKHeaders, context: ChannelHandlerContext) {
        guard headers.first(name: ":method") == "POST" else {
            return answer(id, httpStatus: "405", context: context)
        }
        guard let contentType = headers.first(name: "content-type"), contentType.hasPrefix("application/grpc") else {
            return answer(id, httpStatus: "415", context: context)
        }
        let path = headers.first(name: ":path") ?? ""
        guard let signal = OTLPGRPCService.signal(path: path), service.signals.contains(signal) else {
            // A signal no pipeline takes: UNIMPLEMENTED, as the Collector answers for a signal its
            // receiver has no pipeline of.
            return answer(id, .unimplemented("Method not found: \(path.dropFirst())"), context: context)
        }
        guard let encoding = MessageEncoding(headers.first(name: "grpc-encoding")) else {
            return answer(
                id, .unimplemented("grpc-encoding '\(headers.first(name: "grpc-encoding") ?? "")' is not supported"),
                extraHeaders: [("grpc-accept-encoding", MessageEncoding.accepted)], context: context)
        }
        let values = { (name: String) in headers[name] }
        if let authorization = service.authorization,
            !Authorization.matches(values("authorization").first, authorization)
        {
            return answer(id, .unauthenticated("missing or wrong authorization"), context: context)
        }
        switch service.sidecar.admit(signal: signal, metadata: values) {
        case .success(let held):
            streams[id] = Call(phase: .reading, signal: signal, headers: headers, encoding: encoding, reservation: held)
        case .failure(let refusal):
            answer(id, GRPCStatus(refusal: refusal), context: context)
        }
    }

    /// Why a call's bytes so far cannot be taken, if they cannot: a message declared larger
    /// than `max_recv_msg_size_mib` (refused before the rest of it arrives), or a second
    /// message after the first (Export is unary).
    private static func refusal(of body: ByteBuffer, maxBytes: Int) -> Refusal? {
        guard let length = body.getInteger(at: body.readerIndex + 1, as: UInt32.self) else { return nil }
        if Int(length) > maxBytes { return .tooLarge(Int(length)) }
        if body.readableBytes > 5 + Int(length) { return .notUnary }
        return nil
    }

    private enum Refusal {
        case tooLarge(Int)
        case notUnary
    }

    private func refuse(_ id: HTTP2StreamID, _ refusal: Refusal, context: ChannelHandlerContext) {
        streams[id]?.reservation?.release()
        streams[id]?.reservation = nil
        streams[id]?.body = nil
        let pipeline = service.sidecar.pipeline
        switch refusal {
        case .tooLarge(let length):
            pipeline.recordRefused(.frameTooLarge, source: service.source, limit: service.maxMessageBytes)
            // grpc-go's wording, which clients and the Collector's users know.
            answer(
                id,
                .resourceExhausted("grpc: received message larger than max (\(length) vs. \(service.maxMessageBytes))"),
                context: context)
        case .notUnary:
            // None of it is processed; counted like any request refused unread.
            pipeline.recordRefused(.notUnary, source: service.source)
            answer(id, .invalidArgument("Export takes one message; this request has more"), context: context)
        }
    }

    /// The client has sent everything: takes the one message out of its prefix and runs it
    /// through the pipeline here, on the connection's event loop. A hop to another thread and
    /// back cost more than a typical request's decoding (measured: 1.66 against 1.48 CPU
    /// seconds per million spans); a connection waits for its own calls, and the loops are one
    /// per core, so a large request holds up only the connections sharing its loop.
    private func finish(_ id: HTTP2StreamID, context: ChannelHandlerContext) {
        guard let call = streams[id], call.phase == .reading else { return }
        streams[id]!.phase = .answered
        streams[id]!.reservation = nil
        streams[id]!.body = nil
        let body = call.body ?? ByteBuffer()
        guard let flag = body.getInteger(at: body.readerIndex, as: UInt8.self),
            let length = body.getInteger(at: body.readerIndex + 1, as: UInt32.self),
            body.readableBytes == 5 + Int(length)
        else {
            call.reservation?.release()
            let message =
                body.readableBytes == 0 ? "the request has no message" : "the request ends inside its message"
            return answer(id, .invalidArgument(message), context: context)
        }
        guard flag == 0 || (flag == 1 && call.encoding != .identity) else {
            call.reservation?.release()
            return answer(
                id,
                .internalError(flag == 1 ? "a compressed message without grpc-encoding" : "bad message flag \(flag)"),
                context: context)
        }
        let status = Self.export(call, flag: flag, body: body, service: service, peer: peer)
        call.reservation?.release()
        answer(id, status, context: context)
    }

    /// Decodes and processes one message; the call's answer.
    private static func export(
        _ call: Call, flag: UInt8, body: ByteBuffer, service: OTLPGRPCService, peer: String?
    ) -> GRPCStatus {
        let processed = body.withUnsafeReadableBytes { bytes in
            service.sidecar.ingest(
                UnsafeRawBufferPointer(rebasing: bytes[5...]), compression: flag == 1 ? call.encoding.compression : nil,
                limit: service.maxMessageBytes, json: false, signal: call.signal, source: service.source, peer: peer,
                reservation: call.reservation, metadata: { call.headers[$0] })
        }
        let outcome: RequestOutcome
        switch processed {
        case .success(let result): outcome = result
        case .failure(.tooLarge):
            return .resourceExhausted("grpc: received message after decompression larger than max")
        case .failure(.corrupt(let failure)):
            return .invalidArgument("\(call.encoding.name) message cannot be read: \(failure)")
        }
        if outcome.isUndecodable {
            return .invalidArgument(outcome.firstError ?? "the request cannot be decoded")
        }
        if outcome.notKept { return .unavailable("an exporter's storage could not keep the request; retry") }
        let rejected = outcome.records.rejected
        return .ok(
            OTLPWire.exportResponse(
                signal: call.signal, rejected: rejected, message: rejected > 0 ? outcome.firstError : nil,
                as: .protobuf))
    }

    /// Answers with an HTTP status alone (not a gRPC request at all).
    private func answer(_ id: HTTP2StreamID, httpStatus: String, context: ChannelHandlerContext) {
        streams[id]?.phase = .answered
        let headers = HPACKHeaders([(":status", httpStatus)])
        let frame = HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers, endStream: true)))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// Answers the call: the response message and `grpc-status: 0`, or a status alone
    /// (trailers-only) with its message and details.
    private func answer(
        _ id: HTTP2StreamID, _ status: GRPCStatus, extraHeaders: [(String, String)] = [],
        context: ChannelHandlerContext
    ) {
        streams[id]?.phase = .answered
        var headers = HPACKHeaders([(":status", "200"), ("content-type", "application/grpc")])
        headers.add(contentsOf: extraHeaders)
        guard let response = status.response else {
            headers.add(contentsOf: status.trailers)
            let frame = HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers, endStream: true)))
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            return
        }
        context.write(
            wrapOutboundOut(HTTP2Frame(streamID: id, payload: .headers(.init(headers: headers)))), promise: nil)
        var message = context.channel.allocator.buffer(capacity: 5 + response.count)
        message.writeInteger(UInt8(0))
        message.writeInteger(UInt32(response.count))
        message.writeBytes(response)
        context.write(
            wrapOutboundOut(HTTP2Frame(streamID: id, payload: .data(.init(data: .byteBuffer(message))))), promise: nil)
        let trailers = HPACKHeaders([("grpc-status", "0")])
        let end = HTTP2Frame(streamID: id, payload: .headers(.init(headers: trailers, endStream: true)))
        context.writeAndFlush(wrapOutboundOut(end), promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A stream closed (answered and ended by the client, or reset): the call is over; one
        // still being read gives its slots back.
        if type(of: event) == StreamClosedEvent.self, let closed = event as? StreamClosedEvent,
            let call = streams.removeValue(forKey: closed.streamID)
        {
            if call.phase == .reading { call.reservation?.release() }
            calls.end()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The connection gone mid-call: slots go back, the calls are over.
        for call in streams.values {
            if call.phase == .reading { call.reservation?.release() }
            calls.end()
        }
        streams = [:]
        context.fireChannelInactive()
    }
}

/// The message compressions a call may use (`grpc-encoding`): gzip and zstd, as the
/// Collector's receiver takes, and deflate, which OpenTelemetry's gRPC exporters offer.
enum MessageEncoding: Equatable {
    case identity
    case compressed(RequestInflater.Encoding)

    /// What `grpc-accept-encoding` lists.
    static let accepted = "identity,gzip,zstd,deflate"

    /// The encoding a `grpc-encoding` value names (none: identity); nil for one not taken.
    init?(_ header: String?) {
        let name = header?.lowercased() ?? "identity"
        if name == "identity" {
            self = .identity
        } else if let encoding = RequestInflater.Encoding(rawValue: name) {
            self = .compressed(encoding)
        } else {
            return nil
        }
    }

    /// The compression, if any.
    var compression: RequestInflater.Encoding? {
        if case .compressed(let encoding) = self { encoding } else { nil }
    }

    /// The name a message names it by.
    var name: String { compression?.rawValue ?? "identity" }
}

/// How a call ends: a response message, or a gRPC status code with its message and details.
struct GRPCStatus {
    var code: Int
    var message: String
    /// The response message of a call that succeeded.
    var response: [UInt8]?
    /// `google.rpc.Status` for `grpc-status-details-bin` (a `RetryInfo`), if any.
    var details: [UInt8]?

    static func ok(_ response: [UInt8]) -> GRPCStatus { GRPCStatus(code: 0, message: "", response: response) }
    static func invalidArgument(_ message: String) -> GRPCStatus { GRPCStatus(code: 3, message: message) }
    static func resourceExhausted(_ message: String) -> GRPCStatus { GRPCStatus(code: 8, message: message) }
    static func unimplemented(_ message: String) -> GRPCStatus { GRPCStatus(code: 12, message: message) }
    static func internalError(_ message: String) -> GRPCStatus { GRPCStatus(code: 13, message: message) }
    static func unavailable(_ message: String) -> GRPCStatus { GRPCStatus(code: 14, message: message) }
    static func unauthenticated(_ message: String) -> GRPCStatus { GRPCStatus(code: 16, message: message) }

    /// A refusal before the message is read: `UNAVAILABLE` while shutting down, else
    /// `RESOURCE_EXHAUSTED`; both with `RetryInfo`, which OTLP clients honour (the specification
    /// retries `RESOURCE_EXHAUSTED` only when the server sends it).
    init(refusal: IngestRefusal) {
        code = refusal == .shuttingDown ? 14 : 8
        message = refusal.message
        details = GRPCStatusDetails.retryInfo(
            code: code, message: refusal.message, retryDelaySeconds: refusal.retryAfterSeconds)
    }

    init(code: Int, message: String, response: [UInt8]? = nil) {
        self.code = code
        self.message = message
        self.response = response
    }

    /// The status as trailers: `grpc-message` percent-encoded and binary details in base64, as
    /// gRPC over HTTP/2 carries them.
    var trailers: [(String, String)] {
        var trailers = [("grpc-status", String(code))]
        if !message.isEmpty { trailers.append(("grpc-message", Self.percentEncoded(message))) }
        if let details {
            var encoded: [UInt8] = []
            details.withUnsafeBytes { TextCodecs.appendBase64($0, to: &encoded) }
            trailers.append(("grpc-status-details-bin", String(decoding: encoded, as: UTF8.self)))
        }
        return trailers
    }

    /// `grpc-message`'s encoding: printable ASCII but `%` as it is, every other byte of the
    /// UTF-8 as `%XX`.
    static func percentEncoded(_ text: String) -> String {
        var out: [UInt8] = []
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            if byte >= 0x20 && byte <= 0x7E && byte != UInt8(ascii: "%") {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
