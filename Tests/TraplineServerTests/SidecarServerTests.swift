import Foundation
import Testing
@_spi(Plumbing) import Trapline
import TraplineCore
import TraplineStages
import TraplineTestSupport

@_spi(Plumbing) @testable import TraplineServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The sidecar's OTLP/HTTP receiver and `/metrics`, in process on ephemeral ports: what a
/// client sends and what it is answered, and what the pipeline counted.
@Suite struct SidecarServerTests {
    static let yaml = """
        receivers:
          otlp:
            protocols:
              http:
                endpoint: 127.0.0.1:0
        processors:
          filter:
            trace_conditions: ['attributes["http.request.method"] == "DELETE"']
        exporters:
          file/null: {path: /dev/null, format: proto}
          prometheus:
            endpoint: 127.0.0.1:0
        service:
          pipelines:
            traces: {receivers: [otlp], processors: [filter], exporters: [file/null, prometheus]}
            logs: {receivers: [otlp], exporters: [file/null, prometheus]}
        """

    /// A started sidecar and its ports; stopped when the test is done with it.
    struct Running {
        let sidecar: Sidecar
        let ports: [String: Int]

        init() throws {
            let loaded = ConfigLoader.load(yaml: SidecarServerTests.yaml, file: "sidecar.yaml")
            #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics.sorted.map(\.description))")
            sidecar = try Sidecar(loaded: loaded, outputs: loaded.config.outputs())
            ports = try sidecar.start()
        }

        func url(_ path: String, port: String = "otlp") -> URL {
            URL(string: "http://127.0.0.1:\(ports[port] ?? 0)\(path)")!
        }

        func stop() { _ = sidecar.stop(deadline: Date().addingTimeInterval(5)) }
    }

