import Foundation
import GRPCCore
import NIOCore
import NIOEmbedded
import NIOHTTP2
import NIOPosix
import Testing
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineTLS

@testable import TraplineGRPC
@_spi(Plumbing) @testable import TraplineServer

/// The exporters' queue and transports in process: what a stop counts and what gRPC answers mean.
@Suite struct ForwardingExporterTests {
    /// Requests still being retried when a replay's deadline passes are counted as failed before
    /// the losses are read: never reported forwarded when they were not delivered (both
    /// transports; nothing listens on the port).
    @Test(arguments: ["http", "grpc"]) func sendsInProgressAtTheDeadlineAreCountedFailed(transport: String) async throws
    {
        TraplineTLS.install()
        TraplineGRPC.install()
        var config = OTLPExporterConfig()
        config.endpoint = "http://127.0.0.1:1"
        if transport == "grpc" { config.transport = .grpc(endpoint: try #require(HostPort("127.0.0.1:1"))) }
        config.initialIntervalSeconds = 0.05
        config.maxIntervalSeconds = 0.2
        config.maxElapsedSeconds = 300
        config.consumers = 3
        let exporter = ForwardingExporter(id: "otlp", config: config, signals: [.traces])
        exporter.start()
        for _ in 0..<5 { exporter.send(signal: .traces, body: [0x0a, 0x00], records: 10) }
        // Let the three consumers take a request each and start retrying it; two stay queued.
        try await Task.sleep(for: .milliseconds(300))
        #expect(exporter.pending == 5)
        let started = ContinuousClock.now
        // On a thread of its own, as a replay calls it: `finish` blocks while the consumer tasks
        // finish their attempts on the concurrency pool.
        let losses = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: exporter.finish(until: .now + .milliseconds(500))) }.start()
        }
        #expect(losses.failed.spans == 50, "\(losses)")
        // The drain used its time (a deadline under a second once ended it at once); how long the
        // sends in progress then take to notice the stop depends on the load, so no upper bound.
        #expect(ContinuousClock.now - started >= .milliseconds(450))
    }

    /// Closing the gRPC transport while a call hangs (the next hop took the connection and never
    /// answered, not even HTTP/2's settings) returns within its 5 s bound rather than after the
    /// call's 60 s timeout; the call ends once closed.
    @Test func closingWhileACallHangsIsBounded() async throws {
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        let port = try #require(silent.localAddress?.port)
        var config = OTLPExporterConfig()
        config.timeoutSeconds = 60
        config.compression = .none
        let transport = GRPCExportTransport(
            endpoint: try #require(HostPort("127.0.0.1:\(port)")), config: config)
        let request = try #require(transport.prepare(signal: .traces, body: [0x0a, 0x00]))
        let call = Task { await transport.attempt(request) }
        try await Task.sleep(for: .milliseconds(300))
        // On a thread of its own, as an exporter's stop calls it: `close` blocks. Timed there, so
        // a busy concurrency pool resuming this test late does not count.
        let took = await withCheckedContinuation { (continuation: CheckedContinuation<Duration, Never>) in
            Thread {
                let started = ContinuousClock.now
                transport.close()
                continuation.resume(returning: ContinuousClock.now - started)
            }.start()
        }
        #expect(took < .seconds(7), "close took \(took)")
        let result = await call.value
        #expect(result != .accepted(rejected: 0), "\(result)")
    }

    /// OTLP's retry table for gRPC codes, with the `RetryInfo` delay a server sends.
    @Test func grpcCodesAreClassifiedAsTheSpecificationSays() {
        func error(_ code: RPCError.Code, retryAfter seconds: Int? = nil) -> RPCError {
            var metadata = Metadata()
            if let seconds {
                metadata.addBinary(
                    GRPCStatusDetails.retryInfo(code: code.rawValue, message: "busy", retryDelaySeconds: seconds),
                    forKey: "grpc-status-details-bin")
            }
            return RPCError(code: code, message: "x", metadata: metadata)
        }
        #expect(GRPCExportTransport.classify(error(.unavailable)) == .retryable(after: nil))
        #expect(GRPCExportTransport.classify(error(.unavailable, retryAfter: 3)) == .retryable(after: 3))
        #expect(GRPCExportTransport.classify(error(.deadlineExceeded)) == .retryable(after: nil))
        #expect(GRPCExportTransport.classify(error(.resourceExhausted)) == .refused)
        #expect(GRPCExportTransport.classify(error(.resourceExhausted, retryAfter: 1)) == .retryable(after: 1))
        #expect(GRPCExportTransport.classify(error(.invalidArgument)) == .refused)
        #expect(GRPCExportTransport.classify(error(.unimplemented)) == .refused)
        #expect(GRPCStatusDetails.retryDelaySeconds(in: [0xff, 0xff]) == nil)
    }

    /// A call's path names its signal's `Export`; anything else is no OTLP method.
    @Test func callPathsNameTheirSignal() {
        #expect(OTLPGRPCService.signal(path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export") == .traces)
        #expect(OTLPGRPCService.signal(path: "/opentelemetry.proto.collector.logs.v1.LogsService/Export") == .logs)
        #expect(
            OTLPGRPCService.signal(path: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export") == .metrics)
        #expect(OTLPGRPCService.signal(path: "/opentelemetry.proto.collector.trace.v1.TraceService/Other") == nil)
        #expect(OTLPGRPCService.signal(path: "opentelemetry.proto.collector.trace.v1.TraceService/Export") == nil)
    }

    /// `grpc-message` is percent-encoded as gRPC over HTTP/2 says (printable ASCII but `%`
    /// kept), and a refusal's `RetryInfo` travels base64-encoded in `grpc-status-details-bin`.
    @Test func statusTrailersAreEncodedAsGRPCSays() throws {
        #expect(GRPCStatus.percentEncoded("bad value: 100% ✓\n") == "bad value: 100%25 %E2%9C%93%0A")
        let trailers = GRPCStatus(refusal: .queueFull).trailers
        #expect(trailers.first { $0.0 == "grpc-status" }?.1 == "8")
        let details = try #require(trailers.first { $0.0 == "grpc-status-details-bin" }?.1)
        let decoded = try #require(Data(base64Encoded: details))
        #expect(
            GRPCStatusDetails.retryDelaySeconds(in: Array(decoded)) == Double(IngestRefusal.queueFull.retryAfterSeconds)
        )
    }

    /// `keepalive.server_parameters` (seconds, the Collector's names) become HTTP/2 connection
    /// management, gRPC's defaults where one is not set.
    @Test func keepaliveParametersBecomeConnectionManagement() {
        let set = OTLPGRPCServer.connectionManagement([
            "time": 30, "timeout": 5, "max_connection_idle": 11, "max_connection_age": 60,
            "max_connection_age_grace": 0.5,
        ])
        #expect(set.keepalive?.pingInterval == .seconds(30) && set.keepalive?.ackTimeout == .seconds(5))
        #expect(set.maxIdleTime == .seconds(11) && set.maxAge == .seconds(60) && set.maxGraceTime == .milliseconds(500))
        let defaults = OTLPGRPCServer.connectionManagement([:])
        #expect(defaults.keepalive?.pingInterval == .hours(2) && defaults.keepalive?.ackTimeout == .seconds(20))
        #expect(defaults.maxIdleTime == nil && defaults.maxAge == nil)
    }

    /// The gRPC receiver's connections stop NIOHTTP2's flow-control events right after its
    /// handler (nothing after it uses them) and pass every other event on, in order.
    @Test func flowControlEventsStopAfterTheHTTP2Handler() throws {
        let channel = EmbeddedChannel()
        let seen = EventRecorder()
        try channel.pipeline.syncOperations.addHandler(FlowControlEventFilter())
        try channel.pipeline.syncOperations.addHandler(seen)
        let stream = HTTP2StreamID(1)
        channel.pipeline.fireUserInboundEventTriggered(
            NIOHTTP2StreamCreatedEvent(
                streamID: stream, localInitialWindowSize: 65_535, remoteInitialWindowSize: 65_535))
        channel.pipeline.fireUserInboundEventTriggered(
            NIOHTTP2WindowUpdatedEvent(streamID: stream, inboundWindowSize: 10, outboundWindowSize: 10))
        channel.pipeline.fireUserInboundEventTriggered(NIOHTTP2BulkStreamWindowChangeEvent(delta: 5))
        channel.pipeline.fireUserInboundEventTriggered(StreamClosedEvent(streamID: stream, reason: nil))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(
            seen.events == [
                "NIOHTTP2StreamCreatedEvent", "StreamClosedEvent", "ChannelShouldQuiesceEvent",
            ])
        _ = try channel.finish()
    }
}

/// Notes the type of each event that reaches it.
private final class EventRecorder: ChannelInboundHandler {
    typealias InboundIn = Never
    var events: [String] = []

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        events.append(String(describing: type(of: event)))
    }
}
