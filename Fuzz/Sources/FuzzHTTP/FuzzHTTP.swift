// libFuzzer target: the sidecar's OTLP/HTTP receiver in process. The input is what a client
// writes on one connection (request heads, bodies, chunked encoding, pipelined requests); it
// goes through SwiftNIO's HTTP/1.1 server pipeline and Trapline's request handler and routes on
// an embedded channel, so admission, gzip, decoding, the stages and the replies all run. Every
// answer must be a well-formed HTTP response with a status the receiver documents, and the
// sidecar's record counters must balance after every input. Build and run with Fuzz/run.sh.
import Foundation
import FuzzDriver
import NIOCore
import NIOEmbedded
import NIOHTTP1
@_spi(Plumbing) import Trapline

@_spi(Plumbing) @testable import TraplineServer

/// The sidecar and routes every input goes through, made by the first input and released at
/// exit. LeakSanitizer looks for leaks at exit and cannot follow the pointers Swift keeps in
/// enum payloads (tag bits set), so what a live global still held would show up as leaked.
nonisolated(unsafe) var receiver: (sidecar: Sidecar, routes: OTLPRoutes)?

/// A sidecar with a filter and a transform, writing what survives to a scratch file.
func makeSidecar() -> Sidecar {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trapline-fuzz-http").path
    try? FileManager.default.removeItem(atPath: directory)
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let yaml = """
        receivers:
          otlp:
            protocols: {http: {endpoint: "127.0.0.1:0"}}
        processors:
          filter:
            error_mode: ignore
            trace_conditions: ['span.attributes["drop"] == true', 'span.name == "health"']
            log_conditions: ['log.severity_number < SEVERITY_NUMBER_INFO']
            metric_conditions: ['datapoint.attributes["drop"] == true', 'metric.name == "health"']
          transform:
            error_mode: ignore
            trace_statements: ['set(span.attributes["seen"], true)', 'truncate_all(span.attributes, 16)']
            log_statements: ['set(log.severity_text, ToUpperCase(log.severity_text))']
            metric_statements: ['set(datapoint.attributes["seen"], true)', 'set(metric.unit, "1")']
        exporters:
          file/out: {path: "\(directory)/out.otlp", format: proto}
        service:
          pipelines:
            traces: {receivers: [otlp], processors: [filter, transform], exporters: [file/out]}
            logs: {receivers: [otlp], processors: [filter, transform], exporters: [file/out]}
            metrics: {receivers: [otlp], processors: [filter, transform], exporters: [file/out]}
        """
    let loaded = ConfigLoader.load(yaml: yaml, file: "fuzz-http.yaml")
    FuzzDriver.require(loaded.diagnostics.isEmpty, loaded.diagnostics.sorted.map(\.description).joined(separator: "\n"))
    return try! Sidecar(loaded: loaded, outputs: loaded.config.outputs())
}

/// The statuses the receiver answers with (OTLP/HTTP, `/metrics`, health checks, NIO's 400).
let documentedStatuses: Set<Int> = [100, 200, 400, 404, 405, 408, 413, 415, 503]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if receiver == nil {
        let sidecar = makeSidecar()
        let routes = OTLPRoutes(
            signals: [.traces, .logs, .metrics], source: "otlp", maxBodyBytes: 1 << 16, sidecar: sidecar,
            authorization: nil)
        receiver = (sidecar, routes)
        atexit { receiver = nil }
    }
    let (sidecar, routes) = receiver!
    let channel = EmbeddedChannel()
    try! channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
    try! channel.pipeline.syncOperations.addHandler(
        RequestHandler(routes: routes, readTimeout: 30, idleTimeout: 60, offload: { $0() }))
    var input = channel.allocator.buffer(capacity: size)
    input.writeBytes(FuzzDriver.bytes(data, size))
    // NIO's parser throws on malformed HTTP after its error handler has answered 400.
    _ = try? channel.writeInbound(input)
    channel.embeddedEventLoop.run()
    var output: [UInt8] = []
    while let part = try? channel.readOutbound(as: IOData.self) {
        switch part {
        case .byteBuffer(let buffer): output += buffer.readableBytesView
        case .fileRegion: FuzzDriver.fail("the receiver never sends files")
        }
    }
    _ = try? channel.finish()
    checkResponses(output)
    checkAccounting(sidecar.metricsText)
    return 0
}

/// Each response starts with a status line of a documented status and, unless it is
/// `100 Continue`, says how long its body is.
func checkResponses(_ output: [UInt8]) {
    var rest = output[...]
    while !rest.isEmpty {
        guard let headEnd = rest.firstRange(of: Array("\r\n\r\n".utf8)) else {
            FuzzDriver.fail("a response without the end of its head: \(String(decoding: rest, as: UTF8.self))")
        }
        let head = String(decoding: rest[..<headEnd.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines[0].split(separator: " ", maxSplits: 2)
        FuzzDriver.require(
            statusLine.count >= 2 && statusLine[0].hasPrefix("HTTP/1."), "not a status line: \(lines[0])")
        guard let status = Int(statusLine[1]), documentedStatuses.contains(status) else {
            FuzzDriver.fail("undocumented status: \(lines[0])")
        }
        rest = rest[headEnd.upperBound...]
        if status == 100 { continue }
        let length = lines.dropFirst().compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first
        guard let length else { FuzzDriver.fail("a response without Content-Length: \(head)") }
        FuzzDriver.require(rest.count >= length, "a response body shorter than its Content-Length: \(head)")
        rest = rest.dropFirst(length)
    }
}

/// DESIGN.md, Accounting: received = forwarded + filtered + blocked + rejected, summed over
/// every series of the sidecar's counters.
func checkAccounting(_ exposition: String) {
    var totals: [String: Double] = [:]
    for line in exposition.split(separator: "\n") where line.hasPrefix("trapline_records_") {
        let name = line.prefix { $0 != "{" && $0 != " " }
        guard let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
        totals[String(name), default: 0] += value
    }
    let received = totals["trapline_records_received_total", default: 0]
    let accounted = ["forwarded", "filtered", "blocked", "rejected"].reduce(0.0) {
        $0 + totals["trapline_records_\($1)_total", default: 0]
    }
    FuzzDriver.require(received == accounted, "records do not balance: \(totals)")
}
