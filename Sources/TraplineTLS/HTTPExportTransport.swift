import AsyncHTTPClient
import NIOCore
import NIOHTTP1
@_spi(Plumbing) import Trapline
import TraplineCore
@_spi(Plumbing) import TraplineServer

/// OTLP/HTTP on AsyncHTTPClient (SwiftNIO, as the receivers): POST to the signal's URL, gzip or
/// zstd when configured, HTTPS with the exporter's `tls`; 429, 502, 503, 504 and connection errors
/// are retryable (honouring `Retry-After`).
final class HTTPExportTransport: ExportTransport {
    let config: OTLPExporterConfig
    private let client: HTTPClient?
    /// Why no client could be made (a `tls` file that did not load): every attempt is refused.
    private let problem: String?

    init(config: OTLPExporterConfig) {
        self.config = config
        do {
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: try ClientTLS.configuration(config.tls),
                timeout: .init(connect: .milliseconds(Int64(config.timeoutSeconds * 1000))))
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = config.consumers
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            problem = nil
        } catch {
            client = nil
            problem = "\(error)"
        }
    }

    func prepare(signal: Signal, body: [UInt8]) -> HTTPClient.Request? {
        var headers = HTTPHeaders([("Content-Type", "application/x-protobuf")])
        var body = body
        switch config.compression {
        case .gzip:
            let writer = GzipWriter()
            var compressed: [UInt8] = []
            body.withUnsafeBytes { writer.compress($0) { compressed.append(contentsOf: $0) } }
            writer.finish { compressed.append(contentsOf: $0) }
            body = compressed
            headers.add(name: "Content-Encoding", value: "gzip")
        case .zstd:
            body = Zstd.compress(body)
            headers.add(name: "Content-Encoding", value: "zstd")
        case .none: break
        }
        for (name, value) in config.headers.sorted(by: { $0.key < $1.key }) {
            headers.replaceOrAdd(name: name, value: value)
        }
        return try? HTTPClient.Request(
            url: config.url(for: signal), method: .POST, headers: headers, body: .bytes(body))
    }

    func attempt(_ request: HTTPClient.Request) async -> ExportAttempt {
        guard let client, problem == nil else { return .refused }
        let deadline = NIODeadline.now() + .milliseconds(Int64(config.timeoutSeconds * 1000))
        guard let response = try? await client.execute(request: request, deadline: deadline).get() else {
            return .retryable(after: nil)  // a connection error or timeout
        }
        switch response.status.code {
        case 200..<300:
            let body = response.body.map { Array($0.readableBytesView) } ?? []
            return .accepted(rejected: OTLPWire.rejectedCount(inResponse: body))
        case 429, 502, 503, 504:
            return .retryable(
                after: response.headers["retry-after"].first.flatMap(ForwardingExporter.retryAfterSeconds))
        default: return .refused
        }
    }

    func close() { try? client?.syncShutdown() }
}
