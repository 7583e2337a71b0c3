import Foundation
@_spi(Plumbing) import Trapline
import TraplineCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What one attempt to hand a request to the next hop came to.
enum ExportAttempt: Equatable {
    /// Taken; `rejected` records of it refused in a `partial_success`.
    case accepted(rejected: Int)
    /// Worth another try, after the wait the next hop asked for (if it did).
    case retryable(after: Double?)
    /// Refused for good (a malformed request, an unknown signal): retrying will not help.
    case refused
}

/// How an exporter's requests reach the next hop; the queue, retries and accounting are the
/// exporter's. Attempts run on the exporter's consumer threads.
protocol ExportTransport: Sendable {
    /// A request made ready once for all its attempts (compressed, addressed).
    associatedtype Prepared
    /// Makes a request of a signal's protobuf body; nil when it cannot be addressed.
    func prepare(signal: Signal, body: [UInt8]) -> Prepared?
    /// One attempt, waiting for its answer.
    func attempt(_ request: Prepared) -> ExportAttempt
    /// Closes connections once the queue has drained.
    func close()
}

/// OTLP/HTTP: POST to the signal's URL, gzip when configured; 429, 502, 503, 504 and
/// connection errors are retryable (honouring `Retry-After`).
struct HTTPExportTransport: ExportTransport {
    let config: OTLPExporterConfig
    private let session: URLSession

    init(config: OTLPExporterConfig) {
        self.config = config
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = config.timeoutSeconds
        configuration.httpMaximumConnectionsPerHost = config.consumers
        session = URLSession(configuration: configuration)
    }

    func prepare(signal: Signal, body: [UInt8]) -> URLRequest? {
        guard let url = URL(string: config.url(for: signal)) else { return nil }
        var body = body
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-protobuf", forHTTPHeaderField: "Content-Type")
        if config.compression == .gzip {
            let writer = GzipWriter()
            var compressed: [UInt8] = []
            body.withUnsafeBytes { writer.compress($0) { compressed.append(contentsOf: $0) } }
            writer.finish { compressed.append(contentsOf: $0) }
            body = compressed
            request.setValue("gzip", forHTTPHeaderField: "Content-Encoding")
        }
        for (name, value) in config.headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(body)
        return request
    }

    func attempt(_ request: URLRequest) -> ExportAttempt {
        let (status, headers, responseBody) = post(request)
        switch status {
        case .some(200..<300): return .accepted(rejected: OTLPWire.rejectedCount(inResponse: responseBody))
        case 429, 502, 503, 504, nil:
            return .retryable(after: headers["retry-after"].flatMap(ForwardingExporter.retryAfterSeconds))
        default: return .refused
        }
    }

    func close() { session.finishTasksAndInvalidate() }

    /// One POST; status nil for a connection error or timeout.
    private func post(_ request: URLRequest) -> (Int?, [String: String], [UInt8]) {
        let done = DispatchSemaphore(value: 0)
        let box = ResponseBox()
        let task = session.dataTask(with: request) { data, response, _ in
            if let http = response as? HTTPURLResponse {
                box.status = http.statusCode
                for (key, value) in http.allHeaderFields {
                    if let key = key as? String, let value = value as? String { box.headers[key.lowercased()] = value }
                }
            }
            box.body = data.map { Array($0) } ?? []
            done.signal()
        }
        task.resume()
        done.wait()
        return (box.status, box.headers, box.body)
    }

    /// Filled by the data task's completion before the semaphore is signalled, read after it.
    private final class ResponseBox: @unchecked Sendable {
        var status: Int?
        var headers: [String: String] = [:]
        var body: [UInt8] = []
    }
}
