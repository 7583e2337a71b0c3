import Dispatch
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
@_spi(Plumbing) import Trapline
import TraplineCore

/// What the server does with a request once its body is in: the OTLP endpoints, `/metrics`
/// and the health checks. Called off the event loop (decoding and stages take CPU).
protocol HTTPRoutes: Sendable {
    /// Decides on a request whose head arrived, before its body is read: admit it (the body
    /// is read, `100 Continue` answered when asked; what it reserved travels with it) or answer
    /// now, which ends the request.
    func admit(_ head: HTTPRequestHead) -> Admission
    /// The largest body to read, compressed.
    var maxBodyBytes: Int { get }
    /// Answers a whole admitted request.
    ///
    /// - Parameters:
    ///   - body: the body as it came off the connection (one chunk's buffer, or the chunks
    ///     gathered into one), read in place.
    ///   - peer: the client's IP address.
    func respond(_ head: HTTPRequestHead, body: ByteBuffer, reservation: Reservation?, peer: String?) -> HTTPReply
}

/// What a request holds while its body is read: slots in the exporters' queues. Released once,
/// by whoever ends the request.
package final class Reservation: Sendable {
    let exporters: [any ExportQueue]
    private let released = Atomic<Bool>(false)

    init(exporters: [any ExportQueue]) { self.exporters = exporters }

    /// Gives the slots back (a request that ended without forwarding).
    package func release() {
        guard !released.exchange(true, ordering: .relaxed) else { return }
        for exporter in exporters { exporter.release() }
    }

    /// Marks the slots used (the exporters' `offer` consumed them).
    func consume() { _ = released.exchange(true, ordering: .relaxed) }
}

/// A routing decision on a request's head.
enum Admission: Sendable {
    case admit(Reservation?)
    case refuse(HTTPReply)
}

/// A response.
struct HTTPReply: Sendable {
    var status: HTTPResponseStatus
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    /// Close the connection after it (a refused body that was not read).
    var close = false

    static func text(_ status: HTTPResponseStatus, _ text: String, headers: [(String, String)] = []) -> HTTPReply {
        HTTPReply(
            status: status, headers: [("Content-Type", "text/plain; charset=utf-8")] + headers,
            body: Array((text + "\n").utf8))
    }
}

/// An HTTP/1.1 server on SwiftNIO: keep-alive, `Expect: 100-continue`, a read timeout for a
/// request in progress and an idle timeout between requests; the routes get whole bodies.
final class HTTPServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The port bound (useful with port 0).
    let port: Int

    /// Binds; with `tls` every connection starts with a TLS handshake (HTTPS).
    init(
        host: String, port: Int, routes: any HTTPRoutes, readTimeout: Double, idleTimeout: Double,
        tls: (@Sendable () -> any ChannelHandler)? = nil
    ) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(tls()) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        IdleStateHandler(readTimeout: .milliseconds(Int64(min(readTimeout, idleTimeout) * 1000))))
                    try channel.pipeline.syncOperations.addHandler(
                        RequestHandler(routes: routes, readTimeout: readTimeout, idleTimeout: idleTimeout))
                }
            }
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.port = channel.localAddress?.port ?? port
    }

    /// Stops accepting connections; requests in progress finish.
    func stopAccepting() {
        try? channel.close().wait()
    }

    /// Closes everything.
    func shutDown() {
        try? group.syncShutdownGracefully()
    }
}

/// One connection's requests, one at a time (HTTP/1.1 pipelining is serialised by NIO's
/// server pipeline handler).
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: any HTTPRoutes
    private let readTimeout: Double
    private let idleTimeout: Double
    private var head: HTTPRequestHead?
    /// The body so far: the first chunk's buffer as NIO read it, later chunks appended to it.
    private var body: ByteBuffer?
    /// A response already decided (refused early, or body too large): the rest of the body is
    /// read and dropped, then it is sent.
    private var decided: HTTPReply?
    private var reservation: Reservation?
    private var started = NIODeadline.now()
    private var lastActivity = NIODeadline.now()
    private var busy = false
    /// The client's address (k8sattributes' association), asked of the socket once for the
    /// connection: the channel asks the kernel each time (getpeername), a system call a request.
    private var peer: String?
    private var peerKnown = false
    /// Where a whole request is answered: off the event loop, since decoding and stages take
    /// CPU (the fuzz target answers in place, on an embedded channel).
    private let offload: @Sendable (@escaping @Sendable () -> Void) -> Void

    init(
        routes: any HTTPRoutes, readTimeout: Double, idleTimeout: Double,
        offload: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void = {
            DispatchQueue.global().async(execute: $0)
        }
    ) {
        self.routes = routes
        self.readTimeout = readTimeout
        self.idleTimeout = idleTimeout
        self.offload = offload
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = nil
            started = .now()
            busy = true
            switch routes.admit(requestHead) {
            case .refuse(var reply):
                // Refused before the body: answer now and close, so the body is never read.
                reply.close = true
                write(reply, context: context, keepAlive: false)
                decided = reply
                return
            case .admit(let held):
                reservation = held
            }
            decided = nil
            if requestHead.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: requestHead.version, status: .continue))),
                    promise: nil)
            }
        case .body(var buffer):
            guard decided == nil else { return }
            if (body?.readableBytes ?? 0) + buffer.readableBytes > routes.maxBodyBytes {
                decided = .text(.payloadTooLarge, "request body larger than max_request_body_size")
                body = nil
                reservation?.release()
                reservation = nil
                return
            }
            if body == nil {
                body = buffer
            } else {
                body!.writeBuffer(&buffer)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            if let decided {
                if decided.close { return }  // already answered
                write(decided, context: context, keepAlive: requestHead.isKeepAlive)
                self.decided = nil
                return
            }
            let requestBody = body ?? ByteBuffer()
            body = nil
            let routes = routes
            let held = reservation
            reservation = nil
            if !peerKnown {
                peer = context.remoteAddress?.ipAddress
                peerKnown = true
            }
            let peer = peer
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            offload {
                let reply = routes.respond(requestHead, body: requestBody, reservation: held, peer: peer)
                held?.release()
                eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.write(reply, context: context, keepAlive: requestHead.isKeepAlive && !reply.close)
                }
            }
        }
    }

    private func write(_ reply: HTTPReply, context: ChannelHandlerContext, keepAlive: Bool) {
        var headers = HTTPHeaders(reply.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.count))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))),
            promise: nil)
        if !reply.body.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        busy = false
        lastActivity = .now()
        if !keepAlive {
            // The channel, not the handler's context, crosses into the completion (it is Sendable).
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A client gone mid-body: its slots go back.
        reservation?.release()
        reservation = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is IdleStateHandler.IdleStateEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let now = NIODeadline.now()
        if busy && head != nil {
            // A client too slow to send its request.
            if now - started >= .milliseconds(Int64(readTimeout * 1000)) {
                write(
                    .text(.requestTimeout, "request not received within read_timeout"), context: context,
                    keepAlive: false)
            }
        } else if !busy && now - lastActivity >= .milliseconds(Int64(idleTimeout * 1000)) {
            context.close(promise: nil)
        }
    }
}
