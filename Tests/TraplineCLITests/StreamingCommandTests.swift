import Foundation
import Testing
import TraplineTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Live input (issue 24): what a writer trickles into stdin comes out as it arrives, not when
/// stdin closes.
@Suite(.tags(.slow)) struct StreamingCommandTests {
    static let logLine = #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"line NUMBER"}}]}]}]}"#

    /// Each line (a text line, or an OTLP JSON request per line) written into `replay -` while
    /// stdin stays open reaches the output before the next one is written, within a second.
    @Test(arguments: ["text", "json"]) func linesTrickledIntoStdinComeOutAsTheyArrive(kind: String) throws {
        let process = Process()
        process.executableURL = ProcessRunner.traplineBinary
        process.arguments = ["replay", "-", "--output-format", "otlp-json", "-q"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var reader = LineReader(descriptor: output.fileHandleForReading.fileDescriptor)
        var latencies: [Double] = []
        for number in 0..<4 {
            let line =
                kind == "text"
                ? "line \(number)\n" : Self.logLine.replacingOccurrences(of: "NUMBER", with: "\(number)") + "\n"
            let start = Date()
            input.fileHandleForWriting.write(Data(line.utf8))
            let written = reader.nextLine(timeout: 10)
            latencies.append(Date().timeIntervalSince(start))
            #expect(written?.contains("line \(number)") == true, "\(String(describing: written))")
        }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        // Loose: a second is the bound a next hop sees; on these machines it takes milliseconds.
        #expect(latencies.allSatisfy { $0 < 1.0 }, "seconds from write to output: \(latencies)")
    }

    /// `trapline run` writes a regular output file as it goes (truncated at the start, each
    /// batch written before the next is read), as the Collector's file exporter does; `replay`
    /// keeps writing through a temporary.
    @Test func runWritesItsFileExporterAsItGoes() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let output = directory + "/out.jsonl"
        try "stale\n".write(toFile: output, atomically: true, encoding: .utf8)
        try """
        receivers: {stdin: null}
        exporters: {file: {path: "\(output)"}}
        service: {pipelines: {logs: {receivers: [stdin], exporters: [file]}}}

        """.write(toFile: directory + "/run.yaml", atomically: true, encoding: .utf8)
        let (process, input) = try Self.run(config: directory + "/run.yaml")
        func written() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        for number in 0..<3 {
            let start = Date()
            input.fileHandleForWriting.write(Data("line \(number)\n".utf8))
            #expect(FileChanges.eventually(seconds: 10) { written().contains("line \(number)") }, "\(written())")
            #expect(Date().timeIntervalSince(start) < 1.0)
            #expect(process.isRunning)
        }
        #expect(!written().contains("stale"))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(written().split(separator: "\n").count == 3)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: directory)).contains { $0.contains(".tmp-") })
    }

    /// A capture replayed into a backend (issue 24): `replay` with an `otlphttp` exporter sends
    /// every request to the next hop, waits for each to be acknowledged (retrying the 503s the
    /// hop answers first), and reports them forwarded; a hop that refuses everything leaves them
    /// `rejected_downstream`, and the exit status says so.
    @Test(arguments: [(["--unavailable", "3"], 0), (["--reject-all"], 65)] as [([String], Int32)])
    func aCaptureReplaysIntoABackend(hop: [String], status: Int32) throws {
        let directory = try Fixtures.temporaryDirectory().path
        let nextHop = try NextHop(directory: directory, arguments: hop)
        defer { nextHop.stop() }
        let port = nextHop.port
        try """
        exporters:
          otlphttp:
            endpoint: http://127.0.0.1:\(port)
            retry_on_failure: {initial_interval: 100ms, max_interval: 1s}
        service: {pipelines: {traces: {receivers: [stdin], exporters: [otlphttp]}}}
        receivers: {stdin: null}

        """.write(toFile: directory + "/backend.yaml", atomically: true, encoding: .utf8)
        let validate = try ProcessRunner.trapline(["validate", "--config", directory + "/backend.yaml"])
        #expect(validate.status == 0, "\(validate.standardError)")
        let replay = try ProcessRunner.trapline([
            "replay", "-q", "--config", directory + "/backend.yaml", "--report-file", directory + "/report.json",
            "--metrics-file", directory + "/metrics.prom", Fixtures.path("generated/shop-traces.otlp"),
        ])
        #expect(replay.status == status, "\(replay.standardError)")
        let report = try ReportJSON.load(directory + "/report.json")
        let records = try #require(report["records"] as? [String: Int])
        #expect(ReportJSON.isBalanced(records))
        #expect(records["received"] == 2000)
        let arrived = nextHop.counted
        // The exporter's series join the metrics textfile, as the sidecar serves them.
        let metrics = (try? String(contentsOfFile: directory + "/metrics.prom", encoding: .utf8)) ?? ""
        let sent = status == 0 ? 2000 : 0
        #expect(metrics.contains(#"trapline_exporter_sent_records_total{exporter="otlphttp"} \#(sent)"#), "\(metrics)")
        if status == 0 {
            #expect(records["forwarded"] == 2000)
            #expect(arrived.hasPrefix("received 2000 0"), "\(arrived)")
        } else {
            #expect(records["forwarded"] == 0)
            #expect(report["rejected_by_reason"] as? [String: Int] == ["rejected_downstream": 2000])
        }
    }

    /// The file exporter's `rotation`: past `max_megabytes` the file is renamed to
    /// `<name>-<time><.ext>` and a new one started, each batch whole in one file; `max_backups`
    /// bounds the rotated files kept.
    @Test(arguments: [0, 1]) func runRotatesItsFileBySize(maxBackups: Int) throws {
        let directory = try Fixtures.temporaryDirectory().path
        try """
        receivers: {stdin: null}
        exporters:
          file:
            path: \(directory)/out.jsonl
            flush_interval: 100ms
            rotation: {max_megabytes: 1, max_backups: \(maxBackups)}
        service: {pipelines: {logs: {receivers: [stdin], exporters: [file]}}}

        """.write(toFile: directory + "/run.yaml", atomically: true, encoding: .utf8)
        let lines = (0..<40_000).map { "line \($0) " + String(repeating: "x", count: 40) }
        let run = try ProcessRunner.trapline(
            ["run", "-q", "--workers", "1", "--config", directory + "/run.yaml"],
            input: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(run.status == 0, "\(run.standardError)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("out") }
        let rotated = names.filter { $0 != "out.jsonl" }
        let pattern = #"^out-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.jsonl$"#
        #expect(rotated.allSatisfy { $0.range(of: pattern, options: .regularExpression) != nil }, "\(rotated)")
        var bodies: [Int] = []
        for name in names {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            let size = try FileManager.default.attributesOfItem(atPath: directory + "/" + name)[.size] as? Int ?? 0
            #expect(size <= 1 << 20, "\(name) is \(size) bytes")
            for request in text.split(separator: "\n") {
                #expect(request.hasPrefix("{") && request.hasSuffix("}"), "a batch cut across files")
                bodies += request.components(separatedBy: #""stringValue":"line "#).dropFirst().compactMap {
                    Int($0.prefix { $0 != " " })
                }
            }
        }
        if maxBackups == 0 {
            #expect(rotated.count >= 2)
            #expect(bodies.sorted() == Array(0..<40_000))
        } else {
            #expect(rotated.count == 1)
            #expect(bodies.count < 40_000)
        }
    }

    /// `--rate` holds a replay to a number of records a second; `--speed` to the capture's own
    /// timing (the records' timestamps), scaled.
    @Test func rateAndSpeedPaceAReplay() throws {
        var start = Date()
        let rated = try ProcessRunner.trapline([
            "replay", "-q", "--output-format", "none", "--rate", "4000", Fixtures.path("generated/shop-traces.otlp"),
        ])
        let ratedSeconds = Date().timeIntervalSince(start)
        #expect(rated.status == 0, "\(rated.standardError)")
        // 2,000 spans at 4,000 a second: the last request goes about 0.47 s after the first.
        #expect(ratedSeconds >= 0.4 && ratedSeconds < 20, "\(ratedSeconds) s")
        let directory = try Fixtures.temporaryDirectory().path
        let lines = (0..<3).map { second in
            let start = 1_700_000_000_000_000_000 + second * 1_000_000_000
            return #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","#
                + #""spanId":"010203040506070\#(second)","name":"s","startTimeUnixNano":"\#(start)","#
                + #""endTimeUnixNano":"\#(start + 1000)"}]}]}]}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: directory + "/timed.jsonl", atomically: true, encoding: .utf8)
        for (speed, expected) in [(4.0, 0.5), (1.0, 2.0)] {
            start = Date()
            let paced = try ProcessRunner.trapline([
                "replay", "-q", "--output-format", "otlp-json", "--speed", "\(speed)", directory + "/timed.jsonl",
            ])
            let seconds = Date().timeIntervalSince(start)
            #expect(paced.status == 0, "\(paced.standardError)")
            #expect(String(decoding: paced.standardOutput, as: UTF8.self).split(separator: "\n").count == 3)
            #expect(seconds >= expected * 0.9 && seconds < expected + 10, "speed \(speed): \(seconds) s")
        }
        let both = try ProcessRunner.trapline(["replay", "--rate", "1", "--speed", "1", directory + "/timed.jsonl"])
        #expect(both.status == 64 && both.standardError.contains("give --rate or --speed, not both"))
    }

    /// The `batch` processor merges whole requests (nothing decoded again) for file outputs and
    /// the otlphttp next hop: up to `send_batch_size` records, never past `send_batch_max_size`,
    /// and sends what it holds at `timeout` even while the input is quiet.
    @Test func theBatchProcessorMergesRequests() throws {
        let directory = try Fixtures.temporaryDirectory().path
        let nextHop = try NextHop(directory: directory)
        defer { nextHop.stop() }
        let port = nextHop.port
        try """
        receivers: {stdin: null}
        processors:
          batch: {send_batch_size: 1000, send_batch_max_size: 1500, timeout: 5s}
        exporters:
          file: {path: \(directory)/out.jsonl}
          file/proto: {path: \(directory)/out.otlp, format: proto}
          otlphttp: {endpoint: "http://127.0.0.1:\(port)"}
        service:
          pipelines:
            traces: {receivers: [stdin], processors: [batch], exporters: [file, file/proto, otlphttp]}

        """.write(toFile: directory + "/batch.yaml", atomically: true, encoding: .utf8)
        let replay = try ProcessRunner.trapline([
            "replay", "--config", directory + "/batch.yaml", Fixtures.path("generated/shop-traces.otlp"),
        ])
        #expect(replay.status == 0, "\(replay.standardError)")
        #expect(replay.standardError.contains("2000 records received, 2000 forwarded"), "\(replay.standardError)")
        // 20 requests of 100 spans become 2 of 1,000, in each encoding and at the next hop.
        let lines = try String(contentsOfFile: directory + "/out.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let resources = object?["resourceSpans"] as? [[String: Any]] ?? []
            let spans = resources.flatMap { $0["scopeSpans"] as? [[String: Any]] ?? [] }.reduce(0) {
                $0 + (($1["spans"] as? [Any])?.count ?? 0)
            }
            #expect(spans == 1000)
        }
        let again = try ProcessRunner.trapline(["replay", "--output-format", "none", directory + "/out.otlp"])
        #expect(again.standardError.contains("2000 records received, 2000 forwarded"), "\(again.standardError)")
        #expect(again.standardError.contains("1 files, 2 frames"), "\(again.standardError)")
        #expect(nextHop.counted.hasPrefix("received 2000 0 2"), "\(nextHop.counted)")

        // Live: two lines written at once into `run` go out as one request at the timeout.
        try """
        receivers: {stdin: null}
        processors: {batch: {timeout: 300ms}}
        exporters: {file: {path: \(directory)/live.jsonl}}
        service: {pipelines: {logs: {receivers: [stdin], processors: [batch], exporters: [file]}}}

        """.write(toFile: directory + "/live.yaml", atomically: true, encoding: .utf8)
        let (process, input) = try Self.run(config: directory + "/live.yaml")
        func written() -> String { (try? String(contentsOfFile: directory + "/live.jsonl", encoding: .utf8)) ?? "" }
        let start = Date()
        input.fileHandleForWriting.write(Data("one\ntwo\n".utf8))
        #expect(FileChanges.eventually(seconds: 10) { written().contains("two") }, "\(written())")
        let seconds = Date().timeIntervalSince(start)
        #expect(seconds >= 0.25 && seconds < 2, "\(seconds) s")
        #expect(written().split(separator: "\n").count == 1)
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    /// The end of stdin sends what a batch holds at once, not at the batch's timeout: a writer
    /// that closes its pipe (`cmd | trapline run`) is not kept waiting for a quiet period.
    @Test func theEndOfStdinFlushesBatchesAtOnce() throws {
        let directory = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
        receivers: {stdin: null}
        processors: {batch: {timeout: 30s, send_batch_size: 1000}}
        exporters: {file: {path: \(directory)/out.jsonl}}
        service: {pipelines: {logs: {receivers: [stdin], processors: [batch], exporters: [file]}}}

        """.write(toFile: directory + "/run.yaml", atomically: true, encoding: .utf8)
        let (process, input) = try Self.run(config: directory + "/run.yaml")
        let start = ContinuousClock.now
        input.fileHandleForWriting.write(Data("one\ntwo\n".utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(ContinuousClock.now - start < .seconds(20))
        let written = (try? String(contentsOfFile: directory + "/out.jsonl", encoding: .utf8)) ?? ""
        #expect(written.contains("one") && written.contains("two"), "\(written)")
    }

    /// A 1 GiB capture replayed into a next hop that answers 503 to every 7th request arrives
    /// whole: every span acknowledged once, none counted lost (merged by a batch processor into
    /// requests of 2,000 spans on the way).
    @Test func aGigabyteCaptureArrivesWholeThroughAFlakyNextHop() throws {
        let directory = try Fixtures.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let base = directory + "/base.otlp"
        let generate = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", Fixtures.root.appendingPathComponent("Scripts/generate-otlp.py").path, "--signal",
                "traces", "--requests", "200", "--records-per-request", "100", "--seed", "9", base,
            ])
        #expect(generate.status == 0, "\(generate.standardError)")
        let chunk = try Data(contentsOf: URL(fileURLWithPath: base))
        let copies = (1 << 30) / chunk.count + 1
        let capture = directory + "/capture.otlp"
        _ = FileManager.default.createFile(atPath: capture, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: capture))
        for _ in 0..<copies { try handle.write(contentsOf: chunk) }
        try handle.close()
        let spans = 200 * 100 * copies
        let nextHop = try NextHop(directory: directory, arguments: ["--flaky", "7"])
        defer { nextHop.stop() }
        let port = nextHop.port
        try """
        receivers: {stdin: null}
        processors: {batch: {send_batch_size: 2000, send_batch_max_size: 2000}}
        exporters:
          otlphttp:
            endpoint: http://127.0.0.1:\(port)
            compression: none
            retry_on_failure: {initial_interval: 50ms, max_interval: 500ms}
        service: {pipelines: {traces: {receivers: [stdin], processors: [batch], exporters: [otlphttp]}}}

        """.write(toFile: directory + "/backend.yaml", atomically: true, encoding: .utf8)
        let replay = try ProcessRunner.trapline([
            "replay", "-q", "--config", directory + "/backend.yaml", "--report-file", directory + "/report.json",
            capture,
        ])
        #expect(replay.status == 0, "\(replay.standardError)")
        let report = try ReportJSON.load(directory + "/report.json")
        let records = try #require(report["records"] as? [String: Int])
        #expect(records["received"] == spans && records["forwarded"] == spans, "\(records)")
        #expect(nextHop.counted.hasPrefix("received \(spans) 0 "), "\(nextHop.counted) of \(spans)")
    }

    /// `trapline run -q --config config` with a pipe on its stdin for the test to write into.
    static func run(config: String) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = ProcessRunner.traplineBinary
        process.arguments = ["run", "-q", "--config", config]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, input)
    }

    /// Lines of a pipe, read as they come with a deadline.
    struct LineReader {
        let descriptor: Int32
        var pending: [UInt8] = []

        init(descriptor: Int32) { self.descriptor = descriptor }

        /// The next whole line, or nil when none came within `timeout` seconds.
        mutating func nextLine(timeout: Double) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            while true {
                if let end = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[..<end], as: UTF8.self)
                    pending.removeFirst(end + 1)
                    return line
                }
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { return nil }
                var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, Int32(left * 1000)) > 0 else { return nil }
                var chunk = [UInt8](repeating: 0, count: 64 << 10)
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { return nil }
                pending += chunk[..<count]
            }
        }
    }
}