    /// Sends one request and waits for its answer.
    static func send(
        _ url: URL, method: String = "POST", body: [UInt8] = [], headers: [String: String] = [:]
    ) async throws -> (status: Int, body: [UInt8], headers: [AnyHashable: Any]) {
        var request = URLRequest(url: url)
        request.httpMethod = method
        if method == "POST" { request.httpBody = Data(body) }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, Array(data), http.allHeaderFields)
    }

    /// The first requests of the generated shop traces, as bare OTLP messages.
    static func requests(_ count: Int) throws -> [[UInt8]] {
        let bytes = try Fixtures.bytes("generated/shop-traces.otlp")
        var requests: [[UInt8]] = []
        var offset = 0
        while requests.count < count && offset + 4 <= bytes.count {
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            requests.append(Array(bytes[(offset + 4)..<(offset + 4 + length)]))
            offset += 4 + length
        }
        return requests
    }

    @Test func protobufRequestsAreAnsweredAndCounted() async throws {
        let running = try Running()
        defer { running.stop() }
        let requests = try Self.requests(3)
        for request in requests {
            let reply = try await Self.send(
                running.url("/v1/traces"), body: request, headers: ["Content-Type": "application/x-protobuf"])
            #expect(reply.status == 200)
            #expect(OTLPWire.rejectedCount(inResponse: reply.body) == 0)
        }
        let report = running.sidecar.report
        #expect(report.records.received == 300)
        #expect(report.records.isBalanced)
        #expect(report.records.filtered > 0)
        let metrics = try await Self.send(running.url("/metrics", port: "prometheus"), method: "GET")
        #expect(metrics.status == 200)
        let text = String(decoding: metrics.body, as: UTF8.self)
        #expect(text.contains("trapline_records_received_total"))
    }

    /// In sidecar mode the encoder writes each request's message unframed (what a next hop
    /// takes as its body); a `file` exporter with `format: proto` still gets the file exporter's
    /// 4-byte length before each request, and every request is one frame.
    @Test func aProtoFileExporterGetsOneFramedRequestPerRequest() async throws {
        let directory = try Fixtures.temporaryDirectory().path
        let yaml = """
            receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
            processors:
              filter:
                trace_conditions: ['attributes["http.request.method"] == "DELETE"']
            exporters:
              file: {path: "\(directory)/out.otlp", format: proto}
            service:
              pipelines:
                traces: {receivers: [otlp], processors: [filter], exporters: [file]}
            """
        let loaded = ConfigLoader.load(yaml: yaml, file: "file.yaml")
        #expect(loaded.diagnostics.isEmpty, "\(loaded.diagnostics.sorted.map(\.description))")
        let sidecar = try Sidecar(loaded: loaded, outputs: loaded.config.outputs())
        let ports = try sidecar.start()
        let requests = try Self.requests(3)
        for request in requests {
            let reply = try await Self.send(
                URL(string: "http://127.0.0.1:\(ports["otlp"] ?? 0)/v1/traces")!, body: request,
                headers: ["Content-Type": "application/x-protobuf"])
            #expect(reply.status == 200)
        }
        _ = sidecar.stop(deadline: Date().addingTimeInterval(5))
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/out.otlp")))
        var offset = 0
        var frames = 0
        var spans = 0
        while offset + 4 <= written.count {
            let length = written[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard length <= written.count - offset - 4 else {
                Issue.record(
                    "frame \(frames) at \(offset) claims \(length) bytes; \(written.count - offset - 4) are left")
                break
            }
            let message = Array(written[(offset + 4)..<(offset + 4 + length)])
            spans += try #require(message.withUnsafeBytes { Oracle.recordCount(.traces, $0) })
            offset += 4 + length
            frames += 1
        }
        #expect(offset == written.count)
        #expect(frames == requests.count)
        #expect(spans == sidecar.report.records.forwarded)
        #expect(sidecar.report.records.filtered > 0)
    }

    /// Content types as clients send them: any case, parameters after `;`, blanks around the
    /// essence; anything else is not an OTLP media type.
    @Test func contentTypesAreReadAsOTLPDefinesThem() {
        #expect(OTLPWire.MediaType(contentType: "application/x-protobuf") == .protobuf)
        #expect(OTLPWire.MediaType(contentType: "application/protobuf") == .protobuf)
        #expect(OTLPWire.MediaType(contentType: "Application/JSON; charset=utf-8") == .json)
        #expect(OTLPWire.MediaType(contentType: " \tapplication/json \t;charset=utf-8") == .json)
        #expect(OTLPWire.MediaType(contentType: "application/json\t") == .json)
        #expect(OTLPWire.MediaType(contentType: "application/jsonl") == nil)
        #expect(OTLPWire.MediaType(contentType: "text/plain; application/json") == nil)
        #expect(OTLPWire.MediaType(contentType: "") == nil)
        #expect(OTLPWire.MediaType(contentType: " ; ") == nil)
    }

    /// The response messages are written with Core's protobuf appender and read back with its
    /// wire reader, byte for byte as protobuf lays them out.
    @Test func exportResponsesAndStatusesAreProtobuf() {
        let response = OTLPWire.exportResponse(signal: .traces, rejected: 300, message: "bad", as: .protobuf)
        #expect(response == [0x0A, 0x08, 0x08, 0xAC, 0x02, 0x12, 0x03, 0x62, 0x61, 0x64])
        #expect(OTLPWire.rejectedCount(inResponse: response) == 300)
        #expect(OTLPWire.exportResponse(signal: .logs, rejected: 0, message: nil, as: .protobuf).isEmpty)
        #expect(OTLPWire.rejectedCount(inResponse: [0x0A, 0xFF]) == 0)
        #expect(OTLPWire.status(code: 3, message: "x", as: .protobuf) == [0x08, 0x03, 0x12, 0x01, 0x78])
        #expect(
            String(decoding: OTLPWire.status(code: 8, message: "full", as: .json), as: UTF8.self)
                == #"{"code":8,"message":"full"}"#)
    }

    @Test func gzipBodiesAreInflatedAndGarbageIsA400() async throws {
        let running = try Running()
        defer { running.stop() }
        let request = try Self.requests(1)[0]
        var compressed: [UInt8] = []
        let writer = GzipWriter()
        request.withUnsafeBytes { writer.compress($0) { compressed.append(contentsOf: $0) } }
        writer.finish { compressed.append(contentsOf: $0) }
        let zipped = try await Self.send(
            running.url("/v1/traces"), body: compressed,
            headers: ["Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"])
        #expect(zipped.status == 200)
        let garbage = try await Self.send(
            running.url("/v1/traces"), body: [0x0A, 0xFF, 0xFF, 0xFF],
            headers: ["Content-Type": "application/x-protobuf"])
        #expect(garbage.status == 400)
        let report = running.sidecar.report
        #expect(report.records.received == 101)
        #expect(report.records.rejected == 1)
    }

    /// `Content-Encoding: zstd` (libzstd): a body is decompressed and decoded; damaged zstd is a
    /// 400 counted as `corrupt_zstd`; a zstd bomb is refused with 413 while decompressing, before
    /// it is held whole (the receiver's limit is 64 MiB; the bomb inflates to 80 MiB).
    @Test func zstdBodiesAreDecompressedWithinTheLimit() async throws {
        let running = try Running()
        defer { running.stop() }
        let request = try Self.requests(1)[0]
        let headers = ["Content-Type": "application/x-protobuf", "Content-Encoding": "zstd"]
        let compressed = Zstd.compress(request)
        #expect(compressed.count < request.count && !compressed.isEmpty)
        #expect(try await Self.send(running.url("/v1/traces"), body: compressed, headers: headers).status == 200)
        let damaged = Array(compressed.prefix(compressed.count / 2))
        #expect(try await Self.send(running.url("/v1/traces"), body: damaged, headers: headers).status == 400)
        let bomb = Zstd.compress([UInt8](repeating: 0, count: 80 << 20))
        #expect(bomb.count < 100_000)
        #expect(try await Self.send(running.url("/v1/traces"), body: bomb, headers: headers).status == 413)
        let report = running.sidecar.report
        #expect(report.records.received == 102)
        #expect(report.records.rejected == 2)
        #expect(report.rejections.map(\.error.reason) == [.corruptZstd, .decompressedTooLarge])
    }

    /// The decompressor round-trips what libzstd's own compressor wrote, across several frames.
    @Test func zstdRoundTripsSeveralFrames() throws {
        let first = Array("first frame ".utf8)
        let second = [UInt8](repeating: 7, count: 200_000)
        let joined = Zstd.compress(first) + Zstd.compress(second)
        let inflated = try joined.withUnsafeBytes { bytes throws(DecodeError) in
            try Zstd.decompress(bytes, limit: 1 << 20)
        }
        #expect(inflated == first + second)
        #expect(throws: DecodeError.self) {
            try joined.withUnsafeBytes { bytes throws(DecodeError) in try Zstd.decompress(bytes, limit: 1000) }
        }
    }

    @Test func unknownPathsAndMethodsAreRefused() async throws {
        let running = try Running()
        defer { running.stop() }
        let missing = try await Self.send(
            running.url("/v1/profiles"), body: [], headers: ["Content-Type": "application/x-protobuf"])
        #expect(missing.status == 404)
        let wrongMethod = try await Self.send(running.url("/v1/traces"), method: "GET")
        #expect(wrongMethod.status == 405)
        let wrongType = try await Self.send(
            running.url("/v1/traces"), body: [1, 2, 3], headers: ["Content-Type": "text/plain"])
        #expect(wrongType.status == 415)
    }
}
