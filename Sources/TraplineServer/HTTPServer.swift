import Dispatch
import NIOCore
import NIOHTTP1
import NIOPosix
public import Trapline
import TraplineCore

/// What the server does with a request once its body is in: the OTLP endpoints, `/metrics`
/// and the health checks. Called off the event loop (decoding and stages take CPU).
protocol HTTPRoutes: Sendable {
    /// Answers a request whose head arrived, before its body is read: nil to read the body
    /// (and answer `100 Continue` when asked), or a response that ends the request now.
    func early(_ head: HTTPRequestHead) -> HTTPReply?
    /// The largest body to read, compressed.
    var maxBodyBytes: Int { get }
    /// Answers a whole request.
    func respond(_ head: HTTPRequestHead, body: [UInt8]) -> HTTPReply
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

    init(host: String, port: Int, routes: any HTTPRoutes, readTimeout: Double, idleTimeout: Double) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
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
private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: any HTTPRoutes
    private let readTimeout: Double
    private let idleTimeout: Double
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// A response already decided (refused early, or body too large): the rest of the body is
    /// read and dropped, then it is sent.
    private var decided: HTTPReply?
    private var started = NIODeadline.now()
    private var lastActivity = NIODeadline.now()
    private var busy = false

    init(routes: any HTTPRoutes, readTimeout: Double, idleTimeout: Double) {
        self.routes = routes
        self.readTimeout = readTimeout
        self.idleTimeout = idleTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body.removeAll(keepingCapacity: true)
            started = .now()
            busy = true
            if let reply = routes.early(requestHead) {
                // Refused before the body: answer now and close, so the body is never read.
                var reply = reply
                reply.close = true
                write(reply, context: context, keepAlive: false)
                decided = reply
                return
            }
            decided = nil
            if requestHead.headers["expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: requestHead.version, status: .continue))),
                    promise: nil)
            }
        case .body(var buffer):
            guard decided == nil else { return }
            if body.count + buffer.readableBytes > routes.maxBodyBytes {
                decided = .text(.payloadTooLarge, "request body larger than max_request_body_size")
                body.removeAll()
                return
            }
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let requestHead = head else { return }
            head = nil
            if let decided {
                if decided.close { return }  // already answered
                write(decided, context: context, keepAlive: requestHead.isKeepAlive)
                self.decided = nil
                return
            }
            let requestBody = body
            body = []
            let routes = routes
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            DispatchQueue.global().async {
                let reply = routes.respond(requestHead, body: requestBody)
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
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
        if !reply.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        busy = false
        lastActivity = .now()
        if !keepAlive { done.whenComplete { _ in context.close(promise: nil) } }
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
                write(.text(.requestTimeout, "request not received within read_timeout"), context: context, keepAlive: false)
            }
        } else if !busy && now - lastActivity >= .milliseconds(Int64(idleTimeout * 1000)) {
            context.close(promise: nil)
        }
    }
}
