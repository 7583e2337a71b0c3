import Foundation
import Testing
import TraplineTestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A process left running while a test talks to it.
final class BackgroundProcess: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    /// Guards the text and is signalled when more arrives or the process ends.
    private let changed = NSCondition()
    private var outputText = ""
    private var errorText = ""

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        // Each pipe is read by a thread of its own with blocking reads until its end, not by a
        // `readabilityHandler`: libdispatch's watch of a pipe that closed under it crashed the
        // test process in its event loop (twice in CI, `_dispatch_event_loop_drain`).
        Self.pump(output.fileHandleForReading) { [weak self] text in self?.update { $0.outputText += text } }
        Self.pump(errors.fileHandleForReading) { [weak self] text in self?.update { $0.errorText += text } }
        process.terminationHandler = { [weak self] _ in self?.update { _ in } }
        try process.run()
    }

    /// Reads `handle` to its end on a new thread, handing each piece to `deliver`.
    private static func pump(_ handle: FileHandle, _ deliver: @escaping @Sendable (String) -> Void) {
        Thread.detachNewThread {
            let descriptor = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    deliver(String(decoding: buffer[0..<count], as: UTF8.self))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            withExtendedLifetime(handle) {}
        }
    }

    private func update(_ change: (BackgroundProcess) -> Void) {
        changed.lock()
        change(self)
        changed.broadcast()
        changed.unlock()
    }

    var standardOutput: String { changed.withLock { outputText } }
    var standardError: String { changed.withLock { errorText } }

    /// Waits until `predicate` holds for what the process printed (stdout, stderr): woken by
    /// each piece of output and by the exit, not by polling.
    func wait(seconds: Double = 30, until predicate: (String, String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        changed.lock()
        defer { changed.unlock() }
        while !predicate(outputText, errorText) {
            guard process.isRunning, changed.wait(until: deadline) else { return predicate(outputText, errorText) }
        }
        return true
    }

    /// Sends `signal` and waits for the exit status.
    func stop(_ signal: Int32 = SIGTERM, seconds: Double = 60) -> Int32? {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(seconds)
        // The last output may come before the exit is seen, and nothing signals after it:
        // look again every 50 ms.
        changed.lock()
        while process.isRunning && Date() < deadline {
            _ = changed.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
        changed.unlock()
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// `trapline run --config FILE` in sidecar mode, started and waited for until it printed its
/// listening line (`otlp on port N, otlp grpc on port M, prometheus on port P`).
enum ListeningTrapline {
    /// Starts it; returns the process and the port printed for each name.
    static func start(config: String, _ extra: [String] = []) throws -> (BackgroundProcess, port: (String) -> Int) {
        let trapline = try BackgroundProcess(ProcessRunner.traplineBinary.path, ["run", "--config", config] + extra)
        #expect(trapline.wait { _, errors in errors.contains("listening:") }, "\(trapline.standardError)")
        let text = trapline.standardError
        return (
            trapline,
            { name in
                guard let range = text.range(of: "\(name) on port ") else { return 0 }
                return Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
            }
        )
    }
}

/// Sidecar mode through the binary, on loopback, with real clients: the OpenTelemetry Python SDK
/// and curl send, a Python OTLP/HTTP server is the next hop, Prometheus scrapes.
@Suite(.serialized, .tags(.slow)) struct SidecarCommandTests {
    struct Running {
        var trapline: BackgroundProcess
        var nextHop: BackgroundProcess
        var countFile: String
        var receiverPort: Int
        var metricsPort: Int
        var directory: String

        /// Spans and log records the next hop accepted.
        var received: (spans: Int, logs: Int) {
            let text = (try? String(contentsOfFile: countFile, encoding: .utf8)) ?? ""
            let fields = text.split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return (fields.count > 2 ? fields[1] ?? 0 : 0, fields.count > 2 ? fields[2] ?? 0 : 0)
        }

        func url(_ path: String) -> String { "http://127.0.0.1:\(receiverPort)\(path)" }

        /// The sidecar's metrics as `name{labels}` → value.
        func metrics() throws -> [String: Double] {
            let (status, _, body) = try SidecarCommandTests.request("http://127.0.0.1:\(metricsPort)/metrics")
            #expect(status == 200)
            return PipelineCommandTests.samples(String(decoding: body, as: UTF8.self))
        }
    }

    /// Starts a next hop and `trapline run` with `processors` and `exporter` settings.
    static func start(
        nextHop hopArguments: [String] = [], filter: Bool = true, exporterSettings: String = "",
        receiverSettings: String = "", memoryLimitMiB: Int? = nil, batch: String? = nil
    ) throws -> Running {
        let limiter =
            (memoryLimitMiB.map { "  memory_limiter: {check_interval: 100ms, limit_mib: \($0)}\n" } ?? "")
            + (batch.map { "  batch: \($0)" } ?? "")
        let tracesProcessors =
            (memoryLimitMiB == nil ? [] : ["memory_limiter"]) + (batch == nil ? [] : ["batch"])
            + (filter ? ["filter"] : [])
        let directory = try Fixtures.temporaryDirectory().path
        let hop = try NextHop(directory: directory, arguments: hopArguments)
        let nextHop = hop.process
        let countFile = hop.countFile
        let hopPort = hop.port
        let config = """
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:0
            \(receiverSettings)
            processors:
            \(limiter)
              filter:
                trace_conditions:
                  - 'attributes["test.drop"] == true'
            exporters:
              otlphttp:
                endpoint: http://127.0.0.1:\(hopPort)
                retry_on_failure:
                  initial_interval: 100ms
                  max_interval: 1s
            \(exporterSettings)
              prometheus:
                endpoint: 127.0.0.1:0
              file/quarantine:
                path: \(directory)/quarantine.json
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [\(tracesProcessors.joined(separator: ", "))]
                  exporters: [otlphttp, prometheus]
                logs:
                  receivers: [otlp]
                  exporters: [otlphttp]
            """
        try config.write(toFile: directory + "/sidecar.yaml", atomically: true, encoding: .utf8)
        let (trapline, port) = try ListeningTrapline.start(
            config: directory + "/sidecar.yaml", ["--shutdown-timeout", "20"])
        return Running(
            trapline: trapline, nextHop: nextHop, countFile: countFile, receiverPort: port("otlp"),
            metricsPort: port("prometheus"), directory: directory)
    }

    /// One HTTP request; returns status, headers (lowercased names) and body.
    static func request(
        _ url: String, method: String = "GET", headers: [String: String] = [:], body: [UInt8]? = nil
    ) throws -> (Int, [String: String], [UInt8]) {
        var arguments = ["-s", "-i", "-X", method, url, "--data-binary", "@-", "-H", "Expect:"]
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        if body == nil { arguments = ["-s", "-i", "-X", method, url] }
        let result = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/curl"), arguments, input: body.map { Data($0) } ?? nil)
        let raw = [UInt8](result.standardOutput)
        // Skip interim 100 responses; split head and body at the blank line.
        var text = raw
        while true {
            guard let split = Self.find([13, 10, 13, 10], in: text) else { return (0, [:], []) }
            let head = String(decoding: text[..<split], as: UTF8.self)
            let rest = Array(text[(split + 4)...])
            let lines = head.split(separator: "\r\n")
            let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
            if status == 100 {
                text = rest
                continue
            }
            var fields: [String: String] = [:]
            for line in lines.dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2 {
                    fields[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
            return (status, fields, rest)
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<$0 + needle.count]) == needle }
    }

    /// Waits until what the next hop counted satisfies `condition`: each write of its count file
    /// wakes the wait (inotify).
    static func waitFor(
        seconds: Double = 30, _ running: Running, _ condition: ((spans: Int, logs: Int)) -> Bool
    ) -> Bool {
        let directory = (running.countFile as NSString).deletingLastPathComponent
        return FileChanges.wait(in: directory, seconds: seconds) { condition(running.received) }
    }

    static func accountingHolds(_ samples: [String: Double]) -> Bool {
        let received = samples["trapline_records_received_total"] ?? -1
        return received
            == PipelineCommandTests.sum(samples, "trapline_records_forwarded_total")
            + PipelineCommandTests.sum(samples, "trapline_records_filtered_total")
            + PipelineCommandTests.sum(samples, "trapline_records_blocked_total")
            + PipelineCommandTests.sum(samples, "trapline_records_rejected_total")
    }

    /// Acceptance (issue 8): the SDK's OTLP/HTTP exporter sends N spans (gzip on and off); the
    /// next hop receives N minus what the filter dropped, and /metrics keeps the accounting.
    @Test(arguments: [true, false])
    func sdkSpansReachTheNextHopMinusWhatWasFiltered(gzip: Bool) throws {
        let running = try Self.start()
        let send = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", Fixtures.root.appendingPathComponent("Tests/Scripts/otlp_sdk_send.py").path,
                running.url("/v1/traces"), "500",
                "--drop-every", "5",
            ] + (gzip ? ["--gzip"] : []))
        #expect(send.status == 0, "\(send.standardError)")
        #expect(Self.waitFor(running) { $0.spans == 400 }, "next hop got \(running.received)")
        let samples = try running.metrics()
        #expect(samples["trapline_records_received_total"] == 500)
        #expect(samples["trapline_records_filtered_total{stage=\"filter\"}"] == 100)
        #expect(samples["trapline_records_forwarded_total{signal=\"traces\"}"] == 400)
        #expect(Self.accountingHolds(samples))
        #expect(
            FileChanges.eventually(seconds: 30) {
                (try? running.metrics()["trapline_exporter_sent_records_total{exporter=\"otlphttp\"}"]) == 400
            })
        #expect(running.trapline.stop() == 0)
        #expect(running.received.spans == 400)
    }

    /// JSON through curl: good records kept and a `partial_success` for the bad one; answers in
    /// the request's encoding; the errors the specification names.
    /// A `memory_limiter` above its soft limit (1 MiB, 0.8 MiB soft: the process's own anonymous
    /// memory is more, 1.3-1.7 MiB for the packaged binary, 3 MiB position-independent) refuses
    /// its pipeline's requests with 503 and Retry-After before reading them, and counts them;
    /// another pipeline's requests go on.
    @Test func aMemoryLimiterAboveItsLimitRefusesWith503() throws {
        let running = try Self.start(memoryLimitMiB: 1)
        defer { _ = running.trapline.stop(SIGKILL) }
        defer { _ = running.nextHop.stop(SIGKILL) }
        let span = #"{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"ok"}"#
        let traces = #"{"resourceSpans":[{"scopeSpans":[{"spans":["# + span + "]}]}]}"
        let (status, headers, body) = try Self.request(
            running.url("/v1/traces"), method: "POST", headers: ["Content-Type": "application/json"],
            body: Array(traces.utf8))
        #expect(status == 503, "\(String(decoding: body, as: UTF8.self))")
        #expect(headers["retry-after"] == "1")
        #expect(String(decoding: body, as: UTF8.self).contains("high memory usage"))
        let logs = #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}]}"#
        let (logStatus, _, _) = try Self.request(
            running.url("/v1/logs"), method: "POST", headers: ["Content-Type": "application/json"],
            body: Array(logs.utf8))
        #expect(logStatus == 200)
        let metrics = try running.metrics()
        #expect((metrics[#"trapline_memory_limiter_refused_total{processor="memory_limiter"}"#] ?? 0) >= 1)
        #expect(metrics[#"trapline_memory_limiter_limit_bytes{processor="memory_limiter",limit="hard"}"#] == 1_048_576)
        #expect((metrics[#"trapline_memory_limiter_usage_bytes{processor="memory_limiter"}"#] ?? 0) > 1_048_576)
        #expect(Self.waitFor(running) { $0.logs == 1 && $0.spans == 0 })
    }

    /// A `batch` processor with `metadata_keys` merges the requests of one tenant (header
    /// value) into one send and never merges two tenants'; past `metadata_cardinality_limit`
    /// a new tenant is refused with 503 before its body is read.
    @Test func batchMetadataKeysKeepTenantsApart() throws {
        let running = try Self.start(
            filter: false, batch: "{timeout: 3s, metadata_keys: [X-Tenant], metadata_cardinality_limit: 2}")
        defer { _ = running.trapline.stop(SIGKILL) }
        defer { _ = running.nextHop.stop(SIGKILL) }
        func post(_ tenant: String, _ number: Int) throws -> Int {
            let span =
                #"{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"010203040506070\#(number)","name":"s"}"#
            let body = #"{"resourceSpans":[{"scopeSpans":[{"spans":["# + span + "]}]}]}"
            return try Self.request(
                running.url("/v1/traces"), method: "POST",
                headers: ["Content-Type": "application/json", "X-Tenant": tenant], body: Array(body.utf8)
            ).0
        }
        #expect(try post("a", 1) == 200)
        #expect(try post("b", 2) == 200)
        #expect(try post("a", 3) == 200)
        #expect(try post("b", 4) == 200)
        #expect(try post("c", 5) == 503)
        #expect(Self.waitFor(running) { $0.spans == 4 })
        let sends = (try? String(contentsOfFile: running.countFile, encoding: .utf8))?.split(separator: " ").dropFirst(
            3
        )
        .first
        #expect(
            sends.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } == 2,
            "\(String(describing: sends))")
        let metrics = try running.metrics()
        #expect(metrics[#"trapline_exporter_merged_sends_total{exporter="otlphttp"}"#] == 2)
        #expect(metrics[#"trapline_exporter_metadata_refused_total{exporter="otlphttp"}"#] == 1)
    }

    @Test func jsonPartialSuccessAndTheErrorAnswers() throws {
        let running = try Self.start()
        let good = #"{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"ok"}"#
        let bad = #"{"traceId":"zz02030405060708090a0b0c0d0e0f10","spanId":"0102030405060709","name":"bad id"}"#
        let document =
            #"{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":["# + [good, bad, good].joined(separator: ",")
            + "]}]}]}"
        let (status, headers, body) = try Self.request(
            running.url("/v1/traces"), method: "POST", headers: ["Content-Type": "Application/JSON; charset=utf-8"],
            body: Array(document.utf8))
        #expect(status == 200)
        #expect(headers["content-type"] == "application/json")
        let answer = String(decoding: body, as: UTF8.self)
        #expect(answer.hasPrefix(#"{"partialSuccess":{"rejectedSpans":"1","errorMessage":""#), "\(answer)")
        #expect(Self.waitFor(running) { $0.spans == 2 })

        // Undecodable protobuf: 400 with a google.rpc.Status (code 3) in protobuf.
        let (garbage, _, status400) = try Self.request(
            running.url("/v1/traces"), method: "POST", headers: ["Content-Type": "application/x-protobuf"],
            body: [0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2])
        #expect(garbage == 400)
        #expect(status400.first == 0x08 && status400.dropFirst().first == 3)

        #expect(try Self.request(running.url("/v1/metrics"), method: "POST", body: [1]).0 == 404)
        let (notAllowed, allowHeaders, _) = try Self.request(running.url("/v1/traces"))
        #expect(notAllowed == 405 && allowHeaders["allow"] == "POST")
        #expect(
            try Self.request(
                running.url("/v1/traces"), method: "POST", headers: ["Content-Type": "text/plain"], body: [1]
            )
            .0 == 415)
        #expect(
            try Self.request(
                running.url("/v1/traces"), method: "POST",
                headers: ["Content-Type": "application/x-protobuf", "Content-Encoding": "br"], body: [1]
            ).0 == 415)
        let samples = try running.metrics()
        #expect(Self.accountingHolds(samples))
        #expect(running.trapline.stop() == 0)
    }

    /// `compression: zstd` on `otlphttp`: bodies go out with `Content-Encoding: zstd` (read back
    /// by the zstd command line at the next hop), and a zstd request is taken in.
    @Test func zstdTravelsBothWays() throws {
        let running = try Self.start(nextHop: ["--expect-encoding", "zstd"], exporterSettings: "    compression: zstd")
        let request = try Self.generatedRequest(spans: 10)
        let compressed = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/zstd"), ["-c"], input: Data(request))
        let (status, _, _) = try Self.request(
            running.url("/v1/traces"), method: "POST",
            headers: ["Content-Type": "application/x-protobuf", "Content-Encoding": "zstd"],
            body: [UInt8](compressed.standardOutput))
        #expect(status == 200)
        #expect(Self.waitFor(running) { $0.spans == 10 })
        #expect(running.trapline.stop() == 0)
    }

    /// 413 when the body passes max_request_body_size after decompression, found while inflating
    /// (a 1000:1 gzip bomb is refused without inflating it all).
    @Test func aGzipBombIsRefusedWith413WhileInflating() throws {
        let running = try Self.start(
            receiverSettings: "            max_request_body_size: 1048576".replacingOccurrences(
                of: "            ", with: "        "))
        let zeros = [UInt8](repeating: 0, count: 8 << 20)
        let writer = try ProcessRunner.run(URL(fileURLWithPath: "/bin/gzip"), ["-c", "-9"], input: Data(zeros))
        #expect(writer.standardOutput.count < 20_000)
        let (status, _, _) = try Self.request(
            running.url("/v1/traces"), method: "POST",
            headers: ["Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"],
            body: [UInt8](writer.standardOutput))
        #expect(status == 413)
        #expect(try running.metrics()["trapline_records_rejected_total{reason=\"decompressed_too_large\"}"] == 1)
        #expect(running.trapline.stop() == 0)
    }

    /// Acceptance (issue 8): with a small queue and a slow next hop, clients get 503 with
    /// Retry-After; after recovery every span accepted was delivered — none silently dropped.
    @Test func overloadAnswers503WithRetryAfterAndLosesNothingAccepted() throws {
        let running = try Self.start(
            nextHop: ["--delay", "0.5"],
            exporterSettings: """
                    sending_queue:
                      queue_size: 1
                      num_consumers: 1
                """)
        let request = try Self.generatedRequest(spans: 10)
        let path = running.directory + "/request.pb"
        try Data(request).write(to: URL(fileURLWithPath: path))
        let script = """
            for i in $(seq 12); do
              curl -s -o /dev/null -D - -H 'Content-Type: application/x-protobuf' -H 'Expect:' \
                --data-binary @\(path) \(running.url("/v1/traces")) | tr -d '\\r' | grep -E '^(HTTP|Retry-After)' &
            done; wait
            """
        let burst = try ProcessRunner.run(URL(fileURLWithPath: "/bin/bash"), ["-c", script])
        let lines = String(decoding: burst.standardOutput, as: UTF8.self).split(separator: "\n")
        let accepted = lines.filter { $0.hasPrefix("HTTP/1.1 200") }.count
        let refused = lines.filter { $0.hasPrefix("HTTP/1.1 503") }.count
        #expect(accepted + refused == 12, "\(lines)")
        #expect(refused > 0, "a queue of 1 and a hop taking 0.5 s per request must refuse some of 12")
        #expect(lines.filter { $0 == "Retry-After: 1" }.count == refused)
        #expect(Self.waitFor(seconds: 60, running) { $0.spans == accepted * 10 }, "\(running.received)")
        // Memory is bounded by the queue (1 request) and the requests being read: the peak stays
        // far under what unbounded buffering of a burst would take.
        let status = try String(
            contentsOfFile: "/proc/\(running.trapline.process.processIdentifier)/status", encoding: .utf8)
        let peakKiB =
            status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        #expect(peakKiB > 0 && peakKiB < 128 * 1024, "peak RSS \(peakKiB) KiB")
        #expect(running.trapline.stop() == 0)
        #expect(running.received.spans == accepted * 10)
    }

    /// A next hop answering 503 with Retry-After: the exporter waits and retries, and everything
    /// arrives; a next hop answering 400 is not retried, and its records are counted as rejected
    /// downstream.
    @Test func retriesHonourRetryAfterAndRejectionsAreNotRetried() throws {
        let flaky = try Self.start(nextHop: ["--unavailable", "2"])
        let request = try Self.generatedRequest(spans: 10)
        let started = Date()
        for _ in 0..<3 {
            #expect(
                try Self.request(
                    flaky.url("/v1/traces"), method: "POST", headers: ["Content-Type": "application/x-protobuf"],
                    body: request
                ).0 == 200)
        }
        #expect(Self.waitFor(flaky) { $0.spans == 30 }, "\(flaky.received)")
        // Two refusals with Retry-After: 1, retried in parallel by the consumers: a wait of 1 s,
        // not the configured 100 ms backoff.
        #expect(Date().timeIntervalSince(started) >= 0.95)
        let retried = try flaky.metrics()
        #expect(retried["trapline_exporter_retries_total{exporter=\"otlphttp\"}"] == 2)
        #expect(retried["trapline_exporter_sent_records_total{exporter=\"otlphttp\"}"] == 30)
        #expect(flaky.trapline.stop() == 0)

        let refusing = try Self.start(nextHop: ["--reject-all"])
        #expect(
            try Self.request(
                refusing.url("/v1/traces"), method: "POST", headers: ["Content-Type": "application/x-protobuf"],
                body: request
            ).0 == 200)
        #expect(
            FileChanges.eventually(seconds: 30) {
                (try? refusing.metrics()["trapline_exporter_rejected_records_total{exporter=\"otlphttp\"}"]) == 10
            })
        let rejected = try refusing.metrics()
        #expect(rejected["trapline_exporter_retries_total{exporter=\"otlphttp\"}"] == 0)
        #expect(rejected["trapline_exporter_sent_records_total{exporter=\"otlphttp\"}"] == 0)
        #expect(refusing.trapline.stop() == 0)
    }

    /// SIGHUP reloads the pipeline file: new processors take the next request; an invalid file
    /// keeps the running pipeline; both counted in trapline_config_reloads_total{result}.
    @Test func sighupReloadsAndAnInvalidFileKeepsTheRunningPipeline() throws {
        let running = try Self.start()
        let path = running.directory + "/sidecar.yaml"
        func send() throws {
            let run = try ProcessRunner.run(
                URL(fileURLWithPath: "/usr/bin/env"),
                [
                    "python3", Fixtures.root.appendingPathComponent("Tests/Scripts/otlp_sdk_send.py").path,
                    running.url("/v1/traces"), "100", "--drop-every", "5",
                ])
            #expect(run.status == 0, "\(run.standardError)")
        }
        try send()
        #expect(Self.waitFor(running) { $0.spans == 80 })
        let original = try String(contentsOfFile: path, encoding: .utf8)
        try original.replacingOccurrences(of: "processors: [filter]", with: "processors: []")
            .write(toFile: path, atomically: true, encoding: .utf8)
        kill(running.trapline.process.processIdentifier, SIGHUP)
        #expect(
            running.trapline.wait { _, errors in errors.contains("trapline: reloaded") },
            "\(running.trapline.standardError)")
        try send()
        #expect(Self.waitFor(running) { $0.spans == 180 }, "\(running.received)")

        try (original + "\nbogus_section: 1\n").write(toFile: path, atomically: true, encoding: .utf8)
        kill(running.trapline.process.processIdentifier, SIGHUP)
        #expect(running.trapline.wait { _, errors in errors.contains("reload refused") })
        #expect(running.trapline.standardError.contains("unknown key 'bogus_section'"))
        try send()
        #expect(Self.waitFor(running) { $0.spans == 280 }, "the filterless pipeline still runs")
        let samples = try running.metrics()
        #expect(samples["trapline_config_reloads_total{result=\"success\"}"] == 1)
        #expect(samples["trapline_config_reloads_total{result=\"failure\"}"] == 1)
        #expect(samples["trapline_records_received_total"] == 300)
        #expect(Self.accountingHolds(samples))
        #expect(running.trapline.stop() == 0)
    }

    /// Issue 6's `connection` association: a resource without pod attributes gets the pod whose
    /// IP sent the request (a real pod from Fixtures/k8s/p1.json, its IP set to the loopback
    /// address the test sends from); `passthrough` adds only `k8s.pod.ip`.
    @Test(arguments: [false, true])
    func theConnectionAssociatesThePodThatSent(passthrough: Bool) throws {
        let directory = try Fixtures.temporaryDirectory().path
        var pod = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("k8s/p1.json"))) as? [String: Any])
        var status = pod["status"] as? [String: Any] ?? [:]
        status["podIP"] = "127.0.0.2"
        status["podIPs"] = [["ip": "127.0.0.2"]]
        pod["status"] = status
        try JSONSerialization.data(withJSONObject: ["kind": "PodList", "items": [pod]]).write(
            to: URL(fileURLWithPath: directory + "/pods.json"))
        let config = """
            receivers:
              otlp:
                protocols: {http: {endpoint: "127.0.0.1:0"}}
            processors:
              k8sattributes:
                passthrough: \(passthrough)
                pod_list_file: \(directory)/pods.json
                pod_association:
                  - sources: [{from: connection}]
            exporters:
              file/out: {path: "\(directory)/out.json"}
            service:
              pipelines:
                traces: {receivers: [otlp], processors: [k8sattributes], exporters: [file/out]}
            """
        try config.write(toFile: directory + "/sidecar.yaml", atomically: true, encoding: .utf8)
        let trapline = try BackgroundProcess(
            ProcessRunner.traplineBinary.path, ["run", "--config", directory + "/sidecar.yaml"])
        #expect(trapline.wait { _, errors in errors.contains("listening:") }, "\(trapline.standardError)")
        let text = trapline.standardError
        let port = text.range(of: "otlp on port ").map { Int(text[$0.upperBound...].prefix { $0.isNumber }) ?? 0 } ?? 0
        let span =
            #"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},"#
            + #""scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","#
            + #""name":"GET /"}]}]}]}"#
        for source in ["127.0.0.2", "127.0.0.3"] {
            let post = try ProcessRunner.run(
                URL(fileURLWithPath: "/usr/bin/curl"),
                [
                    "-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface", source, "-H",
                    "Content-Type: application/json", "--data-binary", span, "http://127.0.0.1:\(port)/v1/traces",
                ])
            #expect(String(decoding: post.standardOutput, as: UTF8.self) == "200")
        }
        #expect(trapline.stop() == 0)
        let lines = try String(contentsOfFile: directory + "/out.json", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let fromPod = String(lines.first ?? "")
        let fromElsewhere = String(lines.last ?? "")
        if passthrough {
            #expect(fromPod.contains(#"{"key":"k8s.pod.ip","value":{"stringValue":"127.0.0.2"}}"#))
            #expect(fromElsewhere.contains(#"{"key":"k8s.pod.ip","value":{"stringValue":"127.0.0.3"}}"#))
            #expect(!fromPod.contains("k8s.pod.name"))
        } else {
            #expect(fromPod.contains(#"{"key":"k8s.pod.name","value":{"stringValue":"nginx-7fb78fb6d8-2w75j"}}"#))
            #expect(fromPod.contains(#"{"key":"k8s.namespace.name","value":{"stringValue":"default"}}"#))
            #expect(fromPod.contains(#"{"key":"k8s.deployment.name","value":{"stringValue":"nginx"}}"#))
            #expect(!fromElsewhere.contains("k8s.pod.name"))
        }
    }

    /// SIGTERM while requests are queued for a slow next hop: what was accepted is still sent,
    /// and the process exits 0.
    @Test func sigtermDrainsTheQueueBeforeExiting() throws {
        // A hop slow enough (2 s a request) that nothing has arrived when SIGTERM comes.
        let running = try Self.start(nextHop: ["--delay", "2"])
        let request = try Self.generatedRequest(spans: 10)
        for _ in 0..<8 {
            let (status, _, _) = try Self.request(
                running.url("/v1/traces"), method: "POST", headers: ["Content-Type": "application/x-protobuf"],
                body: request)
            #expect(status == 200)
        }
        #expect(running.received.spans == 0)  // all still queued or being sent
        #expect(running.trapline.stop() == 0)
        #expect(running.received.spans == 80)
    }

    /// Acceptance (issue 8): a real Prometheus server scrapes /metrics on loopback; its query API
    /// returns the forwarded-span counter.
    @Test func prometheusScrapesTheForwardedCounter() throws {
        let running = try Self.start()
        let request = try Self.generatedRequest(spans: 10)
        #expect(
            try Self.request(
                running.url("/v1/traces"), method: "POST", headers: ["Content-Type": "application/x-protobuf"],
                body: request
            ).0 == 200)
        let webPort = 20_000 + Int(getpid() % 20_000)
        let config = running.directory + "/prometheus.yml"
        try """
        global: {scrape_interval: 1s}
        scrape_configs:
          - job_name: trapline
            static_configs: [{targets: ['127.0.0.1:\(running.metricsPort)']}]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let prometheus = try BackgroundProcess(
            "/usr/bin/prometheus",
            [
                "--config.file=\(config)", "--storage.tsdb.path=\(running.directory)/tsdb",
                "--web.listen-address=127.0.0.1:\(webPort)",
            ])
        let query =
            "http://127.0.0.1:\(webPort)/api/v1/query?query=trapline_records_forwarded_total%7Bsignal%3D%22traces%22%7D"
        var answer = ""
        let found = FileChanges.eventually(seconds: 60) {
            answer = (try? Self.request(query)).map { String(decoding: $0.2, as: UTF8.self) } ?? ""
            return answer.contains(#""value":["#) && answer.contains(#","10"]"#)
        }
        #expect(found, "\(answer) \(prometheus.standardError.suffix(500))")
        _ = prometheus.stop()
        #expect(running.trapline.stop() == 0)
    }

    /// One ExportTraceServiceRequest of `spans` spans, from the fixture generator (PyPI's encoder).
    static func generatedRequest(spans: Int) throws -> [UInt8] {
        let directory = try Fixtures.temporaryDirectory().path
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", Fixtures.root.appendingPathComponent("Scripts/generate-otlp.py").path, "--signal", "traces",
                "--requests", "1",
                "--records-per-request", String(spans), "--seed", "5", "--framing", "single", directory + "/one.pb",
            ])
        #expect(run.status == 0, "\(run.standardError)")
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/one.pb")))
    }
}
