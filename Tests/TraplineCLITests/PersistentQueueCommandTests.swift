import Foundation
import Testing
import TraplineTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `sending_queue.storage`: an exporter's queue kept in a write-ahead log on a `file_storage`
/// extension's directory, so what was acknowledged to a sender survives a SIGKILL of Trapline and
/// a next hop that is down.
@Suite(.serialized, .tags(.slow)) struct PersistentQueueCommandTests {
    static func config(directory: String, hopPort: Int, maxStorageMiB: Int = 256) throws -> String {
        let path = directory + "/sidecar.yaml"
        try """
        receivers:
          otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}
        extensions:
          file_storage: {directory: "\(directory)/storage", create_directory: true}
        exporters:
          otlphttp:
            endpoint: http://127.0.0.1:\(hopPort)
            compression: none
            retry_on_failure: {initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 0}
            sending_queue: {storage: file_storage, max_storage_mib: \(maxStorageMiB)}
          prometheus: {endpoint: "127.0.0.1:0"}
        service:
          extensions: [file_storage]
          pipelines:
            logs: {receivers: [otlp], exporters: [otlphttp, prometheus]}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Sends `seq N` log records one request each; the numbers answered 200 and the others.
    static func send(port: Int, first: Int, count: Int, padding: Int = 0) throws -> (acked: [Int], refused: [String]) {
        let result = try ProcessRunner.python(
            "otlp_log_sender.py",
            [
                "--url", "http://127.0.0.1:\(port)/v1/logs", "--first", "\(first)", "--count", "\(count)",
                "--padding", "\(padding)",
            ])
        let lines = String(decoding: result.standardOutput, as: UTF8.self).split(separator: "\n")
        return (
            lines.compactMap { $0.hasPrefix("acked ") ? Int($0.dropFirst(6)) : nil },
            lines.filter { $0.hasPrefix("refused ") }.map(String.init)
        )
    }

    /// The next hop is down for a minute; Trapline is SIGKILLed after the first 150 requests and
    /// started again for the next 150. When the next hop comes back, every acknowledged record
    /// arrives (what the killed process had kept is read back from the log), none twice but
    /// those a send the kill interrupted.
    @Test func acknowledgedRecordsSurviveAKillAndAMinuteOfOutage() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A port for the next hop, free while it is down.
        let probe = try NextHop(directory: directory.path)
        let hopPort = probe.port
        probe.stop()
        let outageStart = Date()
        let config = try Self.config(directory: directory.path, hopPort: hopPort)
        let (first, firstPort) = try ListeningTrapline.start(config: config)
        let before = try Self.send(port: firstPort("otlp"), first: 0, count: 150)
        #expect(before.acked.count == 150, "\(before.refused.prefix(3))")
        #expect(first.stop(SIGKILL) != nil)

        let (second, secondPort) = try ListeningTrapline.start(config: config)
        defer { _ = second.stop(SIGKILL) }
        let after = try Self.send(port: secondPort("otlp"), first: 150, count: 150)
        #expect(after.acked.count == 150, "\(after.refused.prefix(3))")
        let (_, _, body) = try SidecarCommandTests.request("http://127.0.0.1:\(secondPort("prometheus"))/metrics")
        let metrics = PipelineCommandTests.samples(String(decoding: body, as: UTF8.self))
        #expect(metrics["trapline_exporter_storage_restored_records_total{exporter=\"otlphttp\"}"] == 150)
        #expect(metrics["trapline_exporter_storage_requests{exporter=\"otlphttp\"}"] == 300)

        // The rest of the minute down, then the next hop comes back where it was.
        // Waited for without holding a thread, so the rest of the suite runs meanwhile.
        try await Task.sleep(for: .seconds(max(0, 60 - Date().timeIntervalSince(outageStart))))
        let hop = try NextHop(directory: directory.path, arguments: ["--port", "\(hopPort)"], bodies: true)
        defer { hop.stop() }
        let acknowledged = Set(before.acked + after.acked)
        let deadline = Date().addingTimeInterval(60)
        while Set(hop.sequenceNumbers).isSuperset(of: acknowledged) == false && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let delivered = hop.sequenceNumbers
        #expect(acknowledged.subtracting(delivered).isEmpty, "missing: \(acknowledged.subtracting(delivered).sorted())")
        // Nothing was sent before the kill (the next hop was down): no duplicate.
        #expect(
            delivered.count == Set(delivered).count, "\(delivered.count) delivered, \(Set(delivered).count) distinct")
        // Settled sends leave the log: empty once everything is delivered.
        var drained = false
        for _ in 0..<50 where !drained {
            let (_, _, text) = try SidecarCommandTests.request("http://127.0.0.1:\(secondPort("prometheus"))/metrics")
            drained =
                PipelineCommandTests.samples(String(decoding: text, as: UTF8.self))[
                    "trapline_exporter_storage_requests{exporter=\"otlphttp\"}"] == 0
            if !drained { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(drained)
        #expect(second.stop() == 0)
    }

    /// A storage that is full answers 503 with Retry-After (the sender keeps its records), and
    /// counts the refusals; nothing acknowledged is dropped.
    @Test func aFullStorageAnswers503() async throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let probe = try NextHop(directory: directory.path)
        let hopPort = probe.port
        probe.stop()
        let config = try Self.config(directory: directory.path, hopPort: hopPort, maxStorageMiB: 1)
        let (trapline, port) = try ListeningTrapline.start(config: config)
        defer { _ = trapline.stop(SIGKILL) }
        // 100 KiB records: a request is taken while the log holds under 1 MiB, so about eleven are.
        let sent = try Self.send(port: port("otlp"), first: 0, count: 15, padding: 100 << 10)
        #expect((9...11).contains(sent.acked.count), "\(sent)")
        #expect(sent.acked == Array(0..<sent.acked.count))
        #expect(sent.refused.count == 15 - sent.acked.count)
        #expect(sent.refused.allSatisfy { $0.hasSuffix(" 503") }, "\(sent.refused)")
        let hop = try NextHop(directory: directory.path, arguments: ["--port", "\(hopPort)"], bodies: true)
        defer { hop.stop() }
        let deadline = Date().addingTimeInterval(30)
        while Set(hop.sequenceNumbers) != Set(sent.acked) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(Set(hop.sequenceNumbers) == Set(sent.acked))
    }

    /// A storage that is not a defined, enabled `file_storage` extension, a bad size, and storage
    /// on the `loadbalancing` exporter's backends are refused at their line.
    @Test func storageMistakesAreRefusedAtTheirLine() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.path + "/bad.yaml"
        try """
        receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
        extensions: {file_storage: {directory: /tmp}}
        exporters:
          otlphttp/a: {endpoint: "http://127.0.0.1:9", sending_queue: {storage: file_storage/missing}}
          otlphttp/b: {endpoint: "http://127.0.0.1:9", sending_queue: {storage: file_storage, max_storage_mib: 0}}
          loadbalancing:
            protocol: {otlp: {sending_queue: {storage: file_storage}}}
            resolver: {static: {hostnames: ["127.0.0.1:4317"]}}
        service:
          pipelines: {traces: {receivers: [otlp], exporters: [otlphttp/a, otlphttp/b, loadbalancing]}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.trapline(["validate", "--config", path])
        #expect(result.status == 78)
        let errors = result.standardError
        #expect(errors.contains("bad.yaml:4:"), "\(errors)")
        #expect(errors.contains("sending_queue.storage 'file_storage/missing' is not a defined extension"))
        #expect(errors.contains("sending_queue.storage 'file_storage' is not listed in service.extensions"))
        #expect(errors.contains("bad.yaml:5:") && errors.contains("expected a positive number"))
        #expect(errors.contains("the loadbalancing exporter keeps its backends' queues in memory"))
    }

    /// A storage directory that does not exist is a `validate` error, as at startup; a log that
    /// cannot be opened stops the start with exit 74 and the reason.
    @Test func aStorageThatCannotBeUsedStopsTheStart() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = try Self.config(directory: directory.path, hopPort: 9)
        var text = try String(contentsOfFile: missing, encoding: .utf8)
        text = text.replacingOccurrences(of: ", create_directory: true", with: "")
        try text.write(toFile: missing, atomically: true, encoding: .utf8)
        let validated = try ProcessRunner.trapline(["validate", "--config", missing])
        #expect(validated.status == 78)
        #expect(validated.standardError.contains("storage' does not exist"), "\(validated.standardError)")
        // The log's path taken by a directory: it cannot be opened.
        try FileManager.default.createDirectory(
            atPath: directory.path + "/storage/exporter_otlphttp.wal", withIntermediateDirectories: true)
        let started = try ProcessRunner.trapline(["run", "--config", missing])
        #expect(started.status == 74)
        #expect(
            started.standardError.contains("exporter_otlphttp.wal: open failed: Is a directory"),
            "\(started.standardError)")
    }
}
