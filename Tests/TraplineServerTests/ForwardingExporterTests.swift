import Foundation
import GRPCCore
import Testing
@_spi(Plumbing) import Trapline
import TraplineCore

@testable import TraplineGRPC
@_spi(Plumbing) @testable import TraplineServer

/// The exporters' queue and transports in process: what a stop counts and what gRPC answers mean.
@Suite struct ForwardingExporterTests {
    /// Requests still being retried when a replay's deadline passes are counted as failed before
    /// the losses are read: never reported forwarded when they were not delivered (both
    /// transports; nothing listens on the port).
    @Test(arguments: ["http", "grpc"]) func sendsInProgressAtTheDeadlineAreCountedFailed(transport: String) async throws
    {
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

    /// A gRPC peer description gives the client's address for `k8sattributes`.
    @Test func peerAddressesAreReadFromGRPCPeers() {
        #expect(OTLPGRPCService.address(of: "ipv4:10.1.2.3:5123") == "10.1.2.3")
        #expect(OTLPGRPCService.address(of: "ipv6:[::1]:5123") == "::1")
        #expect(OTLPGRPCService.address(of: "unix:/tmp/socket") == nil)
    }
}
